/*
 * targetrelabel: the URL is taken apart into Prometheus's target labels,
 * the rules run, and the URL is put together again from what they left
 * (__param_ values percent-encoded). An address without a port gets the
 * scheme's, as Prometheus's addPort does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "duration.h"
#include "targetrelabel.h"
#include "url.h"
#include "xmalloc.h"

#define PARAM_PREFIX	"__param_"
#define PARAM_PREFIX_LEN	(sizeof PARAM_PREFIX - 1)
/* A string literal and its length. */
#define TR_LIT(s)	(s), (sizeof (s) - 1)

/* The value of a hex digit, or -1. */
static int
tr_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Append s (n bytes) percent-decoded ('+' is a space) to b. */
static void
tr_unescape(struct buf *b, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && tr_hex(s[i + 1]) >= 0 &&
		    tr_hex(s[i + 2]) >= 0) {
			buf_putc(b, (uint8_t)(tr_hex(s[i + 1]) * 16 +
			    tr_hex(s[i + 2])));
			i += 2;
		} else
			buf_putc(b, s[i] == '+' ? ' ' : (uint8_t)s[i]);
	}
}

/* Append s percent-encoded for a query to b. */
static void
tr_escape(struct buf *b, const char *s, size_t n)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			i;
	unsigned char		c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_putc(b, c);
		else {
			buf_putc(b, '%');
			buf_putc(b, (uint8_t)hex[c >> 4]);
			buf_putc(b, (uint8_t)hex[c & 15]);
		}
	}
}

/* Append s as a JSON string. */
static void
tr_json_str(struct buf *b, const char *s, size_t n)
{
	size_t	i;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (uint8_t)s[i]);
		} else if ((unsigned char)s[i] < 0x20)
			buf_printf(b, "\\u%04x", (unsigned char)s[i]);
		else
			buf_putc(b, (uint8_t)s[i]);
	}
	buf_putc(b, '"');
}

/* Render the set as a JSON object, for the dropped-target listing. */
static char *
tr_render(const struct relabel_lset *ls)
{
	struct buf	b;
	size_t		i;
	char		*s;

	buf_init(&b);
	buf_putc(&b, '{');
	for (i = 0; i < ls->n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		tr_json_str(&b, ls->v[i].name, ls->v[i].name_len);
		buf_putc(&b, ':');
		tr_json_str(&b, ls->v[i].value, ls->v[i].value_len);
	}
	buf_putc(&b, '}');
	s = xstrndup((const char *)b.data, b.len);
	buf_free(&b);
	return (s);
}

/* A label's value as a new string, or NULL. */
static char *
tr_get(const struct relabel_lset *ls, const char *name)
{
	const struct label	*l;

	l = relabel_lset_get(ls, name, strlen(name));
	return (l != NULL ? xstrndup(l->value, l->value_len) : NULL);
}

