/*
 * floor: the least any forwarder can spend on rwbridge's workload, measured
 * on the same libraries. It fetches every target's page on rwbridge's
 * schedule (each target every interval, spread over the interval, HTTP/1.1
 * keep-alive as the server allows) and discards it, and it POSTs
 * remote-write bodies at a given rate to the receiver. The bodies are the
 * targets' own samples with job and instance labels and the five synthetic
 * series per target, encoded and snappy-compressed once at start, so what
 * it spends while running is moving the bytes: the kernel, the event loop
 * and the HTTP client. bench/compare runs it as the "floor" column and
 * divides rwbridge's CPU per delivered sample by the floor's.
 *
 * Every body holds each of its series once, at the start timestamp, so the
 * receiver answers a re-sent body as an exact duplicate (2xx, nothing
 * appended); the floor counts the samples of every body answered 2xx.
 *
 * Two HTTP clients: libcurl's multi interface on libevent through
 * src/httpc.c, rwbridge's own glue and settings (default), and --plain,
 * non-blocking sockets with one write per request and a minimal response
 * reader (status line, Content-Length, Connection: close), so the cost of
 * the HTTP client shows as the difference between the two.
 *
 * SIGUSR1 writes the counters to the --stats file (replaced atomically,
 * "name value" lines, seq first); SIGINT/SIGTERM stop it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "addr.h"
#include "buf.h"
#include "duration.h"
#include "httpc.h"
#include "labels.h"
#include "log.h"
#include "promtext.h"
#include "rwenc.h"
#include "timer.h"
#include "xmalloc.h"

#define FLOOR_MAX_SENDS		8	/* POSTs in flight at most */
#define FLOOR_READ_CHUNK	(256 * 1024)
#define FLOOR_USER_AGENT	"rwbridge-floor"
#define nitems(a)		(sizeof (a) / sizeof (a)[0])

static const char usage_text[] =
"usage: floor --url URL --interval DUR --requests N --stats FILE [--plain]\n"
"             host:port...\n"
"\n"
"Fetch http://host:port/metrics of every target once per interval and\n"
"discard it; POST N remote-write bodies per interval, built once at start\n"
"from the pages, to URL. SIGUSR1 writes the counters to FILE.\n"
"\n"
"  --url URL          remote-write receiver (http://host:port/path)\n"
"  --interval DUR     scrape interval (e.g. 1s, 500ms)\n"
"  --requests N       POSTs per interval; the samples are split over them\n"
"  --stats FILE       where SIGUSR1 writes the counters\n"
"  --plain            plain sockets instead of libcurl\n"
"  --buffer-size N    libcurl's receive buffer (CURLOPT_BUFFERSIZE; libcurl's\n"
"                     default is 16 KiB)\n"
"  --changelist       libevent's epoll changelist (a socket's delete and\n"
"                     re-add in one loop pass cost no epoll_ctl)\n";

struct floor;

/* A plain-socket HTTP/1.1 connection: one request at a time. */
struct pconn {
	struct floor		*f;
	const struct sockaddr_storage *sa;
	socklen_t		 salen;
	int			 fd;
	struct event		 ev;
	struct iovec		 iov[2];	/* request head, body */
	int			 niov;
	size_t			 hdr_len;	/* response bytes read so far */
	int64_t			 body_left;	/* -1: until EOF */
	int			 status;
	bool			 in_body;
	bool			 peer_closes;
	bool			 busy;
	bool			 is_send;
	bool			 reused;	/* kept alive from before */
	const struct buf	*req_head;
	const void		*req_body;
	size_t			 req_len;
	struct buf		 resp;		/* response head */
	/* The exchange ended, 2xx or not; also for libcurl's transfers. */
	void			 (*done)(void *, bool);
	void			*owner;
};

/* One target: its page is fetched every interval. */
struct ftarget {
	struct floor		*f;
	char			*url;
	struct event		 tick;
	bool			 busy;
	CURL			*easy;
	struct httpc_req	 req;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	struct buf		 head;		/* plain GET request */
	struct pconn		 pc;
};

