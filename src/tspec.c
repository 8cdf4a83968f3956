/*
 * tspec: target specs from JSON, the one parser that file_sd files, the
 * registration API and the state file share. It is pure: it turns JSON into
 * target specs and names the exact JSON path of the first problem
 * ("$[2].targets[0]: invalid target ..."), and it holds the validators of
 * what a spec may contain (group names, host:port addresses, labels, UTF-8)
 * and the one description of where a JSON parse stopped.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "duration.h"
#include "labels.h"
#include "tspec.h"
#include "url.h"
#include "xmalloc.h"

/* Scrape settings an entry gives its targets. */
struct tspec_settings {
	const char	*scheme;
	const char	*path;
	const char	*job;
	int64_t		 interval_ms;
	int64_t		 timeout_ms;
};

/* Copy s into dst for a message: escaped, cut at 64 bytes. */
static const char *
tspec_quote(char *dst, size_t dstlen, const char *s)
{
	size_t	o = 0, i;
	int	n;

	for (i = 0; s[i] != '\0' && o + 5 < dstlen; i++) {
		if (i == 64) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '"' || s[i] == '\\') {
			n = snprintf(dst + o, dstlen - o, "\\x%02x",
			    (unsigned char)s[i]);
			if (n < 0 || (size_t)n >= dstlen - o)
				break;
			o += (size_t)n;
		} else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	return (dst);
}

/* Tell whether len bytes at s are valid UTF-8. */
bool
tspec_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return (false);
		if (len - i - 1 < n)
			return (false);
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (false);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* No overlong forms, surrogates or values past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (false);
		i += n + 1;
	}
	return (true);
}

/* Check a DNS name (letters, digits, '-', '_'; dot-separated labels). */
static bool
tspec_hostname_valid(const char *h, size_t len)
{
	size_t	i, lab = 0;
	char	c;

	if (len == 0 || len > 253)
		return (false);
	for (i = 0; i < len; i++) {
		c = h[i];
		if (c == '.') {
			if (lab == 0 || h[i - 1] == '-')
				return (false);
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return (false);
		if (c == '-' && lab == 0)
			return (false);
		lab++;
		if (lab > 63)
			return (false);
	}
	return (h[len - 1] != '-');
}

/* Tell whether a group name is [A-Za-z0-9_.:-]{1,128}. */
bool
tspec_group_name_valid(const char *g)
{
	size_t	i;
	char	c;

	for (i = 0; g[i] != '\0'; i++) {
		c = g[i];
		if (i == 128 || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == ':' || c == '-'))
			return (false);
	}
	return (i > 0);
}

/* Tell whether a group belongs to rwbridge itself. */
bool
tspec_group_reserved(const char *g)
{
	return (strcmp(g, TSPEC_GROUP_STATIC) == 0 ||
	    strcmp(g, TSPEC_GROUP_SELF) == 0 ||
	    strncmp(g, TSPEC_GROUP_FILE_SD, strlen(TSPEC_GROUP_FILE_SD)) == 0);
}

