#!/usr/bin/env python3
"""Evaluate contrib/rollout-cluster.rules.yml over a cluster's members (run
label MEMBERS) through Prometheus's query API and compare each rule's
output with one bridge's own fleet series (run label SINGLE): exit 0 when
every compared rule equals it, else 1; print the comparison.

usage: cluster_rules_check.py PROM RULES MEMBERS SINGLE
           [--only REGEX] [--require REGEX] [--time-tolerance SECONDS]

Counts (server counts, wave requests) must be equal exactly, other values
(ratios, quantiles, the slow-request estimate) to a relative 1e-9. Wave
times (start and end timestamps, duration, the elapsed time of the wave in
progress) come from each bridge's own scrapes of the same change, so they
may differ by up to --time-tolerance seconds (default 3: a scrape interval
of 1 s, twice, and slack for a loaded machine). Rules with no output at
either are fine, unless their name matches --require; with --only, only
rules whose name matches are compared. Rate and server-second rules depend
on when each bridge scraped and are left out, and so is the job of the
bridges' self-scrape (one server per member). NaN results (a window without
requests) count as absent, as rwbridge writes none."""
import argparse
import json
import math
import re
import sys
import urllib.parse
import urllib.request

import yaml

SKIP = ("rate_sum", "server_seconds_total")
EXACT = re.compile(r"(:count|_count|:sum|:wave_requests)$")
HOLD = re.compile(r'\s*or \(last_over_time\(.*\Z', re.S)
TIMES = re.compile(r"wave_(start|end)_timestamp_seconds|wave_duration|"
                   r"wave_elapsed")


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


def members_expr(expr, members):
    """The rule's expression over the members of run MEMBERS only, without
    the hold of the rule's own last output (or (last_over_time(...) ...),
    its last clause), which here would select one bridge's series."""
    e = HOLD.sub("", expr)
    if 'member=""' in e:
        sys.exit("%s: cannot compare a rule reading its own output" % expr)
    e = e.replace('member!=""',
                     'member!="",run="%s",job="rollout"' % members)
    return e.replace("without (member)", "without (member, bridge, run)")


def compare(rec, got, want, tol_time):
    """(good, worst difference, kind) of a rule's output against one
    bridge's series."""
    worst = 0.0
    timed = TIMES.search(rec) is not None
    for k in set(got) & set(want):
        a, b = got[k], want[k]
        if a == b:
            continue
        d = abs(a - b) if timed else abs(a - b) / max(abs(a), abs(b))
        worst = max(worst, d)
    if timed:
        return worst <= tol_time, worst, "absolute, s"
    # ratio_sum is a sum of ratios; slow_requests an interpolated estimate.
    exact = EXACT.search(rec) is not None and "ratio_sum" not in rec and \
        "slow_requests" not in rec
    return (worst == 0 if exact else worst <= 1e-9), worst, \
        "exact" if exact else "relative"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prom")
    ap.add_argument("rules")
    ap.add_argument("members")
    ap.add_argument("single")
    ap.add_argument("--only", type=re.compile)
    ap.add_argument("--require", type=re.compile)
    ap.add_argument("--time-tolerance", type=float, default=3.0)
    args = ap.parse_args()
    doc = yaml.safe_load(open(args.rules))
    ok, lines = True, []
    for g in doc["groups"]:
        for r in g["rules"]:
            rec = r["record"]
            if any(s in rec for s in SKIP):
                continue
            if args.only and not args.only.search(rec):
                continue
            got = query(args.prom, members_expr(r["expr"], args.members))
            want = query(args.prom, '%s{run="%s",job="rollout",instance=""}'
                         % (rec, args.single))
            if not want and not got:
                needed = args.require and args.require.search(rec)
                ok = ok and not needed
                lines.append("%s: none at either%s" % (
                    rec, " (REQUIRED)" if needed else ""))
                continue
            same = set(got) == set(want)
            good, worst, kind = compare(rec, got, want, args.time_tolerance)
            good = good and same
            ok = ok and good
            lines.append("%s: %s (%d series, worst %s difference %g%s)"
                         % (rec, "equal" if good else "DIFFERENT", len(want),
                            kind, worst, "" if same else ", label sets "
                            "differ: got %s want %s" % (sorted(got),
                                                        sorted(want))))
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
