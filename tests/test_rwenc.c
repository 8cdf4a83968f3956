/*
 * Unit tests for rwenc. Each case is a WriteRequest written with the fast
 * path; it must decode with protobuf-c to the same fields, and it must be
 * byte for byte what protobuf-c packs from the same message built as structs.
 * Then snappy: round trips, and hostile blocks that must be refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.pb-c.h"
#include "rwenc.h"
#include "tap.h"

#define S10	"0123456789"
#define S100	S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S300	S100 S100 S100

#define MAXLAB	10
#define MAXSER	6
#define MAXMETA	8

struct tseries {
	const char	*lab[2 * MAXLAB + 1];	/* name, value, NULL */
	double		 v;
	uint64_t	 bits;		/* if not 0, the value's bits */
	int64_t		 ts;
};

struct tmeta {
	enum pt_type	 type;
	const char	*name;
	const char	*help;
	const char	*unit;
};

struct tcase {
	const char	*name;
	struct tseries	 s[MAXSER];
	struct tmeta	 m[MAXMETA];
};

#define NOSERIES	{ { { NULL }, 0, 0, 0 } }
/* The NaN Prometheus's value.NormalNaN has. */
#define NAN_BITS	0x7ff8000000000001ULL

static const struct tcase cases[] = {
	{ "empty request", NOSERIES, { { 0 } } },
	{ "one counter", {
		{ { "__name__", "vllm:num_requests_running", "instance",
		    "10.0.0.1:8000", "job", "vllm", NULL }, 3, 0,
		    1764010620123 },
	}, { { 0 } } },
	{ "value 0 and timestamp 0", {
		{ { "__name__", "z", NULL }, 0, 0, 0 },
	}, { { 0 } } },
	{ "value -0.0", {
		{ { "__name__", "negzero", NULL }, -0.0, 0, 1 },
	}, { { 0 } } },
	{ "value 1, negative timestamp", {
		{ { "__name__", "one", NULL }, 1, 0, -1 },
		{ { "__name__", "one", NULL }, 1, 0, -1764010620123 },
		{ { "__name__", "one", NULL }, 1, 0, INT64_MIN },
	}, { { 0 } } },
	{ "stale NaN", {
		{ { "__name__", "gone", "job", "x", NULL }, 0,
		    RW_STALE_NAN_BITS, 1764010620123 },
	}, { { 0 } } },
	{ "plain NaN and infinities", {
		{ { "__name__", "nan", NULL }, 0, NAN_BITS, 5 },
		{ { "__name__", "inf", NULL }, INFINITY, 0, 6 },
		{ { "__name__", "ninf", NULL }, -INFINITY, 0, 7 },
	}, { { 0 } } },
	{ "huge, tiny and large timestamps", {
		{ { "__name__", "big", NULL }, 1.7976931348623157e308, 0,
		    INT64_MAX },
		{ { "__name__", "small", NULL }, 4.9406564584124654e-324, 0,
		    (int64_t)1 << 62 },
		{ { "__name__", "neg", NULL }, -123456789.125, 0, 127 },
		{ { "__name__", "b128", NULL }, 0.25, 0, 128 },
	}, { { 0 } } },
	{ "unicode, quotes, escapes", {
		{ { "__name__", "m", "model", "Llama-3.1-8B \"Instruct\"",
		    "path", "C:\\models\\llama", "text", "line1\nline2",
		    "utf8", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
		    "\xf0\x9f\x9a\x80",
		    NULL }, 42, 0, 1 },
	}, { { 0 } } },
	{ "empty name or value", {
		{ { "__name__", "m", "empty", "", NULL }, 1, 0, 1 },
		{ { "", "novalue", NULL }, 1, 0, 1 },
		{ { "", "", NULL }, 1, 0, 1 },
	}, { { 0 } } },
	{ "no labels", {
		{ { NULL }, 2, 0, 2 },
	}, { { 0 } } },
	{ "long value (2-byte lengths)", {
		{ { "__name__", "long", "v", S300, NULL }, 7, 0, 1 },
		{ { "__name__", "long2", "v", S100 "abcdefghijklmnopqrstuvwxyz",
		    NULL }, 7, 0, 1 },
	}, { { 0 } } },
	{ "several series", {
		{ { "__name__", "vllm:gpu_cache_usage_perc", "engine", "0",
		    "instance", "a:8000", "job", "vllm", "model_name",
		    "meta-llama/Llama-3.1-8B-Instruct", NULL }, 0.87, 0,
		    1764010620000 },
		{ { "__name__", "vllm:time_to_first_token_seconds_bucket",
		    "engine", "0", "instance", "a:8000", "job", "vllm", "le",
		    "+Inf", "model_name", "meta-llama/Llama-3.1-8B-Instruct",
		    NULL }, 12345, 0, 1764010620000 },
		{ { "__name__", "sglang:num_running_reqs", "instance",
		    "b:30000", "job", "sglang", NULL }, 0, 0, 1764010620000 },
		{ { "__name__", "up", "instance", "b:30000", "job", "sglang",
		    NULL }, 1, 0, 1764010620000 },
	}, { { 0 } } },
	{ "metadata of each type", NOSERIES, {
		{ PT_UNTYPED, "untyped_thing", "An untyped metric.", NULL },
		{ PT_COUNTER, "vllm:prompt_tokens", "Prompt tokens.", NULL },
		{ PT_GAUGE, "vllm:gpu_cache_usage_perc", "GPU KV usage.",
		    "ratio" },
		{ PT_HISTOGRAM, "vllm:e2e_request_latency_seconds", "E2E.",
		    "seconds" },
		{ PT_GAUGEHISTOGRAM, "gh", "A gauge histogram.", NULL },
		{ PT_SUMMARY, "s", "A summary with \"quotes\"\nand lines.",
		    NULL },
		{ PT_INFO, "build_info", "Build.", NULL },
		{ PT_STATESET, "state", NULL, NULL },
	} },
	{ "metadata without help or unit", NOSERIES, {
		{ PT_COUNTER, "c", NULL, NULL },
		{ PT_UNTYPED, "u", NULL, NULL },
		{ PT_GAUGE, "g", NULL, "bytes" },
		{ PT_GAUGE, "longhelp", S300, NULL },
	} },
	{ "series and metadata", {
		{ { "__name__", "x_total", "job", "j", NULL }, 10, 0, 99 },
		{ { "__name__", "y", "job", "j", NULL }, 0, RW_STALE_NAN_BITS,
		    100 },
	}, {
		{ PT_COUNTER, "x", "X things.", NULL },
		{ PT_GAUGE, "y", "Y level.", "celsius" },
	} },
};

