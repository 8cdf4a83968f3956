/*
 * config: read rwbridge's JSON configuration with cJSON and check every
 * value before anything starts. Errors name the file and the JSON path of
 * the value, or the line and column of a syntax error; check mode reports
 * every error, load mode stops at the first. Relative paths in the file
 * (file_sd, token and TLS files) are relative to the file's directory.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "duration.h"
#include "file.h"
#include "labels.h"
#include "url.h"
#include "xmalloc.h"

#define CONFIG_MAX_FILE		(4u << 20)
#define CONFIG_MAX_SECRET	4096

/* Where a check is: the file, its directory, and how errors are reported. */
struct cctx {
	const char	*file;
	char		*dir;		/* for relative paths; NULL: cwd */
	FILE		*report;	/* check mode: print every error */
	int		 nerr;
	char		*err;		/* first error */
	size_t		 errlen;
	bool		 file_secrets;	/* an API group: secrets by file */
};

/* Record an error at a JSON path. */
static void __attribute__((format(printf, 3, 4)))
cerr(struct cctx *c, const char *path, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->nerr == 0 && c->err != NULL && c->file == NULL)
		snprintf(c->err, c->errlen, "%s: %s", path, msg);
	else if (c->nerr == 0 && c->err != NULL)
		snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, msg);
	if (c->report != NULL)
		fprintf(c->report, "%s: %s: %s\n", c->file, path, msg);
	c->nerr++;
}

/* Build a JSON path for messages (long paths are cut). */
static void __attribute__((format(printf, 3, 4)))
jpath(char *dst, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

/* Read a whole small file; NULL with errno-based reason in err. */
static char *
read_small_file(const char *path, size_t max, size_t *lenp, char *err,
    size_t errlen)
{
	char	*s;

	if (file_read(path, max, &s, lenp) != 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
		return (NULL);
	}
	return (s);
}

/* Read a secret file, trimming the trailing newline. */
static char *
read_secret(const char *path, char *err, size_t errlen)
{
	char	*s;
	size_t	 n;

	s = read_small_file(path, CONFIG_MAX_SECRET, &n, err, errlen);
	if (s == NULL)
		return (NULL);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (n == 0 || strlen(s) != n) {
		snprintf(err, errlen, "%s: empty or binary secret", path);
		free(s);
		return (NULL);
	}
	return (s);
}

/* Fill in every default. */
void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->job = xstrdup(CONFIG_DEFAULT_JOB);
	cfg->listen = xstrdup(CONFIG_DEFAULT_LISTEN);
	cfg->scrape_interval_ms = CONFIG_DEFAULT_INTERVAL_MS;
	cfg->scrape_timeout_ms = 0;	/* config_finish: min(10s, interval) */
	cfg->max_body_bytes = CONFIG_DEFAULT_MAX_BODY;
	cfg->listen_request_timeout_ms = CONFIG_DEFAULT_REQUEST_TIMEOUT_MS;
	cfg->push_max_groups = CONFIG_DEFAULT_PUSH_GROUPS;
	cfg->push_max_families = CONFIG_DEFAULT_PUSH_FAMILIES;
	cfg->push_max_samples = CONFIG_DEFAULT_PUSH_SAMPLES;
	cfg->api_max_groups = CONFIG_DEFAULT_API_GROUPS;
	cfg->log_level = xstrdup("info");
	cfg->self_scrape = true;
	cfg->scrape_accept = xstrdup(CONFIG_DEFAULT_ACCEPT);
	shard_config_init(&cfg->cluster);
	derive_config_default(&cfg->derive);
}

/* Free a key/value array. */
static void
kv_free(struct config_kv *kv, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

/* Free one remote-write endpoint's strings. */
static void
remote_write_free(struct config_remote_write *r)
{
	free(r->url);
	free(r->name);
	kv_free(r->headers, r->nheaders);
	free(r->basic_user);
	free(r->basic_password);
	free(r->bearer_token);
	free(r->tls_ca_file);
	free(r->tls_cert_file);
	free(r->tls_key_file);
	relabel_free(r->write_relabel);
}

/* Take one more reference to a group's HTTP settings. */
const struct config_http *
config_http_ref(const struct config_http *h)
{
	if (h != NULL)
		((struct config_http *)h)->refs++;
	return (h);
}

/* Drop a reference to a group's HTTP settings, freeing them at the last. */
void
config_http_unref(const struct config_http *ch)
{
	struct config_http	*h = (struct config_http *)ch;

	if (h == NULL || --h->refs > 0)
		return;
	free(h->basic_user);
	free(h->basic_password);
	free(h->auth_type);
	free(h->auth_credentials);
	free(h->tls_ca_file);
	free(h->tls_cert_file);
	free(h->tls_key_file);
	free(h->tls_server_name);
	free(h);
}

/* Compare two strings that may be NULL. */
static bool
config_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Tell whether two groups' TLS and auth settings are the same. */
bool
config_http_equal(const struct config_http *a, const struct config_http *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (config_streq(a->basic_user, b->basic_user) &&
	    config_streq(a->basic_password, b->basic_password) &&
	    strcmp(a->auth_type != NULL ? a->auth_type :
	    CONFIG_DEFAULT_AUTH_TYPE, b->auth_type != NULL ? b->auth_type :
	    CONFIG_DEFAULT_AUTH_TYPE) == 0 &&
	    config_streq(a->auth_credentials, b->auth_credentials) &&
	    config_streq(a->tls_ca_file, b->tls_ca_file) &&
	    config_streq(a->tls_cert_file, b->tls_cert_file) &&
	    config_streq(a->tls_key_file, b->tls_key_file) &&
	    config_streq(a->tls_server_name, b->tls_server_name) &&
	    a->tls_insecure_skip_verify == b->tls_insecure_skip_verify);
}

/* Free what a target (or a file_sd group) owns. */
static void
target_fields_free(struct config_target *t)
{
	free(t->url);
	free(t->job);
	kv_free(t->labels, t->nlabels);
	relabel_free(t->relabel);
	relabel_free(t->metric_relabel);
}

/* Release everything a config owns. */
void
config_free(struct config *cfg)
{
	size_t	i;

	free(cfg->file);
	free(cfg->job);
	free(cfg->listen);
	free(cfg->state_dir);
	free(cfg->queue_dir);
	free(cfg->api_token);
	free(cfg->api_token_file);
	free(cfg->log_level);
	free(cfg->scrape_accept);
	for (i = 0; i < cfg->ntargets; i++)
		target_fields_free(&cfg->targets[i]);
	free(cfg->targets);
	for (i = 0; i < cfg->nfsd_owned; i++) {
		target_fields_free(cfg->fsd_owned[i]);
		free(cfg->fsd_owned[i]);
	}
	free(cfg->fsd_owned);
	free(cfg->file_sd_groups);
	for (i = 0; i < cfg->nhttps; i++)
		config_http_unref(cfg->https[i]);
	free(cfg->https);
	kv_free(cfg->external_labels, cfg->nexternal_labels);
	for (i = 0; i < cfg->nfile_sd; i++)
		free(cfg->file_sd[i]);
	free(cfg->file_sd);
	for (i = 0; i < cfg->nremote_writes; i++)
		remote_write_free(&cfg->remote_writes[i]);
	free(cfg->remote_writes);
	free(cfg->pushgateway.url);
	kv_free(cfg->pushgateway.grouping, cfg->pushgateway.ngrouping);
	memset(cfg, 0, sizeof *cfg);
}

/*
 * Turn "host:port" or a URL into a scrape URL: a bare address gets
 * http:// and /metrics, a URL with no path gets /metrics.
 */
static bool
config_url(const char *in, const char *defpath, char **out, char *err,
    size_t errlen)
{
	struct url	 u;
	char		*s, why[64];
	bool		 bare = strstr(in, "://") == NULL;

	if (bare)
		xasprintf(&s, "http://%s", in);
	else
		s = xstrdup(in);
	if (!url_parse(s, &u, why, sizeof why)) {
		snprintf(err, errlen, "\"%s\": %s", in, why);
		goto fail;
	}
	if (!url_is_http(&u)) {
		snprintf(err, errlen, "\"%s\": scheme must be http or https",
		    in);
		goto fail;
	}
	/* A query or fragment needs a path before it. */
	if ((bare && !u.has_port) || strchr(in, '"') != NULL ||
	    (u.path.len == 0 && u.path.p[0] != '\0')) {
		snprintf(err, errlen, "\"%s\": want host:port or a URL", in);
		goto fail;
	}
	if (u.path.len == 0)
		xasprintf(out, "%s%s", s, defpath);
	else
		*out = xstrdup(s);
	free(s);
	return (true);
fail:
	free(s);
	return (false);
}

/* Resolve a path from the config file against the file's directory. */
static char *
cpath(struct cctx *c, const char *p)
{
	char	*s;

	if (p[0] == '/' || c->dir == NULL)
		return (xstrdup(p));
	xasprintf(&s, "%s/%s", c->dir, p);
	return (s);
}

/* Check an object has no duplicate keys (cJSON keeps them all). */
static void
check_dups(struct cctx *c, const cJSON *obj, const char *path)
{
	const cJSON	*a, *b;

	for (a = obj->child; a != NULL; a = a->next) {
		for (b = a->next; b != NULL; b = b->next) {
			if (strcmp(a->string, b->string) == 0) {
				cerr(c, path, "duplicate key \"%s\"",
				    a->string);
				break;
			}
		}
	}
}

/* Require an object. */
static bool
want_object(struct cctx *c, const cJSON *v, const char *path)
{
	if (!cJSON_IsObject(v)) {
		cerr(c, path, "want an object");
		return (false);
	}
	check_dups(c, v, path);
	return (true);
}

/* Take a string into *dst (replacing it). */
static bool
get_string(struct cctx *c, const cJSON *v, const char *path, char **dst)
{
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		cerr(c, path, "want a non-empty string");
		return (false);
	}
	free(*dst);
	*dst = xstrdup(v->valuestring);
	return (true);
}