/* Check a "host:port" target address. */
bool
tspec_check_address(const char *addr, char *err, size_t errlen)
{
	const char	*colon, *p;
	char		 host[256], q[80];
	size_t		 hlen;
	int		 port;
	struct in_addr	 a4;
	struct in6_addr	 a6;
	bool		 numeric = true;

	tspec_quote(q, sizeof q, addr);
	if (*addr == '\0') {
		snprintf(err, errlen, "invalid target \"\": empty address");
		return (false);
	}
	if (strstr(addr, "://") != NULL || strchr(addr, '/') != NULL) {
		snprintf(err, errlen, "invalid target \"%s\": want host:port, "
		    "not a URL (set scheme and metrics_path separately)", q);
		return (false);
	}
	colon = addr_port_colon(addr, strlen(addr));
	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "invalid target \"%s\": missing port "
		    "(want host:port)", q);
		return (false);
	}
	if (!url_parse_port(colon + 1, strlen(colon + 1), &port)) {
		snprintf(err, errlen, "invalid target \"%s\": port must be a "
		    "number from 1 to 65535", q);
		return (false);
	}
	hlen = (size_t)(colon - addr);
	if (*addr == '[') {
		if (hlen < 3 || addr[hlen - 1] != ']' ||
		    hlen - 2 >= sizeof host)
			goto bad_v6;
		memcpy(host, addr + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad_v6;
		return (true);
	}
	if (hlen == 0 || hlen >= sizeof host) {
		snprintf(err, errlen, "invalid target \"%s\": %s host", q,
		    hlen == 0 ? "empty" : "overlong");
		return (false);
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (strchr(host, ':') != NULL) {
		snprintf(err, errlen, "invalid target \"%s\": an IPv6 address "
		    "needs brackets, as in [::1]:8000", q);
		return (false);
	}
	for (p = host; *p != '\0'; p++) {
		if ((*p < '0' || *p > '9') && *p != '.')
			numeric = false;
	}
	if (numeric) {
		if (inet_pton(AF_INET, host, &a4) != 1) {
			snprintf(err, errlen, "invalid target \"%s\": bad IPv4 "
			    "address", q);
			return (false);
		}
		return (true);
	}
	if (!tspec_hostname_valid(host, hlen)) {
		snprintf(err, errlen, "invalid target \"%s\": bad host name",
		    q);
		return (false);
	}
	return (true);

bad_v6:
	snprintf(err, errlen, "invalid target \"%s\": bad IPv6 address", q);
	return (false);
}

/* Check a label a user may set. */
static bool
tspec_check_label(const char *name, const char *value, char *err,
    size_t errlen)
{
	size_t	len = strlen(name), vlen = strlen(value);

	if (strncmp(name, "__", 2) == 0) {
		snprintf(err, errlen, "label names starting with \"__\" are "
		    "reserved");
		return (false);
	}
	if (len > 1024 || !label_name_valid(name, len)) {
		snprintf(err, errlen, "invalid label name (want "
		    "[a-zA-Z_][a-zA-Z0-9_]*)");
		return (false);
	}
	if (vlen > TSPEC_MAX_VALUE) {
		snprintf(err, errlen, "value is %zu bytes, at most %d", vlen,
		    TSPEC_MAX_VALUE);
		return (false);
	}
	if (!tspec_utf8_valid(value, vlen)) {
		snprintf(err, errlen, "value is not valid UTF-8");
		return (false);
	}
	return (true);
}

/* Describe where a JSON parse stopped. */
void
tspec_json_error(const char *buf, size_t len, const char *at, char *err,
    size_t errlen)
{
	size_t	off, i, line = 1, col = 1;

	if (at == NULL || at < buf || at > buf + len)
		at = buf + len;
	off = (size_t)(at - buf);
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	if (len == 0)
		snprintf(err, errlen, "malformed JSON: empty document");
	else
		snprintf(err, errlen, "malformed JSON at line %zu, column %zu "
		    "(offset %zu)", line, col, off);
}

/* Set up an empty group. */
void
tspec_group_init(struct tspec_group *g)
{
	memset(g, 0, sizeof *g);
}

/* Free a group and everything its specs point to. */
void
tspec_group_free(struct tspec_group *g)
{
	size_t	i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nstrs; i++)
		free(g->strs[i]);
	for (i = 0; i < g->nkvs; i++)
		free(g->kvs[i]);
	for (i = 0; i < g->ncontracts; i++)
		config_group_free(g->contracts[i]);
	free(g->strs);
	free(g->kvs);
	free(g->contracts);
	free(g->specs);
	tspec_group_init(g);
}

/* Fill the API entries' unset limits from the global ones. */
void
tspec_group_limits(struct tspec_group *g, const struct config_limits *l)
{
	size_t	i;

	for (i = 0; i < g->ncontracts; i++)
		config_limits_resolve(&g->contracts[i]->limits, l);
}

/* Keep a copy of s in the group; returns the copy. */
static char *
tspec_group_str(struct tspec_group *g, const char *s)
{
	if (g->nstrs == g->capstrs) {
		g->capstrs = g->capstrs == 0 ? 16 : g->capstrs * 2;
		g->strs = xreallocarray(g->strs, g->capstrs, sizeof *g->strs);
	}
	g->strs[g->nstrs] = xstrdup(s);
	return (g->strs[g->nstrs++]);
}

/* Append a spec; returns it zeroed. */
static struct target_spec *
tspec_group_spec(struct tspec_group *g)
{
	struct target_spec	*sp;

	if (g->nspecs == g->capspecs) {
		g->capspecs = g->capspecs == 0 ? 16 : g->capspecs * 2;
		g->specs = xreallocarray(g->specs, g->capspecs,
		    sizeof *g->specs);
	}
	sp = &g->specs[g->nspecs++];
	memset(sp, 0, sizeof *sp);
	return (sp);
}

