/*
 * statuspage: the /targets page for people, rendered as one self-contained
 * HTML document (inline CSS, no script, no external asset) from plain rows:
 * the targets with their health, last scrape and error, the remote-write
 * endpoints with their backlog, and the pushed groups with their TTL. The
 * health and job filters are query parameters the caller passes in, so
 * they work without JavaScript. Every string from the rows is HTML-escaped.
 * The rows and their strings are borrowed for the call.
 */
#ifndef RWBRIDGE_STATUSPAGE_H
#define RWBRIDGE_STATUSPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

/* One scrape target. */
struct statuspage_target {
	const char		*group;
	const char		*job;
	const char		*instance;
	const char		*url;
	const char		*health;	/* "up", "down", "unknown" */
	int64_t			 last_scrape_ms;	/* 0: never */
	double			 duration;	/* seconds, of the last */
	uint64_t		 samples;	/* of the last scrape */
	const char		*last_error;	/* "" or NULL: none */
	const struct config_kv	*labels;
	size_t			 nlabels;
};

/* One remote-write endpoint. */
struct statuspage_endpoint {
	const char	*name;
	const char	*last_error;	/* "" or NULL: the last send went */
	uint64_t	 queue_bytes;
	uint64_t	 pending;	/* samples not yet acknowledged */
	int64_t		 oldest_ms;	/* oldest unsent sample; 0: none */
	uint64_t	 sent;
	uint64_t	 retried;
	uint64_t	 dropped;
};

/* One group pushed to rwbridge's /metrics/job. */
struct statuspage_push {
	const struct config_kv	*labels;	/* grouping, job first */
	size_t			 nlabels;
	int64_t			 push_ms;
	int64_t			 ttl_ms;	/* 0: never expires */
};

/* What the page shows. */
struct statuspage {
	const char				*version;
	int64_t					 now_ms;
	const struct statuspage_target		*targets;
	size_t					 ntargets;
	const struct statuspage_endpoint	*endpoints;
	size_t					 nendpoints;
	const struct statuspage_push		*pushes;
	size_t					 npushes;
	const char				*health;	/* filter */
	const char				*job;		/* filter */
};

/* Append the HTML-escaped s to b. */
void	statuspage_escape(struct buf *, const char *);
/* Append the page to b. */
void	statuspage_render(const struct statuspage *, struct buf *);
/* Append the index page (/) of rwbridge version v to b. */
void	statuspage_index(const char *, struct buf *);

#endif