/* Relabel one target. */
int
target_relabel(struct relabel *rl, const char *url, const char *job,
    const struct config_kv *labels, size_t nlabels, int64_t interval_ms,
    int64_t timeout_ms, struct target_relabeled *out, char *err,
    size_t errlen)
{
	struct relabel_lset	 ls;
	struct buf		 store, u;
	struct url		 pu;
	const char		*p, *qe, *amp, *eq;
	const struct label	*l;
	char			 ibuf[32], tbuf[32], why[64], *scheme = NULL;
	char			*address = NULL, *mpath = NULL, *s;
	char			*nscheme = NULL, *naddr = NULL, *npath = NULL;
	size_t			 i, n, off[64][4], np = 0;
	int			 rc = -1;

	memset(out, 0, sizeof *out);
	relabel_lset_init(&ls);
	buf_init(&store);
	buf_init(&u);

	/* Take the URL apart: scheme://address/path?query. */
	if (!url_parse(url, &pu, why, sizeof why)) {
		snprintf(err, errlen, "URL \"%s\": %s", url, why);
		goto done;
	}
	qe = pu.query.p != NULL ? pu.query.p + pu.query.len : NULL;
	/* Decoded params go into store; offsets, since store may move. */
	for (p = pu.query.p; p != NULL && p < qe &&
	    np < sizeof off / sizeof off[0]; p = amp != NULL ? amp + 1 : NULL) {
		amp = memchr(p, '&', (size_t)(qe - p));
		n = amp != NULL ? (size_t)(amp - p) : (size_t)(qe - p);
		eq = memchr(p, '=', n);
		off[np][0] = store.len;
		buf_append(&store, PARAM_PREFIX, PARAM_PREFIX_LEN);
		tr_unescape(&store, p, eq != NULL ? (size_t)(eq - p) : n);
		off[np][1] = store.len - off[np][0];
		off[np][2] = store.len;
		if (eq != NULL)
			tr_unescape(&store, eq + 1, n - (size_t)(eq + 1 - p));
		off[np][3] = store.len - off[np][2];
		np++;
	}
	buf_putc(&store, '\0');
	scheme = xstrndup(pu.scheme.p, pu.scheme.len);
	address = xstrndup(pu.addr.p, pu.addr.len);
	mpath = pu.path.len > 0 ? xstrndup(pu.path.p, pu.path.len) :
	    xstrdup("/");
	duration_format(interval_ms, ibuf, sizeof ibuf);
	duration_format(timeout_ms, tbuf, sizeof tbuf);

	for (i = 0; i < nlabels; i++)
		relabel_lset_add(&ls, labels[i].name, strlen(labels[i].name),
		    labels[i].value, strlen(labels[i].value));
	/* Prometheus: the first value of each param. */
	for (i = np; i-- > 0;)
		relabel_lset_add(&ls, (const char *)store.data + off[i][0],
		    off[i][1], (const char *)store.data + off[i][2],
		    off[i][3]);
	relabel_lset_add(&ls, TR_LIT("__address__"), address,
	    strlen(address));
	relabel_lset_add(&ls, TR_LIT("__scheme__"), scheme, strlen(scheme));
	relabel_lset_add(&ls, TR_LIT("__metrics_path__"), mpath,
	    strlen(mpath));
	relabel_lset_add(&ls, TR_LIT("__scrape_interval__"), ibuf,
	    strlen(ibuf));
	relabel_lset_add(&ls, TR_LIT("__scrape_timeout__"), tbuf,
	    strlen(tbuf));
	relabel_lset_add(&ls, TR_LIT("job"), job, strlen(job));
	out->discovered = tr_render(&ls);
	if (!relabel_process(rl, &ls)) {
		rc = 0;
		goto done;
	}

	/* Put the target together again. */
	/* The set may still point at scheme, address and mpath. */
	naddr = tr_get(&ls, "__address__");
	if (naddr == NULL) {
		snprintf(err, errlen, "no address");
		goto done;
	}
	if (strpbrk(naddr, "/?#@ ") != NULL) {
		snprintf(err, errlen, "invalid address \"%s\"", naddr);
		goto done;
	}
	nscheme = tr_get(&ls, "__scheme__");
	if (nscheme == NULL)
		nscheme = xstrdup("http");
	if (strcmp(nscheme, "http") != 0 && strcmp(nscheme, "https") != 0) {
		snprintf(err, errlen, "invalid scheme \"%s\"", nscheme);
		goto done;
	}
	npath = tr_get(&ls, "__metrics_path__");
	if (npath == NULL)
		npath = xstrdup("/metrics");
	out->interval_ms = interval_ms;
	out->timeout_ms = timeout_ms;
	l = relabel_lset_get(&ls, TR_LIT("__scrape_interval__"));
	s = l != NULL ? xstrndup(l->value, l->value_len) : NULL;
	if (s != NULL && (!duration_parse(s, &out->interval_ms) ||
	    out->interval_ms <= 0)) {
		snprintf(err, errlen, "invalid scrape interval \"%s\"", s);
		free(s);
		goto done;
	}
	free(s);
	l = relabel_lset_get(&ls, TR_LIT("__scrape_timeout__"));
	s = l != NULL ? xstrndup(l->value, l->value_len) : NULL;
	if (s != NULL && (!duration_parse(s, &out->timeout_ms) ||
	    out->timeout_ms <= 0 || out->timeout_ms > out->interval_ms)) {
		snprintf(err, errlen, "invalid scrape timeout \"%s\"", s);
		free(s);
		goto done;
	}
	free(s);
	/* addPort: an address without a port gets the scheme's. */
	s = url_add_port(naddr, nscheme);
	free(naddr);
	naddr = s;
	buf_append(&u, nscheme, strlen(nscheme));
	buf_append(&u, "://", 3);
	buf_append(&u, naddr, strlen(naddr));
	if (npath[0] != '/')
		buf_putc(&u, '/');
	buf_append(&u, npath, strlen(npath));
	n = 0;
	for (i = 0; i < ls.n; i++) {
		if (ls.v[i].name_len <= PARAM_PREFIX_LEN ||
		    memcmp(ls.v[i].name, PARAM_PREFIX, PARAM_PREFIX_LEN) != 0)
			continue;
		buf_putc(&u, n++ == 0 ? '?' : '&');
		tr_escape(&u, ls.v[i].name + PARAM_PREFIX_LEN,
		    ls.v[i].name_len - PARAM_PREFIX_LEN);
		buf_putc(&u, '=');
		tr_escape(&u, ls.v[i].value, ls.v[i].value_len);
	}
	out->url = xstrndup((const char *)u.data, u.len);
	out->job = tr_get(&ls, "job");
	if (out->job == NULL)
		out->job = xstrdup("");
	out->labels = xcalloc(ls.n + 2, sizeof *out->labels);
	for (i = 0; i < ls.n; i++) {
		if ((ls.v[i].name_len >= 2 && memcmp(ls.v[i].name, "__",
		    2) == 0) || (ls.v[i].name_len == strlen("job") &&
		    memcmp(ls.v[i].name, TR_LIT("job")) == 0))
			continue;
		out->labels[out->nlabels].name = xstrndup(ls.v[i].name,
		    ls.v[i].name_len);
		out->labels[out->nlabels++].value = xstrndup(ls.v[i].value,
		    ls.v[i].value_len);
	}
	if (relabel_lset_get(&ls, TR_LIT("instance")) == NULL) {
		out->labels[out->nlabels].name = xstrdup("instance");
		out->labels[out->nlabels++].value = xstrdup(naddr);
	}
	rc = 1;
done:
	if (rc != 1) {
		s = out->discovered;
		out->discovered = NULL;
		target_relabeled_free(out);
		out->discovered = s;
	}
	free(scheme);
	free(address);
	free(mpath);
	free(nscheme);
	free(naddr);
	free(npath);
	buf_free(&store);
	buf_free(&u);
	relabel_lset_free(&ls);
	return (rc);
}

