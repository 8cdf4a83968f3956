/*
 * config: rwbridge's JSON configuration, read with cJSON and checked in full
 * before anything starts. Every error names the file and the JSON path of the
 * value ("rwbridge.json: $.targets[2].interval: invalid duration \"5x\""),
 * or the line and column of a JSON syntax error. A struct config owns every
 * string and array in it; config_free releases them all.
 */
#ifndef RWBRIDGE_CONFIG_H
#define RWBRIDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "derive.h"
#include "duration.h"
#include "relabel.h"
#include "shard.h"

#define CONFIG_DEFAULT_JOB		"rollout"
#define CONFIG_DEFAULT_LISTEN		"127.0.0.1:9108"
/* The Accept header of a scrape: Prometheus's default scrape_protocols. */
#define CONFIG_DEFAULT_ACCEPT	"application/openmetrics-text;" \
    "version=1.0.0;escaping=underscores;q=0.6," \
    "application/openmetrics-text;version=0.0.1;q=0.5," \
    "text/plain;version=1.0.0;escaping=underscores;q=0.4," \
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
#define CONFIG_DEFAULT_AUTH_TYPE	"Bearer"	/* authorization.type */
#define CONFIG_DEFAULT_INTERVAL_MS	15000
#define CONFIG_DEFAULT_TIMEOUT_MS	10000
#define CONFIG_DEFAULT_MAX_BODY		(64u << 20)
#define CONFIG_DEFAULT_REQUEST_TIMEOUT_MS	30000
/* Samples per remote-write request: 5x Prometheus's 2,000 (README). */
#define CONFIG_DEFAULT_BATCH		10000
#define CONFIG_MIN_INTERVAL_MS		100	/* a scrape interval */
#define CONFIG_DEFAULT_PUSH_GROUPS	10000
#define CONFIG_DEFAULT_PUSH_FAMILIES	10000	/* per push and group */
#define CONFIG_DEFAULT_PUSH_SAMPLES	100000	/* per push and group */
#define CONFIG_DEFAULT_API_GROUPS	10000
#define CONFIG_DEFAULT_QUEUE_BYTES	(256ull << 20)

struct config_kv {
	char	*name;
	char	*value;
};

/*
 * How a group's targets are reached (Prometheus's tls_config, basic_auth,
 * authorization, bearer_token_file): secrets are read from their files
 * when the config is loaded. Owned by the config; targets point at it.
 */
struct config_http {
	char		*basic_user;
	char		*basic_password;
	char		*auth_type;	/* CONFIG_DEFAULT_AUTH_TYPE: NULL */
	char		*auth_credentials;
	char		*tls_ca_file;
	char		*tls_cert_file;
	char		*tls_key_file;
	char		*tls_server_name;
	bool		 tls_insecure_skip_verify;
	unsigned	 refs;	/* config_http_ref, config_http_unref */
};

/* A limit not given in a group: the global one applies. */
#define CONFIG_LIMIT_UNSET	UINT64_MAX

/*
 * Prometheus's scrape limits, with its meaning: 0 is no limit; going over
 * one fails the whole scrape.
 */
struct config_limits {
	uint64_t	 sample_limit;		/* samples after relabeling */
	uint64_t	 label_limit;		/* labels of one series */
	uint64_t	 label_name_length_limit;
	uint64_t	 label_value_length_limit;
	uint64_t	 body_size_limit;	/* bytes of an uncompressed page */
};

struct config_target {
	char			*url;		/* http://host:port/metrics */
	char			*job;		/* NULL: the global job */
	struct config_kv	*labels;
	size_t			 nlabels;
	int64_t			 interval_ms;	/* 0: the global interval */
	int64_t			 timeout_ms;	/* 0: the global timeout */
	struct relabel		*relabel;	/* relabel_configs; a ref */
	struct relabel		*metric_relabel;	/* a ref; or NULL */
	struct config_limits	 limits;	/* CONFIG_LIMIT_UNSET: global */
	bool			 honor_labels;		/* default false */
	bool			 honor_timestamps;	/* default true */
	const struct config_http *http;		/* NULL: plain, no auth */
};

enum config_fsync {
	CONFIG_FSYNC_BATCH,
	CONFIG_FSYNC_INTERVAL,
	CONFIG_FSYNC_NEVER
};