/* Take a path string, resolved against the config file's directory. */
static bool
get_path(struct cctx *c, const cJSON *v, const char *path, char **dst)
{
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		cerr(c, path, "want a file name");
		return (false);
	}
	free(*dst);
	*dst = cpath(c, v->valuestring);
	return (true);
}

/* Take the contents of a secret file named by v. */
static bool
get_secret_file(struct cctx *c, const cJSON *v, const char *path, char **dst)
{
	char	*p = NULL, *s, err[512];

	if (!get_path(c, v, path, &p))
		return (false);
	s = read_secret(p, err, sizeof err);
	free(p);
	if (s == NULL) {
		cerr(c, path, "%s", err);
		return (false);
	}
	free(*dst);
	*dst = s;
	return (true);
}

/* Take a duration string. */
static bool
get_duration(struct cctx *c, const cJSON *v, const char *path, int64_t *dst)
{
	int64_t	ms;

	if (!cJSON_IsString(v)) {
		cerr(c, path, "want a duration string such as \"15s\"");
		return (false);
	}
	if (!duration_parse(v->valuestring, &ms) || ms <= 0) {
		cerr(c, path, "invalid duration \"%s\" (want e.g. 500ms, 5s, "
		    "1m)", v->valuestring);
		return (false);
	}
	*dst = ms;
	return (true);
}

/* Take a scrape interval: a duration no shorter than the minimum. */
static bool
get_interval(struct cctx *c, const cJSON *v, const char *path, int64_t *dst)
{
	int64_t	ms;

	if (!get_duration(c, v, path, &ms))
		return (false);
	if (ms < CONFIG_MIN_INTERVAL_MS) {
		cerr(c, path, "interval \"%s\" is below the minimum of %dms",
		    v->valuestring, CONFIG_MIN_INTERVAL_MS);
		return (false);
	}
	*dst = ms;
	return (true);
}

/* Take a bool. */
static bool
get_bool(struct cctx *c, const cJSON *v, const char *path, bool *dst)
{
	if (!cJSON_IsBool(v)) {
		cerr(c, path, "want true or false");
		return (false);
	}
	*dst = cJSON_IsTrue(v);
	return (true);
}

/* Take a whole number in [min, max]. */
static bool
get_uint(struct cctx *c, const cJSON *v, const char *path, uint64_t min,
    uint64_t max, uint64_t *dst)
{
	double	d;

	if (!cJSON_IsNumber(v)) {
		cerr(c, path, "want a number");
		return (false);
	}
	d = v->valuedouble;
	if (!(d >= (double)min && d <= (double)max) || d != floor(d)) {
		cerr(c, path, "want a whole number from %" PRIu64 " to %"
		    PRIu64, min, max);
		return (false);
	}
	*dst = (uint64_t)d;
	return (true);
}

/* Take a byte size: a number or a string like "256MiB", "1GB", "512KiB". */
static bool
get_bytes(struct cctx *c, const cJSON *v, const char *path, uint64_t *dst)
{
	static const struct {
		const char	*suffix;
		uint64_t	 mult;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1ull << 10 },
		{ "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
		{ "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 }
	};
	char		*end;
	uint64_t	 n;
	size_t		 i;

	if (cJSON_IsNumber(v))
		return (get_uint(c, v, path, 1, UINT64_C(1) << 50, dst));
	if (!cJSON_IsString(v) || !isdigit((unsigned char)v->valuestring[0]))
		goto bad;
	errno = 0;
	n = strtoull(v->valuestring, &end, 10);
	if (errno != 0)
		goto bad;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (n == 0 || n > (UINT64_C(1) << 50) / units[i].mult)
				goto bad;
			*dst = n * units[i].mult;
			return (true);
		}
	}
bad:
	cerr(c, path, "want a size in bytes such as 268435456 or \"256MiB\"");
	return (false);
}

/* Take an object of string values into a key/value array. */
static bool
get_kv(struct cctx *c, const cJSON *v, const char *path, bool labels,
    struct config_kv **kvp, size_t *np)
{
	const cJSON	*e;
	char		 p[256];
	size_t		 n = 0;
	int		 nerr = c->nerr;

	if (!want_object(c, v, path))
		return (false);
	kv_free(*kvp, *np);
	*kvp = xcalloc(cJSON_GetArraySize(v) + 1, sizeof **kvp);
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (labels && (!label_name_valid(e->string,
		    strlen(e->string)) || strncmp(e->string, "__", 2) == 0)) {
			cerr(c, p, "invalid label name \"%s\"", e->string);
			continue;
		}
		if (!labels && (e->string[0] == '\0' ||
		    strpbrk(e->string, ": \t\r\n") != NULL)) {
			cerr(c, p, "invalid header name");
			continue;
		}
		if (!cJSON_IsString(e) || strpbrk(e->valuestring, labels ?
		    "" : "\r\n") != NULL) {
			cerr(c, p, "want a string");
			continue;
		}
		(*kvp)[n].name = xstrdup(e->string);
		(*kvp)[n].value = xstrdup(e->valuestring);
		n++;
	}
	*np = n;
	return (c->nerr == nerr);
}

/* Report an unknown key. */
static void
unknown(struct cctx *c, const char *path, const char *key)
{
	cerr(c, path, "unknown key \"%s\"", key);
}

