/*
 * state: the groups registered through the API, kept across restarts in
 * <state_dir>/targets.json. The file holds each group as a list of entries
 * in the shape of an API body, so loading it goes through the same checks
 * as a request:
 *
 *	{"version":1,"groups":{"verl":[{"targets":["10.0.0.5:34567"],
 *	    "labels":{"model_name":"m"},"interval":"5s"}]}}
 *
 * A group is saved as it was registered: the targets its relabel_configs
 * dropped too, in their entries, so a restart lists them as dropped again.
 * It is rewritten whole (temporary file, fsync, rename, fsync of the
 * directory), so a crash leaves the old file or the new one. Writes are
 * batched: a change is saved at once when nothing was saved in the last
 * STATE_SAVE_MIN_MS, else when that time is up, together with every change
 * made meanwhile; so a burst of registrations costs one write a second,
 * not one per request (state_flush saves what is pending at shutdown). A
 * file that cannot be used is moved aside and logged, never fatal:
 * rwbridge starts without the registered groups.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "apigroup.h"
#include "clock.h"
#include "tspec.h"
#include "file.h"
#include "log.h"
#include "state.h"
#include "targets.h"
#include "timer.h"
#include "xmalloc.h"

#define STATE_FILE	"targets.json"
#define STATE_VERSION	1
#define STATE_MAX_BYTES	(256u << 20)

struct state {
	struct targets		*targets;
	const struct config	*cfg;
	struct event		 timer;		/* the batched save */
	bool			 armed;
	bool			 dirty;		/* a change not saved yet */
	bool			 failed;	/* the last save failed */
	int64_t			 last_ms;	/* when it was tried */
	uint64_t		 saves;		/* files written */
	struct log_limit	 fail_log;
};

/* A target relabel_configs dropped, as registered. */
struct state_drop {
	const char		*group;
	const char		*given;		/* its entry, JSON */
	const char		*address;
	size_t			 i;		/* the order they were set */
};

/* An entry of the group being written, by the entry as given. */
struct state_given {
	const char		*given;
	cJSON			*entry;
};

/* What state_save collects while visiting the targets. */
struct state_walk {
	cJSON			*groups;
	cJSON			*list;		/* entries of the group */
	const char		*group;		/* of list */
	cJSON			*entry;		/* last entry */
	const struct target	*prev;		/* its last target */
	struct state_given	*givens;	/* list's entries as given */
	size_t			 ngivens;
	size_t			 nfront;	/* entries only dropped ones */
	struct state_drop	*drops;		/* by group, then order */
	size_t			 ndrops;
	size_t			 di;		/* the next one to write */
	size_t			 ngroups;
	size_t			 ntargets;
};

/* Save what is pending when the batching delay is up. */
static void
state_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct state	*st = arg;

	st->armed = false;
	state_flush(st);
}

/* Create the state handle. */
struct state *
state_new(struct event_base *base, struct targets *ts,
    const struct config *cfg)
{
	struct state	*st;

	st = xcalloc(1, sizeof *st);
	st->targets = ts;
	st->cfg = cfg;
	evtimer_assign(&st->timer, base, state_timer_cb, st);
	st->last_ms = INT64_MIN / 2;
	return (st);
}

/* Free the handle (not what it borrows). */
void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	if (st->armed)
		evtimer_del(&st->timer);
	free(st);
}

/* Compare two strings that may be NULL. */
static bool
state_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Tell whether two targets' specs can share an entry. */
static bool
state_same_entry(const struct target *a, const struct target *b)
{
	const struct target_spec	*x = &a->spec, *y = &b->spec;
	size_t				 i;

	if (x->given != NULL || y->given != NULL)
		return (strcmp(a->group, b->group) == 0 &&
		    state_streq(x->given, y->given));
	if (strcmp(a->group, b->group) != 0 || !state_streq(x->job, y->job) ||
	    !state_streq(x->scheme, y->scheme) ||
	    !state_streq(x->path, y->path) ||
	    x->interval_ms != y->interval_ms ||
	    x->timeout_ms != y->timeout_ms || x->nlabels != y->nlabels)
		return (false);
	for (i = 0; i < x->nlabels; i++) {
		if (strcmp(x->labels[i].name, y->labels[i].name) != 0 ||
		    strcmp(x->labels[i].value, y->labels[i].value) != 0)
			return (false);
	}
	return (true);
}

