/*
 * sim_main: rwbridge-sim, a simulated RL rollout fleet of vLLM, SGLang and
 * vLLM-Ascend servers serving Prometheus /metrics pages (see simfleet.c for
 * the model). This file is the command line and the libevent glue: one
 * evhttp listener per server on 127.0.0.1:(base-port + i), or one listener
 * (--listen) serving /s/<i>/metrics for every server; a self-re-arming tick
 * timer advances the simulation; SIGINT/SIGTERM stop the loop.
 *
 * --truth FILE writes JSON Lines, the ground truth to check consumers
 * against. Times "t" are simulated seconds since start (tick * tick length,
 * so a run is reproducible from the seed); the ticks keep to the clock, so
 * tick k's state is served from epoch + k * tick on. Lines:
 *
 *   {"type":"start","epoch":E}
 *	first: the unix time of simulated time 0.
 *   {"type":"request","server":i,"t":T,"e2e":S,"ttft":S,"itl":S,
 *    "queue":S,"prompt_tokens":N,"generation_tokens":N,
 *    "finished_reason":"stop"|"length"}
 *	one per finished request, t its finish time; itl is the request's
 *	mean time per output token after the first (0 for one token).
 *   {"type":"server","server":i,"t":T,"running":N,"waiting":N,
 *    "kv_usage":F,"asleep":0|1}
 *	a server's state at the end of a tick, written when running, waiting,
 *	kv_usage (used KV blocks / total, tokens for SGLang, both dp ranks
 *	for Ascend) or asleep changed, and at least once a simulated second.
 *	running counts SGLang's paused requests; asleep is what
 *	rollout:server_asleep must say (vLLM sleeping, or SGLang paused with
 *	nothing running).
 *   {"type":"fleet","t":T,"work":N,"asleep":N,"idle":N,"busy":N,
 *    "idle_seconds":S,"busy_seconds":S}
 *	the fleet at the end of a tick: work is running (as the pages show
 *	it) + waiting on the servers not asleep; idle and busy count the awake
 *	servers without and with work; idle_seconds and busy_seconds are what
 *	rwbridge's counters must approach: the sums over ticks with work > 0
 *	of tick length times idle (busy) servers. Written on a change and at
 *	least once a simulated second.
 *   {"type":"wave","start":T,"end":T,"duration":S,"requests":N,
 *    "t50":S,"t90":S,"tail":S,"t99":S}
 *	a wave ended: work went from 0 to > 0 at start and back to 0 at end;
 *	requests finished in it; tQ the time from start by which the
 *	ceil(Q/100 * requests)-th finished; tail = end - (start + t90). No
 *	tQ, tail when no request finished.
 *   {"type":"restart","server":i,"t":T}
 *	--restart-every: the server restarted, counters are back to zero.
 *
 * The file is flushed at least once a second and at exit.
 */
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "addr.h"
#include "buf.h"
#include "duration.h"
#include "log.h"
#include "simfleet.h"
#include "timer.h"
#include "xmalloc.h"

#ifndef RWBRIDGE_VERSION
#define RWBRIDGE_VERSION "unknown"
#endif

#define SIM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define SIM_STATIC_WARMUP_MS 5000

static const char usage_text[] =
"usage: rwbridge-sim --servers N (--base-port P | --listen ADDR) [options]\n"
"\n"
"Simulate an RL rollout fleet of vLLM, SGLang and vLLM-Ascend servers\n"
"serving Prometheus /metrics pages laid out as the real engines write them.\n"
"\n"
"Options:\n"
"  --servers N             number of simulated servers\n"
"  --base-port P           server i listens on 127.0.0.1:(P+i), /metrics\n"
"  --listen ADDR           instead, one listener host:port serving\n"
"                          /s/<i>/metrics for every server\n"
"  --flavour F             vllm-v1 (default), vllm-v0, sglang, ascend or\n"
"                          mixed (by i mod 4: vllm-v1, vllm-v0, sglang,\n"
"                          ascend)\n"
"  --model NAME            model_name label (default per flavour; mixed:\n"
"                          Qwen/Qwen2.5-7B-Instruct for every server)\n"
"  --seed S                random seed (default 1); same seed, same run\n"
"  --tick DUR              simulation step, one per real step (default 100ms)\n"
"  --duration DUR          exit after DUR (default: run until a signal)\n"
"  --batch-every DUR       mean period of rollout batches (default 45s)\n"
"  --batch-size N          mean requests per server per batch (default 32)\n"
"  --max-tokens N          max_tokens of every request (default 8192);\n"
"                          longer responses finish with reason \"length\"\n"
"  --sync-pause DUR        weight-sync pause of every server when a batch\n"
"                          arrives while the fleet still has work\n"
"                          (default 500ms; 0 for none)\n"
"  --restart-every DUR     restart each server (counters reset) every DUR\n"
"  --extra-series N        add N rollout_sim_extra gauges to each page\n"
"  --static                render each page once and serve those bytes\n"
"  --close                 close the connection after each response\n"
"                          (Connection: close) instead of keeping it alive\n"
"  --truth FILE            write JSON Lines ground truth (requests, server\n"
"                          states) to FILE\n"
"  --help                  show this help\n"
"  --version               show the version\n"
"\n"
"Durations: 500ms, 5s, 1m, 1h30m.\n";

