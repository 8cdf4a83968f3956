/*
 * file: read a whole file into memory, the one reader of config files,
 * secrets, file_sd files and the state file. Pure; the caller owns the
 * returned buffer.
 */
#ifndef RWBRIDGE_FILE_H
#define RWBRIDGE_FILE_H

#include <stddef.h>

/*
 * Read all of path (at most max bytes) into a new NUL-terminated buffer;
 * 0, or -1 with errno set (EFBIG when the file is larger than max).
 */
int	file_read(const char *, size_t, char **, size_t *);

#endif