/* Start an entry for an API entry: every key as it was given. */
static cJSON *
state_entry_given(const char *s)
{
	cJSON	*e, *given, *k;

	e = cJSON_CreateObject();
	cJSON_AddArrayToObject(e, "targets");
	given = cJSON_Parse(s);
	while (given != NULL && given->child != NULL) {
		k = cJSON_DetachItemViaPointer(given, given->child);
		cJSON_AddItemToObject(e, k->string, k);
	}
	cJSON_Delete(given);
	return (e);
}

/* Start an entry for t: its spec as given, without the address. */
static cJSON *
state_entry(const struct target *t)
{
	const struct target_spec	*sp = &t->spec;
	cJSON				*e, *labels;
	char				 d[32];
	size_t				 i;

	if (sp->given != NULL)
		return (state_entry_given(sp->given));
	e = cJSON_CreateObject();
	cJSON_AddArrayToObject(e, "targets");
	if (sp->nlabels > 0) {
		labels = cJSON_AddObjectToObject(e, "labels");
		for (i = 0; i < sp->nlabels; i++)
			cJSON_AddStringToObject(labels, sp->labels[i].name,
			    sp->labels[i].value);
	}
	if (sp->job != NULL)
		cJSON_AddStringToObject(e, "job", sp->job);
	if (sp->interval_ms != 0)
		cJSON_AddStringToObject(e, "interval",
		    duration_format(sp->interval_ms, d, sizeof d));
	if (sp->timeout_ms != 0)
		cJSON_AddStringToObject(e, "timeout",
		    duration_format(sp->timeout_ms, d, sizeof d));
	if (sp->scheme != NULL)
		cJSON_AddStringToObject(e, "scheme", sp->scheme);
	if (sp->path != NULL)
		cJSON_AddStringToObject(e, "metrics_path", sp->path);
	return (e);
}

/* Tell whether a group is one the API registers (and the file saves). */
static bool
state_group_saved(const char *group)
{
	return (!tspec_group_reserved(group) &&
	    tspec_group_name_valid(group));
}

/* Start the group's list of entries unless it is the current one. */
static void
state_walk_group(struct state_walk *w, const char *group)
{
	if (w->group != NULL && strcmp(w->group, group) == 0)
		return;
	w->list = cJSON_AddArrayToObject(w->groups, group);
	w->group = group;
	w->entry = NULL;
	w->ngivens = 0;
	w->nfront = 0;
	w->ngroups++;
}

/* Remember the group's entry for an entry as given. */
static void
state_walk_keep(struct state_walk *w, const char *given, cJSON *entry)
{
	w->givens = xreallocarray(w->givens, w->ngivens + 1,
	    sizeof *w->givens);
	w->givens[w->ngivens].given = given;
	w->givens[w->ngivens++].entry = entry;
}

/* Add an address to an entry's targets. */
static void
state_walk_address(struct state_walk *w, cJSON *entry, const char *address)
{
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(entry,
	    "targets"), cJSON_CreateString(address));
	w->ntargets++;
}

/*
 * Add the dropped targets of the groups before upto (every one left if
 * NULL), each to the entry it was registered with. An entry with no
 * target left goes before the group's others: the file is read in order
 * and the last spec of a URL wins, so a target kept from a later request
 * stays kept.
 */
static void
state_walk_drops(struct state_walk *w, const char *upto)
{
	const struct state_drop	*d;
	cJSON			*e;
	size_t			 i;

	for (; w->di < w->ndrops; w->di++) {
		d = &w->drops[w->di];
		if (upto != NULL && strcmp(d->group, upto) >= 0)
			break;
		state_walk_group(w, d->group);
		for (i = 0, e = NULL; i < w->ngivens && e == NULL; i++) {
			if (strcmp(w->givens[i].given, d->given) == 0)
				e = w->givens[i].entry;
		}
		if (e == NULL) {
			e = state_entry_given(d->given);
			cJSON_InsertItemInArray(w->list, (int)w->nfront++, e);
			state_walk_keep(w, d->given, e);
		}
		state_walk_address(w, e, d->address);
	}
}

/* Add one API-registered target to the document (a targets_fn). */
static void
state_walk_cb(void *arg, struct target *t)
{
	struct state_walk	*w = arg;

	if (!state_group_saved(t->group))
		return;
	if (t->spec.address == NULL) {
		log_warn("target not saved: registered without an address",
		    "group=%s url=%s", t->group, t->url);
		return;
	}
	state_walk_drops(w, t->group);
	state_walk_group(w, t->group);
	if (w->entry == NULL || !state_same_entry(w->prev, t)) {
		w->entry = state_entry(t);
		cJSON_AddItemToArray(w->list, w->entry);
		if (t->spec.given != NULL)
			state_walk_keep(w, t->spec.given, w->entry);
	}
	state_walk_address(w, w->entry, t->spec.address);
	w->prev = t;
}