enum {
	OPT_SERVERS = 256,
	OPT_BASE_PORT,
	OPT_LISTEN,
	OPT_FLAVOUR,
	OPT_MODEL,
	OPT_SEED,
	OPT_TICK,
	OPT_DURATION,
	OPT_BATCH_EVERY,
	OPT_BATCH_SIZE,
	OPT_MAX_TOKENS,
	OPT_SYNC_PAUSE,
	OPT_RESTART_EVERY,
	OPT_EXTRA_SERIES,
	OPT_STATIC,
	OPT_CLOSE,
	OPT_TRUTH,
	OPT_HELP,
	OPT_VERSION
};

static const struct option options[] = {
	{ "servers",		required_argument, NULL, OPT_SERVERS },
	{ "base-port",		required_argument, NULL, OPT_BASE_PORT },
	{ "listen",		required_argument, NULL, OPT_LISTEN },
	{ "flavour",		required_argument, NULL, OPT_FLAVOUR },
	{ "model",		required_argument, NULL, OPT_MODEL },
	{ "seed",		required_argument, NULL, OPT_SEED },
	{ "tick",		required_argument, NULL, OPT_TICK },
	{ "duration",		required_argument, NULL, OPT_DURATION },
	{ "batch-every",	required_argument, NULL, OPT_BATCH_EVERY },
	{ "batch-size",		required_argument, NULL, OPT_BATCH_SIZE },
	{ "max-tokens",		required_argument, NULL, OPT_MAX_TOKENS },
	{ "sync-pause",		required_argument, NULL, OPT_SYNC_PAUSE },
	{ "restart-every",	required_argument, NULL, OPT_RESTART_EVERY },
	{ "extra-series",	required_argument, NULL, OPT_EXTRA_SERIES },
	{ "static",		no_argument,	   NULL, OPT_STATIC },
	{ "close",		no_argument,	   NULL, OPT_CLOSE },
	{ "truth",		required_argument, NULL, OPT_TRUTH },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ NULL,			0,		   NULL, 0 }
};

struct sim_ctx;

/* One evhttp listener: a server's own port, or the shared one (idx -1). */
struct sim_listener {
	struct sim_ctx	*ctx;
	struct evhttp	*http;
	int		 idx;
};

struct sim_ctx {
	struct event_base	*base;
	struct simfleet		*fleet;
	struct sim_listener	*listeners;
	int			 nlisteners;
	struct event		 tick_ev;
	struct event		 stop_ev;
	struct event		 sigint_ev;
	struct event		 sigterm_ev;
	bool			 is_static;
	bool			 close_conns;
	FILE			*truth;
	const char		*truth_path;
	struct buf		 truth_buf;
	uint64_t		 ticks;
	uint64_t		 flush_every;
	int64_t			 tick_ms;
	int64_t			 start_ms;	/* monotonic, at tick 0 */
};

/* Send libevent's own messages to the log. */
static void
libevent_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warn("libevent", "detail=%s", msg);
	else
		log_debug("libevent", "detail=%s", msg);
}

/* Complain about a flag and exit 2. */
static void __attribute__((noreturn, format(printf, 2, 3)))
flag_error(const char *flag, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "rwbridge-sim: --%s: ", flag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see rwbridge-sim --help)\n");
	exit(2);
}

/* Parse a duration flag (0 only if zero_ok) or exit 2. */
static int64_t
flag_duration(const char *flag, const char *v, bool zero_ok)
{
	int64_t	ms;

	if (!duration_parse(v, &ms) || ms < 0 || (ms == 0 && !zero_ok))
		flag_error(flag, "invalid duration \"%s\" (use e.g. 500ms, 5s, "
		    "1m)", v);
	return (ms);
}

