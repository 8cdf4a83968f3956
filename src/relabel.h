/*
 * relabel: Prometheus's relabeling (model/relabel/relabel.go), action for
 * action: replace, keep, drop, keepequal, dropequal, hashmod, labelmap,
 * labeldrop, labelkeep, lowercase, uppercase, with the same defaults, the
 * same fully anchored regular expressions in RE2 syntax (regex.c runs them
 * with PCRE2) and the same $1 / ${1} / $name expansion as Go's Expand.
 * Pure: no I/O. A struct relabel is an immutable compiled rule list, shared
 * by reference count (relabel_ref, relabel_free). A relabel_lset is a label
 * set being relabeled: it borrows what relabel_lset_add is given (valid
 * until relabel_process returns) and owns every string a rule creates.
 */
#ifndef RWBRIDGE_RELABEL_H
#define RWBRIDGE_RELABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "labels.h"

struct cJSON;
struct relabel;
struct relabel_chunk;

/* A label set being relabeled: sorted by name, no empty values. */
struct relabel_lset {
	struct label		*v;
	size_t			 n;
	size_t			 cap;
	struct label		*snap;		/* a rule's view of v */
	size_t			 snapcap;
	struct relabel_chunk	*chunks;	/* strings rules made */
	struct buf		 val;		/* joined source values */
	struct buf		 exp;		/* expansions */
};

/* Called once per error with the JSON path of the value and the reason. */
typedef void (*relabel_error_fn)(void *, const char *, const char *);

/*
 * Compile a JSON array of relabel configs found at path (e.g.
 * "$.targets[0].metric_relabel_configs"). On any error call fn for each
 * (path "...[2].regex", reason "missing closing parenthesis at offset 4")
 * and return NULL. An empty array compiles to a list of no rules.
 */
struct relabel	*relabel_parse(const struct cJSON *, const char *,
		     relabel_error_fn, void *);
/* The same from JSON text; false with "path: reason" of the first error. */
struct relabel	*relabel_parse_text(const char *, const char *, char *,
		     size_t);
/* Take another reference. */
struct relabel	*relabel_ref(struct relabel *);
/* Drop a reference; the last one frees. relabel_free(NULL) is a no-op. */
void		 relabel_free(struct relabel *);
/* The number of rules. */
size_t		 relabel_len(const struct relabel *);
/*
 * Tell whether two lists hold the same rules in the same order, each by
 * its canonical definition (defaults filled in, the action's case folded):
 * a list parsed again from the same JSON is equal. NULL is equal to an
 * empty list.
 */
bool		 relabel_equal(const struct relabel *, const struct relabel *);
/*
 * Matches abandoned because a regex hit PCRE2's backtracking limit (RE2
 * never backtracks; such a match counts as no match). For the metrics.
 */
uint64_t	 relabel_match_errors(const struct relabel *);

void		 relabel_lset_init(struct relabel_lset *);
void		 relabel_lset_free(struct relabel_lset *);
/* Empty the set, keep the memory. */
void		 relabel_lset_reset(struct relabel_lset *);
/* Add (or replace) a label; borrowed. An empty value removes it. */
void		 relabel_lset_add(struct relabel_lset *, const char *, size_t,
		     const char *, size_t);
/* A label's value; NULL when absent. */
const struct label *relabel_lset_get(const struct relabel_lset *,
		     const char *, size_t);
/*
 * Apply every rule in order. Return false when a rule drops the set (keep,
 * drop, keepequal, dropequal); the set is then unspecified. On true, v
 * holds the result, sorted by name, no empty values.
 */
bool		 relabel_process(struct relabel *, struct relabel_lset *);

#endif