/* A slot for one POST in flight. */
struct fsend {
	struct floor		*f;
	bool			 busy;
	size_t			 samples;
	CURL			*easy;
	struct httpc_req	 req;
	struct pconn		 pc;
};

/* A body encoded and compressed at start, with its plain request head. */
struct fbody {
	struct buf		 data;
	struct buf		 head;
	size_t			 samples;
};

struct floor {
	struct event_base	*base;
	struct httpc		*httpc;
	bool			 plain;
	long			 buffer_size;	/* 0: libcurl's default */
	const char		*url;
	const char		*stats_path;
	int64_t			 interval_ms;
	struct ftarget		*targets;
	int			 ntargets;
	struct fbody		*bodies;
	int			 nbodies;
	int			 next_body;
	struct fsend		 sends[FLOOR_MAX_SENDS];
	struct curl_slist	*headers;
	struct sockaddr_storage	 recv_sa;
	socklen_t		 recv_salen;
	char			*recv_path;
	char			*recv_hostport;
	struct event		 send_tick;
	struct event		 usr1_ev;
	struct event		 int_ev;
	struct event		 term_ev;
	char			 scratch[FLOOR_READ_CHUNK];
	/* Counters written on SIGUSR1. */
	uint64_t		 seq;
	uint64_t		 scrapes;
	uint64_t		 scrape_bytes;
	uint64_t		 scrape_errors;
	uint64_t		 scrapes_skipped;
	uint64_t		 requests;
	uint64_t		 samples;
	uint64_t		 send_errors;
	uint64_t		 sends_skipped;
	uint64_t		 connects;
};

/* Print the usage and exit 2. */
static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "floor: %s\n", why);
	fputs(usage_text, stderr);
	exit(2);
}

/* Discard a page's bytes, counting them. */
static size_t
floor_discard_cb(char *p, size_t size, size_t n, void *arg)
{
	uint64_t	*bytes = arg;

	(void)p;
	*bytes += size * n;
	return (size * n);
}

/* Collect a page's bytes (start-up only). */
static size_t
floor_collect_cb(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return (size * n);
}

/* Append one sample with the target's labels to the encoded stream. */
static int
floor_add_sample(struct buf *out, struct labels *l, struct buf *enc,
    const struct label *tl, const struct pt_item *it, const char *name,
    double value, int64_t ts)
{
	struct pt_label	 pl;
	char		 err[256], *v;
	size_t		 pos = 0, vlen;

	labels_reset(l);
	labels_add(l, "__name__", 8, name, it != NULL ? it->name.len :
	    strlen(name));
	while (it != NULL && pt_label_next(it->labels, &pos, &pl)) {
		v = xmalloc(pl.value.len + 1);
		vlen = pl.escaped ? pt_unescape_value(pl.value, v) :
		    pl.value.len;
		if (!pl.escaped)
			memcpy(v, pl.value.p, vlen);
		labels_add(l, pl.name.p, pl.name.len, v, vlen);
		free(v);
	}
	if (!labels_finish(l, tl, 2, err, sizeof err)) {
		log_error("bad labels", "err=%s", err);
		return (-1);
	}
	buf_reset(enc);
	rwenc_labels(enc, l->v, l->n);
	rwenc_series(out, enc->data, enc->len, value, ts);
	return (0);
}

/* Encode one target's page and synthetic series; count the samples. */
static int
floor_encode_page(struct ftarget *t, const struct buf *page, int64_t ts,
    struct buf *raw, size_t **ends, size_t *nends, size_t *cap)
{
	static const char *const synth[] = { "up", "scrape_duration_seconds",
	    "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
	    "scrape_series_added" };
	struct promtext	 pt;
	struct pt_item	 it;
	struct labels	 l;
	struct buf	 enc;
	struct label	 tl[2];
	char		 err[256];
	const char	*inst;
	size_t		 i, n = 0;
	double		 sv[5];
	enum pt_kind	 k;
	int		 rc = -1;

