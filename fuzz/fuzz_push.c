/*
 * libFuzzer harness: pushed bodies (pushbody) and the rule the push path
 * relies on: an accepted push re-parses to the same text and ingest encodes
 * every one of its samples, none a duplicate, with the grouping labels, so
 * a push answered 200 is always forwarded whole.
 * The input is a push, or a group and a push separated by a NUL byte: the
 * push is then merged into the group (POST, or PUT when the first byte is
 * odd) and the merged group must obey the same rule. Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ingest.h"
#include "log.h"
#include "pushbody.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct label	grouping[] = {
	{ "instance", 8, "worker-1", 8 },
	{ "job", 3, "batch", 5 },
	{ "zone", 4, "a", 1 },
};

/* Abort unless an accepted pushbody re-parses the same and encodes. */
static void
check_forwardable(const struct pushbody *b)
{
	struct pushbody		*again = pushbody_new();
	struct ingest		 ig;
	struct ingest_out	 o;
	struct buf		 t1, t2;
	char			 err[512];

	buf_init(&t1);
	buf_init(&t2);
	pushbody_render(b, &t1);
	if (pushbody_parse(again, (const char *)t1.data, t1.len, NULL, err,
	    sizeof err) != PUSHBODY_OK) {
		fprintf(stderr, "accepted push does not re-parse: %s\n", err);
		abort();
	}
	pushbody_render(again, &t2);
	if (t1.len != t2.len || (t1.len > 0 && memcmp(t1.data, t2.data,
	    t1.len) != 0)) {
		fprintf(stderr, "accepted push renders differently\n");
		abort();
	}
	ingest_out_init(&o);
	ingest_init(&ig, grouping, sizeof grouping / sizeof grouping[0],
	    NULL, NULL);
	ig.override = true;
	if (!ingest_page(&ig, (const char *)t1.data, t1.len, PT_FORMAT_TEXT,
	    1700000000000, &o, err, sizeof err)) {
		fprintf(stderr, "accepted push does not encode: %s\n", err);
		abort();
	}
	if (ig.stats.duplicates != 0 ||
	    ig.stats.samples != pushbody_samples(b)) {
		fprintf(stderr, "accepted push of %zu samples forwards %llu "
		    "(%llu duplicates)\n", pushbody_samples(b),
		    (unsigned long long)ig.stats.samples,
		    (unsigned long long)ig.stats.duplicates);
		abort();
	}
	ingest_free(&ig, 1700000001000, NULL);
	ingest_out_free(&o);
	pushbody_free(again);
	buf_free(&t1);
	buf_free(&t2);
}

/* Parse a push (and merge it into a group); check what is accepted. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pushbody_limits	 lim = { 2000, 20000 };
	struct pushbody		*group = NULL, *push;
	const char		*body = (const char *)data, *nul;
	char			 err[512];
	bool			 put;

	if (size == 0)
		return (0);
	log_set_level(LOG_LEVEL_ERROR);
	put = data[0] & 1;
	nul = memchr(body, '\0', size);
	if (nul != NULL) {
		group = pushbody_new();
		if (pushbody_parse(group, body, (size_t)(nul - body), &lim,
		    err, sizeof err) != PUSHBODY_OK) {
			pushbody_free(group);
			group = NULL;
		}
		size -= (size_t)(nul + 1 - body);
		body = nul + 1;
	}
	push = pushbody_new();
	if (pushbody_parse(push, body, size, &lim, err, sizeof err) !=
	    PUSHBODY_OK) {
		pushbody_free(push);
		pushbody_free(group);
		return (0);
	}
	check_forwardable(push);
	if (group != NULL) {
		if (pushbody_merge(group, push, put, NULL, err, sizeof err) ==
		    PUSHBODY_OK)
			check_forwardable(group);
		pushbody_free(group);
	} else
		pushbody_free(push);
	return (0);
}
