/*
 * main: rwbridge's command line. Without a subcommand it runs the daemon;
 * check-config, check-metrics and targets are the tools around it. Flags
 * override the config file; --target and --remote-write add to its lists.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_metrics.h"
#include "config.h"
#include "log.h"
#include "rwbridge.h"
#include "targetcli.h"
#include "xmalloc.h"

static const char usage_text[] =
"usage: rwbridge [options]\n"
"       rwbridge check-config FILE\n"
"       rwbridge check-metrics [--format text|openmetrics] FILE|-\n"
"       rwbridge targets list|set|add|remove ... (see rwbridge targets --help)\n"
"\n"
"Scrape LLM rollout servers (vLLM, SGLang, vLLM-Ascend) and forward their\n"
"metrics and derived rollout:* series by Prometheus remote write, with no\n"
"Prometheus config rewrite when servers come and go.\n"
"\n"
"Options (flags override the config file):\n"
"  --config FILE           JSON config file\n"
"  --target URL            scrape URL (or host:port); repeatable, added to\n"
"                          the config file's targets\n"
"  --job NAME              job label of targets without one (default rollout)\n"
"  --remote-write URL      remote-write endpoint; repeatable, added to the\n"
"                          config file's endpoints\n"
"  --pushgateway URL       also push every target's series to a Pushgateway\n"
"  --listen ADDR           HTTP listener host:port (default 127.0.0.1:9108)\n"
"  --scrape-interval DUR   default scrape interval (default 15s)\n"
"  --scrape-timeout DUR    default scrape timeout (default 10s, at most the\n"
"                          interval)\n"
"  --state-dir DIR         keep registered targets and the send queue here\n"
"                          (default: none, the queue stays in memory)\n"
"  --api-token-file FILE   bearer token required by the registration and\n"
"                          push APIs\n"
"  --log-level LEVEL       debug, info, warn or error (default info)\n"
"  --cluster-members-count N\n"
"                          split the targets among N rwbridges\n"
"                          (global.cluster; must equal the config file's\n"
"                          members_count if it has one)\n"
"  --cluster-member-num N  this member's number, 0 to N-1 (default 0)\n"
"  --cluster-replication-factor N\n"
"                          members that scrape each target (default 1)\n"
"  --help                  show this help\n"
"  --version               show the version\n"
"\n"
"Durations are written as Prometheus writes them: 500ms, 5s, 1m, 1h30m.\n"
"HTTP: /metrics /-/healthy /-/ready /api/v1/targets[/{group}]\n"
"      /metrics/job/<job>{/<label>/<value>} (Pushgateway-style pushes)\n"
"      /targets (status page for people) and / (links to all of them)\n";

enum {
	OPT_CONFIG = 256,
	OPT_TARGET,
	OPT_JOB,
	OPT_REMOTE_WRITE,
	OPT_PUSHGATEWAY,
	OPT_LISTEN,
	OPT_INTERVAL,
	OPT_TIMEOUT,
	OPT_STATE_DIR,
	OPT_TOKEN_FILE,
	OPT_LOG_LEVEL,
	OPT_CLUSTER_COUNT,
	OPT_CLUSTER_NUM,
	OPT_CLUSTER_RF,
	OPT_HELP,
	OPT_VERSION
};

static const struct option options[] = {
	{ "config",		required_argument, NULL, OPT_CONFIG },
	{ "target",		required_argument, NULL, OPT_TARGET },
	{ "job",		required_argument, NULL, OPT_JOB },
	{ "remote-write",	required_argument, NULL, OPT_REMOTE_WRITE },
	{ "pushgateway",	required_argument, NULL, OPT_PUSHGATEWAY },
	{ "listen",		required_argument, NULL, OPT_LISTEN },
	{ "scrape-interval",	required_argument, NULL, OPT_INTERVAL },
	{ "scrape-timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "state-dir",		required_argument, NULL, OPT_STATE_DIR },
	{ "api-token-file",	required_argument, NULL, OPT_TOKEN_FILE },
	{ "log-level",		required_argument, NULL, OPT_LOG_LEVEL },
	{ "cluster-members-count", required_argument, NULL, OPT_CLUSTER_COUNT },
	{ "cluster-member-num",	required_argument, NULL,
	    OPT_CLUSTER_NUM },
	{ "cluster-replication-factor", required_argument, NULL,
	    OPT_CLUSTER_RF },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ NULL,			0,		   NULL, 0 }
};

/* Flags given on the command line, applied after the config file. */
struct flags {
	const char	*config;
	const char	**targets;
	size_t		 ntargets;
	const char	**remote_writes;
	size_t		 nremote_writes;
	const char	*job;
	const char	*pushgateway;
	const char	*listen;
	const char	*interval;
	const char	*timeout;
	const char	*state_dir;
	const char	*token_file;
	const char	*log_level;
	const char	*cluster_count;
	const char	*cluster_num;
	const char	*cluster_rf;
};