struct config_remote_write {
	char			*url;
	char			*name;		/* for logs and metrics; url */
	struct config_kv	*headers;
	size_t			 nheaders;
	char			*basic_user;
	char			*basic_password;	/* or read from file */
	char			*bearer_token;		/* or read from file */
	char			*tls_ca_file;
	char			*tls_cert_file;
	char			*tls_key_file;
	bool			 tls_insecure_skip_verify;
	int64_t			 timeout_ms;		/* default 30s */
	size_t			 max_samples_per_send;	/* default 2000 */
	int64_t			 batch_deadline_ms;	/* default 5s */
	size_t			 shards;		/* default 1 */
	int64_t			 min_backoff_ms;	/* default 30ms */
	int64_t			 max_backoff_ms;	/* default 5s */
	uint64_t		 queue_max_bytes;	/* default 256 MiB */
	enum config_fsync	 fsync;			/* default interval */
	int64_t			 fsync_interval_ms;	/* default 1s */
	struct relabel		*write_relabel;	/* write_relabel_configs */
};

struct config_pushgateway {
	char			*url;		/* NULL: no Pushgateway sink */
	struct config_kv	*grouping;	/* extra grouping labels */
	size_t			 ngrouping;
};

struct config {
	char				*file;		/* NULL: flags only */
	char				*job;
	char				*listen;
	int64_t				 scrape_interval_ms;
	int64_t				 scrape_timeout_ms;
	uint64_t			 max_body_bytes;
	uint64_t			 listen_max_connections; /* 0: auto */
	int64_t				 listen_request_timeout_ms;
	uint64_t			 push_max_groups;
	uint64_t			 push_max_families;
	uint64_t			 push_max_samples;
	uint64_t			 api_max_groups;
	char				*state_dir;	/* NULL: no state */
	char				*queue_dir;	/* NULL: state_dir/queue */
	char				*api_token;	/* read from the file */
	char				*api_token_file;
	char				*log_level;
	bool				 self_scrape;	/* default true */
	char				*scrape_accept;	/* scrape_protocols */
	struct config_limits		 limits;	/* defaults; 0: none */
	struct config_kv		*external_labels;
	size_t				 nexternal_labels;
	struct shard_config		 cluster;	/* global.cluster */
	unsigned			 cluster_file_members; /* 0: unset */
	struct config_http		**https;	/* of the groups */
	size_t				 nhttps;
	struct config_target		*targets;
	size_t				 ntargets;
	char				**file_sd;	/* file_sd JSON paths */
	size_t				 nfile_sd;
	/*
	 * Per file_sd path, the settings of the object that listed it (the
	 * keys of a targets[] object; url unused), or NULL.
	 */
	struct config_target		**file_sd_groups;
	struct config_target		**fsd_owned;	/* each group once */
	size_t				 nfsd_owned;
	struct config_remote_write	*remote_writes;
	size_t				 nremote_writes;
	struct config_pushgateway	 pushgateway;
	struct derive_config		 derive;
};

/* Fill in every default. */
void	 config_init(struct config *);
void	 config_free(struct config *);
/* Read and check a JSON file into cfg; false with the first error in err. */
bool	 config_load(struct config *, const char *, char *, size_t);
/* Check a file and print every error to f; return the number of errors. */
int	 config_check_file(const char *, void *);
/* Apply the defaults that depend on other values (after flags). */
bool	 config_finish(struct config *, char *, size_t);
/* Fill a group's unset limits (CONFIG_LIMIT_UNSET) from the global ones. */
void	 config_limits_resolve(struct config_limits *,
	     const struct config_limits *);
/* Give a target its defaults (honor_timestamps, unset limits). */
void	 config_target_defaults(struct config_target *);
struct cJSON;
/* Tell whether a key is one of a group's scrape contract keys. */
bool	 config_group_key(const char *);
/*
 * Parse an API group's scrape contract (an object of contract keys; path
 * its JSON path) by the config's group parser, secrets by file reference
 * only: a new group (url: the params' query or NULL) owning its rules and
 * a reference to its TLS and auth settings, or NULL with "path: what" in
 * err. config_group_free releases it.
 */
struct config_target *config_group_parse(const struct cJSON *, const char *,
	     char *, size_t);
void	 config_group_free(struct config_target *);
/* References to a group's TLS and auth settings (NULL passes through). */
const struct config_http *config_http_ref(const struct config_http *);
void	 config_http_unref(const struct config_http *);
/*
 * Tell whether two groups reach their targets alike: the same TLS file
 * names and settings, the same user, credentials type (Bearer if not
 * given) and secrets as read (NULL is equal only to NULL).
 */
bool	 config_http_equal(const struct config_http *,
	     const struct config_http *);
/* Add a target or remote-write URL as given on the command line. */
bool	 config_add_target(struct config *, const char *, char *, size_t);
bool	 config_add_remote_write(struct config *, const char *, char *, size_t);

/* Durations (duration_parse, duration_format) are duration.h's. */

#endif
