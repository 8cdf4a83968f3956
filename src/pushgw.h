/*
 * pushgw: the Pushgateway sink. After each successful scrape a target's
 * series and its derived series are PUT, in the text format, to
 * /metrics/job/<job>/instance/<instance>{/<label>/<value>} (values that need
 * it in the @base64 form), so series that vanished from the page vanish from
 * the group too. When a target is removed its group is DELETEd, so metrics
 * of dead rollout servers do not linger. Each group has at most one request
 * in flight; a newer page replaces a pending one; failures are retried with
 * capped exponential backoff. The sink owns its per-group state.
 */
#ifndef RWBRIDGE_PUSHGW_H
#define RWBRIDGE_PUSHGW_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "promtext.h"

struct rwbridge;
struct pushgw;
struct target;

/* NULL (and err set) when no Pushgateway is configured or on error. */
struct pushgw	*pushgw_new(struct rwbridge *, char *, size_t);
void		 pushgw_free(struct pushgw *);
/* Push the target's page (and derived series in text, may be empty). */
void		 pushgw_target_page(struct pushgw *, struct target *,
		     const char *, size_t, enum pt_format, const struct buf *);
/* Delete the target's group. */
void		 pushgw_target_removed(struct pushgw *, struct target *);
/* Start pending requests now (shutdown). */
void		 pushgw_flush(struct pushgw *);
/* Tell whether no request is pending or in flight. */
bool		 pushgw_idle(const struct pushgw *);

/* Render a page as Pushgateway-ready text (no timestamps); pure. */
bool		 pushgw_render(const char *, size_t, enum pt_format,
		     struct buf *, char *, size_t);
/* Build the grouping path /metrics/job/<job>{/<name>/<value>}. */
void		 pushgw_group_path(struct buf *, const char *,
		     const char *const *, size_t);

#endif
