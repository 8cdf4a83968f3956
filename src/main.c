/* rwbridge: placeholder entry point while the daemon is assembled. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("rwbridge %s\n", RWBRIDGE_VERSION);
		return (0);
	}
	return (0);
}