	inst = t->url + strlen("http://");
	tl[0] = (struct label){ "instance", 8, inst,
	    (size_t)(strchr(inst, '/') - inst) };
	tl[1] = (struct label){ "job", 3, "bench", 5 };
	labels_init(&l);
	buf_init(&enc);
	promtext_init(&pt, (const char *)page->data, page->len,
	    PT_FORMAT_TEXT);
	for (;;) {
		k = promtext_next(&pt, &it, err, sizeof err);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR) {
			log_error("cannot parse page", "target=%s err=%s",
			    t->url, err);
			goto fail;
		}
		if (k != PT_SAMPLE)
			continue;
		if (floor_add_sample(raw, &l, &enc, tl, &it, it.name.p,
		    it.value, ts) != 0)
			goto fail;
		if (*nends == *cap) {
			*cap = *cap ? *cap * 2 : 4096;
			*ends = xreallocarray(*ends, *cap, sizeof **ends);
		}
		(*ends)[(*nends)++] = raw->len;
		n++;
	}
	sv[0] = 1;
	sv[1] = 0.001;
	sv[2] = sv[3] = (double)n;
	sv[4] = 0;
	for (i = 0; i < nitems(synth); i++) {
		if (floor_add_sample(raw, &l, &enc, tl, NULL, synth[i], sv[i],
		    ts) != 0)
			goto fail;
		if (*nends == *cap) {
			*cap *= 2;
			*ends = xreallocarray(*ends, *cap, sizeof **ends);
		}
		(*ends)[(*nends)++] = raw->len;
	}
	rc = 0;
fail:
	labels_free(&l);
	buf_free(&enc);
	return (rc);
}

/*
 * Fetch every page once, encode all samples, split them into nbodies
 * bodies of about equal samples and compress each.
 */
static int
floor_build_bodies(struct floor *f, int nbodies)
{
	struct buf	 page, raw;
	size_t		*ends = NULL, nends = 0, cap = 0, per, from, to, s;
	int64_t		 ts;
	long		 code;
	CURL		*easy;
	CURLcode	 cc;
	int		 i, rc = -1;
	struct timespec	 now;

	clock_gettime(CLOCK_REALTIME, &now);
	ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	buf_init(&page);
	buf_init(&raw);
	easy = curl_easy_init();
	for (i = 0; i < f->ntargets; i++) {
		buf_reset(&page);
		curl_easy_setopt(easy, CURLOPT_URL, f->targets[i].url);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
		    floor_collect_cb);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, &page);
		curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
		cc = curl_easy_perform(easy);
		code = 0;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		if (cc != CURLE_OK || code != 200) {
			log_error("cannot fetch page", "target=%s err=%s "
			    "code=%ld", f->targets[i].url,
			    curl_easy_strerror(cc), code);
			goto fail;
		}
		if (floor_encode_page(&f->targets[i], &page, ts, &raw, &ends,
		    &nends, &cap) != 0)
			goto fail;
	}
	if (nbodies > (int)nends)
		nbodies = (int)nends;
	f->nbodies = nbodies;
	f->bodies = xcalloc((size_t)nbodies, sizeof *f->bodies);
	per = (nends + (size_t)nbodies - 1) / (size_t)nbodies;
	for (i = 0, s = 0; i < nbodies; i++) {
		from = s == 0 ? 0 : ends[s - 1];
		s = s + per < nends ? s + per : nends;
		to = ends[s - 1];
		f->bodies[i].samples = i + 1 < nbodies ? per :
		    nends - per * (size_t)(nbodies - 1);
		buf_init(&f->bodies[i].data);
		buf_init(&f->bodies[i].head);
		if (!rwenc_snappy(raw.data + from, to - from,
		    &f->bodies[i].data)) {
			log_error("snappy failed", NULL);
			goto fail;
		}
	}
	for (i = 0, s = 0; i < nbodies; i++)
		s += f->bodies[i].data.len;
	log_info("bodies built", "bodies=%d samples=%zu raw_bytes=%zu "
	    "compressed_bytes=%zu", nbodies, nends, raw.len, s);
	rc = 0;
