/*
 * tspec: target specs, and the pure parser that turns JSON (a file_sd
 * document, an API body, an entry of the state file) into them. A
 * target_spec is plain data; a tspec_group owns every string and label
 * array its specs point to, and tspec_group_free releases them all.
 */
#ifndef RWBRIDGE_TSPEC_H
#define RWBRIDGE_TSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"

/* Limits on what one entry, request or file may hold. */
#define TSPEC_MAX_LABELS	64
#define TSPEC_MAX_VALUE		4096
#define TSPEC_MAX_TARGETS	10000		/* per API request */
#define TSPEC_MAX_FILE_TARGETS	100000		/* per file_sd file */

/* The groups rwbridge owns: its config, its own /metrics, each file. */
#define TSPEC_GROUP_STATIC	"static"
#define TSPEC_GROUP_SELF	"self"
#define TSPEC_GROUP_FILE_SD	"file_sd:"	/* then the file's path */

/* Entry flavours for tspec_parse_entry. */
#define TSPEC_ENTRY_FILE	0x1	/* file_sd: __ labels, extra keys */
#define TSPEC_ENTRY_API		0x2	/* API body: scrape settings, strict */

/* What to scrape and how: the shape of a file_sd entry plus settings. */
struct target_spec {
	const char		*url;
	const char		*job;		/* NULL: the global job */
	const struct config_kv	*labels;
	size_t			 nlabels;
	int64_t			 interval_ms;	/* 0: the global interval */
	int64_t			 timeout_ms;	/* 0: the global timeout */
	/* How the URL was given, when it was built from parts (else NULL). */
	const char		*scheme;
	const char		*address;	/* host:port */
	const char		*path;
	/*
	 * The group's scrape contract (config, file_sd and API groups): its
	 * metric_relabel_configs (NULL: none), its limits (NULL: the global
	 * ones), honor_labels, and honor_timestamps false.
	 */
	struct relabel		*metric_relabel;
	const struct config_limits *limits;
	bool			 honor_labels;
	bool			 ignore_timestamps;
	const struct config_http *http;	/* TLS and auth; NULL: none */
	/*
	 * An API entry: its contract as parsed (owned by the tspec_group;
	 * its relabel_configs apply at registration; a target keeps none),
	 * and the entry as given without its targets, JSON, which the state
	 * file keeps (NULL: not an API entry).
	 */
	struct config_target	*contract;
	const char		*given;
};

/* Parsed target specs and the storage behind them. */
struct tspec_group {
	struct target_spec	*specs;
	size_t			 nspecs;
	size_t			 capspecs;
	struct config_kv	**kvs;		/* label arrays, per entry */
	size_t			 nkvs;
	size_t			 capkvs;
	char			**strs;		/* every string pointed to */
	size_t			 nstrs;
	size_t			 capstrs;
	struct config_target	**contracts;	/* of API entries */
	size_t			 ncontracts;
};

/* Parse a file_sd document; false with "what is wrong" in err. */
bool		 tspec_parse_file_sd(const char *, size_t, struct tspec_group *,
		     char *, size_t);
/*
 * Parse one entry (a file_sd element or an API body; where is its JSON path
 * for messages, e.g. "$[2]") and append its targets to g. On failure g may
 * hold part of the entry: free it.
 */
bool		 tspec_parse_entry(const cJSON *, const char *, int,
		     struct tspec_group *, char *, size_t);
/* Keep one spec per URL (the last one), as the registry would. */
void		 tspec_group_dedup(struct tspec_group *);
/* Fill the API entries' unset limits from the global ones. */
void		 tspec_group_limits(struct tspec_group *,
		     const struct config_limits *);
void		 tspec_group_init(struct tspec_group *);
void		 tspec_group_free(struct tspec_group *);

/* Tell whether a group name is [A-Za-z0-9_.:-]{1,128}. */
bool		 tspec_group_name_valid(const char *);
/* Tell whether a group belongs to rwbridge (static, self, file_sd:*). */
bool		 tspec_group_reserved(const char *);
/* Check a "host:port" target address. */
bool		 tspec_check_address(const char *, char *, size_t);
/* Tell whether len bytes at s are valid UTF-8. */
bool		 tspec_utf8_valid(const char *, size_t);
/* Describe where a JSON parse stopped ("line 3, column 7"). */
void		 tspec_json_error(const char *, size_t, const char *, char *,
		     size_t);

#endif