/* Record a relabel config error (a relabel_error_fn). */
static void
relabel_cerr(void *arg, const char *path, const char *msg)
{
	cerr(arg, path, "%s", msg);
}

/* Take a list of relabel configs into *dst (replacing it). */
static bool
get_relabel(struct cctx *c, const cJSON *v, const char *path,
    struct relabel **dst)
{
	struct relabel	*rl;

	rl = relabel_parse(v, path, relabel_cerr, c);
	if (rl == NULL)
		return (false);
	relabel_free(*dst);
	*dst = rl;
	return (true);
}

/* Take a limit: a whole number, 0 for none; a byte size for the body. */
static bool
get_limit(struct cctx *c, const cJSON *v, const char *path, bool bytes,
    uint64_t *dst)
{
	if (bytes && !(cJSON_IsNumber(v) && v->valuedouble == 0))
		return (get_bytes(c, v, path, dst));
	return (get_uint(c, v, path, 0, UINT64_C(1) << 50, dst));
}

/*
 * Read a limit key into l; false if key is not one. The names are
 * Prometheus's.
 */
static bool
parse_limit(struct cctx *c, const cJSON *e, const char *path,
    struct config_limits *l)
{
	if (strcmp(e->string, "sample_limit") == 0)
		get_limit(c, e, path, false, &l->sample_limit);
	else if (strcmp(e->string, "label_limit") == 0)
		get_limit(c, e, path, false, &l->label_limit);
	else if (strcmp(e->string, "label_name_length_limit") == 0)
		get_limit(c, e, path, false, &l->label_name_length_limit);
	else if (strcmp(e->string, "label_value_length_limit") == 0)
		get_limit(c, e, path, false, &l->label_value_length_limit);
	else if (strcmp(e->string, "body_size_limit") == 0)
		get_limit(c, e, path, true, &l->body_size_limit);
	else
		return (false);
	return (true);
}

/* Give a target its defaults. */
void
config_target_defaults(struct config_target *t)
{
	memset(t, 0, sizeof *t);
	t->honor_timestamps = true;
	t->limits.sample_limit = CONFIG_LIMIT_UNSET;
	t->limits.label_limit = CONFIG_LIMIT_UNSET;
	t->limits.label_name_length_limit = CONFIG_LIMIT_UNSET;
	t->limits.label_value_length_limit = CONFIG_LIMIT_UNSET;
	t->limits.body_size_limit = CONFIG_LIMIT_UNSET;
}

/* Add one scrape target. */
static bool
add_target(struct cctx *c, struct config *cfg, const char *addr,
    const char *path, const char *defpath)
{
	struct config_target	*t;
	char			 err[512], *url;

	if (!config_url(addr, defpath, &url, err, sizeof err)) {
		cerr(c, path, "%s", err);
		return (false);
	}
	cfg->targets = xreallocarray(cfg->targets, cfg->ntargets + 1,
	    sizeof *cfg->targets);
	t = &cfg->targets[cfg->ntargets++];
	config_target_defaults(t);
	t->url = url;
	return (true);
}

/* Refuse a secret given inline where only a file reference may be. */
static void
inline_secret(struct cctx *c, const char *path, const char *use)
{
	cerr(c, path, "secrets are given by file reference in API groups: "
	    "use %s", use);
}

/*
 * Read a group's basic_auth, authorization or tls_config object (what) into
 * h, Prometheus's keys; secrets inline or from a file.
 */
static void
parse_http_sub(struct cctx *c, struct config_http *h, const cJSON *v,
    const char *path, const char *what)
{
	const cJSON	*e;
	char		 p[256];
	bool		 basic = strcmp(what, "basic_auth") == 0;
	bool		 authz = strcmp(what, "authorization") == 0;
	bool		 tls = strcmp(what, "tls_config") == 0;

	if (!want_object(c, v, path))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (basic && strcmp(e->string, "username") == 0)
			get_string(c, e, p, &h->basic_user);
		else if (c->file_secrets && ((basic && strcmp(e->string,
		    "password") == 0) || (authz && strcmp(e->string,
		    "credentials") == 0)))
			inline_secret(c, p, basic ? "password_file" :
			    "credentials_file");
		else if (basic && strcmp(e->string, "password") == 0)
			get_string(c, e, p, &h->basic_password);
		else if (basic && strcmp(e->string, "password_file") == 0)
			get_secret_file(c, e, p, &h->basic_password);
		else if (authz && strcmp(e->string, "type") == 0)
			get_string(c, e, p, &h->auth_type);
		else if (authz && strcmp(e->string, "credentials") == 0)
			get_string(c, e, p, &h->auth_credentials);
		else if (authz && strcmp(e->string, "credentials_file") == 0)
			get_secret_file(c, e, p, &h->auth_credentials);
		else if (tls && strcmp(e->string, "ca_file") == 0)
			get_path(c, e, p, &h->tls_ca_file);
		else if (tls && strcmp(e->string, "cert_file") == 0)
			get_path(c, e, p, &h->tls_cert_file);
		else if (tls && strcmp(e->string, "key_file") == 0)
			get_path(c, e, p, &h->tls_key_file);
		else if (tls && strcmp(e->string, "server_name") == 0)
			get_string(c, e, p, &h->tls_server_name);
		else if (tls && strcmp(e->string, "insecure_skip_verify") == 0)
			get_bool(c, e, p, &h->tls_insecure_skip_verify);
		else
			unknown(c, path, e->string);
	}
	if (basic && h->basic_user == NULL)
		cerr(c, path, "missing \"username\"");
	if (authz && h->auth_credentials == NULL)
		cerr(c, path, "missing \"credentials\" or \"credentials_file\"");
	if (tls && (h->tls_cert_file == NULL) != (h->tls_key_file == NULL))
		cerr(c, path, "cert_file and key_file go together");
}

/* Read "params" ({"name": ["value", ...]}) as a query string into *q. */
static void
parse_params(struct cctx *c, const cJSON *v, const char *path, char **q)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const cJSON		*e, *x;
	struct buf		 b;
	const char		*s;
	char			 p[256];
	int			 pass;

	if (!want_object(c, v, path))
		return;
	buf_init(&b);
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) == 0) {
			cerr(c, p, "want a list of strings");
			continue;
		}
		for (x = e->child; x != NULL; x = x->next) {
			if (!cJSON_IsString(x)) {
				cerr(c, p, "want a list of strings");
				break;
			}
			buf_putc(&b, b.len == 0 ? '?' : '&');
			for (pass = 0; pass < 2; pass++) {
				for (s = pass == 0 ? e->string : x->valuestring;
				    *s != '\0'; s++) {
					if (isalnum((unsigned char)*s) ||
					    strchr("-._~", *s) != NULL)
						buf_putc(&b, (uint8_t)*s);
					else {
						buf_putc(&b, '%');
						buf_putc(&b, (uint8_t)hex[
						    (unsigned char)*s >> 4]);
						buf_putc(&b, (uint8_t)hex[*s & 15]);
					}
				}
				if (pass == 0)
					buf_putc(&b, '=');
			}
		}
	}
	free(*q);
	*q = b.len > 0 ? xstrndup((const char *)b.data, b.len) : xstrdup("");
	buf_free(&b);
}

/*
 * Add one of a group's targets: a host:port gets the group's scheme, and
 * the metrics path and params.
 */
static void
add_group_target(struct cctx *c, struct config *cfg, const char *addr,
    const char *path, const char *mpath, const char *scheme,
    const char *query)
{
	char	*full = NULL, *def;

	if (scheme != NULL && strstr(addr, "://") == NULL)
		xasprintf(&full, "%s://%s", scheme, addr);
	xasprintf(&def, "%s%s", mpath != NULL ? mpath : "/metrics",
	    query != NULL ? query : "");
	add_target(c, cfg, full != NULL ? full : addr, path, def);
	free(full);
	free(def);
}

