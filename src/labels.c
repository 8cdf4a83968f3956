/*
 * labels: the label set of one series, built label by label from a scraped
 * sample and finished with the target's labels. Names and values are copied
 * into one scratch buffer; while the set is being built, entries hold offsets
 * into it (the buffer may move as it grows) and labels_finish turns them into
 * pointers once nothing more is appended. The arrays and the scratch buffer
 * only grow, so a labels value reused for every new series stops allocating
 * once it has seen the largest set.
 *
 * Clashes follow Prometheus's scrape loop with honor_labels false
 * (mutateSampleLabels and resolveConflictingExposedLabels): the target's
 * label wins and the scraped one is renamed exported_<name>, with another
 * exported_ prefix for as long as the new name is taken. Clashing labels are
 * renamed shortest name first. A target label with an empty value is treated
 * as absent, as Prometheus drops such labels from a target: it neither adds
 * a label nor renames the scraped one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "xmalloc.h"

#define LABELS_EXPORTED		"exported_"
#define LABELS_EXPORTED_LEN	(sizeof LABELS_EXPORTED - 1)

/* Start empty; nothing is allocated until the first add. */
void
labels_init(struct labels *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
	l->off = NULL;
	buf_init(&l->scratch);
}

/* Release the memory. */
void
labels_free(struct labels *l)
{
	if (l == NULL)
		return;
	free(l->v);
	free(l->off);
	buf_free(&l->scratch);
	labels_init(l);
}

/* Forget the labels, keep the memory. */
void
labels_reset(struct labels *l)
{
	l->n = 0;
	buf_reset(&l->scratch);
}

/* Make room for n labels in all. */
static void
labels_grow(struct labels *l, size_t n)
{
	size_t	cap;

	if (n <= l->cap)
		return;
	cap = l->cap == 0 ? 16 : l->cap;
	while (cap < n)
		cap *= 2;
	l->v = xreallocarray(l->v, cap, sizeof *l->v);
	l->off = xreallocarray(l->off, cap, 2 * sizeof *l->off);
	l->cap = cap;
}

/* Copy p into the scratch buffer and return its offset. */
static size_t
labels_copy(struct labels *l, const char *p, size_t len)
{
	size_t	off = l->scratch.len;

	buf_append(&l->scratch, p, len);
	return (off);
}

/* Return the name of label i while the set holds offsets. */
static const char *
labels_name(const struct labels *l, size_t i)
{
	return ((const char *)l->scratch.data + l->off[2 * i]);
}

/* Return the value of label i while the set holds offsets. */
static const char *
labels_value(const struct labels *l, size_t i)
{
	return ((const char *)l->scratch.data + l->off[2 * i + 1]);
}

/* Compare two names in byte order, a prefix first. */
static int
labels_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return (c);
	if (alen != blen)
		return (alen < blen ? -1 : 1);
	return (0);
}

/* Return the index of the first of labels [0, n) called name, or -1. */
static long
labels_find(const struct labels *l, size_t n, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (l->v[i].name_len == len &&
		    memcmp(labels_name(l, i), name, len) == 0)
			return ((long)i);
	}
	return (-1);
}

/* Sort labels [0, n) by name; insertion sort, as sets are small. */
static void
labels_sort(struct labels *l, size_t n)
{
	struct label	 t;
	const char	*tn;
	size_t		 i, j, no, vo;

	for (i = 1; i < n; i++) {
		t = l->v[i];
		no = l->off[2 * i];
		vo = l->off[2 * i + 1];
		tn = (const char *)l->scratch.data + no;
		for (j = i; j > 0; j--) {
			if (labels_cmp(labels_name(l, j - 1),
			    l->v[j - 1].name_len, tn, t.name_len) <= 0)
				break;
			l->v[j] = l->v[j - 1];
			l->off[2 * j] = l->off[2 * (j - 1)];
			l->off[2 * j + 1] = l->off[2 * (j - 1) + 1];
		}
		l->v[j] = t;
		l->off[2 * j] = no;
		l->off[2 * j + 1] = vo;
	}
}

/* Fail if two of the sorted labels [0, n) share a name. */
static bool
labels_check_dups(const struct labels *l, size_t n, char *err, size_t errlen)
{
	size_t	i;

	for (i = 1; i < n; i++) {
		if (l->v[i].name_len != l->v[i - 1].name_len ||
		    memcmp(labels_name(l, i), labels_name(l, i - 1),
		    l->v[i].name_len) != 0)
			continue;
		snprintf(err, errlen, "duplicate label name \"%.*s\"",
		    l->v[i].name_len > 128 ? 128 : (int)l->v[i].name_len,
		    labels_name(l, i));
		return (false);
	}
	return (true);
}

