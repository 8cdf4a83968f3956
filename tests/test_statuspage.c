/*
 * test_statuspage: the /targets page renderer. Escaping cases give a
 * string and its HTML; page cases give filters and the fragments the page
 * must and must not hold (a row of a filtered-out target, a raw <script>
 * from a label). A failure names the case and the fragment.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "statuspage.h"

#include "tap.h"

struct ecase {
	const char	*in;
	const char	*out;
};

static const struct ecase ecases[] = {
	{ "", "" },
	{ "plain job-1.x_y", "plain job-1.x_y" },
	{ "<script>alert(1)</script>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "a&b", "a&amp;b" },
	{ "&amp;", "&amp;amp;" },
	{ "\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;" },
	{ "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
	{ "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93" },
};

#define NOW	1700000100000LL

static const struct config_kv evil[] = {
	{ "note", "<script>alert(1)</script>" },
	{ "zone", "a\"b" },
};
static const struct config_kv plain[] = { { "pool", "rollout" } };

static const struct statuspage_target targets[] = {
	{ "static", "vllm", "127.0.0.1:8000", "http://127.0.0.1:8000/metrics",
	    "up", NOW - 2000, 0.0125, 1234, "", plain, 1 },
	{ "static", "vllm", "127.0.0.1:9", "http://127.0.0.1:9/metrics",
	    "down", NOW - 5000, 0.001, 0,
	    "Couldn't connect to server", NULL, 0 },
	{ "api", "sglang<b>", "10.0.0.1:30000",
	    "http://10.0.0.1:30000/metrics", "unknown", 0, 0, 0, NULL,
	    evil, 2 },
};

static const struct statuspage_endpoint endpoints[] = {
	{ "http://127.0.0.1:9/api/v1/write", "Couldn't connect to server",
	    4096, 300, NOW - 45000, 0, 900, 7 },
	{ "http://good/write", "", 0, 0, 0, 5000, 0, 0 },
	{ "http://big/write", "", 5u << 20, 1, NOW - 1500, 0, 0, 0 },
};

static const struct config_kv grouping[] = {
	{ "job", "batch" }, { "instance", "w<1>" } };

static const struct statuspage_push pushes[] = {
	{ grouping, 2, NOW - 10000, 300000 },
	{ grouping, 1, NOW - 1000, 0 },
};

struct pcase {
	const char	*name;
	const char	*health;
	const char	*job;
	const char	*want[16];
	const char	*unwanted[6];
};

static const struct pcase pcases[] = {
	{ "unfiltered", NULL, NULL, {
	    "<td class=\"health up\">up</td>",
	    "<td class=\"health down\">down</td>",
	    "<td class=\"health unknown\">unknown</td>",
	    "Couldn&#39;t connect to server",
	    "2s ago", "0.013s", ">1234<",
	    "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "zone=&quot;a&quot;b&quot;",
	    "sglang&lt;b&gt;",
	    "3 of 3 targets shown",
	    "href=\"/targets?job=sglang%3Cb%3E\"" },
	    { "<script", "sglang<b>", "<b>" } },
	{ "health filter", "down", "", {
	    "1 of 3 targets shown",
	    "127.0.0.1:9",
	    "class=\"on\">down (1)</a>",
	    ">all (3)</a>", ">up (1)</a>",
	    "<input type=\"hidden\" name=\"health\" value=\"down\">" },
	    { "up</td><td><a", "127.0.0.1:8000<" } },
	{ "job filter", NULL, "vllm", {
	    "2 of 3 targets shown",
	    "<option value=\"vllm\" selected>vllm</option>",
	    "<option value=\"sglang&lt;b&gt;\">",
	    "href=\"/targets?health=down&amp;job=vllm\"" },
	    { "10.0.0.1:30000" } },
	{ "nothing matches", "up", "sglang<b>", {
	    "0 of 3 targets shown", "No target matches." },
	    { "up</td><td><a" } },
	{ "hostile filter", "<x>", "\"><script>", {
	    "0 of 3 targets shown", "value=\"&lt;x&gt;\"" },
	    { "<script", "<x>" } },
	{ "endpoints and pushes", NULL, NULL, {
	    "<td class=\"health failing\">failing</td>",
	    "<td class=\"health up\">up</td><td class=\"num\">0 B",
	    "4.0 KiB", ">45s<", ">900<", ">7<",
	    "instance=&quot;w&lt;1&gt;&quot;",
	    "10s ago", ">5m<", ">4m50s<", ">none</td>",
	    "5.0 MiB", ">1s<" },
	    { NULL } },
};

/* Check every fragment of a page case. */
static void
check_page(const struct pcase *c)
{
	struct statuspage	 p;
	struct buf		 b;
	const char		*page;
	size_t			 i;

	memset(&p, 0, sizeof p);
	p.version = "1.2.3<";
	p.now_ms = NOW;
	p.targets = targets;
	p.ntargets = sizeof targets / sizeof targets[0];
	p.endpoints = endpoints;
	p.nendpoints = sizeof endpoints / sizeof endpoints[0];
	p.pushes = pushes;
	p.npushes = sizeof pushes / sizeof pushes[0];
	p.health = c->health;
	p.job = c->job;
	buf_init(&b);
	statuspage_render(&p, &b);
	buf_putc(&b, '\0');
	page = (const char *)b.data;
	ok(strncmp(page, "<!DOCTYPE html>", 15) == 0, "%s: doctype",
	    c->name);
	ok(strstr(page, "rwbridge 1.2.3&lt;</a>") != NULL, "%s: version",
	    c->name);
	ok(strstr(page, "src=") == NULL && strstr(page, "<link") == NULL &&
	    strstr(page, "<script") == NULL, "%s: no script, no asset",
	    c->name);
	for (i = 0; i < sizeof c->want / sizeof c->want[0] &&
	    c->want[i] != NULL; i++)
		ok(strstr(page, c->want[i]) != NULL, "%s: has %s", c->name,
		    c->want[i]);
	for (i = 0; i < sizeof c->unwanted / sizeof c->unwanted[0] &&
	    c->unwanted[i] != NULL; i++)
		ok(strstr(page, c->unwanted[i]) == NULL, "%s: no %s", c->name,
		    c->unwanted[i]);
	buf_free(&b);
}

/* Check the index page links every page. */
static void
check_index(void)
{
	static const char *const links[] = { "href=\"/targets\"",
	    "href=\"/metrics\"", "href=\"/api/v1/targets\"" };
	struct buf	b;
	size_t		i;

	buf_init(&b);
	statuspage_index("9.9", &b);
	buf_putc(&b, '\0');
	for (i = 0; i < sizeof links / sizeof links[0]; i++)
		ok(strstr((char *)b.data, links[i]) != NULL, "index: has %s",
		    links[i]);
	buf_free(&b);
}

int
main(void)
{
	struct buf	b;
	size_t		i;

	for (i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
		buf_init(&b);
		statuspage_escape(&b, ecases[i].in);
		buf_putc(&b, '\0');
		is_str((char *)b.data, ecases[i].out, "escape \"%s\"",
		    ecases[i].in);
		buf_free(&b);
	}
	for (i = 0; i < sizeof pcases / sizeof pcases[0]; i++)
		check_page(&pcases[i]);
	check_index();
	return (tap_done());
}