/* Read one entry of "targets": "host:port", a URL, or a static_config. */
static void
parse_target(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *path)
{
	const cJSON		*e, *addrs = NULL;
	struct config_target	 proto, *t;
	struct config_http	*http;
	char			 p[256], *mpath = NULL, *scheme = NULL;
	char			*query = NULL, d[2][32];
	size_t			 first, i;
	int			 k, nauth = 0;

	if (cJSON_IsString(v)) {
		add_target(c, cfg, v->valuestring, path, "/metrics");
		return;
	}
	if (!want_object(c, v, path))
		return;
	config_target_defaults(&proto);
	http = xcalloc(1, sizeof *http);
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (parse_limit(c, e, p, &proto.limits))
			continue;
		if (strcmp(e->string, "basic_auth") == 0 ||
		    strcmp(e->string, "authorization") == 0 ||
		    strcmp(e->string, "tls_config") == 0) {
			nauth += strcmp(e->string, "tls_config") != 0;
			parse_http_sub(c, http, e, p, e->string);
		} else if (strcmp(e->string, "bearer_token_file") == 0) {
			nauth++;
			get_secret_file(c, e, p, &http->auth_credentials);
		} else if (c->file_secrets &&
		    strcmp(e->string, "bearer_token") == 0) {
			inline_secret(c, p, "bearer_token_file");
		} else if (strcmp(e->string, "scheme") == 0) {
			if (get_string(c, e, p, &scheme) &&
			    strcmp(scheme, "http") != 0 &&
			    strcmp(scheme, "https") != 0)
				cerr(c, p, "want \"http\" or \"https\"");
		} else if (strcmp(e->string, "params") == 0)
			parse_params(c, e, p, &query);
		else if (strcmp(e->string, "relabel_configs") == 0)
			get_relabel(c, e, p, &proto.relabel);
		else if (strcmp(e->string, "metric_relabel_configs") == 0)
			get_relabel(c, e, p, &proto.metric_relabel);
		else if (strcmp(e->string, "honor_labels") == 0)
			get_bool(c, e, p, &proto.honor_labels);
		else if (strcmp(e->string, "honor_timestamps") == 0)
			get_bool(c, e, p, &proto.honor_timestamps);
		else if (strcmp(e->string, "url") == 0 ||
		    strcmp(e->string, "targets") == 0)
			addrs = e;
		else if (strcmp(e->string, "job") == 0)
			get_string(c, e, p, &proto.job);
		else if (strcmp(e->string, "labels") == 0)
			get_kv(c, e, p, true, &proto.labels, &proto.nlabels);
		else if (strcmp(e->string, "interval") == 0)
			get_interval(c, e, p, &proto.interval_ms);
		else if (strcmp(e->string, "timeout") == 0)
			get_duration(c, e, p, &proto.timeout_ms);
		else if (strcmp(e->string, "metrics_path") == 0) {
			if (get_string(c, e, p, &mpath) && mpath[0] != '/')
				cerr(c, p, "must start with /");
		} else
			unknown(c, path, e->string);
	}
	if (proto.timeout_ms > 0 && proto.interval_ms > 0 &&
	    proto.timeout_ms > proto.interval_ms)
		cerr(c, path, "timeout %s is longer than the interval %s",
		    duration_format(proto.timeout_ms, d[0], sizeof d[0]),
		    duration_format(proto.interval_ms, d[1], sizeof d[1]));
	if (nauth > 1)
		cerr(c, path, "at most one of basic_auth, authorization and "
		    "bearer_token_file");
	if (memcmp(http, &(struct config_http){ 0 }, sizeof *http) == 0) {
		free(http);
		http = NULL;
	} else {
		http->refs = 1;
		cfg->https = xreallocarray(cfg->https, cfg->nhttps + 1,
		    sizeof *cfg->https);
		cfg->https[cfg->nhttps++] = http;
	}
	first = cfg->ntargets;
	jpath(p, sizeof p, "%s.targets", path);
	if (addrs == NULL)
		cerr(c, path, "missing \"targets\" (or \"url\")");
	else if (cJSON_IsString(addrs))
		add_group_target(c, cfg, addrs->valuestring, p, mpath,
		    scheme, query);
	else if (cJSON_IsArray(addrs) && cJSON_GetArraySize(addrs) > 0) {
		k = 0;
		for (e = addrs->child; e != NULL; e = e->next, k++) {
			jpath(p, sizeof p, "%s.targets[%d]", path, k);
			if (!cJSON_IsString(e))
				cerr(c, p, "want \"host:port\" or a URL");
			else
				add_group_target(c, cfg, e->valuestring, p,
				    mpath, scheme, query);
		}
	} else
		cerr(c, p, "want a non-empty list of \"host:port\" or URLs");
	for (i = first; i < cfg->ntargets; i++) {
		t = &cfg->targets[i];
		t->job = proto.job != NULL ? xstrdup(proto.job) : NULL;
		t->interval_ms = proto.interval_ms;
		t->timeout_ms = proto.timeout_ms;
		t->relabel = relabel_ref(proto.relabel);
		t->metric_relabel = relabel_ref(proto.metric_relabel);
		t->limits = proto.limits;
		t->honor_labels = proto.honor_labels;
		t->honor_timestamps = proto.honor_timestamps;
		t->http = http;
		t->nlabels = proto.nlabels;
		t->labels = xcalloc(proto.nlabels + 1, sizeof *t->labels);
		for (k = 0; k < (int)proto.nlabels; k++) {
			t->labels[k].name = xstrdup(proto.labels[k].name);
			t->labels[k].value = xstrdup(proto.labels[k].value);
		}
	}
	free(mpath);
	free(scheme);
	free(query);
	free(proto.job);
	kv_free(proto.labels, proto.nlabels);
	relabel_free(proto.relabel);
	relabel_free(proto.metric_relabel);
}

/* Read the "queue" object of a remote_write entry. */
static void
parse_queue(struct cctx *c, struct config_remote_write *r, const cJSON *v,
    const char *path)
{
	const cJSON	*e;
	char		 p[256];

	if (!want_object(c, v, path))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (strcmp(e->string, "max_bytes") == 0)
			get_bytes(c, e, p, &r->queue_max_bytes);
		else if (strcmp(e->string, "fsync") == 0) {
			if (!cJSON_IsString(e))
				cerr(c, p, "want \"batch\", \"interval\" or "
				    "\"never\"");
			else if (strcmp(e->valuestring, "batch") == 0)
				r->fsync = CONFIG_FSYNC_BATCH;
			else if (strcmp(e->valuestring, "interval") == 0)
				r->fsync = CONFIG_FSYNC_INTERVAL;
			else if (strcmp(e->valuestring, "never") == 0)
				r->fsync = CONFIG_FSYNC_NEVER;
			else
				cerr(c, p, "want \"batch\", \"interval\" or "
				    "\"never\", not \"%s\"", e->valuestring);
		} else if (strcmp(e->string, "fsync_interval") == 0)
			get_duration(c, e, p, &r->fsync_interval_ms);
		else
			unknown(c, path, e->string);
	}
}

