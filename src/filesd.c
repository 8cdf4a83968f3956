/*
 * filesd: Prometheus file_sd discovery. The entries are parsed by tspec
 * (shared with the registration API and the state file). The watcher holds one
 * inotify descriptor, read by a libevent event, with a watch on the parent
 * directory of each file, so writes in place and replacements by rename are
 * both seen; changes are applied after a 100 ms debounce, and every file is
 * re-read every 5 minutes anyway, as Prometheus's refresh_interval does.
 * A file that cannot be read or parsed keeps its last good targets; a file
 * that is gone takes its targets with it.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "config.h"
#include "file.h"
#include "filesd.h"
#include "targetrelabel.h"
#include "log.h"
#include "targets.h"
#include "tspec.h"
#include "timer.h"
#include "xmalloc.h"

#define FILESD_DEBOUNCE_MS	100
#define FILESD_REFRESH_MS	(5 * 60 * 1000)
#define FILESD_RETRY_MS		5000	/* missing dirs, or no inotify */
#define FILESD_WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | \
    IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF)

/* One watched file. */
struct filesd_file {
	char		*path;
	char		*dir;
	char		*base;
	char		*group;		/* "file_sd:<path>" */
	int		 wd;		/* -1: its directory is not watched */
	bool		 dirty;
	bool		 loaded;	/* a good version was applied */
	bool		 missing;	/* last seen absent (logged once) */
	bool		 broken;	/* last read failed (logged once) */
	bool		 unwatched;	/* watch failed (logged once) */
	uint64_t	 hash;		/* of the last good contents */
	const struct config_target *grp;	/* its group's settings */
};

struct filesd {
	struct targets		*targets;
	const struct config	*cfg;
	int			 ifd;		/* -1: no inotify, poll */
	struct event		 ev;
	struct event		 debounce;
	struct event		 refresh;
	bool			 started;	/* the timers are assigned */
	int64_t			 last_full_ms;
	struct filesd_file	*files;
	size_t			 nfiles;
};

/* A 64-bit FNV-1a hash of a file's contents. */
static uint64_t
filesd_hash(const char *p, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ull;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return (h);
}

/*
 * Give a file's targets the settings of the config object that listed it:
 * job, interval and timeout where the file sets none, the scrape contract,
 * TLS and auth, and relabel_configs (dropped targets are listed, targets
 * that are none after them logged). Returns the relabeled targets'
 * strings, which the specs point to, for the caller to free.
 */
static struct target_relabeled *
filesd_apply_group(struct filesd *fs, struct filesd_file *f,
    struct tspec_group *g)
{
	const struct config_target	*grp = f->grp;
	struct target_relabeled		*rt;
	struct target_spec		 sp;
	char				**d, err[256];
	size_t				 i, n = 0, nd = 0;
	int				 rc;

	if (grp == NULL)
		return (NULL);
	rt = xcalloc(g->nspecs + 1, sizeof *rt);
	d = xcalloc(g->nspecs + 1, sizeof *d);
	for (i = 0; i < g->nspecs; i++) {
		sp = g->specs[i];
		if (sp.job == NULL)
			sp.job = grp->job;
		if (sp.interval_ms == 0)
			sp.interval_ms = grp->interval_ms;
		if (sp.timeout_ms == 0)
			sp.timeout_ms = grp->timeout_ms;
		sp.metric_relabel = grp->metric_relabel;
		sp.limits = &grp->limits;
		sp.honor_labels = grp->honor_labels;
		sp.ignore_timestamps = !grp->honor_timestamps;
		sp.http = grp->http;
		if (relabel_len(grp->relabel) > 0) {
			rc = target_relabel_spec(grp->relabel, fs->cfg, &sp,
			    &rt[n], err, sizeof err);
			if (rc == 0) {
				d[nd++] = rt[n].discovered;
				rt[n].discovered = NULL;
			} else if (rc < 0)
				log_warn("file_sd target dropped: not a "
				    "target after relabel_configs",
				    "file=%s url=%s err=%s", f->path, sp.url,
				    err);
			if (rc != 1) {
				target_relabeled_free(&rt[n]);
				continue;
			}
		}
		g->specs[n++] = sp;
	}
	g->nspecs = n;
	targets_set_dropped(fs->targets, f->group, d, nd);
	return (rt);
}