/* Keep a label array in the group. */
static void
tspec_group_kv(struct tspec_group *g, struct config_kv *kv)
{
	if (g->nkvs == g->capkvs) {
		g->capkvs = g->capkvs == 0 ? 8 : g->capkvs * 2;
		g->kvs = xreallocarray(g->kvs, g->capkvs, sizeof *g->kvs);
	}
	g->kvs[g->nkvs++] = kv;
}

/* A spec's URL and its position, for sorting. */
struct tspec_pos {
	const char	*url;
	size_t		 i;
};

/* Order by URL, then position. */
static int
tspec_pos_cmp(const void *a, const void *b)
{
	const struct tspec_pos	*x = a, *y = b;
	int			 c;

	c = strcmp(x->url, y->url);
	if (c != 0)
		return (c);
	return (x->i < y->i ? -1 : x->i > y->i);
}

/* Keep one spec per URL, the last, in the original order. */
void
tspec_group_dedup(struct tspec_group *g)
{
	struct tspec_pos	*pos;
	bool			*drop;
	size_t			 i, n;

	if (g->nspecs < 2)
		return;
	pos = xcalloc(g->nspecs, sizeof *pos);
	drop = xcalloc(g->nspecs, sizeof *drop);
	for (i = 0; i < g->nspecs; i++) {
		pos[i].url = g->specs[i].url;
		pos[i].i = i;
	}
	qsort(pos, g->nspecs, sizeof *pos, tspec_pos_cmp);
	for (i = 0; i + 1 < g->nspecs; i++) {
		if (strcmp(pos[i].url, pos[i + 1].url) == 0)
			drop[pos[i].i] = true;
	}
	for (i = n = 0; i < g->nspecs; i++) {
		if (!drop[i])
			g->specs[n++] = g->specs[i];
	}
	g->nspecs = n;
	free(pos);
	free(drop);
}

/* Write the JSON path of a label into dst. */
static void
tspec_label_path(char *dst, size_t dstlen, const char *where,
    const char *name)
{
	char	q[80];

	if (label_name_valid(name, strlen(name)) && strlen(name) <= 64)
		snprintf(dst, dstlen, "%s.labels.%s", where, name);
	else
		snprintf(dst, dstlen, "%s.labels[\"%s\"]", where,
		    tspec_quote(q, sizeof q, name));
}

/* Parse a duration setting (> 0). */
static bool
tspec_duration(const char *s, const char *path, int64_t *ms, char *err,
    size_t errlen)
{
	char	q[80];

	if (!duration_parse(s, ms) || *ms <= 0) {
		snprintf(err, errlen, "%s: invalid duration \"%s\" (use e.g. "
		    "500ms, 5s, 1m)", path, tspec_quote(q, sizeof q, s));
		return (false);
	}
	return (true);
}

/* Check a metrics path: "/" and printable ASCII, no query or fragment. */
static bool
tspec_path_valid(const char *p)
{
	size_t	i;

	if (p[0] != '/' || strlen(p) > 1024)
		return (false);
	for (i = 0; p[i] != '\0'; i++) {
		if ((unsigned char)p[i] <= 0x20 ||
		    (unsigned char)p[i] >= 0x7f || p[i] == '?' || p[i] == '#')
			return (false);
	}
	return (true);
}

/* Apply one scrape setting (a key of an API body or a __ label). */
static bool
tspec_setting(struct tspec_settings *st, const char *key, const char *v,
    const char *path, char *err, size_t errlen)
{
	char	q[80];

	if (strcmp(key, "scheme") == 0) {
		if (strcmp(v, "http") != 0 && strcmp(v, "https") != 0) {
			snprintf(err, errlen, "%s: scheme must be \"http\" or "
			    "\"https\", not \"%s\"", path,
			    tspec_quote(q, sizeof q, v));
			return (false);
		}
		st->scheme = v;
	} else if (strcmp(key, "metrics_path") == 0) {
		if (!tspec_path_valid(v)) {
			snprintf(err, errlen, "%s: invalid metrics path \"%s\" "
			    "(want /path, printable, no ? or #)", path,
			    tspec_quote(q, sizeof q, v));
			return (false);
		}
		st->path = v;
	} else if (strcmp(key, "job") == 0) {
		if (*v == '\0' || strlen(v) > TSPEC_MAX_VALUE ||
		    !tspec_utf8_valid(v, strlen(v))) {
			snprintf(err, errlen, "%s: job must be non-empty UTF-8 "
			    "of at most %d bytes", path, TSPEC_MAX_VALUE);
			return (false);
		}
		if (st->job != NULL && strcmp(st->job, v) != 0) {
			snprintf(err, errlen, "%s: job \"%s\" conflicts with "
			    "job \"%s\"", path, tspec_quote(q, sizeof q, v),
			    st->job);
			return (false);
		}
		st->job = v;
	} else if (strcmp(key, "interval") == 0) {
		if (!tspec_duration(v, path, &st->interval_ms, err, errlen))
			return (false);
		if (st->interval_ms < CONFIG_MIN_INTERVAL_MS) {
			snprintf(err, errlen, "%s: interval \"%s\" is below "
			    "the minimum of %dms", path,
			    tspec_quote(q, sizeof q, v), CONFIG_MIN_INTERVAL_MS);
			return (false);
		}
	} else if (strcmp(key, "timeout") == 0)
		return (tspec_duration(v, path, &st->timeout_ms, err,
		    errlen));
	return (true);
}

