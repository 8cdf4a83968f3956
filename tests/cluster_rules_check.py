#!/usr/bin/env python3
"""Evaluate contrib/rollout-cluster.rules.yml over a cluster's members (run
label MEMBERS) through Prometheus's query API and compare each rule's
output with one bridge's own fleet series (run label SINGLE): exit 0 when
every compared rule has output and equals it (counts and gauges exactly,
quantiles and sums to a relative 1e-9), else 1; print the comparison.
Rate and server-second rules depend on when each bridge scraped and are
left out, and so is the job of the bridges' self-scrape (one server per
member). NaN results (a window without requests) count as absent, as
rwbridge writes none."""
import json
import math
import sys
import urllib.parse
import urllib.request

import yaml

SKIP = ("rate_sum", "server_seconds_total")


def query(prom, q):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    out = {}
    for s in doc["data"]["result"]:
        key = tuple(sorted((k, v) for k, v in s["metric"].items()
                           if k not in ("__name__", "run", "bridge")))
        v = float(s["value"][1])
        if not math.isnan(v):  # rwbridge writes none; PromQL may
            out[key] = v
    return out


def main():
    prom, rules, members, single = sys.argv[1:5]
    doc = yaml.safe_load(open(rules))
    ok, lines = True, []
    for g in doc["groups"]:
        for r in g["rules"]:
            rec, expr = r["record"], r["expr"]
            if any(s in rec for s in SKIP):
                continue
            e = expr.replace('{member!=""}',
                             '{member!="",run="%s",job="rollout"}' % members)
            e = e.replace("without (member)", "without (member, bridge, run)")
            got = query(prom, e)
            want = query(prom, '%s{run="%s",job="rollout",instance=""}'
                         % (rec, single))
            if not want and not got:
                lines.append("%s: none at either" % rec)
                continue
            same = set(got) == set(want)
            worst = 0.0
            for k in set(got) & set(want):
                a, b = got[k], want[k]
                if math.isnan(a) and math.isnan(b) or a == b:
                    continue
                d = abs(a - b) / max(abs(a), abs(b))
                worst = max(worst, d)
            exact = rec.endswith((":count", "_count", ":sum")) and \
                "ratio_sum" not in rec
            good = same and (worst == 0 if exact else worst <= 1e-9)
            ok = ok and good
            lines.append("%s: %s (%d series, worst relative difference %g%s)"
                         % (rec, "equal" if good else "DIFFERENT", len(want),
                            worst, "" if same else ", label sets differ: "
                            "got %s want %s" % (sorted(got), sorted(want))))
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
