/*
 * state: persistence of API-registered groups (interim: nothing is saved
 * until the registration API lands).
 */
#include <ctype.h>
#include <stdio.h>

#include "state.h"

/* Re-register saved groups. */
int
state_load(struct rwbridge *rw, char *err, size_t errlen)
{
	return (0);
}

/* Save API-registered groups. */
int
state_save(struct rwbridge *rw, char *err, size_t errlen)
{
	return (0);
}

/* A name made safe for a file name: [A-Za-z0-9._-], others as '_'. */
const char *
state_safe_name(const char *name)
{
	static char	out[64];
	size_t		i;

	for (i = 0; name != NULL && name[i] != '\0' && i < sizeof out - 1;
	    i++) {
		if (isalnum((unsigned char)name[i]) || name[i] == '.' ||
		    name[i] == '-' || name[i] == '_')
			out[i] = name[i];
		else
			out[i] = '_';
	}
	out[i] = '\0';
	return (out);
}
