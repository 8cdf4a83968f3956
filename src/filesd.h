/*
 * filesd: Prometheus file_sd discovery. Watches the configured JSON files
 * (the format Ray writes) with inotify on their directories, so a write or a
 * replacement by rename is applied within a second; each file is its own
 * target group "file_sd:<path>". A broken file keeps the last good set.
 *
 * The parsing half is pure (no event loop) and is shared with the
 * registration API and the state file: a filesd_group owns every string and
 * label array its specs point to, and filesd_group_free releases them all.
 */
#ifndef RWBRIDGE_FILESD_H
#define RWBRIDGE_FILESD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "target.h"

/* Limits on what one entry, request or file may hold. */
#define FILESD_MAX_LABELS	64
#define FILESD_MAX_VALUE	4096
#define FILESD_MAX_TARGETS	10000		/* per API request */
#define FILESD_MAX_FILE_TARGETS	100000		/* per file_sd file */
#define FILESD_MAX_FILE_BYTES	(8u << 20)

/* Entry flavours for filesd_parse_entry. */
#define FILESD_ENTRY_FILE	0x1	/* file_sd: __ labels, extra keys */
#define FILESD_ENTRY_API	0x2	/* API body: scrape settings, strict */

struct filesd;
struct targets;

/* Parsed target specs and the storage behind them. */
struct filesd_group {
	struct target_spec	*specs;
	size_t			 nspecs;
	size_t			 capspecs;
	struct config_kv	**kvs;		/* label arrays, per entry */
	size_t			 nkvs;
	size_t			 capkvs;
	char			**strs;		/* every string pointed to */
	size_t			 nstrs;
	size_t			 capstrs;
};

/* Watch the config's file_sd files, applying them to the registry. */
struct filesd	*filesd_new(struct event_base *, struct targets *,
		     const struct config *, char *, size_t);
void		 filesd_free(struct filesd *);
/* Re-read every file now. */
void		 filesd_reload(struct filesd *);

/* Parse a file_sd document; false with "what is wrong" in err. */
bool		 filesd_parse(const char *, size_t, struct filesd_group *,
		     char *, size_t);
/*
 * Parse one entry (a file_sd element or an API body; where is its JSON path
 * for messages, e.g. "$[2]") and append its targets to g. On failure g may
 * hold part of the entry: free it.
 */
bool		 filesd_parse_entry(const cJSON *, const char *, int,
		     struct filesd_group *, char *, size_t);
/* Keep one spec per URL (the last one), as the registry would. */
void		 filesd_group_dedup(struct filesd_group *);
void		 filesd_group_init(struct filesd_group *);
void		 filesd_group_free(struct filesd_group *);

/* Tell whether a group name is [A-Za-z0-9_.:-]{1,128}. */
bool		 filesd_group_name_valid(const char *);
/* Tell whether a group belongs to rwbridge (static, self, file_sd:*). */
bool		 filesd_group_reserved(const char *);
/* Check a "host:port" target address. */
bool		 filesd_check_address(const char *, char *, size_t);
/* Check a label a user may set (not reserved, valid UTF-8, bounded). */
bool		 filesd_check_label(const char *, const char *, char *, size_t);
/* Tell whether len bytes at s are valid UTF-8. */
bool		 filesd_utf8_valid(const char *, size_t);
/* Describe where a JSON parse stopped ("line 3, column 7"). */
void		 filesd_json_error(const char *, size_t, const char *, char *,
		     size_t);

#endif
