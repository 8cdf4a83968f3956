/*
 * filesd: Prometheus file_sd discovery. Watches the configured JSON files
 * (the format Ray writes) with inotify on their directories, so a write or a
 * replacement by rename is applied within a second; each file is its own
 * target group "file_sd:<path>". A broken file keeps the last good set.
 */
#ifndef RWBRIDGE_FILESD_H
#define RWBRIDGE_FILESD_H

#include <stdbool.h>
#include <stddef.h>

#include "target.h"

struct rwbridge;
struct filesd;

/* One file_sd entry list, parsed; owned by the caller of filesd_parse. */
struct filesd_group {
	struct target_spec	*specs;
	size_t			 nspecs;
	struct config_kv	*kv;		/* storage behind the specs */
	size_t			 nkv;
	char			**strs;
	size_t			 nstrs;
};

struct filesd	*filesd_new(struct rwbridge *, char *, size_t);
void		 filesd_free(struct filesd *);
/* Re-read every file now. */
void		 filesd_reload(struct filesd *);
/* Parse a file_sd document; false with "what is wrong" in err. */
bool		 filesd_parse(const char *, size_t, struct filesd_group *,
		     char *, size_t);
void		 filesd_group_free(struct filesd_group *);

#endif