/* Return the sample value of case series s. */
static double
tvalue(const struct tseries *s)
{
	double	v;

	if (s->bits == 0)
		return (s->v);
	memcpy(&v, &s->bits, sizeof v);
	return (v);
}

/* Return the bits of a double. */
static uint64_t
dbits(double v)
{
	uint64_t	b;

	memcpy(&b, &v, sizeof b);
	return (b);
}

/* Count the series in a case. */
static size_t
tnseries(const struct tcase *c)
{
	size_t	n = 0;

	while (n < MAXSER && (c->s[n].lab[0] != NULL || c->s[n].ts != 0 ||
	    c->s[n].v != 0 || c->s[n].bits != 0))
		n++;
	return (n);
}

/* Count the metadata in a case. */
static size_t
tnmeta(const struct tcase *c)
{
	size_t	n = 0;

	while (n < MAXMETA && c->m[n].name != NULL)
		n++;
	return (n);
}

/* Turn a case series' label list into struct labels. */
static size_t
tlabels(const struct tseries *s, struct label *l)
{
	size_t	n;

	for (n = 0; s->lab[2 * n] != NULL; n++) {
		l[n].name = s->lab[2 * n];
		l[n].name_len = strlen(s->lab[2 * n]);
		l[n].value = s->lab[2 * n + 1];
		l[n].value_len = strlen(s->lab[2 * n + 1]);
	}
	return (n);
}