fail:
	curl_easy_cleanup(easy);
	buf_free(&page);
	buf_free(&raw);
	free(ends);
	return (rc);
}

/* ------------------------------------------------------------ plain */

static void pconn_event_cb(evutil_socket_t, short, void *);
static void pconn_start(struct pconn *, const struct buf *, const void *,
    size_t);

/* Close a plain connection. */
static void
pconn_close(struct pconn *c)
{
	if (c->fd < 0)
		return;
	event_del(&c->ev);
	close(c->fd);
	c->fd = -1;
}

/* End a plain exchange: keep the connection unless it must close. */
static void
pconn_finish(struct pconn *c, bool ok)
{
	if (!ok || c->peer_closes)
		pconn_close(c);
	else
		event_del(&c->ev);
	c->busy = false;
	c->done(c->owner, ok && c->status >= 200 && c->status < 300);
}

/* Parse a response head; false if it is not HTTP/1.x without chunks. */
static bool
pconn_parse_head(struct pconn *c, const char *h, size_t len)
{
	const char	*p, *e, *end = h + len;
	size_t		 nl;

	if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0)
		return (false);
	c->status = atoi(h + 9);
	c->body_left = -1;
	c->peer_closes = h[7] == '0';
	for (p = memchr(h, '\n', len); p != NULL && p + 1 < end; p = e) {
		p++;
		e = memchr(p, '\n', (size_t)(end - p));
		if (e == NULL)
			break;
		nl = (size_t)(e - p);
		if (nl > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
			c->body_left = strtoll(p + 15, NULL, 10);
		else if (nl > 11 && strncasecmp(p, "Connection:", 11) == 0 &&
		    strncasecmp(p + 11 + strspn(p + 11, " "), "close", 5) == 0)
			c->peer_closes = true;
		else if (nl > 18 &&
		    strncasecmp(p, "Transfer-Encoding:", 18) == 0)
			return (false);	/* chunked: not needed here */
	}
	if (c->status == 204 || c->status == 304)
		c->body_left = 0;
	return (true);
}

/* Read what the socket has; finish when the response is complete. */
static void
pconn_read(struct pconn *c)
{
	char		*sc = c->f->scratch, *eoh;
	ssize_t		 n;
	size_t		 hl, rest;

	for (;;) {
		n = read(c->fd, sc, FLOOR_READ_CHUNK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 0 && c->reused && c->resp.len == 0) {
			/* The server closed the idle connection: redo. */
			pconn_close(c);
			pconn_start(c, c->req_head, c->req_body, c->req_len);
			return;
		}
		if (n <= 0) {
			/* EOF ends a body without a length; else an error. */
			pconn_finish(c, n == 0 && c->in_body &&
			    c->body_left < 0);
			return;
		}
		if (!c->is_send)
			c->f->scrape_bytes += (uint64_t)n;
		if (c->in_body) {
			if (c->body_left >= 0) {
				c->body_left -= n;
				if (c->body_left <= 0) {
					pconn_finish(c, c->body_left == 0);
					return;
				}
			}
			continue;
		}
		buf_append(&c->resp, sc, (size_t)n);
		eoh = memmem(c->resp.data, c->resp.len, "\r\n\r\n", 4);
		if (eoh == NULL) {
			if (c->resp.len > 64 * 1024) {
				pconn_finish(c, false);
				return;
			}
			continue;
		}
		hl = (size_t)(eoh - (char *)c->resp.data) + 4;
		if (!pconn_parse_head(c, (char *)c->resp.data, hl)) {
			pconn_finish(c, false);
			return;
		}
		rest = c->resp.len - hl;
		c->in_body = true;
		if (c->body_left >= 0) {
			c->body_left -= (int64_t)rest;
			if (c->body_left <= 0) {
				pconn_finish(c, c->body_left == 0);
				return;
			}
		}
	}
}

