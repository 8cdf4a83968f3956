/*
 * rwbridge: the daemon's context, passed to every callback. It owns the
 * event base, the shared curl multi handle, the targets, the remote-write
 * senders, the derivations and the HTTP listener. Nothing is global.
 */
#ifndef RWBRIDGE_RWBRIDGE_H
#define RWBRIDGE_RWBRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "config.h"
#include "derive.h"
#include "httpc.h"
#include "ingest.h"
#include "stats.h"

struct sender;
struct target;
struct targets;
struct httpd;
struct filesd;
struct pushgw;
struct pushrecv;

/*
 * Page buffers are lent to a target for one scrape and then kept here for
 * the next scrape of any target, so memory holds the pages of the scrapes
 * in flight, not one page per target.
 */
#define RWBRIDGE_SPARE_BODIES	16

struct rwbridge {
	struct event_base	*base;
	struct config		*cfg;
	struct httpc		*httpc;
	struct targets		*targets;
	struct sender		**senders;
	size_t			 nsenders;
	struct derive		*derive;
	struct ingest		 fleet;		/* fleet-wide derived series */
	struct ingest_out	 out;		/* reused for every scrape */
	struct buf		 text;		/* derived series for pushgw */
	struct buf		 spare[RWBRIDGE_SPARE_BODIES]; /* page buffers */
	size_t			 nspare;
	struct httpd		*httpd;
	struct filesd		*filesd;
	struct pushgw		*pushgw;
	struct pushrecv		*pushrecv;
	struct event		 fleet_timer;
	struct event		 sync_timer;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		 shutdown_timer;
	bool			 ready;
	bool			 stopping;
	int64_t			 start_ms;
	int64_t			 stop_ms;
	struct rw_stats		 st;
};

int	 rwbridge_run(struct config *);
/* Hand the records in rw->out to every sink, then reset it. */
void	 rwbridge_dispatch(struct rwbridge *);
/* The wall clock in milliseconds since the epoch. */
int64_t	 rwbridge_now_ms(void);

#endif