/* Parse an integer flag in [lo, hi] or exit 2. */
static long long
flag_int(const char *flag, const char *v, long long lo, long long hi)
{
	long long	 n;
	char		*end;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi)
		flag_error(flag, "invalid value \"%s\" (want an integer from "
		    "%lld to %lld)", v, lo, hi);
	return (n);
}

/* Reply with a short plain-text body. */
static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*out;

	out = evbuffer_new();
	evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

#define SIM_SHARED_PREFIX	"/s/"

/* Parse "/s/<i>/metrics" into i. */
static int
shared_path_index(const char *path, int n)
{
	const char	*p;
	long		 i = 0;

	if (strncmp(path, SIM_SHARED_PREFIX, strlen(SIM_SHARED_PREFIX)) != 0)
		return (-1);
	p = path + strlen(SIM_SHARED_PREFIX);
	if (*p < '0' || *p > '9')
		return (-1);
	if (*p == '0' && p[1] != '/')
		return (-1);
	while (*p >= '0' && *p <= '9') {
		i = i * 10 + (*p - '0');
		if (i >= n)
			return (-1);
		p++;
	}
	if (strcmp(p, "/metrics") != 0)
		return (-1);
	return ((int)i);
}

/* Serve a server's page, or 404. */
static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct sim_listener		*l = arg;
	struct sim_ctx			*ctx = l->ctx;
	const struct evhttp_uri		*u;
	const struct buf		*page;
	const char			*path;
	struct evbuffer			*out;
	enum evhttp_cmd_type		 cmd;
	int				 idx;

	cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "method not allowed\n");
		return;
	}
	u = evhttp_request_get_evhttp_uri(req);
	path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	if (path == NULL)
		path = "";
	if (l->idx >= 0)
		idx = strcmp(path, "/metrics") == 0 ? l->idx : -1;
	else
		idx = shared_path_index(path, simfleet_servers(ctx->fleet));
	if (idx < 0) {
		reply_text(req, 404, "Not Found", "not found\n");
		return;
	}
	page = simfleet_page(ctx->fleet, idx);
	out = evbuffer_new();
	/* Static pages never change, so the reply may borrow them. */
	if (ctx->is_static)
		evbuffer_add_reference(out, page->data, page->len, NULL, NULL);
	else
		evbuffer_add(out, page->data, page->len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", SIM_CONTENT_TYPE);
	/* evhttp closes after the reply when it carries this header. */
	if (ctx->close_conns)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* Write the truth lines gathered so far; flush if asked. */
static void
truth_write(struct sim_ctx *ctx, bool flush)
{
	if (ctx->truth == NULL)
		return;
	if (ctx->truth_buf.len > 0) {
		if (fwrite(ctx->truth_buf.data, 1, ctx->truth_buf.len,
		    ctx->truth) != ctx->truth_buf.len)
			log_warn("cannot write truth file", "file=%s",
			    ctx->truth_path);
		buf_reset(&ctx->truth_buf);
	}
	if (flush && fflush(ctx->truth) != 0)
		log_warn("cannot write truth file", "file=%s", ctx->truth_path);
}

/* Advance the simulation one step. */
static void
sim_step(struct sim_ctx *ctx)
{
	simfleet_step(ctx->fleet, ctx->truth != NULL ? &ctx->truth_buf : NULL);
	ctx->ticks++;
	truth_write(ctx, ctx->ticks % ctx->flush_every == 0);
}

/* Milliseconds of the monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Run the ticks due by now and re-arm for the next one, so simulated time
 * keeps to the clock (tick k ends tick_ms * k after the start) however
 * late the callbacks run; at most 100 ticks per call, to keep serving.
 */
static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sim_ctx	*ctx = arg;
	int64_t		 elapsed, next;
	int		 n = 0;

	(void)fd;
	(void)events;
	elapsed = mono_ms() - ctx->start_ms;
	do {
		sim_step(ctx);
		n++;
	} while ((int64_t)(ctx->ticks + 1) * ctx->tick_ms <= elapsed &&
	    n < 100);
	next = (int64_t)(ctx->ticks + 1) * ctx->tick_ms - elapsed;
	timer_arm_ms(&ctx->tick_ev, next > 1 ? next : 1);
}

/* Stop the loop at the end of --duration. */
static void
stop_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sim_ctx	*ctx = arg;

	(void)fd;
	(void)events;
	log_info("duration elapsed, exiting", NULL);
	event_base_loopbreak(ctx->base);
}

