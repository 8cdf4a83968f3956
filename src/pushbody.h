/*
 * pushbody: a body pushed to the Pushgateway-compatible ingest, split into
 * metric families, with every check that forwarding it needs done before
 * the push is answered: an accepted push re-parses, and every series in it
 * encodes for remote write. Pure (no I/O, no event loop), linear in the
 * size of the body: families and series are found through hash tables, so
 * 80,000 families cost milliseconds. A pushbody owns copies of everything
 * it keeps; the body passed in is borrowed for the call only.
 *
 * Semantics are the Pushgateway's (its text parser and its consistency
 * check on push), answered 400 (PUSHBODY_INVALID) with the reason:
 * - a line the exposition parser refuses, and a sample with a timestamp;
 * - a second TYPE or HELP line for a family, anywhere in the body (the
 *   parser alone sees only a repeat of the family it is in), and a TYPE
 *   line after the family's samples;
 * - the same series (name and label set, in any label order) twice;
 * - a series whose labels would not encode (longer than 65535 bytes once
 *   encoded, leaving room for 64 grouping labels to be spliced in).
 * Caps (struct pushbody_limits) answer 413 (PUSHBODY_TOO_LARGE) with err
 * naming the limit that was hit.
 *
 * Rendering puts each family's lines together (TYPE and HELP canonical,
 * values as buf_put_float writes them), and gives a family without a TYPE
 * line "# TYPE <name> untyped" before its first sample, so that no other
 * family's TYPE line can claim its samples when the text is parsed again:
 * render(parse(render(x))) is render(x), which fuzz/fuzz_push checks.
 *
 * Wiring (pushrecv): per request, b = pushbody_new(); st =
 * pushbody_parse(b, body, len, &limits, err, errlen); on PUSHBODY_OK merge
 * it into the group's own pushbody with pushbody_merge (PUT: replace, POST:
 * replace the families it has), which frees b and checks the merged group
 * as a whole; forward pushbody_render(group, buf) through ingest_page.
 */
#ifndef RWBRIDGE_PUSHBODY_H
#define RWBRIDGE_PUSHBODY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Defaults of the per-push caps. */
#define PUSHBODY_MAX_FAMILIES	10000
#define PUSHBODY_MAX_SAMPLES	100000

/* Room left in a series' encoded labels for grouping labels (2 bytes each). */
#define PUSHBODY_SPLICE_RESERVE	(2 * 64)

/* Caps on one push; 0 means the default, SIZE_MAX no cap. */
struct pushbody_limits {
	size_t	 max_families;
	size_t	 max_samples;
};

enum pushbody_status {
	PUSHBODY_OK,
	PUSHBODY_INVALID,	/* answer 400 with err */
	PUSHBODY_TOO_LARGE	/* answer 413 with err, which names the limit */
};

struct pushbody;

struct pushbody	*pushbody_new(void);
void		 pushbody_free(struct pushbody *);
/*
 * Parse a text-format body (len may be 0, body then NULL) into an empty
 * pushbody; limits may be NULL for the defaults. On failure the pushbody
 * is left empty and err says why, with the line for a bad line.
 */
enum pushbody_status pushbody_parse(struct pushbody *, const char *, size_t,
		     const struct pushbody_limits *, char *, size_t);
/*
 * Merge a parsed push into a group's pushbody: replace all of it (PUT) or
 * only the families the push has (POST; the others keep their place, new
 * ones go last). The merged group is checked as a whole (a series or a
 * TYPE line may clash with a family already there) against limits (NULL:
 * none). On success push is freed; on failure it is freed too, dst is
 * unchanged and err says why.
 */
enum pushbody_status pushbody_merge(struct pushbody *, struct pushbody *,
		     bool, const struct pushbody_limits *, char *, size_t);
/* Append every family, in order, as one text-format body. */
void		 pushbody_render(const struct pushbody *, struct buf *);
size_t		 pushbody_families(const struct pushbody *);
size_t		 pushbody_samples(const struct pushbody *);
/* Tell whether a family of this name is in the pushbody. */
bool		 pushbody_has(const struct pushbody *, const char *, size_t);

#endif
