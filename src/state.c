/*
 * state: the groups registered through the API, kept across restarts in
 * <state_dir>/targets.json. The file holds each group as a list of entries
 * in the shape of an API body, so loading it goes through the same checks
 * as a request:
 *
 *	{"version":1,"groups":{"verl":[{"targets":["10.0.0.5:34567"],
 *	    "labels":{"model_name":"m"},"interval":"5s"}]}}
 *
 * It is rewritten whole after every successful API write (temporary file,
 * fsync, rename, fsync of the directory), so a crash leaves the old file or
 * the new one. A file that cannot be used is moved aside and logged, never
 * fatal: rwbridge starts without the registered groups.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "filesd.h"
#include "log.h"
#include "rwbridge.h"
#include "state.h"
#include "targets.h"
#include "xmalloc.h"

#define STATE_FILE	"targets.json"
#define STATE_VERSION	1
#define STATE_MAX_BYTES	(256u << 20)

/* What state_save collects while visiting the targets. */
struct state_walk {
	struct rwbridge		*rw;
	cJSON			*groups;
	cJSON			*list;		/* entries of the group */
	cJSON			*entry;		/* last entry */
	const struct target	*prev;		/* its last target */
	size_t			 ngroups;
	size_t			 ntargets;
};

/* Split a URL built by the API into scheme, host:port and path. */
static bool
state_split_url(const char *url, char *scheme, size_t slen, char *addr,
    size_t alen, const char **path)
{
	const char	*p, *slash;

	p = strstr(url, "://");
	if (p == NULL || (size_t)(p - url) >= slen)
		return (false);
	memcpy(scheme, url, (size_t)(p - url));
	scheme[p - url] = '\0';
	p += 3;
	slash = strchr(p, '/');
	if (slash == NULL || (size_t)(slash - p) >= alen)
		return (false);
	memcpy(addr, p, (size_t)(slash - p));
	addr[slash - p] = '\0';
	*path = slash;
	return (true);
}

/* The interval and timeout a target got by default (0) or was given. */
static void
state_settings(const struct target *t, int64_t *iv, int64_t *to)
{
	const struct config	*cfg = t->rw->cfg;
	int64_t			 defto;

	*iv = t->interval_ms == cfg->scrape_interval_ms ? 0 : t->interval_ms;
	defto = cfg->scrape_timeout_ms;
	if (defto > t->interval_ms)
		defto = t->interval_ms;
	*to = t->timeout_ms == defto ? 0 : t->timeout_ms;
}

/* Tell whether two targets can share an entry. */
static bool
state_same_entry(const struct target *a, const struct target *b)
{
	char		 sa[16], sb[16], aa[512], ab[512];
	const char	*pa, *pb;
	int64_t		 iva, toa, ivb, tob;
	size_t		 i;

	if (strcmp(a->group, b->group) != 0 || strcmp(a->job, b->job) != 0 ||
	    a->nlabels != b->nlabels)
		return (false);
	state_settings(a, &iva, &toa);
	state_settings(b, &ivb, &tob);
	if (iva != ivb || toa != tob)
		return (false);
	if (!state_split_url(a->url, sa, sizeof sa, aa, sizeof aa, &pa) ||
	    !state_split_url(b->url, sb, sizeof sb, ab, sizeof ab, &pb) ||
	    strcmp(sa, sb) != 0 || strcmp(pa, pb) != 0)
		return (false);
	for (i = 0; i < a->nlabels; i++) {
		if (strcmp(a->labels[i].name, b->labels[i].name) != 0 ||
		    strcmp(a->labels[i].value, b->labels[i].value) != 0)
			return (false);
	}
	return (true);
}

/* Start an entry for t. */
static cJSON *
state_entry(const struct target *t, const char *scheme, const char *path)
{
	const struct config	*cfg = t->rw->cfg;
	cJSON			*e, *labels;
	char			 d[32];
	int64_t			 iv, to;
	size_t			 i;

	e = cJSON_CreateObject();
	cJSON_AddArrayToObject(e, "targets");
	if (t->nlabels > 0) {
		labels = cJSON_AddObjectToObject(e, "labels");
		for (i = 0; i < t->nlabels; i++)
			cJSON_AddStringToObject(labels, t->labels[i].name,
			    t->labels[i].value);
	}
	if (strcmp(t->job, cfg->job) != 0)
		cJSON_AddStringToObject(e, "job", t->job);
	state_settings(t, &iv, &to);
	if (iv != 0)
		cJSON_AddStringToObject(e, "interval",
		    duration_format(iv, d, sizeof d));
	if (to != 0)
		cJSON_AddStringToObject(e, "timeout",
		    duration_format(to, d, sizeof d));
	if (strcmp(scheme, "http") != 0)
		cJSON_AddStringToObject(e, "scheme", scheme);
	if (strcmp(path, "/metrics") != 0)
		cJSON_AddStringToObject(e, "metrics_path", path);
	return (e);
}