/* Read basic_auth or tls objects of a remote_write entry. */
static void
parse_rw_sub(struct cctx *c, struct config_remote_write *r, const cJSON *v,
    const char *path, bool tls)
{
	const cJSON	*e;
	char		 p[256];

	if (!want_object(c, v, path))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (!tls && strcmp(e->string, "username") == 0)
			get_string(c, e, p, &r->basic_user);
		else if (!tls && strcmp(e->string, "password") == 0)
			get_string(c, e, p, &r->basic_password);
		else if (!tls && strcmp(e->string, "password_file") == 0)
			get_secret_file(c, e, p, &r->basic_password);
		else if (tls && strcmp(e->string, "ca_file") == 0)
			get_path(c, e, p, &r->tls_ca_file);
		else if (tls && strcmp(e->string, "cert_file") == 0)
			get_path(c, e, p, &r->tls_cert_file);
		else if (tls && strcmp(e->string, "key_file") == 0)
			get_path(c, e, p, &r->tls_key_file);
		else if (tls && strcmp(e->string, "insecure_skip_verify") == 0)
			get_bool(c, e, p, &r->tls_insecure_skip_verify);
		else
			unknown(c, path, e->string);
	}
	if (!tls && r->basic_user == NULL)
		cerr(c, path, "missing \"username\"");
	if (tls && (r->tls_cert_file == NULL) != (r->tls_key_file == NULL))
		cerr(c, path, "cert_file and key_file go together");
}

/* Set a remote-write endpoint's defaults. */
static void
remote_write_init(struct config_remote_write *r)
{
	memset(r, 0, sizeof *r);
	r->timeout_ms = 30000;
	r->max_samples_per_send = CONFIG_DEFAULT_BATCH;
	r->batch_deadline_ms = 5000;
	r->shards = 1;
	r->min_backoff_ms = 30;
	r->max_backoff_ms = 5000;
	r->queue_max_bytes = CONFIG_DEFAULT_QUEUE_BYTES;
	r->fsync = CONFIG_FSYNC_INTERVAL;
	r->fsync_interval_ms = 1000;
}

/* Append a remote-write endpoint with its defaults. */
static struct config_remote_write *
remote_write_add(struct config *cfg)
{
	struct config_remote_write	*r;

	cfg->remote_writes = xreallocarray(cfg->remote_writes,
	    cfg->nremote_writes + 1, sizeof *cfg->remote_writes);
	r = &cfg->remote_writes[cfg->nremote_writes++];
	remote_write_init(r);
	return (r);
}

/* Check a remote-write URL. */
static bool
rw_url_ok(const char *url, char *err, size_t errlen)
{
	struct url	u;
	char		why[64];

	if (!url_parse(url, &u, why, sizeof why) || !url_is_http(&u)) {
		snprintf(err, errlen, "\"%s\": want an http:// or https:// URL",
		    url);
		return (false);
	}
	return (true);
}

/* Read one remote_write entry: a URL string or an object. */
static void
parse_remote_write(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *path)
{
	struct config_remote_write	*r;
	const cJSON			*e;
	char				 p[256], err[512];
	uint64_t			 n;

	r = remote_write_add(cfg);
	if (cJSON_IsString(v)) {
		r->url = xstrdup(v->valuestring);
		goto check;
	}
	if (!want_object(c, v, path))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "%s.%s", path, e->string);
		if (strcmp(e->string, "url") == 0)
			get_string(c, e, p, &r->url);
		else if (strcmp(e->string, "name") == 0) {
			if (get_string(c, e, p, &r->name) &&
			    !label_name_valid(r->name, strlen(r->name)))
				cerr(c, p, "want letters, digits and _");
		} else if (strcmp(e->string, "headers") == 0)
			get_kv(c, e, p, false, &r->headers, &r->nheaders);
		else if (strcmp(e->string, "basic_auth") == 0)
			parse_rw_sub(c, r, e, p, false);
		else if (strcmp(e->string, "bearer_token") == 0)
			get_string(c, e, p, &r->bearer_token);
		else if (strcmp(e->string, "bearer_token_file") == 0)
			get_secret_file(c, e, p, &r->bearer_token);
		else if (strcmp(e->string, "tls") == 0)
			parse_rw_sub(c, r, e, p, true);
		else if (strcmp(e->string, "timeout") == 0)
			get_duration(c, e, p, &r->timeout_ms);
		else if (strcmp(e->string, "max_samples_per_send") == 0) {
			if (get_uint(c, e, p, 1, 1000000, &n))
				r->max_samples_per_send = n;
		} else if (strcmp(e->string, "batch_send_deadline") == 0)
			get_duration(c, e, p, &r->batch_deadline_ms);
		else if (strcmp(e->string, "shards") == 0) {
			if (get_uint(c, e, p, 1, 64, &n))
				r->shards = n;
		} else if (strcmp(e->string, "min_backoff") == 0)
			get_duration(c, e, p, &r->min_backoff_ms);
		else if (strcmp(e->string, "max_backoff") == 0)
			get_duration(c, e, p, &r->max_backoff_ms);
		else if (strcmp(e->string, "queue") == 0)
			parse_queue(c, r, e, p);
		else if (strcmp(e->string, "write_relabel_configs") == 0)
			get_relabel(c, e, p, &r->write_relabel);
		else
			unknown(c, path, e->string);
	}
	if (r->url == NULL) {
		cerr(c, path, "missing \"url\"");
		return;
	}
	if (r->min_backoff_ms > r->max_backoff_ms)
		cerr(c, path, "min_backoff is longer than max_backoff");
	if (r->bearer_token != NULL && r->basic_user != NULL)
		cerr(c, path, "bearer_token and basic_auth are exclusive");
check:
	if (!rw_url_ok(r->url, err, sizeof err))
		cerr(c, path, "%s", err);
}

/*
 * Read scrape_protocols (Prometheus's names, most preferred first) into
 * the Accept header of a scrape, weighted as Prometheus weighs them. Only
 * the text formats: rwbridge has no protobuf parser.
 */
static void
get_scrape_protocols(struct cctx *c, const cJSON *v, const char *path,
    char **dst)
{
	static const struct {
		const char	*name;
		const char	*media;
	} protos[] = {
		{ "OpenMetricsText1.0.0", "application/openmetrics-text;"
		    "version=1.0.0;escaping=underscores" },
		{ "OpenMetricsText0.0.1", "application/openmetrics-text;"
		    "version=0.0.1" },
		{ "PrometheusText1.0.0", "text/plain;version=1.0.0;"
		    "escaping=underscores" },
		{ "PrometheusText0.0.4", "text/plain;version=0.0.4" },
	};
	const cJSON	*e;
	char		 p[300], hdr[512];
	size_t		 i, n = 0, len = 0;
	int		 weight = 6;	/* Prometheus: its 5 protocols + 1 */

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		cerr(c, path, "must be a non-empty array of protocol names");
		return;
	}
	hdr[0] = '\0';
	for (e = v->child; e != NULL; e = e->next, n++) {
		snprintf(p, sizeof p, "%s[%zu]", path, n);
		for (i = 0; cJSON_IsString(e) && i < sizeof protos /
		    sizeof protos[0]; i++)
			if (strcmp(e->valuestring, protos[i].name) == 0)
				break;
		if (!cJSON_IsString(e) || i == sizeof protos /
		    sizeof protos[0]) {
			cerr(c, p, "unknown or unsupported scrape protocol "
			    "(OpenMetricsText1.0.0, OpenMetricsText0.0.1, "
			    "PrometheusText1.0.0 or PrometheusText0.0.4)");
			return;
		}
		if (strstr(hdr, protos[i].media) != NULL) {
			cerr(c, p, "duplicate scrape protocol \"%s\"",
			    protos[i].name);
			return;
		}
		len += (size_t)snprintf(hdr + len, sizeof hdr - len,
		    "%s;q=0.%d,", protos[i].media, weight--);
	}
	snprintf(hdr + len, sizeof hdr - len, "*/*;q=0.%d", weight);
	free(*dst);
	*dst = xstrdup(hdr);
}