/* Length of a string that may be NULL. */
static size_t
slen(const char *s)
{
	return (s == NULL ? 0 : strlen(s));
}

/* Encode a case with the fast path, the way ingest does. */
static void
encode_fast(const struct tcase *c, struct buf *out)
{
	struct label	l[MAXLAB];
	struct buf	lab;
	size_t		i, n;

	buf_init(&lab);
	buf_reset(out);
	for (i = 0; i < tnseries(c); i++) {
		n = tlabels(&c->s[i], l);
		buf_reset(&lab);
		rwenc_labels(&lab, l, n);
		rwenc_series(out, lab.data, lab.len, tvalue(&c->s[i]),
		    c->s[i].ts);
	}
	for (i = 0; i < tnmeta(c); i++)
		rwenc_metadata(out, c->m[i].type, c->m[i].name,
		    slen(c->m[i].name), c->m[i].help, slen(c->m[i].help),
		    c->m[i].unit, slen(c->m[i].unit));
	buf_free(&lab);
}

/* Pack a case with protobuf-c from structs; the caller frees the result. */
static uint8_t *
encode_pbc(const struct tcase *c, size_t *lenp)
{
	Prometheus__WriteRequest	 wr = PROMETHEUS__WRITE_REQUEST__INIT;
	Prometheus__TimeSeries		 ts[MAXSER], *tsp[MAXSER];
	Prometheus__Sample		 sm[MAXSER], *smp[MAXSER];
	Prometheus__Label		 lb[MAXSER][MAXLAB];
	Prometheus__Label		*lbp[MAXSER][MAXLAB];
	Prometheus__MetricMetadata	 md[MAXMETA], *mdp[MAXMETA];
	const struct tseries		*s;
	size_t				 i, j, len;
	uint8_t				*p;

	wr.n_timeseries = tnseries(c);
	wr.timeseries = tsp;
	for (i = 0; i < wr.n_timeseries; i++) {
		s = &c->s[i];
		prometheus__time_series__init(&ts[i]);
		prometheus__sample__init(&sm[i]);
		sm[i].value = tvalue(s);
		sm[i].timestamp = s->ts;
		smp[i] = &sm[i];
		ts[i].n_samples = 1;
		ts[i].samples = &smp[i];
		for (j = 0; s->lab[2 * j] != NULL; j++) {
			prometheus__label__init(&lb[i][j]);
			lb[i][j].name = (char *)s->lab[2 * j];
			lb[i][j].value = (char *)s->lab[2 * j + 1];
			lbp[i][j] = &lb[i][j];
		}
		ts[i].n_labels = j;
		ts[i].labels = lbp[i];
		tsp[i] = &ts[i];
	}
	wr.n_metadata = tnmeta(c);
	wr.metadata = mdp;
	for (i = 0; i < wr.n_metadata; i++) {
		prometheus__metric_metadata__init(&md[i]);
		md[i].type = (Prometheus__MetricMetadata__MetricType)
		    c->m[i].type;
		md[i].metric_family_name = (char *)c->m[i].name;
		if (c->m[i].help != NULL)
			md[i].help = (char *)c->m[i].help;
		if (c->m[i].unit != NULL)
			md[i].unit = (char *)c->m[i].unit;
		mdp[i] = &md[i];
	}
	len = prometheus__write_request__get_packed_size(&wr);
	p = malloc(len + 1);
	*lenp = prometheus__write_request__pack(&wr, p);
	return (p);
}