/* Read one file and apply its targets, or keep the last good set. */
static void
filesd_read(struct filesd *fs, struct filesd_file *f)
{
	struct targets		*ts = fs->targets;
	struct tspec_group	 g;
	struct target_relabeled	*rt;
	char			*buf = NULL, err[512];
	size_t			 len, i;
	uint64_t		 h;

	f->dirty = false;
	if (file_read(f->path, FILESD_MAX_FILE_BYTES, &buf, &len) != 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (targets_remove_group(ts, f->group) || f->loaded)
				log_info("file_sd file is gone, its targets "
				    "are removed", "file=%s", f->path);
			f->loaded = false;
			f->missing = true;
			f->broken = false;
			f->hash = 0;
			return;
		}
		f->missing = false;
		if (!f->broken || log_enabled(LOG_LEVEL_DEBUG))
			log_warn("cannot read file_sd file, keeping its last "
			    "good targets", "file=%s err=%s", f->path,
			    errno == EFBIG ? "file too large" :
			    strerror(errno));
		f->broken = true;
		return;
	}
	f->missing = false;
	h = filesd_hash(buf, len);
	if (f->loaded && h == f->hash && !f->broken) {
		free(buf);
		return;
	}
	if (len == 0)
		snprintf(err, sizeof err, "empty file");
	if (len == 0 || !tspec_parse_file_sd(buf, len, &g, err, sizeof err)) {
		if (!f->broken || h != f->hash)
			log_warn("invalid file_sd file, keeping its last good "
			    "targets", "file=%s err=%s", f->path, err);
		f->broken = true;
		f->hash = h;
		free(buf);
		return;
	}
	free(buf);
	rt = filesd_apply_group(fs, f, &g);
	targets_set_group(ts, f->group, g.specs, g.nspecs);
	log_info("file_sd targets updated", "file=%s targets=%zu", f->path,
	    g.nspecs);
	for (i = 0; rt != NULL && i < g.nspecs; i++)
		target_relabeled_free(&rt[i]);
	free(rt);
	tspec_group_free(&g);
	f->loaded = true;
	f->broken = false;
	f->hash = h;
}

/* Watch a file's directory if it is not watched yet. */
static void
filesd_watch(struct filesd *fs, struct filesd_file *f)
{
	if (fs->ifd == -1 || f->wd != -1)
		return;
	f->wd = inotify_add_watch(fs->ifd, f->dir, FILESD_WATCH_MASK);
	if (f->wd == -1) {
		if (!f->unwatched)
			log_warn("cannot watch file_sd directory, retrying "
			    "every 5s", "dir=%s file=%s err=%s", f->dir,
			    f->path, strerror(errno));
		f->unwatched = true;
		return;
	}
	if (f->unwatched)
		log_info("watching file_sd directory again", "dir=%s file=%s",
		    f->dir, f->path);
	f->unwatched = false;
	/* It may have appeared or changed while nobody was watching. */
	f->dirty = true;
}

/* Tell whether every directory is watched. */
static bool
filesd_all_watched(const struct filesd *fs)
{
	size_t	i;

	for (i = 0; i < fs->nfiles; i++) {
		if (fs->files[i].wd == -1)
			return (false);
	}
	return (true);
}

/* Read every dirty file. */
static void
filesd_read_dirty(struct filesd *fs)
{
	size_t	i;

	for (i = 0; i < fs->nfiles; i++) {
		if (fs->files[i].dirty)
			filesd_read(fs, &fs->files[i]);
	}
}

/* Apply the changes collected since the first event. */
static void
filesd_debounce_cb(evutil_socket_t fd, short what, void *arg)
{
	filesd_read_dirty(arg);
}

/* Start the debounce timer unless it already runs. */
static void
filesd_schedule(struct filesd *fs)
{
	if (!evtimer_pending(&fs->debounce, NULL))
		timer_arm_ms(&fs->debounce, FILESD_DEBOUNCE_MS);
}

/* Mark the files of one watch (or all, for wd -1) dirty. */
static void
filesd_mark(struct filesd *fs, int wd, const char *name, bool lost)
{
	struct filesd_file	*f;
	size_t			 i;

	for (i = 0; i < fs->nfiles; i++) {
		f = &fs->files[i];
		if (wd != -1 && f->wd != wd)
			continue;
		if (name != NULL && strcmp(f->base, name) != 0)
			continue;
		f->dirty = true;
		if (lost)
			f->wd = -1;
	}
}

/* Drain the inotify descriptor. */
static void
filesd_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct filesd			*fs = arg;
	char				 buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 r;
	size_t				 off;
	bool				 any = false, lost = false;

	for (;;) {
		r = read(fs->ifd, buf, sizeof buf);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off = 0;
		while (off + sizeof *ev <= (size_t)r) {
			ev = (const struct inotify_event *)(buf + off);
			off += sizeof *ev + ev->len;
			any = true;
			if (ev->mask & IN_Q_OVERFLOW)
				filesd_mark(fs, -1, NULL, false);
			else if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF)) {
				/* A moved directory is not ours any more. */
				if (ev->mask & IN_MOVE_SELF)
					inotify_rm_watch(fs->ifd, ev->wd);
				filesd_mark(fs, ev->wd, NULL, true);
				lost = true;
			} else if (ev->len > 0)
				filesd_mark(fs, ev->wd, ev->name, false);
		}
	}
	if (lost) {
		log_warn("file_sd directory went away, its files' targets "
		    "are removed until it returns", NULL);
		evtimer_del(&fs->refresh);
		timer_arm_ms(&fs->refresh, FILESD_RETRY_MS);
	}
	if (any)
		filesd_schedule(fs);
}