/* Add one label; name and value are copied. */
void
labels_add(struct labels *l, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	labels_grow(l, l->n + 1);
	/* At least one byte, so that scratch.data is never NULL. */
	buf_reserve(&l->scratch, name_len + value_len + 1);
	l->off[2 * l->n] = labels_copy(l, name, name_len);
	l->off[2 * l->n + 1] = labels_copy(l, value, value_len);
	l->v[l->n].name = NULL;
	l->v[l->n].name_len = name_len;
	l->v[l->n].value = NULL;
	l->v[l->n].value_len = value_len;
	l->n++;
}

/*
 * Rename label i to exported_<name>, adding prefixes until the name is free
 * among labels [0, n). Each candidate is appended to the scratch buffer; the
 * ones that lose are a few bytes of garbage until the next reset.
 */
static void
labels_rename(struct labels *l, size_t i, size_t n)
{
	size_t	cur, len, next;

	cur = l->off[2 * i];
	len = l->v[i].name_len;
	for (;;) {
		buf_reserve(&l->scratch, LABELS_EXPORTED_LEN + len);
		next = labels_copy(l, LABELS_EXPORTED, LABELS_EXPORTED_LEN);
		buf_append(&l->scratch, l->scratch.data + cur, len);
		cur = next;
		len += LABELS_EXPORTED_LEN;
		if (labels_find(l, n, (const char *)l->scratch.data + cur,
		    len) == -1)
			break;
	}
	l->off[2 * i] = cur;
	l->v[i].name_len = len;
}

/*
 * Add the target's labels, renaming clashing scraped labels to exported_*,
 * then drop empty values, sort by name and check for duplicates. On failure
 * the set is left empty, so a stray labels_get finds nothing.
 */
bool
labels_finish(struct labels *l, const struct label *tl, size_t ntl, char *err,
    size_t errlen)
{
	size_t	 i, j, n, ns, nc, c;
	size_t	*conf;

	/* Drop the scraped labels with empty values. */
	for (i = n = 0; i < l->n; i++) {
		if (l->v[i].value_len == 0)
			continue;
		l->v[n] = l->v[i];
		l->off[2 * n] = l->off[2 * i];
		l->off[2 * n + 1] = l->off[2 * i + 1];
		n++;
	}
	ns = l->n = n;
	labels_sort(l, ns);
	if (!labels_check_dups(l, ns, err, errlen))
		goto fail;

	/*
	 * The clashing scraped labels are listed in the spare end of off,
	 * which labels_grow sizes for it: ns + ntl labels use 2 * (ns + ntl)
	 * slots and the list needs at most ntl more (the + 1 keeps off
	 * allocated when both are 0).
	 */
	labels_grow(l, ns + 2 * ntl + 1);
	conf = l->off + 2 * (ns + ntl);
	nc = 0;
	for (i = 0; i < ns; i++) {
		for (j = 0; j < ntl; j++) {
			if (tl[j].value_len != 0 &&
			    tl[j].name_len == l->v[i].name_len &&
			    memcmp(tl[j].name, labels_name(l, i),
			    tl[j].name_len) == 0)
				break;
		}
		if (j == ntl)
			continue;
		/* Keep the list ordered by name length, stable. */
		for (c = nc; c > 0; c--) {
			if (l->v[conf[c - 1]].name_len <= l->v[i].name_len)
				break;
			conf[c] = conf[c - 1];
		}
		conf[c] = i;
		nc++;
	}

	/* The target's labels take their names... */
	for (i = 0; i < ntl; i++) {
		if (tl[i].value_len == 0)
			continue;
		n = l->n;
		l->off[2 * n] = labels_copy(l, tl[i].name, tl[i].name_len);
		l->off[2 * n + 1] = labels_copy(l, tl[i].value,
		    tl[i].value_len);
		l->v[n].name_len = tl[i].name_len;
		l->v[n].value_len = tl[i].value_len;
		l->n++;
	}
	/* ...and the scraped ones move aside. */
	for (c = 0; c < nc; c++)
		labels_rename(l, conf[c], l->n);

	labels_sort(l, l->n);
	if (!labels_check_dups(l, l->n, err, errlen))
		goto fail;
	for (i = 0; i < l->n; i++) {
		l->v[i].name = labels_name(l, i);
		l->v[i].value = labels_value(l, i);
	}
	return (true);

fail:
	l->n = 0;
	return (false);
}

/* Find a label's value by name; NULL if absent. Valid after finish. */
const struct label *
labels_get(const struct labels *l, const char *name)
{
	size_t	i, len;

	len = strlen(name);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].name_len == len &&
		    memcmp(l->v[i].name, name, len) == 0)
			return (&l->v[i]);
	}
	return (NULL);
}

/* Tell whether s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*). */
bool
label_name_valid(const char *s, size_t len)
{
	size_t	i;
	char	c;

	if (len == 0)
		return (false);
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_')
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return (false);
	}
	return (true);
}

/* Tell whether s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool
metric_name_valid(const char *s, size_t len)
{
	size_t	i;
	char	c;

	if (len == 0)
		return (false);
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c == ':')
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return (false);
	}
	return (true);
}