/* Replace a config string with a copy of v. */
static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* Parse a duration flag or exit with a message naming it. */
static int64_t
flag_duration(const char *flag, const char *v)
{
	int64_t	ms;

	if (!duration_parse(v, &ms) || ms <= 0) {
		fprintf(stderr, "rwbridge: --%s: invalid duration \"%s\" "
		    "(use e.g. 500ms, 5s, 1m)\n", flag, v);
		exit(2);
	}
	return (ms);
}

/* Parse a whole-number flag in [min, max] or exit with a message. */
static unsigned
flag_uint(const char *flag, const char *v, unsigned min, unsigned max)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < min ||
	    n > max) {
		fprintf(stderr, "rwbridge: --%s: \"%s\": want a whole number "
		    "from %u to %u\n", flag, v, min, max);
		exit(2);
	}
	return ((unsigned)n);
}

/* Apply the --cluster-* flags; a member count given twice must agree. */
static void
apply_cluster_flags(struct config *cfg, const struct flags *f)
{
	unsigned	n;

	if (f->cluster_count != NULL) {
		n = flag_uint("cluster-members-count", f->cluster_count, 1,
		    SHARD_MAX_MEMBERS);
		if (cfg->cluster_file_members != 0 &&
		    cfg->cluster_file_members != n) {
			fprintf(stderr, "rwbridge: --cluster-members-count %u "
			    "differs from members_count %u in %s "
			    "($.global.cluster.members_count): every member "
			    "must agree on the count, give it once\n", n,
			    cfg->cluster_file_members, cfg->file);
			exit(2);
		}
		cfg->cluster.members_count = n;
	}
	if (f->cluster_num != NULL)
		cfg->cluster.member_num = flag_uint("cluster-member-num",
		    f->cluster_num, 0, SHARD_MAX_MEMBERS - 1);
	if (f->cluster_rf != NULL)
		cfg->cluster.replication_factor = flag_uint(
		    "cluster-replication-factor", f->cluster_rf, 1,
		    SHARD_MAX_MEMBERS);
}

/* Apply the flags on top of the config. */
static void
apply_flags(struct config *cfg, const struct flags *f)
{
	char	err[512];
	size_t	i;

	if (f->job != NULL)
		set_str(&cfg->job, f->job);
	if (f->listen != NULL)
		set_str(&cfg->listen, f->listen);
	if (f->pushgateway != NULL)
		set_str(&cfg->pushgateway.url, f->pushgateway);
	if (f->state_dir != NULL)
		set_str(&cfg->state_dir, f->state_dir);
	if (f->token_file != NULL)
		set_str(&cfg->api_token_file, f->token_file);
	if (f->log_level != NULL)
		set_str(&cfg->log_level, f->log_level);
	if (f->interval != NULL)
		cfg->scrape_interval_ms = flag_duration("scrape-interval",
		    f->interval);
	if (f->timeout != NULL)
		cfg->scrape_timeout_ms = flag_duration("scrape-timeout",
		    f->timeout);
	apply_cluster_flags(cfg, f);
	for (i = 0; i < f->ntargets; i++) {
		if (!config_add_target(cfg, f->targets[i], err, sizeof err)) {
			fprintf(stderr, "rwbridge: --target: %s\n", err);
			exit(2);
		}
	}
	for (i = 0; i < f->nremote_writes; i++) {
		if (!config_add_remote_write(cfg, f->remote_writes[i], err,
		    sizeof err)) {
			fprintf(stderr, "rwbridge: --remote-write: %s\n", err);
			exit(2);
		}
	}
}