/* Stop the loop on SIGINT or SIGTERM. */
static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct sim_ctx	*ctx = arg;

	(void)events;
	log_info("signal received, exiting", "signal=%d", (int)sig);
	event_base_loopbreak(ctx->base);
}

/* Open a listener on host:port serving server idx (-1: all, by path). */
static int
listener_open(struct sim_ctx *ctx, const char *host, int port, int idx)
{
	struct sim_listener	*l = &ctx->listeners[ctx->nlisteners];

	l->ctx = ctx;
	l->idx = idx;
	l->http = evhttp_new(ctx->base);
	if (l->http == NULL) {
		fprintf(stderr, "rwbridge-sim: cannot create HTTP server\n");
		return (-1);
	}
	ctx->nlisteners++;
	evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(l->http, http_cb, l);
	errno = 0;
	if (evhttp_bind_socket(l->http, host, (ev_uint16_t)port) != 0) {
		fprintf(stderr, "rwbridge-sim: cannot listen on %s:%d: %s\n",
		    host, port, errno != 0 ? strerror(errno) :
		    "cannot resolve the address");
		return (-1);
	}
	return (0);
}

/* Free everything the context owns. */
static void
ctx_free(struct sim_ctx *ctx)
{
	int	i;

	for (i = 0; i < ctx->nlisteners; i++)
		evhttp_free(ctx->listeners[i].http);
	free(ctx->listeners);
	if (ctx->base != NULL) {
		event_del(&ctx->tick_ev);
		event_del(&ctx->stop_ev);
		event_del(&ctx->sigint_ev);
		event_del(&ctx->sigterm_ev);
	}
	truth_write(ctx, true);
	if (ctx->truth != NULL && fclose(ctx->truth) != 0)
		log_warn("cannot write truth file", "file=%s", ctx->truth_path);
	buf_free(&ctx->truth_buf);
	simfleet_free(ctx->fleet);
	if (ctx->base != NULL)
		event_base_free(ctx->base);
}