/* Read "global.cluster": {members_count, member_num, replication_factor}. */
static void
parse_cluster(struct cctx *c, struct config *cfg, const cJSON *v)
{
	const cJSON	*e;
	char		 p[256];
	uint64_t	 n;

	if (!want_object(c, v, "$.global.cluster"))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "$.global.cluster.%s", e->string);
		if (strcmp(e->string, "members_count") == 0) {
			if (get_uint(c, e, p, 1, SHARD_MAX_MEMBERS, &n))
				cfg->cluster.members_count =
				    cfg->cluster_file_members = (unsigned)n;
		} else if (strcmp(e->string, "member_num") == 0) {
			if (get_uint(c, e, p, 0, SHARD_MAX_MEMBERS - 1, &n))
				cfg->cluster.member_num = (unsigned)n;
		} else if (strcmp(e->string, "replication_factor") == 0) {
			if (get_uint(c, e, p, 1, SHARD_MAX_MEMBERS, &n))
				cfg->cluster.replication_factor = (unsigned)n;
		} else
			unknown(c, "$.global.cluster", e->string);
	}
}

/* Read the "global" object. */
static void
parse_global(struct cctx *c, struct config *cfg, const cJSON *v)
{
	const cJSON	*e;
	char		 p[256];

	if (!want_object(c, v, "$.global"))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "$.global.%s", e->string);
		if (strcmp(e->string, "job") == 0)
			get_string(c, e, p, &cfg->job);
		else if (strcmp(e->string, "listen") == 0)
			get_string(c, e, p, &cfg->listen);
		else if (strcmp(e->string, "scrape_interval") == 0)
			get_interval(c, e, p, &cfg->scrape_interval_ms);
		else if (strcmp(e->string, "scrape_timeout") == 0)
			get_duration(c, e, p, &cfg->scrape_timeout_ms);
		else if (strcmp(e->string, "max_body_bytes") == 0)
			get_bytes(c, e, p, &cfg->max_body_bytes);
		else if (strcmp(e->string, "listen_max_connections") == 0)
			get_uint(c, e, p, 1, 1000000,
			    &cfg->listen_max_connections);
		else if (strcmp(e->string, "listen_request_timeout") == 0)
			get_duration(c, e, p, &cfg->listen_request_timeout_ms);
		else if (strcmp(e->string, "push_max_groups") == 0)
			get_uint(c, e, p, 1, 10000000, &cfg->push_max_groups);
		else if (strcmp(e->string, "push_max_families") == 0)
			get_uint(c, e, p, 1, 10000000,
			    &cfg->push_max_families);
		else if (strcmp(e->string, "push_max_samples") == 0)
			get_uint(c, e, p, 1, 100000000,
			    &cfg->push_max_samples);
		else if (strcmp(e->string, "api_max_groups") == 0)
			get_uint(c, e, p, 1, 10000000, &cfg->api_max_groups);
		else if (strcmp(e->string, "state_dir") == 0)
			get_path(c, e, p, &cfg->state_dir);
		else if (strcmp(e->string, "queue_dir") == 0)
			get_path(c, e, p, &cfg->queue_dir);
		else if (strcmp(e->string, "api_token") == 0)
			get_string(c, e, p, &cfg->api_token);
		else if (strcmp(e->string, "api_token_file") == 0)
			get_path(c, e, p, &cfg->api_token_file);
		else if (strcmp(e->string, "log_level") == 0)
			get_string(c, e, p, &cfg->log_level);
		else if (strcmp(e->string, "self_scrape") == 0)
			get_bool(c, e, p, &cfg->self_scrape);
		else if (strcmp(e->string, "scrape_protocols") == 0)
			get_scrape_protocols(c, e, p, &cfg->scrape_accept);
		else if (strcmp(e->string, "external_labels") == 0)
			get_kv(c, e, p, true, &cfg->external_labels,
			    &cfg->nexternal_labels);
		else if (strcmp(e->string, "cluster") == 0)
			parse_cluster(c, cfg, e);
		else if (!parse_limit(c, e, p, &cfg->limits))
			unknown(c, "$.global", e->string);
	}
}

/* Read the "pushgateway" output: a URL or {url, grouping}. */
static void
parse_pushgateway(struct cctx *c, struct config *cfg, const cJSON *v)
{
	struct config_pushgateway	*pg = &cfg->pushgateway;
	const cJSON			*e;
	char				 p[256], err[512];

	if (cJSON_IsString(v))
		get_string(c, v, "$.pushgateway", &pg->url);
	else if (want_object(c, v, "$.pushgateway")) {
		for (e = v->child; e != NULL; e = e->next) {
			jpath(p, sizeof p, "$.pushgateway.%s", e->string);
			if (strcmp(e->string, "url") == 0)
				get_string(c, e, p, &pg->url);
			else if (strcmp(e->string, "grouping") == 0)
				get_kv(c, e, p, true, &pg->grouping,
				    &pg->ngrouping);
			else
				unknown(c, "$.pushgateway", e->string);
		}
	}
	if (pg->url == NULL)
		cerr(c, "$.pushgateway", "missing \"url\"");
	else if (!rw_url_ok(pg->url, err, sizeof err))
		cerr(c, "$.pushgateway.url", "%s", err);
}

/* Read the "derive" object. */
static void
parse_derive(struct cctx *c, struct config *cfg, const cJSON *v)
{
	struct derive_config	*d = &cfg->derive;
	const cJSON		*e, *w;
	char			 p[256];
	int			 k;

	if (!want_object(c, v, "$.derive"))
		return;
	for (e = v->child; e != NULL; e = e->next) {
		jpath(p, sizeof p, "$.derive.%s", e->string);
		if (strcmp(e->string, "enabled") == 0)
			get_bool(c, e, p, &d->enabled);
		else if (strcmp(e->string, "tail_k") == 0) {
			if (!cJSON_IsNumber(e) || !(e->valuedouble > 1) ||
			    e->valuedouble > 1000)
				cerr(c, p, "want a number above 1");
			else
				d->tail_k = e->valuedouble;
		} else if (strcmp(e->string, "windows") == 0) {
			if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) < 1 ||
			    cJSON_GetArraySize(e) > DERIVE_MAX_WINDOWS) {
				cerr(c, p, "want a list of 1 to %d durations",
				    DERIVE_MAX_WINDOWS);
				continue;
			}
			d->nwindows = 0;
			k = 0;
			for (w = e->child; w != NULL; w = w->next, k++) {
				jpath(p, sizeof p, "$.derive.windows[%d]",
				    k);
				if (get_duration(c, w, p,
				    &d->windows_ms[d->nwindows]))
					d->nwindows++;
			}
		} else
			unknown(c, "$.derive", e->string);
	}
}

/* Read a list, calling fn for each entry with its path. */
static void
parse_list(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *name, void (*fn)(struct cctx *, struct config *,
    const cJSON *, const char *))
{
	const cJSON	*e;
	char		 p[256];
	int		 k = 0;

	jpath(p, sizeof p, "$.%s", name);
	if (!cJSON_IsArray(v)) {
		cerr(c, p, "want a list");
		return;
	}
	for (e = v->child; e != NULL; e = e->next, k++) {
		jpath(p, sizeof p, "$.%s[%d]", name, k);
		fn(c, cfg, e, p);
	}
}

/* Add one file_sd path with its group's settings (or NULL). */
static void
file_sd_add(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *path, struct config_target *grp)
{
	char	*s = NULL;

	if (!get_path(c, v, path, &s))
		return;
	cfg->file_sd = xreallocarray(cfg->file_sd, cfg->nfile_sd + 1,
	    sizeof *cfg->file_sd);
	cfg->file_sd_groups = xreallocarray(cfg->file_sd_groups,
	    cfg->nfile_sd + 1, sizeof *cfg->file_sd_groups);
	cfg->file_sd_groups[cfg->nfile_sd] = grp;
	cfg->file_sd[cfg->nfile_sd++] = s;
}