/* Append v to a flag list. */
static void
push(const char ***list, size_t *n, const char *v)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = v;
}

int
main(int argc, char **argv)
{
	struct config	 cfg;
	struct flags	 f;
	enum log_level	 level;
	char		 err[1024];
	int		 ch, rc;

	if (argc >= 2 && strcmp(argv[1], "check-config") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: rwbridge check-config FILE\n");
			return (2);
		}
		return (config_check_file(argv[2], stderr) == 0 ? 0 : 1);
	}
	if (argc >= 2 && strcmp(argv[1], "check-metrics") == 0)
		return (check_metrics_main(argc - 1, argv + 1, stdout, stderr));
	if (argc >= 2 && strcmp(argv[1], "targets") == 0)
		return (targetcli_main(argc - 1, argv + 1));

	memset(&f, 0, sizeof f);
	while ((ch = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG:
			f.config = optarg;
			break;
		case OPT_TARGET:
			push(&f.targets, &f.ntargets, optarg);
			break;
		case OPT_JOB:
			f.job = optarg;
			break;
		case OPT_REMOTE_WRITE:
			push(&f.remote_writes, &f.nremote_writes, optarg);
			break;
		case OPT_PUSHGATEWAY:
			f.pushgateway = optarg;
			break;
		case OPT_LISTEN:
			f.listen = optarg;
			break;
		case OPT_INTERVAL:
			f.interval = optarg;
			break;
		case OPT_TIMEOUT:
			f.timeout = optarg;
			break;
		case OPT_STATE_DIR:
			f.state_dir = optarg;
			break;
		case OPT_TOKEN_FILE:
			f.token_file = optarg;
			break;
		case OPT_LOG_LEVEL:
			f.log_level = optarg;
			break;
		case OPT_CLUSTER_COUNT:
			f.cluster_count = optarg;
			break;
		case OPT_CLUSTER_NUM:
			f.cluster_num = optarg;
			break;
		case OPT_CLUSTER_RF:
			f.cluster_rf = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return (0);
		case OPT_VERSION:
			printf("rwbridge %s\n", RWBRIDGE_VERSION);
			return (0);
		default:
			fputs(usage_text, stderr);
			return (2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rwbridge: unexpected argument \"%s\"\n%s",
		    argv[optind], usage_text);
		return (2);
	}

	config_init(&cfg);
	if (f.config != NULL && !config_load(&cfg, f.config, err, sizeof err)) {
		fprintf(stderr, "rwbridge: %s\n", err);
		config_free(&cfg);
		return (1);
	}
	apply_flags(&cfg, &f);
	if (!config_finish(&cfg, err, sizeof err)) {
		fprintf(stderr, "rwbridge: %s\n", err);
		config_free(&cfg);
		return (1);
	}
	if (log_parse_level(cfg.log_level, &level) != 0) {
		fprintf(stderr, "rwbridge: invalid log level \"%s\"\n",
		    cfg.log_level);
		config_free(&cfg);
		return (2);
	}
	log_set_level(level);
	rc = rwbridge_run(&cfg);
	config_free(&cfg);
	free(f.targets);
	free(f.remote_writes);
	return (rc);
}