/* Map a file_sd __ label to a setting name; NULL: drop the label. */
static const char *
tspec_meta_label(const char *name)
{
	if (strcmp(name, "__metrics_path__") == 0)
		return ("metrics_path");
	if (strcmp(name, "__scheme__") == 0)
		return ("scheme");
	if (strcmp(name, "__scrape_interval__") == 0)
		return ("interval");
	if (strcmp(name, "__scrape_timeout__") == 0)
		return ("timeout");
	return (NULL);
}

/*
 * Parse an API entry's scrape contract keys (collected in ck) by the
 * config's group parser; the group keeps it. NULL and err on an error.
 */
static struct config_target *
tspec_contract(const cJSON *ck, const char *where, struct tspec_group *g,
    char *err, size_t errlen)
{
	struct config_target	*grp;

	grp = config_group_parse(ck, where, err, errlen);
	if (grp == NULL)
		return (NULL);
	g->contracts = xreallocarray(g->contracts, g->ncontracts + 1,
	    sizeof *g->contracts);
	g->contracts[g->ncontracts++] = grp;
	return (grp);
}

/* Keep an entry as given, without its targets, as JSON. */
static const char *
tspec_given(const cJSON *e, struct tspec_group *g)
{
	cJSON		*dup;
	char		*s;
	const char	*kept;

	dup = cJSON_Duplicate(e, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(dup, "targets");
	s = cJSON_PrintUnformatted(dup);
	cJSON_Delete(dup);
	kept = tspec_group_str(g, s);
	cJSON_free(s);
	return (kept);
}

/* Tell whether a key of an API body is a scrape setting. */
static bool
tspec_api_key(const char *k)
{
	return (strcmp(k, "interval") == 0 || strcmp(k, "timeout") == 0 ||
	    strcmp(k, "metrics_path") == 0 || strcmp(k, "scheme") == 0 ||
	    strcmp(k, "job") == 0);
}

/* Check an entry's labels; collect the kept ones and the settings. */
static bool
tspec_parse_labels(const cJSON *labels, const char *where, int flags,
    struct tspec_settings *st, struct tspec_group *g,
    struct config_kv **kvp, size_t *nkvp, char *err, size_t errlen)
{
	const cJSON		*l, *m;
	struct config_kv	*kv;
	const char		*setting;
	char			 path[256], why[160];
	size_t			 n = 0, nlab;

	*kvp = NULL;
	*nkvp = 0;
	if (labels == NULL || cJSON_IsNull(labels))
		return (true);
	if (!cJSON_IsObject(labels)) {
		snprintf(err, errlen, "%s.labels: want an object of strings",
		    where);
		return (false);
	}
	nlab = (size_t)cJSON_GetArraySize(labels);
	if (nlab > TSPEC_MAX_LABELS) {
		snprintf(err, errlen, "%s.labels: %zu labels, at most %d",
		    where, nlab, TSPEC_MAX_LABELS);
		return (false);
	}
	kv = xcalloc(nlab + 1, sizeof *kv);
	tspec_group_kv(g, kv);
	cJSON_ArrayForEach(l, labels) {
		tspec_label_path(path, sizeof path, where, l->string);
		for (m = labels->child; m != l; m = m->next) {
			if (strcmp(m->string, l->string) == 0) {
				snprintf(err, errlen, "%s: duplicate label",
				    path);
				return (false);
			}
		}
		if (!cJSON_IsString(l)) {
			snprintf(err, errlen, "%s: value must be a string",
			    path);
			return (false);
		}
		if ((flags & TSPEC_ENTRY_FILE) &&
		    strncmp(l->string, "__", 2) == 0) {
			setting = tspec_meta_label(l->string);
			if (setting != NULL && !tspec_setting(st, setting,
			    l->valuestring, path, err, errlen))
				return (false);
			continue;
		}
		if (!tspec_check_label(l->string, l->valuestring, why,
		    sizeof why)) {
			snprintf(err, errlen, "%s: %s", path, why);
			return (false);
		}
		if (strcmp(l->string, "job") == 0) {
			if (!tspec_setting(st, "job", l->valuestring, path,
			    err, errlen))
				return (false);
			continue;
		}
		kv[n].name = tspec_group_str(g, l->string);
		kv[n].value = tspec_group_str(g, l->valuestring);
		n++;
	}
	*kvp = kv;
	*nkvp = n;
	return (true);
}

/* Parse one entry and append its targets to g. */
bool
tspec_parse_entry(const cJSON *e, const char *where, int flags,
    struct tspec_group *g, char *err, size_t errlen)
{
	struct tspec_settings	 st;
	struct target_spec	*sp;
	struct config_kv	*kv;
	const cJSON		*k, *targets = NULL, *labels = NULL, *t;
	struct config_target	*grp = NULL;
	cJSON			*ck = NULL;
	char			 path[256], why[320], url[2048], dur[2][32];
	size_t			 nkv, i, ntargets, nset = 0;
	const char		*setk[5], *setv[5], *given = NULL;
	bool			 dup, ok = false;

	memset(&st, 0, sizeof st);
	if (!cJSON_IsObject(e)) {
		snprintf(err, errlen, "%s: want an object with \"targets\" "
		    "and \"labels\"", where);
		return (false);
	}
	if (flags & TSPEC_ENTRY_API)
		ck = cJSON_CreateObject();
	/* Only known keys are kept, so duplicates are checked in O(n). */
	cJSON_ArrayForEach(k, e) {
		dup = false;
		if (strcmp(k->string, "targets") == 0) {
			dup = targets != NULL;
			targets = k;
		} else if (strcmp(k->string, "labels") == 0) {
			dup = labels != NULL;
			labels = k;
		} else if ((flags & TSPEC_ENTRY_API) &&
		    tspec_api_key(k->string)) {
			for (i = 0; i < nset; i++) {
				if (strcmp(setk[i], k->string) == 0)
					dup = true;
			}
			if (!dup && !cJSON_IsString(k)) {
				snprintf(err, errlen, "%s.%s: want a string",
				    where, k->string);
				goto out;
			}
			if (!dup) {
				setk[nset] = k->string;
				setv[nset++] = k->valuestring;
			}
		} else if ((flags & TSPEC_ENTRY_API) &&
		    config_group_key(k->string)) {
			dup = cJSON_GetObjectItemCaseSensitive(ck,
			    k->string) != NULL;
			if (!dup)
				cJSON_AddItemToObject(ck, k->string,
				    cJSON_Duplicate(k, 1));
		} else if (flags & TSPEC_ENTRY_API) {
			snprintf(err, errlen, "%s: unknown key \"%s\" (want "
			    "targets, labels, interval, timeout, metrics_path, "
			    "scheme, job or a scrape_config key: "
			    "relabel_configs, metric_relabel_configs, the "
			    "limits, honor_labels, honor_timestamps, params, "
			    "tls_config, basic_auth, authorization, "
			    "bearer_token_file)", where,
			    tspec_quote(why, sizeof why, k->string));
			goto out;
		}
		if (dup) {
			snprintf(err, errlen, "%s: duplicate key \"%s\"", where,
			    k->string);
			goto out;
		}
	}
	if (ck != NULL && ck->child != NULL) {
		grp = tspec_contract(ck, where, g, err, errlen);
		if (grp == NULL)
			goto out;
	}
	if (flags & TSPEC_ENTRY_API)
		given = tspec_given(e, g);
	if (targets == NULL && (flags & TSPEC_ENTRY_API)) {
		snprintf(err, errlen, "%s: missing \"targets\" (an empty list "
		    "is fine)", where);
		goto out;
	}
	if (targets != NULL && !cJSON_IsArray(targets)) {
		snprintf(err, errlen, "%s.targets: want an array of "
		    "\"host:port\" strings", where);
		goto out;
	}
	ntargets = (size_t)cJSON_GetArraySize(targets);
	if ((flags & TSPEC_ENTRY_API) && ntargets > TSPEC_MAX_TARGETS) {
		snprintf(err, errlen, "%s.targets: %zu targets, at most %d per "
		    "request", where, ntargets, TSPEC_MAX_TARGETS);
		goto out;
	}
	if ((flags & TSPEC_ENTRY_FILE) &&
	    g->nspecs + ntargets > TSPEC_MAX_FILE_TARGETS) {
		snprintf(err, errlen, "%s.targets: more than %d targets in the "
		    "file", where, TSPEC_MAX_FILE_TARGETS);
		goto out;
	}

	/* Settings from keys first, so a job label can be checked too. */
	for (i = 0; i < nset; i++) {
		snprintf(path, sizeof path, "%s.%s", where, setk[i]);
		if (!tspec_setting(&st, setk[i], setv[i], path, err, errlen))
			goto out;
	}
	if (!tspec_parse_labels(labels, where, flags, &st, g, &kv, &nkv, err,
	    errlen))
		goto out;
	if (st.interval_ms != 0 && st.timeout_ms > st.interval_ms) {
		snprintf(err, errlen, "%s: timeout %s is longer than the "
		    "interval %s", where,
		    duration_format(st.timeout_ms, dur[0], sizeof dur[0]),
		    duration_format(st.interval_ms, dur[1], sizeof dur[1]));
		goto out;
	}

	i = 0;
	cJSON_ArrayForEach(t, targets) {
		snprintf(path, sizeof path, "%s.targets[%zu]", where, i++);
		if (!cJSON_IsString(t)) {
			snprintf(err, errlen, "%s: want a \"host:port\" string",
			    path);
			goto out;
		}
		if (!tspec_check_address(t->valuestring, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", path, why);
			goto out;
		}
		if (snprintf(url, sizeof url, "%s://%s%s%s",
		    st.scheme != NULL ? st.scheme : "http", t->valuestring,
		    st.path != NULL ? st.path : "/metrics",
		    grp != NULL && grp->url != NULL ? grp->url : "") >=
		    (int)sizeof url) {
			snprintf(err, errlen, "%s: the URL would be longer "
			    "than %zu bytes", path, sizeof url - 1);
			goto out;
		}
		sp = tspec_group_spec(g);
		sp->url = tspec_group_str(g, url);
		sp->scheme = st.scheme != NULL ?
		    tspec_group_str(g, st.scheme) : NULL;
		sp->address = tspec_group_str(g, t->valuestring);
		sp->path = st.path != NULL ? tspec_group_str(g, st.path) : NULL;
		sp->job = st.job != NULL ? tspec_group_str(g, st.job) : NULL;
		sp->labels = kv;
		sp->nlabels = nkv;
		sp->interval_ms = st.interval_ms;
		sp->timeout_ms = st.timeout_ms;
		sp->given = given;
		sp->contract = grp;
		if (grp != NULL) {
			sp->metric_relabel = grp->metric_relabel;
			sp->limits = &grp->limits;
			sp->honor_labels = grp->honor_labels;
			sp->ignore_timestamps = !grp->honor_timestamps;
			sp->http = grp->http;
		}
	}
	ok = true;
out:
	cJSON_Delete(ck);
	return (ok);
}

/* Parse a file_sd document. */
bool
tspec_parse_file_sd(const char *buf, size_t len, struct tspec_group *g,
    char *err, size_t errlen)
{
	cJSON		*doc;
	const cJSON	*e;
	const char	*end = NULL;
	char		 where[32];
	size_t		 i = 0;

	tspec_group_init(g);
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (doc == NULL) {
		tspec_json_error(buf, len, end, err, errlen);
		return (false);
	}
	while (end != NULL && end < buf + len && (*end == ' ' ||
	    *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != NULL && end < buf + len) {
		tspec_json_error(buf, len, end, err, errlen);
		goto fail;
	}
	if (!cJSON_IsArray(doc)) {
		snprintf(err, errlen, "$: want an array of {\"targets\":[...],"
		    "\"labels\":{...}} entries");
		goto fail;
	}
	cJSON_ArrayForEach(e, doc) {
		snprintf(where, sizeof where, "$[%zu]", i++);
		if (!tspec_parse_entry(e, where, TSPEC_ENTRY_FILE, g, err,
		    errlen))
			goto fail;
	}
	tspec_group_dedup(g);
	cJSON_Delete(doc);
	return (true);

fail:
	cJSON_Delete(doc);
	tspec_group_free(g);
	return (false);
}
