/*
 * filesd: Prometheus file_sd discovery. Watches the configured JSON files
 * (the format Ray writes) with inotify on their directories, so a write or a
 * replacement by rename is applied within a second; each file is its own
 * target group "file_sd:<path>". A broken file keeps the last good set.
 * The entries are parsed by tspec; the watcher borrows the registry.
 */
#ifndef RWBRIDGE_FILESD_H
#define RWBRIDGE_FILESD_H

#include <event2/event.h>

#include "config.h"

#define FILESD_MAX_FILE_BYTES	(8u << 20)

struct filesd;
struct targets;

/* Watch the config's file_sd files, applying them to the registry. */
struct filesd	*filesd_new(struct event_base *, struct targets *,
		     const struct config *, char *, size_t);
void		 filesd_free(struct filesd *);
/* Re-read every file now. */
void		 filesd_reload(struct filesd *);

#endif
