/*
 * Unit tests for targetrelabel: what relabel_configs see of a target
 * (__address__, __scheme__, __metrics_path__, __param_*, the scrape
 * interval and timeout, job, group labels) and the target they leave: its
 * URL, job, labels, interval, or dropped. Rules use ' for ".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "targetrelabel.h"

struct tcase {
	const char	*name;
	const char	*rules;
	const char	*url;
	const char	*want;	/* "url job labels interval", DROP or ERR:.. */
};

static const struct tcase cases[] = {
	{ "no rules", "[]", "http://h:1/metrics",
	    "http://h:1/metrics j a=1,instance=h:1 15000" },
	{ "drop by address", "[{'source_labels':['__address__'],"
	    "'regex':'h:.*','action':'drop'}]", "http://h:1/metrics", "DROP" },
	{ "keep by a group label", "[{'source_labels':['a'],'regex':'1',"
	    "'action':'keep'}]", "http://h:1/metrics",
	    "http://h:1/metrics j a=1,instance=h:1 15000" },
	{ "shard by hashmod: 10.0.0.7 is shard 0",
	    "[{'source_labels':['__address__'],'modulus':2,"
	    "'target_label':'__tmp_shard','action':'hashmod'},"
	    "{'source_labels':['__tmp_shard'],'regex':'0','action':'keep'}]",
	    "http://10.0.0.7:8000/metrics",
	    "http://10.0.0.7:8000/metrics j a=1,instance=10.0.0.7:8000 15000" },
	{ "shard by hashmod: 10.0.0.5 is shard 1",
	    "[{'source_labels':['__address__'],'modulus':2,"
	    "'target_label':'__tmp_shard','action':'hashmod'},"
	    "{'source_labels':['__tmp_shard'],'regex':'0','action':'keep'}]",
	    "http://10.0.0.5:8000/metrics", "DROP" },
	{ "rewrite the address; instance follows",
	    "[{'source_labels':['__address__'],'regex':'(.*):1',"
	    "'target_label':'__address__','replacement':'${1}:2'}]",
	    "http://h:1/metrics",
	    "http://h:2/metrics j a=1,instance=h:2 15000" },
	{ "metrics path, scheme and a param",
	    "[{'target_label':'__metrics_path__','replacement':'/probe'},"
	    "{'target_label':'__scheme__','replacement':'https'},"
	    "{'target_label':'__param_format','replacement':'text plain'}]",
	    "http://h:1/metrics",
	    "https://h:1/probe?format=text%20plain j a=1,instance=h:1 15000" },
	{ "params of the URL are seen, decoded",
	    "[{'source_labels':['__param_target'],'target_label':'probed'}]",
	    "http://h:1/probe?target=a%20b&module=http",
	    "http://h:1/probe?module=http&target=a%20b j a=1,probed=a b,"
	    "instance=h:1 15000" },
	{ "instance set by a rule is kept",
	    "[{'target_label':'instance','replacement':'server-1'}]",
	    "http://h:1/metrics",
	    "http://h:1/metrics j a=1,instance=server-1 15000" },
	{ "job from a rule",
	    "[{'source_labels':['a'],'target_label':'job',"
	    "'replacement':'job$1'}]", "http://h:1/metrics",
	    "http://h:1/metrics job1 a=1,instance=h:1 15000" },
	{ "interval from a rule",
	    "[{'target_label':'__scrape_interval__','replacement':'5s'},"
	    "{'target_label':'__scrape_timeout__','replacement':'2s'}]",
	    "http://h:1/metrics",
	    "http://h:1/metrics j a=1,instance=h:1 5000" },
	{ "the interval is seen as Prometheus formats it",
	    "[{'source_labels':['__scrape_interval__','__scrape_timeout__'],"
	    "'target_label':'iv'}]", "http://h:1/metrics",
	    "http://h:1/metrics j a=1,iv=15s;10s,instance=h:1 15000" },
	{ "labels starting with __ are not the target's",
	    "[{'target_label':'__tmp_x','replacement':'y'}]",
	    "http://h:1/metrics",
	    "http://h:1/metrics j a=1,instance=h:1 15000" },
	{ "an address without a port gets the scheme's",
	    "[{'target_label':'__address__','replacement':'h'}]",
	    "http://h:1/metrics",
	    "http://h:80/metrics j a=1,instance=h:80 15000" },
	{ "no address is an error",
	    "[{'regex':'__address__','action':'labeldrop'}]",
	    "http://h:1/metrics", "ERR:no address" },
	{ "a bad interval is an error",
	    "[{'target_label':'__scrape_interval__','replacement':'soon'}]",
	    "http://h:1/metrics", "ERR:invalid scrape interval \"soon\"" },
	{ "a bad scheme is an error",
	    "[{'target_label':'__scheme__','replacement':'ftp'}]",
	    "http://h:1/metrics", "ERR:invalid scheme \"ftp\"" },
};

/* Render a result as the table writes it. */
static void
render(int rc, const struct target_relabeled *t, const char *err, char *out,
    size_t len)
{
	size_t	i, n;

	if (rc == 0) {
		snprintf(out, len, "DROP");
		return;
	}
	if (rc < 0) {
		snprintf(out, len, "ERR:%s", err);
		return;
	}
	n = (size_t)snprintf(out, len, "%s %s ", t->url, t->job);
	for (i = 0; i < t->nlabels && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s=%s",
		    i > 0 ? "," : "", t->labels[i].name, t->labels[i].value);
	if (n < len)
		snprintf(out + n, len - n, " %lld", (long long)t->interval_ms);
}

int
main(void)
{
	static const struct config_kv	 group[] = { { "a", "1" } };
	struct target_relabeled		 t;
	struct relabel			*rl;
	size_t				 i;
	char				*js, *p, err[256], got[512];
	int				 rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		js = strdup(cases[i].rules);
		for (p = js; *p != '\0'; p++)
			if (*p == '\'')
				*p = '"';
		rl = relabel_parse_text(js, "$", err, sizeof err);
		free(js);
		if (!ok(rl != NULL, "%s: rules compile", cases[i].name))
			continue;
		err[0] = '\0';
		rc = target_relabel(rl, cases[i].url, "j", group, 1, 15000,
		    10000, &t, err, sizeof err);
		render(rc, &t, err, got, sizeof got);
		is_str(got, cases[i].want, "%s", cases[i].name);
		ok(t.discovered != NULL && strstr(t.discovered,
		    "\"__address__\":\"") != NULL && strstr(t.discovered,
		    "\"a\":\"1\"") != NULL, "%s: the labels before are kept, "
		    "as JSON (%s)", cases[i].name, t.discovered);
		target_relabeled_free(&t);
		relabel_free(rl);
	}
	return (tap_done());
}
