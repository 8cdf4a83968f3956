/*
 * apigroup: put an API group (a request's or the state file's parsed
 * entries) into the registry with its scrape contract in force: unset
 * limits take the global ones, each entry's relabel_configs decide its
 * targets (those relabeled to nothing are listed as dropped, each with its
 * entry and address as registered), and every target keeps its address as
 * given: the state file saves both, so a restart restores the group whole.
 */
#ifndef RWBRIDGE_APIGROUP_H
#define RWBRIDGE_APIGROUP_H

#include <stdbool.h>

#include "config.h"
#include "targets.h"
#include "tspec.h"

/* Replace the group with g's specs (replace) or add them to it. */
void	 apigroup_register(struct targets *, const struct config *,
	     const char *, struct tspec_group *, bool);

#endif