/* Collect a dropped target as registered (a foreach_dropped_spec fn). */
static void
state_drop_cb(void *arg, const char *group, const char *given,
    const char *address)
{
	struct state_walk	*w = arg;
	struct state_drop	*d;

	if (!state_group_saved(group))
		return;
	w->drops = xreallocarray(w->drops, w->ndrops + 1, sizeof *w->drops);
	d = &w->drops[w->ndrops];
	d->group = group;
	d->given = given;
	d->address = address;
	d->i = w->ndrops++;
}

/* Order dropped targets by group, then as they were set. */
static int
state_drop_cmp(const void *a, const void *b)
{
	const struct state_drop	*x = a, *y = b;
	int			 c;

	c = strcmp(x->group, y->group);
	if (c != 0)
		return (c);
	return (x->i < y->i ? -1 : x->i > y->i);
}

/* Write all of s to fd. */
static int
state_write_all(int fd, const char *s, size_t len)
{
	ssize_t	r;

	while (len > 0) {
		r = write(fd, s, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return (-1);
		s += r;
		len -= (size_t)r;
	}
	return (0);
}

/* Write a file atomically: temporary, fsync, rename, fsync the dir. */
static int
state_write_file(const char *dir, const char *name, const char *s,
    char *err, size_t errlen)
{
	char	*path = NULL, *tmp = NULL;
	int	 fd = -1, dfd = -1, rc = -1;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return (-1);
	}
	xasprintf(&path, "%s/%s", dir, name);
	xasprintf(&tmp, "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (state_write_all(fd, s, strlen(s)) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) != 0) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;

fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	if (dfd != -1)
		close(dfd);
	free(path);
	free(tmp);
	return (rc);
}

/* Render the API-registered groups as the state document. */
char *
state_render(struct targets *ts, size_t *ngroups, size_t *ntargets)
{
	struct state_walk	 w;
	cJSON			*doc;
	char			*s;

	memset(&w, 0, sizeof w);
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "version", STATE_VERSION);
	w.groups = cJSON_AddObjectToObject(doc, "groups");
	targets_foreach_dropped_spec(ts, state_drop_cb, &w);
	if (w.ndrops > 1)
		qsort(w.drops, w.ndrops, sizeof *w.drops, state_drop_cmp);
	targets_foreach(ts, state_walk_cb, &w);
	state_walk_drops(&w, NULL);
	s = cJSON_Print(doc);
	cJSON_Delete(doc);
	free(w.drops);
	free(w.givens);
	if (ngroups != NULL)
		*ngroups = w.ngroups;
	if (ntargets != NULL)
		*ntargets = w.ntargets;
	return (s);
}

/* Save every API-registered group. */
int
state_save(struct state *st, char *err, size_t errlen)
{
	char	*s;
	size_t	 ngroups, ntargets;
	int	 rc;

	if (st->cfg->state_dir == NULL || targets_stopped(st->targets))
		return (0);
	s = state_render(st->targets, &ngroups, &ntargets);
	rc = state_write_file(st->cfg->state_dir, STATE_FILE, s, err, errlen);
	cJSON_free(s);
	if (rc == 0) {
		st->saves++;
		log_debug("registered targets saved", "groups=%zu targets=%zu",
		    ngroups, ntargets);
	}
	return (rc);
}

/* Note a change: save it now or with the next batch. */
void
state_changed(struct state *st)
{
	int64_t	wait;

	if (st->cfg->state_dir == NULL)
		return;
	st->dirty = true;
	if (st->armed)
		return;
	wait = st->last_ms + STATE_SAVE_MIN_MS - clock_now_ms();
	if (wait <= 0 || wait > STATE_SAVE_MIN_MS) {
		state_flush(st);
		return;
	}
	st->armed = true;
	timer_arm_ms(&st->timer, wait);
}

/* Save a pending change now (at shutdown, before the targets stop). */
void
state_flush(struct state *st)
{
	char	err[512];

	if (!st->dirty)
		return;
	if (st->armed) {
		evtimer_del(&st->timer);
		st->armed = false;
	}
	st->dirty = false;
	st->last_ms = clock_now_ms();
	st->failed = state_save(st, err, sizeof err) != 0;
	if (st->failed)
		log_limited(&st->fail_log, LOG_LEVEL_ERROR, err,
		    "cannot save registered targets, they will not survive "
		    "a restart", "err=%s", err);
	else if (st->fail_log.active)
		log_info("registered targets saved again", "repeated=%" PRIu64,
		    log_limit_clear(&st->fail_log));
}