/* Re-watch lost directories and, every 5 minutes, re-read every file. */
static void
filesd_refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct filesd	*fs = arg;
	int64_t		 now = clock_now_ms();
	size_t		 i;

	for (i = 0; i < fs->nfiles; i++)
		filesd_watch(fs, &fs->files[i]);
	if (fs->ifd == -1 || now - fs->last_full_ms >= FILESD_REFRESH_MS) {
		fs->last_full_ms = now;
		filesd_mark(fs, -1, NULL, false);
	}
	filesd_read_dirty(fs);
	timer_arm_ms(&fs->refresh, fs->ifd != -1 && filesd_all_watched(fs) ?
	    FILESD_REFRESH_MS : FILESD_RETRY_MS);
}

/* Start watching the configured files and read them once. */
struct filesd *
filesd_new(struct event_base *evbase, struct targets *ts,
    const struct config *cfg, char *err, size_t errlen)
{
	struct filesd		*fs;
	struct filesd_file	*f;
	const char		*slash;
	size_t			 i;

	fs = xcalloc(1, sizeof *fs);
	fs->targets = ts;
	fs->cfg = cfg;
	fs->ifd = -1;
	fs->files = xcalloc(cfg->nfile_sd + 1, sizeof *fs->files);
	for (i = 0; i < cfg->nfile_sd; i++) {
		f = &fs->files[fs->nfiles++];
		f->path = xstrdup(cfg->file_sd[i]);
		f->grp = cfg->file_sd_groups != NULL ?
		    cfg->file_sd_groups[i] : NULL;
		slash = strrchr(f->path, '/');
		if (slash == NULL)
			f->dir = xstrdup(".");
		else if (slash == f->path)
			f->dir = xstrdup("/");
		else
			f->dir = xstrndup(f->path, (size_t)(slash - f->path));
		f->base = xstrdup(slash == NULL ? f->path : slash + 1);
		xasprintf(&f->group, "%s%s", TSPEC_GROUP_FILE_SD, f->path);
		f->wd = -1;
		if (*f->base == '\0') {
			snprintf(err, errlen, "file_sd \"%s\" names a "
			    "directory, not a file", f->path);
			filesd_free(fs);
			return (NULL);
		}
	}
	fs->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fs->ifd == -1)
		log_warn("inotify is not available, polling file_sd files "
		    "every 5s", "err=%s", strerror(errno));
	else {
		event_assign(&fs->ev, evbase, fs->ifd, EV_READ | EV_PERSIST,
		    filesd_inotify_cb, fs);
		event_add(&fs->ev, NULL);
	}
	evtimer_assign(&fs->debounce, evbase, filesd_debounce_cb, fs);
	evtimer_assign(&fs->refresh, evbase, filesd_refresh_cb, fs);
	fs->started = true;

	for (i = 0; i < fs->nfiles; i++) {
		f = &fs->files[i];
		filesd_watch(fs, f);
		filesd_read(fs, f);
		if (f->missing && f->wd != -1)
			log_info("file_sd file does not exist yet, watching "
			    "its directory", "file=%s", f->path);
		else if (f->missing && fs->ifd == -1)
			log_info("file_sd file does not exist yet, polling",
			    "file=%s", f->path);
	}
	fs->last_full_ms = clock_now_ms();
	timer_arm_ms(&fs->refresh, fs->ifd != -1 && filesd_all_watched(fs) ?
	    FILESD_REFRESH_MS : FILESD_RETRY_MS);
	return (fs);
}

/* Stop watching; the targets stay (the registry owns them). */
void
filesd_free(struct filesd *fs)
{
	size_t	i;

	if (fs == NULL)
		return;
	if (fs->ifd != -1) {
		event_del(&fs->ev);
		close(fs->ifd);
	}
	if (fs->started) {
		evtimer_del(&fs->debounce);
		evtimer_del(&fs->refresh);
	}
	for (i = 0; i < fs->nfiles; i++) {
		free(fs->files[i].path);
		free(fs->files[i].dir);
		free(fs->files[i].base);
		free(fs->files[i].group);
	}
	free(fs->files);
	free(fs);
}

/* Re-read every file now (SIGHUP). */
void
filesd_reload(struct filesd *fs)
{
	size_t	i;

	if (fs == NULL)
		return;
	for (i = 0; i < fs->nfiles; i++) {
		filesd_watch(fs, &fs->files[i]);
		fs->files[i].dirty = true;
		fs->files[i].broken = false;
		fs->files[i].loaded = false;
	}
	filesd_read_dirty(fs);
}
