/*
 * api: the target registration API under /api/v1/targets, JSON in and out,
 * in the shape of Prometheus's own targets API and file_sd entries. The
 * core (api_exec) takes a plain api_request and fills an api_reply, so it
 * is tested without a listener; api_handle_cb adapts an evhttp request to
 * it. The api borrows the registry, the config and the state file handle.
 */
#ifndef RWBRIDGE_API_H
#define RWBRIDGE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#include "buf.h"
#include "config.h"
#include "state.h"
#include "targets.h"

struct api;

/* A request, borrowed for the call. */
struct api_request {
	enum evhttp_cmd_type	 method;
	const char		*rest;		/* path after /api/v1/targets */
	const char		*query;		/* NULL: none */
	const char		*body;
	size_t			 len;
	const char		*authorization;	/* header value, or NULL */
	const char		*peer;		/* "addr:port", for the log */
};

/* A reply: status, JSON body and the headers that go with some codes. */
struct api_reply {
	int			 code;
	struct buf		 body;
	const char		*allow;		/* Allow header, or NULL */
	bool			 challenge;	/* WWW-Authenticate: Bearer */
};

struct api	*api_new(struct targets *, const struct config *,
		     struct state *);
void		 api_free(struct api *);
/* Handle one request; rep must be initialised (api_reply_init). */
void		 api_exec(struct api *, const struct api_request *,
		     struct api_reply *);
void		 api_reply_init(struct api_reply *);
void		 api_reply_free(struct api_reply *);
/* The httpd route handler for /api/v1/targets (arg: the api). */
void		 api_handle_cb(struct evhttp_request *, const char *,
		     const struct evhttp_uri *, void *);
/* Requests handled and rejected. */
void		 api_counts(const struct api *, uint64_t *, uint64_t *);
/* Writes of the state file (batched, see state_changed). */
uint64_t	 api_state_saves(const struct api *);

#endif
