/*
 * libFuzzer harness: target specs (tspec), the pure parser shared by
 * file_sd, the registration API and the state file. The input is parsed as
 * a file_sd document; a parsed group is deduplicated as the registry would,
 * then freed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "tspec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse one file_sd document. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tspec_group	g;
	char			err[512];

	log_set_level(LOG_LEVEL_ERROR);
	tspec_group_init(&g);
	if (tspec_parse_file_sd((const char *)data, size, &g, err, sizeof err))
		tspec_group_dedup(&g);
	tspec_group_free(&g);
	return (0);
}
