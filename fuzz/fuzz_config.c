/*
 * libFuzzer harness: the configuration file. config_load reads a path, so
 * each input is written to one temporary file (made once, rewritten in
 * place); a file that loads is then finished as main does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Load one input as a config file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[] = "/tmp/fuzz_config.XXXXXX";
	static int	 fd = -1;
	struct config	 cfg;
	char		 err[512];

	if (fd == -1) {
		log_set_level(LOG_LEVEL_ERROR);
		fd = mkstemp(path);
		if (fd == -1)
			abort();
		unlink(path);	/* read through /proc/self/fd below */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	config_init(&cfg);
	if (config_load(&cfg, path, err, sizeof err))
		(void)config_finish(&cfg, err, sizeof err);
	config_free(&cfg);
	return (0);
}
