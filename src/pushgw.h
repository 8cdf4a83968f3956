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

#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "httpc.h"
#include "promtext.h"

struct pushgw;

/* Who a page belongs to: one Pushgateway group each (borrowed). */
struct pushgw_source {
	const char	*key;		/* the target's registry key */
	size_t		 keylen;
	uint64_t	 hash;		/* series_hash of the key */
	const char	*job;
	const char	*instance;
};

/* NULL (and err set) when no Pushgateway is configured or on error. */
struct pushgw	*pushgw_new(struct event_base *, struct httpc *,
		     const struct config_pushgateway *, char *, size_t);
void		 pushgw_free(struct pushgw *);
/* Push a source's page (and derived series in text, may be NULL). */
void		 pushgw_page(struct pushgw *, const struct pushgw_source *,
		     const char *, size_t, enum pt_format, const struct buf *);
/* Delete a removed source's group. */
void		 pushgw_removed(struct pushgw *, const struct pushgw_source *);
/* Pushes by result. */
void		 pushgw_counts(const struct pushgw *, uint64_t *, uint64_t *);
/* Start pending requests now (shutdown). */
void		 pushgw_flush(struct pushgw *);
/* Tell whether no request is pending or in flight. */
bool		 pushgw_idle(const struct pushgw *);

#endif