/* Write what is left of the request; then wait for the response. */
static void
pconn_write(struct pconn *c)
{
	ssize_t	n;

	while (c->niov > 0) {
		n = writev(c->fd, c->iov + (2 - c->niov), c->niov);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0 && c->reused) {
			/* The server closed the idle connection: redo. */
			pconn_close(c);
			pconn_start(c, c->req_head, c->req_body, c->req_len);
			return;
		}
		if (n < 0) {
			pconn_finish(c, false);
			return;
		}
		while (c->niov > 0) {
			struct iovec *v = &c->iov[2 - c->niov];

			if (n == 0 && v->iov_len > 0)
				break;
			if ((size_t)n >= v->iov_len) {
				n -= (ssize_t)v->iov_len;
				v->iov_len = 0;
				c->niov--;
			} else {
				v->iov_base = (char *)v->iov_base + n;
				v->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	event_del(&c->ev);
	event_assign(&c->ev, c->f->base, c->fd, EV_READ | EV_PERSIST,
	    pconn_event_cb, c);
	event_add(&c->ev, NULL);
}

/* Drive a plain connection. */
static void
pconn_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pconn	*c = arg;

	(void)fd;
	if (what & EV_WRITE)
		pconn_write(c);
	else if (what & EV_READ)
		pconn_read(c);
}

/* Send a request head and body on c, connecting first if needed. */
static void
pconn_start(struct pconn *c, const struct buf *head, const void *body,
    size_t len)
{
	c->reused = c->fd >= 0;
	c->req_head = head;
	c->req_body = body;
	c->req_len = len;
	if (c->fd < 0) {
		c->fd = socket(c->sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd < 0 || (connect(c->fd, (const struct sockaddr *)c->sa,
		    c->salen) != 0 && errno != EINPROGRESS)) {
			c->busy = true;
			pconn_finish(c, false);
			return;
		}
		c->f->connects++;
	}
	c->busy = true;
	c->in_body = false;
	c->status = 0;
	buf_reset(&c->resp);
	c->iov[0].iov_base = head->data;
	c->iov[0].iov_len = head->len;
	c->iov[1].iov_base = (void *)body;
	c->iov[1].iov_len = len;
	c->niov = 2;
	event_assign(&c->ev, c->f->base, c->fd, EV_WRITE | EV_PERSIST,
	    pconn_event_cb, c);
	event_add(&c->ev, NULL);
}

/* Resolve host:port (numeric or name) into sa. */
static int
floor_resolve(const char *hostport, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	struct addrinfo	 hints, *res;
	char		 host[256], port[16];
	int		 p;

	if (!addr_split(hostport, host, sizeof host, &p)) {
		log_error("bad address", "addr=%s", hostport);
		return (-1);
	}
	snprintf(port, sizeof port, "%d", p);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		log_error("cannot resolve", "addr=%s", hostport);
		return (-1);
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* ------------------------------------------------------------ scrapes */

/* A transfer on libcurl ended: tell its owner as pconn_finish does. */
static void
floor_curl_cb(struct httpc_req *req, CURLcode cc)
{
	struct pconn	*c = req->arg;
	long		 code = 0;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &code);
	c->done(c->owner, cc == CURLE_OK && code >= 200 && code < 300);
}

/* A scrape ended. */
static void
floor_scrape_done(void *arg, bool ok)
{
	struct ftarget	*t = arg;

	t->busy = false;
	if (ok)
		t->f->scrapes++;
	else
		t->f->scrape_errors++;
}

/* Start a target's scrape unless the last one still runs. */
static void
floor_scrape_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftarget	*t = arg;
	struct floor	*f = t->f;

	(void)fd;
	(void)what;
	if (t->busy) {
		f->scrapes_skipped++;
		return;
	}
	t->busy = true;
	if (f->plain) {
		pconn_start(&t->pc, &t->head, NULL, 0);
		return;
	}
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, &f->scrape_bytes);
	if (httpc_start(f->httpc, &t->req) != 0)
		floor_scrape_done(t, false);
}

/* Scrape for the first time, at the target's offset; then every interval. */
static void
floor_first_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftarget	*t = arg;
	struct timeval	 tv;

	tv.tv_sec = t->f->interval_ms / 1000;
	tv.tv_usec = (t->f->interval_ms % 1000) * 1000;
	event_assign(&t->tick, t->f->base, -1, EV_PERSIST, floor_scrape_cb, t);
	event_add(&t->tick, &tv);
	floor_scrape_cb(fd, what, t);
}

