/*
 * pipeline: the records of every producer go through here on their way to
 * the sinks. One output buffer is reused for every scrape, push and fleet
 * round; pipeline_dispatch copies its records into each remote-write sender
 * (which batches, queues and sends them) and resets it. A successful page
 * also goes to the Pushgateway sink, with the derived series that ingest
 * rendered as text into the same output. Page buffers are lent to a scrape
 * and kept here afterwards, so memory holds the pages of the scrapes in
 * flight, not one page per target.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "pipeline.h"
#include "sender.h"
#include "writerelabel.h"
#include "xmalloc.h"

#define PIPELINE_SPARE_BODIES	16
#define PIPELINE_SPARE_MAX_CAP	(8u << 20)	/* larger pages are freed */

struct pipeline {
	struct ingest_out	 out;
	struct buf		 text;		/* derived series for pushgw */
	struct sender		**senders;
	/* Per sender: external labels and write_relabel_configs, or NULL. */
	struct writerelabel	**wr;
	struct ingest_out	 wout;		/* what one sender gets */
	size_t			 nsenders;
	struct pushgw		*pushgw;
	struct buf		 spare[PIPELINE_SPARE_BODIES];
	size_t			 nspare;
	struct pipeline_stats	 st;
};

/* Write a name as [A-Za-z0-9._-] (others as '_') into dst. */
static void
pipeline_safe_name(char *dst, size_t dstlen, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && name[i] != '\0' && i + 1 < dstlen; i++) {
		if (isalnum((unsigned char)name[i]) || name[i] == '.' ||
		    name[i] == '-' || name[i] == '_')
			dst[i] = name[i];
		else
			dst[i] = '_';
	}
	dst[i] = '\0';
}

/* Create one sender per remote-write endpoint. */
static int
pipeline_start_senders(struct pipeline *p, struct event_base *evbase,
    struct httpc *httpc, const struct config *cfg, char *err, size_t errlen)
{
	char	*dir = NULL, safe[64], why[512];
	size_t	 i;

	p->senders = xcalloc(cfg->nremote_writes + 1, sizeof *p->senders);
	p->wr = xcalloc(cfg->nremote_writes + 1, sizeof *p->wr);
	for (i = 0; i < cfg->nremote_writes; i++) {
		if (cfg->queue_dir != NULL) {
			pipeline_safe_name(safe, sizeof safe,
			    cfg->remote_writes[i].name);
			xasprintf(&dir, "%s/%zu-%s", cfg->queue_dir, i, safe);
		}
		p->senders[i] = sender_new(evbase, httpc,
		    &cfg->remote_writes[i], dir, why, sizeof why);
		free(dir);
		dir = NULL;
		if (p->senders[i] == NULL) {
			snprintf(err, errlen, "cannot start remote write: "
			    "remote=%s: %s", cfg->remote_writes[i].url, why);
			return (-1);
		}
		p->wr[i] = writerelabel_new(cfg->external_labels,
		    cfg->nexternal_labels, cfg->remote_writes[i].write_relabel);
		p->nsenders++;
	}
	return (0);
}

/* Create the sinks the config asks for. */
struct pipeline *
pipeline_new(struct event_base *evbase, struct httpc *httpc,
    const struct config *cfg, char *err, size_t errlen)
{
	struct pipeline	*p;
	char		 why[512];

	p = xcalloc(1, sizeof *p);
	ingest_out_init(&p->out);
	ingest_out_init(&p->wout);
	buf_init(&p->text);
	if (pipeline_start_senders(p, evbase, httpc, cfg, err, errlen) != 0)
		goto fail;
	if (cfg->pushgateway.url != NULL) {
		p->pushgw = pushgw_new(evbase, httpc, &cfg->pushgateway, why,
		    sizeof why);
		if (p->pushgw == NULL) {
			snprintf(err, errlen, "cannot start the Pushgateway "
			    "sink: %s", why);
			goto fail;
		}
		p->out.text = &p->text;
	}
	return (p);

fail:
	pipeline_free(p);
	return (NULL);
}

/* Log a remote-write endpoint's lifetime figures at exit. */
static void
pipeline_log_totals(struct sender *s)
{
	struct sender_stats	st;

	sender_get_stats(s, &st);
	log_info("remote write totals", "remote=%s samples_in=%" PRIu64
	    " samples_sent=%" PRIu64 " dropped_queue_full=%" PRIu64
	    " dropped_4xx=%" PRIu64 " dropped_io=%" PRIu64 " pending=%" PRIu64,
	    sender_name(s), st.samples_in, st.samples_sent,
	    st.samples_dropped_queue_full, st.samples_dropped_4xx,
	    st.samples_dropped_io, st.samples_pending);
}

