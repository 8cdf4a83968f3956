/*
 * test_routes: the listener's route table. Routes are registered as
 * rwbridge.c registers them; each path goes to the first route whose
 * prefix matches (the whole path for an exact route, the path or the path
 * and "/..." for a subtree), with the rest of the path handed on, or to
 * none (404). No socket is opened.
 */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "httpd.h"

#include "tap.h"

static int	r_metrics, r_api, r_push, r_index;

/* A handler that is never called: routes are only looked up. */
static void
never_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
}

struct rcase {
	const char	*path;
	int		*route;		/* NULL: 404 */
	const char	*rest;
};

static const struct rcase cases[] = {
	{ "/metrics", &r_metrics, "" },
	{ "/metrics/", NULL, NULL },
	{ "/metricsx", NULL, NULL },
	{ "/metrics/job", &r_push, "" },
	{ "/metrics/job/a/instance/b", &r_push, "/a/instance/b" },
	{ "/metrics/jobs", NULL, NULL },
	{ "/api/v1/targets", &r_api, "" },
	{ "/api/v1/targets/", &r_api, "/" },
	{ "/api/v1/targets/verl", &r_api, "/verl" },
	{ "/api/v1/targetsx", NULL, NULL },
	{ "/api/v1", NULL, NULL },
	{ "/", &r_index, "" },
	{ "", NULL, NULL },
	{ "/nope", NULL, NULL },
};

int
main(void)
{
	struct event_base	*base = event_base_new();
	struct httpd		*h = httpd_new(base, NULL);
	httpd_handler_fn	 fn;
	void			*arg;
	const char		*rest;
	size_t			 i;
	bool			 found;

	httpd_route(h, "/metrics", HTTPD_EXACT, NULL, never_cb, &r_metrics);
	httpd_route(h, "/api/v1/targets", HTTPD_SUBTREE, NULL, never_cb,
	    &r_api);
	httpd_route(h, "/metrics/job", HTTPD_SUBTREE, NULL, never_cb,
	    &r_push);
	httpd_route(h, "/", HTTPD_EXACT, NULL, never_cb, &r_index);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		arg = NULL;
		rest = NULL;
		found = httpd_lookup(h, cases[i].path, &fn, &arg, &rest);
		is_int(found, cases[i].route != NULL, "%s: found",
		    cases[i].path);
		ok(arg == cases[i].route, "%s: the right route",
		    cases[i].path);
		is_str(rest, cases[i].rest, "%s: rest", cases[i].path);
	}
	httpd_free(h);
	event_base_free(base);
	return (tap_done());
}