/*
 * Read a group's settings (dup: the keys of a targets[] object, without
 * targets; consumed) by the one group parser, given a stand-in target.
 * NULL on an error; the group's url is the stand-in's, with the params'
 * query. Its TLS and auth settings are left in tmp->https.
 */
static struct config_target *
group_parse(struct cctx *c, struct config *tmp, cJSON *dup,
    const char *path)
{
	struct config_target	*grp = NULL;
	int			 nerr = c->nerr;

	cJSON_AddItemToObject(dup, "targets",
	    cJSON_CreateString("127.0.0.1:1"));
	config_init(tmp);
	parse_target(c, tmp, dup, path);
	cJSON_Delete(dup);
	if (c->nerr == nerr && tmp->ntargets == 1) {
		grp = xmalloc(sizeof *grp);
		*grp = tmp->targets[0];
		memset(&tmp->targets[0], 0, sizeof tmp->targets[0]);
	}
	return (grp);
}

/*
 * The settings of a file_sd object: the keys of a targets[] object but
 * targets, url and labels (the files list the targets); NULL on an error.
 */
static struct config_target *
parse_file_sd_group(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *path)
{
	static const char *const	 not[] = { "targets", "url", "labels",
					     "files" };
	struct config_target		*grp;
	struct config			 tmp;
	cJSON				*dup;
	size_t				 i;

	dup = cJSON_Duplicate(v, 1);
	for (i = 0; i < sizeof not / sizeof not[0]; i++) {
		if (i < 3 && cJSON_GetObjectItemCaseSensitive(v, not[i]) !=
		    NULL)
			cerr(c, path, "\"%s\" is not a key of a file_sd "
			    "group (its files list the targets)", not[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(dup, not[i]);
	}
	grp = group_parse(c, &tmp, dup, path);
	if (grp != NULL) {
		free(grp->url);
		grp->url = NULL;
		cfg->fsd_owned = xreallocarray(cfg->fsd_owned,
		    cfg->nfsd_owned + 1, sizeof *cfg->fsd_owned);
		cfg->fsd_owned[cfg->nfsd_owned++] = grp;
	}
	/* The group's TLS and auth settings belong to cfg from now on. */
	for (i = 0; i < tmp.nhttps; i++) {
		cfg->https = xreallocarray(cfg->https, cfg->nhttps + 1,
		    sizeof *cfg->https);
		cfg->https[cfg->nhttps++] = tmp.https[i];
	}
	tmp.nhttps = 0;
	config_free(&tmp);
	return (grp);
}

/* Tell whether key is one of a group's scrape contract keys. */
bool
config_group_key(const char *key)
{
	static const char *const	 keys[] = { "relabel_configs",
	    "metric_relabel_configs", "sample_limit", "label_limit",
	    "label_name_length_limit", "label_value_length_limit",
	    "body_size_limit", "honor_labels", "honor_timestamps", "params",
	    "tls_config", "basic_auth", "authorization", "bearer_token_file",
	    "bearer_token" };
	size_t				 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(key, keys[i]) == 0)
			return (true);
	}
	return (false);
}

/* Parse an API group's scrape contract. */
struct config_target *
config_group_parse(const cJSON *v, const char *path, char *err,
    size_t errlen)
{
	struct config_target	*grp;
	struct config		 tmp;
	struct cctx		 c;
	char			*q;

	memset(&c, 0, sizeof c);
	c.err = err;
	c.errlen = errlen;
	c.file_secrets = true;
	grp = group_parse(&c, &tmp, cJSON_Duplicate(v, 1), path);
	if (grp != NULL) {
		q = strchr(grp->url, '?');
		q = q != NULL ? xstrdup(q) : NULL;
		free(grp->url);
		grp->url = q;
		/* The settings' one reference moves to the group. */
		if (grp->http != NULL)
			tmp.nhttps = 0;
	}
	config_free(&tmp);
	return (grp);
}

/* Free an API group's scrape contract. */
void
config_group_free(struct config_target *grp)
{
	if (grp == NULL)
		return;
	config_http_unref(grp->http);
	target_fields_free(grp);
	free(grp);
}

/* Read one file_sd entry: a path, or {"files": [...], group keys}. */
static void
parse_file_sd(struct cctx *c, struct config *cfg, const cJSON *v,
    const char *path)
{
	struct config_target	*grp;
	const cJSON		*files, *e;
	char			 p[256];
	int			 k = 0;

	if (!cJSON_IsObject(v)) {
		file_sd_add(c, cfg, v, path, NULL);
		return;
	}
	grp = parse_file_sd_group(c, cfg, v, path);
	files = cJSON_GetObjectItemCaseSensitive(v, "files");
	jpath(p, sizeof p, "%s.files", path);
	if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) == 0) {
		cerr(c, p, "want a non-empty list of file names");
		return;
	}
	for (e = files->child; e != NULL; e = e->next, k++) {
		jpath(p, sizeof p, "%s.files[%d]", path, k);
		file_sd_add(c, cfg, e, p, grp);
	}
}

/* Report a JSON syntax error at its line and column. */
static void
syntax_error(struct cctx *c, const char *text, size_t len)
{
	const char	*at = cJSON_GetErrorPtr(), *p;
	size_t		 line = 1, col = 1;

	if (at == NULL || at < text || at > text + len)
		at = text + len;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	if (c->nerr == 0 && c->err != NULL)
		snprintf(c->err, c->errlen, "%s: line %zu col %zu: invalid "
		    "JSON", c->file, line, col);
	if (c->report != NULL)
		fprintf(c->report, "%s: line %zu col %zu: invalid JSON\n",
		    c->file, line, col);
	c->nerr++;
}

/* Parse a whole config document into cfg, counting errors in c. */
static void
parse_root(struct cctx *c, struct config *cfg, const char *text, size_t len)
{
	cJSON		*root;
	const cJSON	*e;
	char		 rerr[256];

	if (strlen(text) != len) {
		cerr(c, "$", "file contains a NUL byte");
		return;
	}
	/* The length includes the NUL: cJSON checks it for the end. */
	root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	if (root == NULL) {
		syntax_error(c, text, len);
		return;
	}
	if (!want_object(c, root, "$"))
		goto out;
	for (e = root->child; e != NULL; e = e->next) {
		if (strcmp(e->string, "global") == 0)
			parse_global(c, cfg, e);
		else if (strcmp(e->string, "targets") == 0)
			parse_list(c, cfg, e, "targets", parse_target);
		else if (strcmp(e->string, "file_sd") == 0)
			parse_list(c, cfg, e, "file_sd", parse_file_sd);
		else if (strcmp(e->string, "remote_write") == 0)
			parse_list(c, cfg, e, "remote_write",
			    parse_remote_write);
		else if (strcmp(e->string, "pushgateway") == 0)
			parse_pushgateway(c, cfg, e);
		else if (strcmp(e->string, "derive") == 0)
			parse_derive(c, cfg, e);
		else
			unknown(c, "$", e->string);
	}
	if (cfg->scrape_timeout_ms > cfg->scrape_interval_ms)
		cerr(c, "$.global.scrape_timeout", "longer than "
		    "scrape_interval");
	/* Without members_count here, it may come from the flag. */
	if (cfg->cluster_file_members != 0 &&
	    !shard_config_check(&cfg->cluster, rerr, sizeof rerr))
		cerr(c, "$.global.cluster", "%s", rerr);
out:
	cJSON_Delete(root);
}