/* Add one API-registered target to the document (a targets_fn). */
static void
state_walk_cb(void *arg, struct target *t)
{
	struct state_walk	*w = arg;
	char			 scheme[16], addr[512];
	const char		*path;

	if (filesd_group_reserved(t->group) ||
	    !filesd_group_name_valid(t->group))
		return;
	if (!state_split_url(t->url, scheme, sizeof scheme, addr,
	    sizeof addr, &path)) {
		log_warn("target not saved: unexpected URL", "group=%s url=%s",
		    t->group, t->url);
		return;
	}
	if (w->prev == NULL || strcmp(w->prev->group, t->group) != 0) {
		w->list = cJSON_AddArrayToObject(w->groups, t->group);
		w->entry = NULL;
		w->ngroups++;
	}
	if (w->entry == NULL || !state_same_entry(w->prev, t)) {
		w->entry = state_entry(t, scheme, path);
		cJSON_AddItemToArray(w->list, w->entry);
	}
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(w->entry,
	    "targets"), cJSON_CreateString(addr));
	w->prev = t;
	w->ntargets++;
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

/* Save every API-registered group. */
int
state_save(struct rwbridge *rw, char *err, size_t errlen)
{
	struct state_walk	 w;
	cJSON			*doc;
	char			*s;
	int			 rc;

	if (rw->cfg->state_dir == NULL || rw->stopping)
		return (0);
	memset(&w, 0, sizeof w);
	w.rw = rw;
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "version", STATE_VERSION);
	w.groups = cJSON_AddObjectToObject(doc, "groups");
	targets_foreach(rw->targets, state_walk_cb, &w);
	s = cJSON_Print(doc);
	cJSON_Delete(doc);
	rc = state_write_file(rw->cfg->state_dir, STATE_FILE, s, err, errlen);
	cJSON_free(s);
	if (rc == 0)
		log_debug("registered targets saved", "groups=%zu targets=%zu",
		    w.ngroups, w.ntargets);
	return (rc);
}

/* Read a whole file; -1 with errno set. */
static int
state_read_file(const char *path, char **bufp, size_t *lenp)
{
	struct stat	 sb;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &sb) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	if (sb.st_size < 0 || (uint64_t)sb.st_size > STATE_MAX_BYTES) {
		close(fd);
		errno = EFBIG;
		return (-1);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		r = read(fd, buf + len, (size_t)sb.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (0);
}

/* Check the document and build one filesd_group per group. */
static int
state_parse(const char *buf, size_t len, struct filesd_group **gp,
    char ***namesp, size_t *ngp, char *err, size_t errlen)
{
	cJSON			*doc;
	const cJSON		*v, *groups, *g, *e;
	const char		*end = NULL;
	struct filesd_group	*gs = NULL;
	char			**names = NULL;
	char			 where[200];
	size_t			 n = 0, i, k;

	doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (doc == NULL) {
		filesd_json_error(buf, len, end, err, errlen);
		return (-1);
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
		if (!filesd_group_name_valid(g->string) ||
		    filesd_group_reserved(g->string)) {
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
		filesd_group_init(&gs[n]);
		i = 0;
		cJSON_ArrayForEach(e, g) {
			snprintf(where, sizeof where, "$.groups.%s[%zu]",
			    g->string, i++);
			if (!filesd_parse_entry(e, where, FILESD_ENTRY_API,
			    &gs[n], err, errlen)) {
				n++;
				goto fail;
			}
		}
		filesd_group_dedup(&gs[n]);
		n++;
	}
	cJSON_Delete(doc);
	*gp = gs;
	*namesp = names;
	*ngp = n;
	return (0);

fail:
	for (i = 0; i < n; i++) {
		filesd_group_free(&gs[i]);
		free(names[i]);
	}
	free(gs);
	free(names);
	cJSON_Delete(doc);
	return (-1);
}

/* Re-register the groups saved by a previous run. */
int
state_load(struct rwbridge *rw, char *err, size_t errlen)
{
	struct filesd_group	*gs;
	char			**names;
	char			*path, *aside, *buf, why[512];
	size_t			 len, n, i, total = 0;
	int			 rc = -1;

	if (rw->cfg->state_dir == NULL)
		return (0);
	xasprintf(&path, "%s/%s", rw->cfg->state_dir, STATE_FILE);
	if (state_read_file(path, &buf, &len) != 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return (rc);
	}
	if (state_parse(buf, len, &gs, &names, &n, why, sizeof why) != 0) {
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
			targets_set_group(rw->targets, names[i], gs[i].specs,
			    gs[i].nspecs);
		total += gs[i].nspecs;
		filesd_group_free(&gs[i]);
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

/* A name made safe for a file name: [A-Za-z0-9._-], others as '_'. */
const char *
state_safe_name(const char *name)
{
	static char	out[64];
	size_t		i;

	for (i = 0; name != NULL && name[i] != '\0' && i < sizeof out - 1;
	    i++) {
		if (isalnum((unsigned char)name[i]) || name[i] == '.' ||
		    name[i] == '-' || name[i] == '_')
			out[i] = name[i];
		else
			out[i] = '_';
	}
	out[i] = '\0';
	return (out);
}