/* ------------------------------------------------------------ sends */

/* A POST ended. */
static void
floor_send_done(void *arg, bool ok)
{
	struct fsend	*s = arg;

	s->busy = false;
	if (ok) {
		s->f->requests++;
		s->f->samples += s->samples;
	} else
		s->f->send_errors++;
}

/* POST the next body on a free slot. */
static void
floor_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct floor	*f = arg;
	struct fbody	*b;
	struct fsend	*s = NULL;
	int		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < FLOOR_MAX_SENDS; i++) {
		if (!f->sends[i].busy) {
			s = &f->sends[i];
			break;
		}
	}
	if (s == NULL) {
		f->sends_skipped++;
		return;
	}
	b = &f->bodies[f->next_body];
	f->next_body = (f->next_body + 1) % f->nbodies;
	s->busy = true;
	s->samples = b->samples;
	if (f->plain) {
		pconn_start(&s->pc, &b->head, b->data.data, b->data.len);
		return;
	}
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, b->data.data);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)b->data.len);
	if (httpc_start(f->httpc, &s->req) != 0)
		floor_send_done(s, false);
}

/* ------------------------------------------------------------ main */

/* Write the counters to the stats file, replacing it. */
static void
floor_usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	struct floor	*f = arg;
	char		 tmp[4096];
	FILE		*fp;

	(void)fd;
	(void)what;
	snprintf(tmp, sizeof tmp, "%s.tmp", f->stats_path);
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		log_error("cannot write stats", "file=%s", tmp);
		return;
	}
	fprintf(fp, "seq %llu\nscrapes %llu\nscrape_bytes %llu\n"
	    "scrape_errors %llu\nscrapes_skipped %llu\nrequests %llu\n"
	    "samples %llu\nsend_errors %llu\nsends_skipped %llu\n"
	    "connects %llu\n", (unsigned long long)++f->seq,
	    (unsigned long long)f->scrapes,
	    (unsigned long long)f->scrape_bytes,
	    (unsigned long long)f->scrape_errors,
	    (unsigned long long)f->scrapes_skipped,
	    (unsigned long long)f->requests, (unsigned long long)f->samples,
	    (unsigned long long)f->send_errors,
	    (unsigned long long)f->sends_skipped,
	    (unsigned long long)f->connects);
	if (fclose(fp) != 0 || rename(tmp, f->stats_path) != 0)
		log_error("cannot write stats", "file=%s", f->stats_path);
}

/* Stop the loop. */
static void
floor_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Count a connection libcurl opens. */
static curl_socket_t
floor_opensocket_cb(void *arg, curlsocktype purpose,
    struct curl_sockaddr *a)
{
	struct floor	*f = arg;

	(void)purpose;
	f->connects++;
	return (socket(a->family, a->socktype, a->protocol));
}

/* Set up a curl handle as rwbridge does; c says whom to tell when done. */
static CURL *
floor_easy(struct floor *f, struct httpc_req *req, struct pconn *c)
{
	CURL	*e;

	e = curl_easy_init();
	if (e == NULL)
		fatal("curl_easy_init failed", NULL);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, FLOOR_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, floor_discard_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, floor_opensocket_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
	if (f->buffer_size > 0)
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, f->buffer_size);
	req->easy = e;
	req->done = floor_curl_cb;
	req->arg = c;
	return (e);
}