/* Describe where two byte strings first differ, or return false. */
static bool
bytes_differ(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    char *why, size_t whylen)
{
	size_t	i;

	for (i = 0; i < alen && i < blen; i++) {
		if (a[i] != b[i]) {
			snprintf(why, whylen, "offset %zu: got 0x%02x, want "
			    "0x%02x (lengths %zu, %zu)", i, a[i], b[i], alen,
			    blen);
			return (true);
		}
	}
	if (alen != blen) {
		snprintf(why, whylen, "offset %zu: lengths %zu, want %zu", i,
		    alen, blen);
		return (true);
	}
	return (false);
}

/* Compare a string protobuf-c decoded with what the case wrote. */
static bool
str_differs(const char *got, const char *want, const char *what, char *why,
    size_t whylen)
{
	if (want == NULL)
		want = "";
	if (got == NULL)
		got = "";
	if (strcmp(got, want) == 0)
		return (false);
	snprintf(why, whylen, "%s: got \"%.60s\", want \"%.60s\"", what, got,
	    want);
	return (true);
}

/* Compare a decoded request with its case; describe the first difference. */
static bool
decoded_differs(const struct tcase *c, const Prometheus__WriteRequest *wr,
    char *why, size_t whylen)
{
	const Prometheus__TimeSeries	 *ts;
	const Prometheus__MetricMetadata *md;
	const struct tseries		 *s;
	char				  what[64];
	size_t				  i, j, n;
	double				  want;

	if (wr->n_timeseries != tnseries(c)) {
		snprintf(why, whylen, "%zu series, want %zu",
		    wr->n_timeseries, tnseries(c));
		return (true);
	}
	for (i = 0; i < wr->n_timeseries; i++) {
		ts = wr->timeseries[i];
		s = &c->s[i];
		for (n = 0; s->lab[2 * n] != NULL; n++)
			;
		if (ts->n_labels != n || ts->n_samples != 1) {
			snprintf(why, whylen, "series %zu: %zu labels, %zu "
			    "samples, want %zu, 1", i, ts->n_labels,
			    ts->n_samples, n);
			return (true);
		}
		for (j = 0; j < n; j++) {
			snprintf(what, sizeof what, "series %zu label %zu name",
			    i, j);
			if (str_differs(ts->labels[j]->name, s->lab[2 * j],
			    what, why, whylen))
				return (true);
			snprintf(what, sizeof what, "series %zu label %zu "
			    "value", i, j);
			if (str_differs(ts->labels[j]->value,
			    s->lab[2 * j + 1], what, why, whylen))
				return (true);
		}
		/* -0.0 is left out on the wire and so comes back as +0.0. */
		want = tvalue(s);
		if (want == 0)
			want = 0.0;
		if (dbits(ts->samples[0]->value) != dbits(want)) {
			snprintf(why, whylen, "series %zu value bits: got "
			    "0x%016llx, want 0x%016llx", i,
			    (unsigned long long)dbits(ts->samples[0]->value),
			    (unsigned long long)dbits(want));
			return (true);
		}
		if (ts->samples[0]->timestamp != s->ts) {
			snprintf(why, whylen, "series %zu timestamp: got "
			    "%lld, want %lld", i,
			    (long long)ts->samples[0]->timestamp,
			    (long long)s->ts);
			return (true);
		}
	}
	if (wr->n_metadata != tnmeta(c)) {
		snprintf(why, whylen, "%zu metadata, want %zu",
		    wr->n_metadata, tnmeta(c));
		return (true);
	}
	for (i = 0; i < wr->n_metadata; i++) {
		md = wr->metadata[i];
		if ((int)md->type != (int)c->m[i].type) {
			snprintf(why, whylen, "metadata %zu type: got %d, "
			    "want %d", i, (int)md->type, (int)c->m[i].type);
			return (true);
		}
		snprintf(what, sizeof what, "metadata %zu name", i);
		if (str_differs(md->metric_family_name, c->m[i].name, what,
		    why, whylen))
			return (true);
		snprintf(what, sizeof what, "metadata %zu help", i);
		if (str_differs(md->help, c->m[i].help, what, why, whylen))
			return (true);
		snprintf(what, sizeof what, "metadata %zu unit", i);
		if (str_differs(md->unit, c->m[i].unit, what, why, whylen))
			return (true);
	}
	return (false);
}