/* Parse the flags; serve the fleet until a signal or --duration. */
int
main(int argc, char **argv)
{
	struct simfleet_config	 cfg;
	struct sim_ctx		 ctx;
	struct timeval		 now;
	const char		*listen = NULL, *truth = NULL;
	char			 host[256];
	long long		 base_port = -1;
	int64_t			 duration_ms = 0;
	int			 ch, i, port = 0, warmup, rc = 2;
	bool			 have_servers = false;

	simfleet_config_default(&cfg);
	memset(&ctx, 0, sizeof ctx);
	for (;;) {
		ch = getopt_long(argc, argv, "", options, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case OPT_SERVERS:
			cfg.servers = (int)flag_int("servers", optarg, 1,
			    65535);
			have_servers = true;
			break;
		case OPT_BASE_PORT:
			base_port = flag_int("base-port", optarg, 1, 65535);
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_FLAVOUR:
			if (!simfleet_parse_flavour(optarg, &cfg.flavour))
				flag_error("flavour", "unknown flavour \"%s\" "
				    "(want vllm-v1, vllm-v0, sglang, ascend or "
				    "mixed)", optarg);
			break;
		case OPT_MODEL:
			if (*optarg == '\0')
				flag_error("model", "empty model name");
			cfg.model = optarg;
			break;
		case OPT_SEED:
			cfg.seed = (uint64_t)flag_int("seed", optarg, 0,
			    INT64_MAX);
			break;
		case OPT_TICK:
			cfg.tick_ms = flag_duration("tick", optarg, false);
			break;
		case OPT_DURATION:
			duration_ms = flag_duration("duration", optarg, false);
			break;
		case OPT_BATCH_EVERY:
			cfg.batch_every_ms = flag_duration("batch-every",
			    optarg, false);
			break;
		case OPT_BATCH_SIZE:
			cfg.batch_size = (int)flag_int("batch-size", optarg, 1,
			    100000);
			break;
		case OPT_MAX_TOKENS:
			cfg.max_tokens = (int)flag_int("max-tokens", optarg, 1,
			    10000000);
			break;
		case OPT_SYNC_PAUSE:
			cfg.sync_ms = flag_duration("sync-pause", optarg, true);
			break;
		case OPT_RESTART_EVERY:
			cfg.restart_every_ms = flag_duration("restart-every",
			    optarg, false);
			break;
		case OPT_EXTRA_SERIES:
			cfg.extra_series = (int)flag_int("extra-series", optarg,
			    0, 10000000);
			break;
		case OPT_STATIC:
			ctx.is_static = true;
			break;
		case OPT_CLOSE:
			ctx.close_conns = true;
			break;
		case OPT_TRUTH:
			truth = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return (0);
		case OPT_VERSION:
			printf("rwbridge-sim %s\n", RWBRIDGE_VERSION);
			return (0);
		default:
			fprintf(stderr, "(see rwbridge-sim --help)\n");
			return (2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rwbridge-sim: unexpected argument \"%s\"\n%s",
		    argv[optind], usage_text);
		return (2);
	}
	if (!have_servers)
		flag_error("servers", "required");
	if ((base_port < 0) == (listen == NULL))
		flag_error("base-port", "give exactly one of --base-port and "
		    "--listen");
	if (base_port >= 0 && base_port + cfg.servers - 1 > 65535)
		flag_error("base-port", "%lld + %d servers runs past port "
		    "65535",
		    base_port, cfg.servers);
	if (listen != NULL && !addr_split(listen, host, sizeof host, &port))
		flag_error("listen", "invalid address \"%s\" (want host:port)",
		    listen);

	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(libevent_log_cb);
	gettimeofday(&now, NULL);
	cfg.epoch = (double)now.tv_sec + now.tv_usec / 1e6;
	ctx.truth_path = truth;
	buf_init(&ctx.truth_buf);
	buf_printf(&ctx.truth_buf, "{\"type\":\"start\",\"epoch\":");
	simfleet_put_float(&ctx.truth_buf, cfg.epoch);
	buf_append(&ctx.truth_buf, "}\n", 2);
	if (truth != NULL) {
		ctx.truth = fopen(truth, "w");
		if (ctx.truth == NULL) {
			fprintf(stderr, "rwbridge-sim: --truth: cannot open "
			    "%s: %s\n", truth, strerror(errno));
			return (2);
		}
	}
	ctx.flush_every = (uint64_t)(1000 / cfg.tick_ms);
	if (ctx.flush_every < 1)
		ctx.flush_every = 1;

	ctx.base = event_base_new();
	if (ctx.base == NULL) {
		fprintf(stderr, "rwbridge-sim: cannot create event base\n");
		goto out;
	}
	evtimer_assign(&ctx.tick_ev, ctx.base, tick_cb, &ctx);
	evtimer_assign(&ctx.stop_ev, ctx.base, stop_cb, &ctx);
	evsignal_assign(&ctx.sigint_ev, ctx.base, SIGINT, signal_cb, &ctx);
	evsignal_assign(&ctx.sigterm_ev, ctx.base, SIGTERM, signal_cb, &ctx);
	ctx.fleet = simfleet_new(&cfg);

	if (listen != NULL) {
		ctx.listeners = xcalloc(1, sizeof *ctx.listeners);
		if (listener_open(&ctx, host, port, -1) != 0)
			goto out;
	} else {
		ctx.listeners = xcalloc((size_t)cfg.servers,
		    sizeof *ctx.listeners);
		for (i = 0; i < cfg.servers; i++) {
			if (listener_open(&ctx, "127.0.0.1",
			    (int)base_port + i, i) != 0)
				goto out;
		}
	}

	if (ctx.is_static) {
		/* Run into the first batch so the pages have data. */
		warmup = (int)((SIM_STATIC_WARMUP_MS + cfg.tick_ms - 1) /
		    cfg.tick_ms);
		for (i = 0; i < warmup; i++)
			sim_step(&ctx);
		for (i = 0; i < cfg.servers; i++)
			simfleet_page(ctx.fleet, i);
		truth_write(&ctx, true);
	} else {
		ctx.tick_ms = cfg.tick_ms;
		ctx.start_ms = mono_ms();
		timer_arm_ms(&ctx.tick_ev, cfg.tick_ms);
	}
	if (duration_ms > 0)
		timer_arm_ms(&ctx.stop_ev, duration_ms);
	evsignal_add(&ctx.sigint_ev, NULL);
	evsignal_add(&ctx.sigterm_ev, NULL);

	log_info("simulator started", "servers=%d flavour=%s seed=%llu "
	    "listen=%s base_port=%lld static=%s", cfg.servers,
	    simfleet_flavour_name(cfg.flavour), (unsigned long long)cfg.seed,
	    listen != NULL ? listen : "", base_port,
	    ctx.is_static ? "true" : "false");
	event_base_dispatch(ctx.base);
	rc = 0;
out:
	ctx_free(&ctx);
	return (rc);
}
