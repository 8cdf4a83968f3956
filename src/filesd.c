/* filesd: interim, file_sd discovery is not built yet. */
#include <stdio.h>
#include <string.h>

#include "filesd.h"

/* Refuse to start: discovery files are not read yet. */
struct filesd *
filesd_new(struct rwbridge *rw, char *err, size_t errlen)
{
	snprintf(err, errlen, "file_sd is not available in this build");
	return (NULL);
}

/* Nothing to free. */
void
filesd_free(struct filesd *f)
{
}

/* Nothing to reload. */
void
filesd_reload(struct filesd *f)
{
}