/* Check every case: decode, then byte equality with protobuf-c. */
static void
test_cases(void)
{
	const struct tcase		*c;
	Prometheus__WriteRequest	*wr;
	struct buf			 out;
	uint8_t				*want;
	size_t				 i, wantlen;
	char				 why[256];
	bool				 d;

	buf_init(&out);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		encode_fast(c, &out);
		wr = prometheus__write_request__unpack(NULL, out.len,
		    out.data);
		if (!ok(wr != NULL, "%s: protobuf-c decodes", c->name))
			continue;
		d = decoded_differs(c, wr, why, sizeof why);
		ok(!d, "%s: decoded fields match%s%s", c->name, d ? ": " : "",
		    d ? why : "");
		prometheus__write_request__free_unpacked(wr, NULL);

		want = encode_pbc(c, &wantlen);
		d = bytes_differ(out.data, out.len, want, wantlen, why,
		    sizeof why);
		ok(!d, "%s: bytes equal protobuf-c's (%zu)%s%s", c->name,
		    wantlen, d ? ": " : "", d ? why : "");
		free(want);
	}
	buf_free(&out);
}

/* Check that the staleness marker survives encode and decode bit-exact. */
static void
test_stale(void)
{
	Prometheus__WriteRequest	*wr;
	struct label			 l = { "__name__", 8, "m", 1 };
	struct buf			 lab, out;
	double				 v;
	uint64_t			 bits;

	buf_init(&lab);
	buf_init(&out);
	v = rw_stale_nan();
	memcpy(&bits, &v, sizeof bits);
	is_int((long long)bits, (long long)RW_STALE_NAN_BITS,
	    "rw_stale_nan has the marker's bits");
	ok(isnan(v) && rw_is_stale_nan(v), "stale NaN is a NaN and stale");
	ok(!rw_is_stale_nan(NAN), "NAN is not stale");
	ok(!rw_is_stale_nan(0.0) && !rw_is_stale_nan(INFINITY),
	    "0 and +Inf are not stale");
	rwenc_labels(&lab, &l, 1);
	rwenc_series(&out, lab.data, lab.len, v, 1000);
	wr = prometheus__write_request__unpack(NULL, out.len, out.data);
	if (ok(wr != NULL && wr->n_timeseries == 1 &&
	    wr->timeseries[0]->n_samples == 1, "stale sample decodes")) {
		memcpy(&bits, &wr->timeseries[0]->samples[0]->value,
		    sizeof bits);
		ok(bits == RW_STALE_NAN_BITS, "stale bits survive decode: got "
		    "0x%016llx", (unsigned long long)bits);
		ok(rw_is_stale_nan(wr->timeseries[0]->samples[0]->value),
		    "decoded value is stale");
	}
	prometheus__write_request__free_unpacked(wr, NULL);
	buf_free(&lab);
	buf_free(&out);
}