/* Parse the receiver's URL for the plain client. */
static int
floor_parse_url(struct floor *f)
{
	CURLU	*u;
	char	*host = NULL, *port = NULL, *path = NULL, hp[300];
	int	 rc = -1;

	u = curl_url();
	if (curl_url_set(u, CURLUPART_URL, f->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		log_error("bad --url", "url=%s", f->url);
		goto fail;
	}
	snprintf(hp, sizeof hp, "%s:%s", host, port);
	f->recv_hostport = xstrdup(hp);
	f->recv_path = xstrdup(path);
	rc = floor_resolve(hp, &f->recv_sa, &f->recv_salen);
fail:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return (rc);
}

/* Set up the targets and send slots, then arm their timers. */
static int
floor_setup(struct floor *f, char **hostports, int requests)
{
	struct ftarget	*t;
	struct fsend	*s;
	int		 i;
	int64_t		 step_us;
	struct timeval	 tv, off;

	f->targets = xcalloc((size_t)f->ntargets, sizeof *f->targets);
	for (i = 0; i < f->ntargets; i++) {
		t = &f->targets[i];
		t->f = f;
		xasprintf(&t->url, "http://%s/metrics", hostports[i]);
		t->pc.f = f;
		t->pc.fd = -1;
		t->pc.done = floor_scrape_done;
		t->pc.owner = t;
		buf_init(&t->pc.resp);
		buf_init(&t->head);
		buf_printf(&t->head, "GET /metrics HTTP/1.1\r\nHost: %s\r\n"
		    "User-Agent: " FLOOR_USER_AGENT "\r\n"
		    "Accept: text/plain\r\n\r\n", hostports[i]);
		if (floor_resolve(hostports[i], &t->sa, &t->salen) != 0)
			return (-1);
		t->pc.sa = &t->sa;
		t->pc.salen = t->salen;
		floor_easy(f, &t->req, &t->pc);
		curl_easy_setopt(t->easy = t->req.easy, CURLOPT_URL, t->url);
		curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	}
	if (floor_build_bodies(f, requests) != 0)
		return (-1);
	if (f->plain && floor_parse_url(f) != 0)
		return (-1);
	for (i = 0; f->plain && i < f->nbodies; i++)
		buf_printf(&f->bodies[i].head, "POST %s HTTP/1.1\r\n"
		    "Host: %s\r\nUser-Agent: " FLOOR_USER_AGENT "\r\n"
		    "Content-Type: application/x-protobuf\r\n"
		    "Content-Encoding: snappy\r\n"
		    "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"
		    "Content-Length: %zu\r\n\r\n", f->recv_path,
		    f->recv_hostport, f->bodies[i].data.len);
	f->headers = curl_slist_append(NULL,
	    "Content-Type: application/x-protobuf");
	f->headers = curl_slist_append(f->headers, "Content-Encoding: snappy");
	f->headers = curl_slist_append(f->headers,
	    "X-Prometheus-Remote-Write-Version: 0.1.0");
	for (i = 0; i < FLOOR_MAX_SENDS; i++) {
		s = &f->sends[i];
		s->f = f;
		s->pc.f = f;
		s->pc.fd = -1;
		s->pc.is_send = true;
		s->pc.done = floor_send_done;
		s->pc.owner = s;
		s->pc.sa = &f->recv_sa;
		s->pc.salen = f->recv_salen;
		buf_init(&s->pc.resp);
		s->easy = floor_easy(f, &s->req, &s->pc);
		curl_easy_setopt(s->easy, CURLOPT_URL, f->url);
		curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, f->headers);
	}
	/* Scrapes spread over the interval, as rwbridge spreads them. */
	for (i = 0; i < f->ntargets; i++) {
		t = &f->targets[i];
		event_assign(&t->tick, f->base, -1, 0, floor_first_cb, t);
		step_us = f->interval_ms * 1000 * i / f->ntargets;
		off.tv_sec = step_us / 1000000;
		off.tv_usec = step_us % 1000000;
		event_add(&t->tick, &off);
	}
	step_us = f->interval_ms * 1000 / f->nbodies;
	tv.tv_sec = step_us / 1000000;
	tv.tv_usec = step_us % 1000000;
	event_assign(&f->send_tick, f->base, -1, EV_PERSIST, floor_send_cb, f);
	event_add(&f->send_tick, &tv);
	return (0);
}