/* Set up a context for a file. */
static void
cctx_init(struct cctx *c, const char *file, FILE *report, char *err,
    size_t errlen)
{
	const char	*slash = strrchr(file, '/');

	memset(c, 0, sizeof *c);
	c->file = file;
	c->report = report;
	c->err = err;
	c->errlen = errlen;
	if (slash != NULL)
		c->dir = xstrndup(file, slash == file ? 1 : slash - file);
}

/* Read and check a JSON file into cfg; false with the first error in err. */
bool
config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
	struct cctx	 c;
	char		*text, rerr[512];
	size_t		 len;

	text = read_small_file(file, CONFIG_MAX_FILE, &len, rerr, sizeof rerr);
	if (text == NULL) {
		snprintf(err, errlen, "%s", rerr);
		return (false);
	}
	cctx_init(&c, file, NULL, err, errlen);
	free(cfg->file);
	cfg->file = xstrdup(file);
	parse_root(&c, cfg, text, len);
	free(text);
	free(c.dir);
	return (c.nerr == 0);
}

/* Check a file and print every error to f; return the number of errors. */
int
config_check_file(const char *file, void *arg)
{
	FILE		*f = arg;
	struct config	 cfg;
	struct cctx	 c;
	char		*text, err[512];
	size_t		 len, i;

	text = read_small_file(file, CONFIG_MAX_FILE, &len, err, sizeof err);
	if (text == NULL) {
		fprintf(f, "%s\n", err);
		return (1);
	}
	config_init(&cfg);
	cctx_init(&c, file, f, NULL, 0);
	parse_root(&c, &cfg, text, len);
	free(text);
	free(c.dir);
	if (c.nerr == 0 && !config_finish(&cfg, err, sizeof err)) {
		fprintf(f, "%s: %s\n", file, err);
		c.nerr++;
	}
	if (c.nerr == 0) {
		printf("%s: ok: %zu targets, %zu file_sd files, %zu "
		    "remote_write endpoints%s, derived series %s\n", file,
		    cfg.ntargets, cfg.nfile_sd, cfg.nremote_writes,
		    cfg.pushgateway.url != NULL ? ", a pushgateway" : "",
		    cfg.derive.enabled ? "on" : "off");
		for (i = 0; i < cfg.nremote_writes; i++)
			printf("  remote_write %s\n", cfg.remote_writes[i].url);
	}
	config_free(&cfg);
	return (c.nerr);
}

/* Fill a group's unset limits from the global ones. */
void
config_limits_resolve(struct config_limits *l, const struct config_limits *g)
{
	if (l->sample_limit == CONFIG_LIMIT_UNSET)
		l->sample_limit = g->sample_limit;
	if (l->label_limit == CONFIG_LIMIT_UNSET)
		l->label_limit = g->label_limit;
	if (l->label_name_length_limit == CONFIG_LIMIT_UNSET)
		l->label_name_length_limit = g->label_name_length_limit;
	if (l->label_value_length_limit == CONFIG_LIMIT_UNSET)
		l->label_value_length_limit = g->label_value_length_limit;
	if (l->body_size_limit == CONFIG_LIMIT_UNSET)
		l->body_size_limit = g->body_size_limit;
}

/* Apply the defaults that depend on other values (after flags). */
bool
config_finish(struct config *cfg, char *err, size_t errlen)
{
	static const char	*levels[] = { "debug", "info", "warn", "error" };
	size_t			 i;
	char			 rerr[512], *tok, host[256], d[2][32];
	int			 port;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(cfg->log_level, levels[i]) == 0)
			break;
	if (i == sizeof levels / sizeof levels[0]) {
		snprintf(err, errlen, "log level \"%s\": want debug, info, "
		    "warn or error", cfg->log_level);
		return (false);
	}
	if (cfg->scrape_interval_ms < CONFIG_MIN_INTERVAL_MS) {
		snprintf(err, errlen, "scrape interval %s is below the "
		    "minimum of %s", duration_format(cfg->scrape_interval_ms,
		    d[0], sizeof d[0]), duration_format(CONFIG_MIN_INTERVAL_MS,
		    d[1], sizeof d[1]));
		return (false);
	}
	if (cfg->scrape_timeout_ms == 0)
		cfg->scrape_timeout_ms = cfg->scrape_interval_ms <
		    CONFIG_DEFAULT_TIMEOUT_MS ? cfg->scrape_interval_ms :
		    CONFIG_DEFAULT_TIMEOUT_MS;
	if (cfg->scrape_timeout_ms > cfg->scrape_interval_ms) {
		snprintf(err, errlen, "scrape timeout %s is longer than the "
		    "scrape interval %s", duration_format(
		    cfg->scrape_timeout_ms, d[0], sizeof d[0]),
		    duration_format(cfg->scrape_interval_ms, d[1],
		    sizeof d[1]));
		return (false);
	}
	if (!addr_split(cfg->listen, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen address \"%s\": want host:port "
		    "or [v6]:port", cfg->listen);
		return (false);
	}
	if (cfg->api_token_file != NULL) {
		tok = read_secret(cfg->api_token_file, rerr, sizeof rerr);
		if (tok == NULL) {
			snprintf(err, errlen, "api token: %s", rerr);
			return (false);
		}
		free(cfg->api_token);
		cfg->api_token = tok;
	}
	if (!shard_config_check(&cfg->cluster, rerr, sizeof rerr)) {
		snprintf(err, errlen, "cluster: %s", rerr);
		return (false);
	}
	/* Fleet series of a member carry member="<member_num>". */
	cfg->derive.member = shard_enabled(&cfg->cluster) ?
	    (int)cfg->cluster.member_num : -1;
	if (cfg->queue_dir == NULL && cfg->state_dir != NULL)
		xasprintf(&cfg->queue_dir, "%s/queue", cfg->state_dir);
	for (i = 0; i < cfg->nremote_writes; i++) {
		if (cfg->remote_writes[i].name == NULL)
			cfg->remote_writes[i].name =
			    xstrdup(cfg->remote_writes[i].url);
	}
	for (i = 0; i < cfg->ntargets; i++)
		config_limits_resolve(&cfg->targets[i].limits, &cfg->limits);
	for (i = 0; i < cfg->nfsd_owned; i++)
		config_limits_resolve(&cfg->fsd_owned[i]->limits, &cfg->limits);
	for (i = 0; i < cfg->ntargets; i++) {
		if (cfg->targets[i].timeout_ms > 0 &&
		    cfg->targets[i].interval_ms == 0 &&
		    cfg->targets[i].timeout_ms > cfg->scrape_interval_ms) {
			snprintf(err, errlen, "target %s: timeout longer than "
			    "the scrape interval", cfg->targets[i].url);
			return (false);
		}
	}
	return (true);
}

/* Add a target URL or host:port given on the command line. */
bool
config_add_target(struct config *cfg, const char *s, char *err,
    size_t errlen)
{
	struct config_target	*t;
	char			*url;

	if (!config_url(s, "/metrics", &url, err, errlen))
		return (false);
	cfg->targets = xreallocarray(cfg->targets, cfg->ntargets + 1,
	    sizeof *cfg->targets);
	t = &cfg->targets[cfg->ntargets++];
	config_target_defaults(t);
	t->url = url;
	t->labels = xcalloc(1, sizeof *t->labels);
	return (true);
}

/* Add a remote-write URL given on the command line. */
bool
config_add_remote_write(struct config *cfg, const char *s, char *err,
    size_t errlen)
{
	struct config_remote_write	*r;

	if (!rw_url_ok(s, err, errlen))
		return (false);
	r = remote_write_add(cfg);
	r->url = xstrdup(s);
	return (true);
}