/* Tell whether the last save failed. */
bool
state_failed(const struct state *st)
{
	return (st->failed);
}

/* State files written. */
uint64_t
state_saves(const struct state *st)
{
	return (st != NULL ? st->saves : 0);
}

/* Check the document and build one tspec_group per group. */
static bool
state_parse(const char *buf, size_t len, struct tspec_group **gp,
    char ***namesp, size_t *ngp, char *err, size_t errlen)
{
	cJSON			*doc;
	const cJSON		*v, *groups, *g, *e;
	const char		*end = NULL;
	struct tspec_group	*gs = NULL;
	char			**names = NULL;
	char			 where[200];
	size_t			 n = 0, i, k;

	doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (doc == NULL) {
		tspec_json_error(buf, len, end, err, errlen);
		return (false);
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	groups = cJSON_GetObjectItemCaseSensitive(doc, "groups");
	if (!cJSON_IsNumber(v) || v->valuedouble != STATE_VERSION) {
		snprintf(err, errlen, "$.version: want %d", STATE_VERSION);
		goto fail;
	}
	if (!cJSON_IsObject(groups)) {
		snprintf(err, errlen, "$.groups: want an object");
		goto fail;
	}
	k = (size_t)cJSON_GetArraySize(groups);
	gs = xcalloc(k + 1, sizeof *gs);
	names = xcalloc(k + 1, sizeof *names);
	cJSON_ArrayForEach(g, groups) {
		if (!tspec_group_name_valid(g->string) ||
		    tspec_group_reserved(g->string)) {
			snprintf(err, errlen, "$.groups: group name \"%.128s\" "
			    "is not one the API may register", g->string);
			goto fail;
		}
		if (!cJSON_IsArray(g)) {
			snprintf(err, errlen, "$.groups.%s: want an array",
			    g->string);
			goto fail;
		}
		names[n] = xstrdup(g->string);
		tspec_group_init(&gs[n]);
		i = 0;
		cJSON_ArrayForEach(e, g) {
			snprintf(where, sizeof where, "$.groups.%s[%zu]",
			    g->string, i++);
			if (!tspec_parse_entry(e, where, TSPEC_ENTRY_API,
			    &gs[n], err, errlen)) {
				n++;
				goto fail;
			}
		}
		/* Not deduplicated here: apigroup does, after relabeling. */
		n++;
	}
	cJSON_Delete(doc);
	*gp = gs;
	*namesp = names;
	*ngp = n;
	return (true);

fail:
	for (i = 0; i < n; i++) {
		tspec_group_free(&gs[i]);
		free(names[i]);
	}
	free(gs);
	free(names);
	cJSON_Delete(doc);
	return (false);
}

/* Re-register the groups saved by a previous run. */
int
state_load(struct state *st, char *err, size_t errlen)
{
	struct tspec_group	*gs;
	char			**names;
	char			*path, *aside, *buf, why[512];
	size_t			 len, n, i, total = 0;
	int			 rc = -1;

	if (st->cfg->state_dir == NULL)
		return (0);
	xasprintf(&path, "%s/%s", st->cfg->state_dir, STATE_FILE);
	if (file_read(path, STATE_MAX_BYTES, &buf, &len) != 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return (rc);
	}
	if (!state_parse(buf, len, &gs, &names, &n, why, sizeof why)) {
		/* Keep the bad file for a post-mortem; start afresh. */
		xasprintf(&aside, "%s.corrupt", path);
		if (rename(path, aside) == 0)
			snprintf(err, errlen, "%s: %s (moved to %s)", path, why,
			    aside);
		else
			snprintf(err, errlen, "%s: %s", path, why);
		free(aside);
		free(buf);
		free(path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (gs[i].nspecs > 0)
			apigroup_register(st->targets, st->cfg, names[i],
			    &gs[i], true);
		total += gs[i].nspecs;
		tspec_group_free(&gs[i]);
		free(names[i]);
	}
	if (n > 0)
		log_info("registered targets restored", "file=%s groups=%zu "
		    "targets=%zu", path, n, total);
	free(gs);
	free(names);
	free(buf);
	free(path);
	return (0);
}