/* Check varints against known encodings. */
static void
test_varint(void)
{
	static const struct {
		uint64_t	 v;
		size_t		 len;
		const char	*bytes;
	} vc[] = {
		{ 0, 1, "\x00" },
		{ 1, 1, "\x01" },
		{ 127, 1, "\x7f" },
		{ 128, 2, "\x80\x01" },
		{ 300, 2, "\xac\x02" },
		{ 16383, 2, "\xff\x7f" },
		{ 16384, 3, "\x80\x80\x01" },
		{ 0xffffffffULL, 5, "\xff\xff\xff\xff\x0f" },
		{ UINT64_MAX, 10,
		    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" },
	};
	struct buf	b;
	size_t		i;
	char		why[128];
	bool		d;

	buf_init(&b);
	for (i = 0; i < sizeof vc / sizeof vc[0]; i++) {
		is_int((long long)rwenc_varint_len(vc[i].v),
		    (long long)vc[i].len,
		    "varint_len(%llu)", (unsigned long long)vc[i].v);
		buf_reset(&b);
		rwenc_varint(&b, vc[i].v);
		d = bytes_differ(b.data, b.len, (const uint8_t *)vc[i].bytes,
		    vc[i].len, why, sizeof why);
		ok(!d, "varint(%llu)%s%s", (unsigned long long)vc[i].v,
		    d ? ": " : "", d ? why : "");
	}
	buf_free(&b);
}

/* Fill p with a xorshift stream from *s. */
static void
fill_random(uint8_t *p, size_t n, uint64_t *s)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		p[i] = (uint8_t)*s;
	}
}