/* Free the sinks after a last flush, and every buffer. */
void
pipeline_free(struct pipeline *p)
{
	size_t	i;

	if (p == NULL)
		return;
	pushgw_free(p->pushgw);
	for (i = 0; i < p->nsenders; i++) {
		sender_flush(p->senders[i]);
		pipeline_log_totals(p->senders[i]);
		sender_free(p->senders[i]);
	}
	for (i = 0; p->wr != NULL && i < p->nsenders; i++)
		writerelabel_free(p->wr[i]);
	free(p->wr);
	free(p->senders);
	ingest_out_free(&p->out);
	ingest_out_free(&p->wout);
	buf_free(&p->text);
	while (p->nspare > 0)
		buf_free(&p->spare[--p->nspare]);
	free(p);
}

/* The records producers append to. */
struct ingest_out *
pipeline_out(struct pipeline *p)
{
	return (&p->out);
}

/* Hand the records to every sender, then reset. */
void
pipeline_dispatch(struct pipeline *p)
{
	size_t	i;

	buf_reset(&p->text);
	if (p->out.n == 0 && p->out.nmeta == 0)
		return;
	for (i = 0; i < p->nsenders; i++) {
		if (p->wr[i] == NULL) {
			sender_add(p->senders[i], &p->out);
			continue;
		}
		writerelabel_apply(p->wr[i], &p->out, &p->wout,
		    clock_now_ms());
		sender_add(p->senders[i], &p->wout);
	}
	ingest_out_reset(&p->out);
}

/* Tell whether a Pushgateway sink wants pages. */
bool
pipeline_wants_pages(const struct pipeline *p)
{
	return (p->pushgw != NULL);
}

/* Hand a page and its derived text to the Pushgateway sink. */
void
pipeline_page(struct pipeline *p, const struct pushgw_source *src,
    const char *body, size_t len, enum pt_format fmt)
{
	if (p->pushgw == NULL)
		return;
	pushgw_page(p->pushgw, src, body, len, fmt, &p->text);
	buf_reset(&p->text);
}

/* A source went away. */
void
pipeline_removed(struct pipeline *p, const struct pushgw_source *src)
{
	pushgw_removed(p->pushgw, src);
}

/* Lend a page buffer. */
void
pipeline_body_take(struct pipeline *p, struct buf *b)
{
	if (b->cap == 0 && p->nspare > 0)
		*b = p->spare[--p->nspare];
	buf_reset(b);
}

/* Keep a page buffer for the next scrape, or free it. */
void
pipeline_body_give(struct pipeline *p, struct buf *b)
{
	if (p->nspare < PIPELINE_SPARE_BODIES && b->cap > 0 &&
	    b->cap <= PIPELINE_SPARE_MAX_CAP)
		p->spare[p->nspare++] = *b;
	else
		buf_free(b);
	buf_init(b);
}

/* The pipeline counters. */
struct pipeline_stats *
pipeline_stats(struct pipeline *p)
{
	return (&p->st);
}

/* Pushgateway pushes by result. */
void
pipeline_pushgw_counts(const struct pipeline *p, uint64_t *ok,
    uint64_t *failed)
{
	pushgw_counts(p->pushgw, ok, failed);
}

/* The number of remote-write senders. */
size_t
pipeline_nsenders(const struct pipeline *p)
{
	return (p->nsenders);
}

/* One remote-write sender. */
struct sender *
pipeline_sender(const struct pipeline *p, size_t i)
{
	return (p->senders[i]);
}

/* Samples sender i's write_relabel_configs dropped. */
uint64_t
pipeline_write_dropped(const struct pipeline *p, size_t i)
{
	return (p->wr[i] != NULL ? writerelabel_dropped(p->wr[i]) : 0);
}

/* Flush partial batches and pending pushes now. */
void
pipeline_flush(struct pipeline *p)
{
	size_t	i;

	for (i = 0; i < p->nsenders; i++)
		sender_flush(p->senders[i]);
	pushgw_flush(p->pushgw);
}

/* Write queued data to disk. */
void
pipeline_sync(struct pipeline *p)
{
	size_t	i;

	for (i = 0; i < p->nsenders; i++)
		sender_sync(p->senders[i]);
}

/* Tell whether no sink has anything queued or in flight. */
bool
pipeline_idle(const struct pipeline *p)
{
	size_t	i;

	for (i = 0; i < p->nsenders; i++) {
		if (!sender_idle(p->senders[i]))
			return (false);
	}
	return (pushgw_idle(p->pushgw));
}
