/* targetcli: interim, the client lands with the registration API. */
#include <stdio.h>

#include "targetcli.h"

/* Say the client is not built yet. */
int
targetcli_main(int argc, char **argv)
{
	fprintf(stderr, "rwbridge targets: not available in this build\n");
	return (2);
}