/* Check snappy round trips and refusals of hostile blocks. */
static void
test_snappy(void)
{
	struct buf	 in, z, out;
	uint8_t		 junk[512], hdr[16], *p;
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	size_t		 i, n, accepted, cap;
	char		 why[128];
	bool		 d;

	buf_init(&in);
	buf_init(&z);
	buf_init(&out);

	/* A real request and a large compressible one. */
	encode_fast(&cases[12], &in);
	ok(rwenc_snappy(in.data, in.len, &z), "compress a request");
	ok(rwenc_unsnappy(z.data, z.len, &out), "decompress it");
	d = bytes_differ(out.data, out.len, in.data, in.len, why, sizeof why);
	ok(!d, "request round trip%s%s", d ? ": " : "", d ? why : "");
	buf_reset(&in);
	for (i = 0; i < 20000; i++)
		buf_printf(&in, "vllm:series_%zu{job=\"vllm\"} %zu\n", i % 97,
		    i);
	ok(rwenc_snappy(in.data, in.len, &z) && z.len < in.len / 3,
	    "compress %zu text bytes to %zu", in.len, z.len);
	cap = out.cap;
	ok(rwenc_unsnappy(z.data, z.len, &out), "decompress large");
	d = bytes_differ(out.data, out.len, in.data, in.len, why, sizeof why);
	ok(!d, "large round trip%s%s", d ? ": " : "", d ? why : "");
	p = out.data;
	ok(rwenc_unsnappy(z.data, z.len, &out) && out.data == p &&
	    out.cap >= cap, "out buffer memory is reused");

	/* Empty input compresses to a valid block. */
	ok(rwenc_snappy((const uint8_t *)"", 0, &z), "compress empty");
	ok(rwenc_unsnappy(z.data, z.len, &out) && out.len == 0,
	    "empty round trip");

	/* Every strict prefix of a valid block is refused. */
	buf_reset(&in);
	encode_fast(&cases[12], &in);
	rwenc_snappy(in.data, in.len, &z);
	accepted = 0;
	for (n = 0; n < z.len; n++)
		if (rwenc_unsnappy(z.data, n, &out))
			accepted++;
	is_int((long long)accepted, 0, "truncated blocks refused (%zu "
	    "prefixes)", z.len);
	ok(!rwenc_unsnappy(NULL, 0, &out), "NULL input refused");

	/* Garbage: must not crash; whatever passes must be self-consistent. */
	accepted = 0;
	for (i = 0; i < 2000; i++) {
		n = 1 + i % sizeof junk;
		fill_random(junk, n, &seed);
		if (rwenc_unsnappy(junk, n, &out))
			accepted++;
	}
	ok(accepted < 2000, "random garbage mostly refused (%zu of 2000 "
	    "accepted)", accepted);

	/* Declared lengths beyond the cap, or beyond what follows. */
	buf_free(&out);
	buf_init(&out);
	memcpy(hdr, "\xff\xff\xff\xff\x0f\x00", 6);	/* 4 GiB - 1 */
	ok(!rwenc_unsnappy(hdr, 6, &out), "4 GiB declared length refused");
	ok(out.cap == 0, "no memory reserved for it (cap %zu)", out.cap);
	buf_reset(&in);
	rwenc_varint(&in, RW_UNSNAPPY_MAX + 1);
	buf_append(&in, "\x00x", 2);
	ok(!rwenc_unsnappy(in.data, in.len, &out), "cap + 1 refused");
	buf_reset(&in);
	rwenc_varint(&in, RW_UNSNAPPY_MAX);
	buf_append(&in, "\x00x", 2);
	ok(!rwenc_unsnappy(in.data, in.len, &out),
	    "64 MiB declared with 1 byte of body refused");
	ok(out.cap == 0, "no memory reserved for it (cap %zu)", out.cap);
	memcpy(hdr, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	ok(!rwenc_unsnappy(hdr, 11, &out), "overlong varint refused");
	/* 6 bytes out: literal "ab", then copy 4 from 2 (or 5) back. */
	memcpy(hdr, "\x06\x04" "ab" "\x01\x05", 6);
	ok(!rwenc_unsnappy(hdr, 6, &out), "copy before the start refused");
	memcpy(hdr, "\x06\x04" "ab" "\x01\x02", 6);
	ok(rwenc_unsnappy(hdr, 6, &out) && out.len == 6 &&
	    memcmp(out.data, "ababab", 6) == 0,
	    "valid hand-made copy accepted");
	memcpy(hdr, "\x07\x04" "ab" "\x01\x02", 6);
	ok(!rwenc_unsnappy(hdr, 6, &out), "declared length too long refused");
	memcpy(hdr, "\x05\x04" "ab" "\x01\x02", 6);
	ok(!rwenc_unsnappy(hdr, 6, &out), "declared length too short refused");

	buf_free(&in);
	buf_free(&z);
	buf_free(&out);
}

/* Target labels spliced in at their offsets give the same bytes. */
static void
test_splice(void)
{
	static const struct label all[] = {
		{ "__name__", 8, "m", 1 }, { "a", 1, "1", 1 },
		{ "instance", 8, "h:1", 3 }, { "job", 3, "rollout", 7 },
		{ "le", 2, "0.5", 3 }, { "zone", 4, "z", 1 },
	};
	static const int target[] = { 0, 0, 1, 1, 0, 1 };
	struct rwenc_splice	sp[3];
	struct buf		full, own, tl, a, b;
	size_t			i, n = 0, start[3];

	buf_init(&full);
	buf_init(&own);
	buf_init(&tl);
	buf_init(&a);
	buf_init(&b);
	rwenc_labels(&full, all, 6);
	for (i = 0; i < 6; i++) {
		if (!target[i]) {
			rwenc_labels(&own, &all[i], 1);
			continue;
		}
		start[n] = tl.len;
		rwenc_labels(&tl, &all[i], 1);
		sp[n].at = own.len;
		sp[n].len = tl.len - start[n];
		n++;
	}
	/* tl may have moved while it grew: point at it once it is done. */
	for (i = 0; i < n; i++)
		sp[i].p = tl.data + start[i];
	rwenc_series(&a, full.data, full.len, 2.5, 1700000000000);
	rwenc_series_splice(&b, own.data, own.len, sp, n, 2.5, 1700000000000);
	ok(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "splice: target labels at the end and in the middle, same bytes");
	buf_reset(&b);
	rwenc_series_splice(&b, own.data, own.len, NULL, 0, 2.5, 1);
	buf_reset(&a);
	rwenc_series(&a, own.data, own.len, 2.5, 1);
	ok(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "splice: nothing to splice is rwenc_series");
	buf_free(&full);
	buf_free(&own);
	buf_free(&tl);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	test_varint();
	test_cases();
	test_stale();
	test_snappy();
	test_splice();
	return (tap_done());
}
