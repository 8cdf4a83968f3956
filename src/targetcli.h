/*
 * targetcli: `rwbridge targets list|set|add|remove`, a small client of a
 * running rwbridge's registration API for shell scripts and humans.
 */
#ifndef RWBRIDGE_TARGETCLI_H
#define RWBRIDGE_TARGETCLI_H

int	targetcli_main(int, char **);

#endif