/* Relabel a spec in place. */
int
target_relabel_spec(struct relabel *rl, const struct config *cfg,
    struct target_spec *sp, struct target_relabeled *rt, char *err,
    size_t errlen)
{
	int	rc;

	rc = target_relabel(rl, sp->url, sp->job != NULL ? sp->job :
	    cfg->job, sp->labels, sp->nlabels, sp->interval_ms != 0 ?
	    sp->interval_ms : cfg->scrape_interval_ms, sp->timeout_ms != 0 ?
	    sp->timeout_ms : cfg->scrape_timeout_ms, rt, err, errlen);
	if (rc != 1)
		return (rc);
	sp->url = rt->url;
	sp->job = rt->job;
	sp->labels = rt->labels;
	sp->nlabels = rt->nlabels;
	sp->interval_ms = rt->interval_ms;
	sp->timeout_ms = rt->timeout_ms;
	sp->scheme = sp->address = sp->path = NULL;
	return (1);
}

/* Free a relabeled target's strings. */
void
target_relabeled_free(struct target_relabeled *t)
{
	size_t	i;

	for (i = 0; i < t->nlabels; i++) {
		free(t->labels[i].name);
		free(t->labels[i].value);
	}
	free(t->labels);
	free(t->url);
	free(t->job);
	free(t->discovered);
	memset(t, 0, sizeof *t);
}
