/*
 * labels: build the label set a series is sent with. Scraped labels are
 * combined with the target's own (job, instance, configured labels) the way
 * Prometheus does with honor_labels false: a scraped label whose name a target
 * label also has is kept as exported_<name>. Empty values are dropped and the
 * result is sorted by name, as remote write requires. A labels value owns
 * copies of every name and value added to it.
 */
#ifndef RWBRIDGE_LABELS_H
#define RWBRIDGE_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct label {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct labels {
	struct label	*v;
	size_t		 n;
	size_t		 cap;
	size_t		*off;		/* name/value offsets into scratch */
	struct buf	 scratch;
};

void	 labels_init(struct labels *);
void	 labels_free(struct labels *);
void	 labels_reset(struct labels *);
/* Add one label; name and value are copied. */
void	 labels_add(struct labels *, const char *, size_t, const char *,
	     size_t);
/*
 * Add the target's labels, renaming clashing scraped labels to exported_*,
 * then drop empty values, sort by name and check for duplicates. The
 * pointers in v are valid from here until the next add or reset.
 */
bool	 labels_finish(struct labels *, const struct label *, size_t, char *,
	     size_t);
/* Find a label's value by name; NULL if absent. Valid after finish. */
const struct label *labels_get(const struct labels *, const char *);
/* Tell whether s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*). */
bool	 label_name_valid(const char *, size_t);
/* Tell whether s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool	 metric_name_valid(const char *, size_t);

#endif
