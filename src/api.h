/*
 * api: the target registration API under /api/v1/targets, JSON in and out,
 * in the shape of Prometheus's own targets API and file_sd entries. Borrows
 * the request; replies before returning.
 */
#ifndef RWBRIDGE_API_H
#define RWBRIDGE_API_H

#include <event2/http.h>

struct rwbridge;

/* Handle a request whose path is /api/v1/targets followed by rest. */
void	api_handle(struct rwbridge *, struct evhttp_request *, const char *,
	    const struct evhttp_uri *);

#endif
