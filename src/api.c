/*
 * api: the target registration API. GET lists every target with its group,
 * labels and health like Prometheus's /api/v1/targets.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "httpd.h"
#include "rwbridge.h"
#include "targets.h"

/* Add one target to the JSON list (a targets_fn). */
static void
api_list_one(void *arg, struct target *t)
{
	cJSON	*arr = arg, *o, *labels, *disc;
	size_t	 i;
	char	 ts[64];

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", t->group);
	cJSON_AddStringToObject(o, "scrapeUrl", t->url);
	cJSON_AddStringToObject(o, "job", t->job);
	cJSON_AddStringToObject(o, "instance", t->instance);
	labels = cJSON_AddObjectToObject(o, "labels");
	cJSON_AddStringToObject(labels, "job", t->job);
	cJSON_AddStringToObject(labels, "instance", t->instance);
	disc = cJSON_AddObjectToObject(o, "discoveredLabels");
	for (i = 0; i < t->nlabels; i++) {
		cJSON_DeleteItemFromObject(labels, t->labels[i].name);
		cJSON_AddStringToObject(labels, t->labels[i].name,
		    t->labels[i].value);
		cJSON_AddStringToObject(disc, t->labels[i].name,
		    t->labels[i].value);
	}
	cJSON_AddStringToObject(o, "health", target_health_name(t->health));
	if (t->last_scrape_ms != 0) {
		snprintf(ts, sizeof ts, "%.3f",
		    (double)t->last_scrape_ms / 1000);
		cJSON_AddRawToObject(o, "lastScrape", ts);
	} else
		cJSON_AddNullToObject(o, "lastScrape");
	cJSON_AddNumberToObject(o, "lastScrapeDuration", t->last_duration);
	cJSON_AddNumberToObject(o, "lastSamples", (double)t->last_samples);
	cJSON_AddStringToObject(o, "lastError", t->last_error);
	cJSON_AddNumberToObject(o, "scrapeIntervalSeconds",
	    (double)t->interval_ms / 1000);
	cJSON_AddNumberToObject(o, "scrapeTimeoutSeconds",
	    (double)t->timeout_ms / 1000);
	cJSON_AddItemToArray(arr, o);
}

/* Reply with a JSON document. */
static void
api_reply_json(struct evhttp_request *req, int code, cJSON *doc)
{
	struct buf	 b;
	char		*s;

	s = cJSON_PrintUnformatted(doc);
	buf_init(&b);
	buf_append(&b, s, strlen(s));
	buf_putc(&b, '\n');
	httpd_reply(req, code, "OK", "application/json", &b);
	buf_free(&b);
	cJSON_free(s);
}

/* Handle /api/v1/targets[...]. */
void
api_handle(struct rwbridge *rw, struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u)
{
	cJSON	*doc, *data;

	rw->st.api_requests++;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    *rest != '\0') {
		rw->st.api_errors++;
		httpd_error(req, 405, "only GET /api/v1/targets is available");
		return;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "success");
	data = cJSON_AddObjectToObject(doc, "data");
	targets_foreach(rw->targets, api_list_one,
	    cJSON_AddArrayToObject(data, "activeTargets"));
	api_reply_json(req, 200, doc);
	cJSON_Delete(doc);
}