/* Free everything floor_setup made. */
static void
floor_teardown(struct floor *f)
{
	int	i;

	for (i = 0; f->targets != NULL && i < f->ntargets; i++) {
		struct ftarget *t = &f->targets[i];

		if (event_initialized(&t->tick))
			event_del(&t->tick);
		httpc_cancel(f->httpc, &t->req);
		curl_easy_cleanup(t->req.easy);
		pconn_close(&t->pc);
		buf_free(&t->pc.resp);
		buf_free(&t->head);
		free(t->url);
	}
	for (i = 0; i < FLOOR_MAX_SENDS; i++) {
		struct fsend *s = &f->sends[i];

		if (s->req.easy == NULL)
			continue;
		httpc_cancel(f->httpc, &s->req);
		curl_easy_cleanup(s->req.easy);
		pconn_close(&s->pc);
		buf_free(&s->pc.resp);
	}
	for (i = 0; i < f->nbodies; i++) {
		buf_free(&f->bodies[i].data);
		buf_free(&f->bodies[i].head);
	}
	free(f->bodies);
	free(f->targets);
	free(f->recv_path);
	free(f->recv_hostport);
	curl_slist_free_all(f->headers);
	if (event_initialized(&f->send_tick))
		event_del(&f->send_tick);
}

/* Parse the flags; run until SIGINT or SIGTERM. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url",	required_argument, NULL, 'u' },
		{ "interval",	required_argument, NULL, 'i' },
		{ "requests",	required_argument, NULL, 'r' },
		{ "stats",	required_argument, NULL, 's' },
		{ "plain",	no_argument,	   NULL, 'p' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "changelist",	no_argument,	   NULL, 'c' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct floor	*f;
	char		*end;
	struct event_config *ec;
	long		 requests = 0;
	int		 ch, rc = 1;
	bool		 changelist = false;

	f = xcalloc(1, sizeof *f);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			f->url = optarg;
			break;
		case 'i':
			if (!duration_parse(optarg, &f->interval_ms) ||
			    f->interval_ms <= 0)
				usage("--interval: want a duration like 1s");
			break;
		case 'r':
			requests = strtol(optarg, &end, 10);
			if (*end != '\0' || requests < 1 || requests > 1000000)
				usage("--requests: want 1 to 1000000");
			break;
		case 's':
			f->stats_path = optarg;
			break;
		case 'p':
			f->plain = true;
			break;
		case 'b':
			f->buffer_size = strtol(optarg, &end, 10);
			if (*end != '\0' || f->buffer_size < 1024 ||
			    f->buffer_size > CURL_MAX_READ_SIZE)
				usage("--buffer-size: want 1024 to 10485760");
			break;
		case 'c':
			changelist = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(f);
			return (0);
		default:
			usage(NULL);
		}
	}
	if (f->url == NULL || f->interval_ms == 0 || requests == 0 ||
	    f->stats_path == NULL || optind >= argc)
		usage("--url, --interval, --requests, --stats and at least "
		    "one target are required");
	f->ntargets = argc - optind;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ec = event_config_new();
	if (changelist)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	f->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (f->base == NULL)
		fatal("event_base_new_with_config failed", NULL);
	f->httpc = httpc_new(f->base);
	if (floor_setup(f, argv + optind, (int)requests) != 0)
		goto fail;
	evsignal_assign(&f->usr1_ev, f->base, SIGUSR1, floor_usr1_cb, f);
	evsignal_assign(&f->int_ev, f->base, SIGINT, floor_stop_cb, f->base);
	evsignal_assign(&f->term_ev, f->base, SIGTERM, floor_stop_cb,
	    f->base);
	evsignal_add(&f->usr1_ev, NULL);
	evsignal_add(&f->int_ev, NULL);
	evsignal_add(&f->term_ev, NULL);
	floor_usr1_cb(-1, 0, f);	/* the stats file says it is ready */
	event_base_dispatch(f->base);
	evsignal_del(&f->usr1_ev);
	evsignal_del(&f->int_ev);
	evsignal_del(&f->term_ev);
	rc = 0;
fail:
	floor_teardown(f);
	httpc_free(f->httpc);
	event_base_free(f->base);
	curl_global_cleanup();
	free(f);
	return (rc);
}
