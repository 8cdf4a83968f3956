#!/usr/bin/env python3
"""Check rwbridge's rollout insight series in Prometheus against the truth.

usage: insight_check.py --prom URL --truth FILE --base-port P --servers N
                        --at T

Used by tests/test_insight.sh after a mixed rwbridge-sim fleet (server i
has flavour i mod 4: vLLM v1, vLLM v0, SGLang, vLLM-Ascend) ran through
rwbridge into Prometheus. Prints one line per check, "PASS|what" or
"FAIL|what", and "#|note" lines; the shell turns them into TAP. T is the
newest fleet evaluation to look at (unix seconds).

Standard library only.
"""
import argparse
import json
import math
import sys
import urllib.parse
import urllib.request

from promquant import histogram_quantile

W = 30.0        # the short window, as in the test's config
LONG = "10m"

# Bucket bounds of the simulator's response-length histograms.
VLLM_TOKENS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
               20000, 50000, 100000]
SGL_TOKENS = [100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000,
              7000, 8000, 9000, 10000, 12000, 15000, 20000, 22000, 25000,
              30000, 35000, 40000, 66000, 99000, 132000, 300000, 600000,
              900000, 1100000]

ARGS = None


def say(ok, what):
    print("%s|%s" % ("PASS" if ok else "FAIL", what))


def note(what):
    print("#|%s" % what)


def query(q, at=None):
    """An instant query's result list."""
    params = {"query": q}
    if at is not None:
        params["time"] = "%.3f" % at
    url = ARGS.prom + "/api/v1/query?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError("query %s: %s" % (q, body))
    return body["data"]["result"]


def raw(sel, rng="15m", at=None):
    """Raw samples of a selector: [(labels, [(ts, value), ...]), ...]."""
    out = []
    for r in query("%s[%s]" % (sel, rng), at if at is not None else ARGS.at):
        out.append((r["metric"],
                    [(float(t), float(v)) for t, v in r["values"]]))
    return out


def last_sample(sel):
    """The newest raw sample (ts, value) of a selector, or None."""
    best = None
    for _, vals in raw(sel):
        if vals and (best is None or vals[-1][0] > best[0]):
            best = vals[-1]
    return best


def server_sample(name, i, window="30s"):
    """The newest sample of a server's windowed series; a failed check
    and None when there is none."""
    s = last_sample('%s{instance="%s",window="%s"}' % (name, inst(i), window))
    if s is None:
        say(False, "%s server %d: has samples" % (name, i))
    return s


def inst(i):
    return "127.0.0.1:%d" % (ARGS.base_port + i)


def close(a, b, tol):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-12)


def increase(sel, end, w=W, by=None):
    """The increase rwbridge sums over window w ending at end: per series,
    the steps between consecutive samples from the first at or after
    end - w, a decrease counting from 0. Grouped by label `by` if given."""
    total = {}
    for metric, vals in raw(sel, "%ds" % (w + 5), end):
        vals = [(t, v) for t, v in vals if t >= end - w - 1e-6]
        inc = sum(b - a if b >= a else b
                  for (_, a), (_, b) in zip(vals, vals[1:]))
        key = metric.get(by) if by else None
        total[key] = total.get(key, 0.0) + inc
    return total


def span(sel, end, w=W):
    """Seconds between the first and last sample in the window."""
    best = 0.0
    for _, vals in raw(sel, "%ds" % (w + 5), end):
        vals = [t for t, _ in vals if t >= end - w - 1e-6]
        if len(vals) > 1:
            best = max(best, vals[-1] - vals[0])
    return best


def bucket_increase(family, selector, end, w=W):
    """Cumulative bucket increases by le, summed over label sets."""
    return increase('%s_bucket{%s}' % (family, selector), end, w, by="le")


def max_bucket(buckets):
    b = sorted((float(le), c) for le, c in buckets.items())
    for i in range(len(b) - 1, -1, -1):
        if b[i][1] - (b[i - 1][1] if i > 0 else 0) > 0:
            return b[i][0]
    return None


def truth_rows():
    rows = []
    with open(ARGS.truth) as f:
        for line in f:
            if line.endswith("\n"):
                rows.append(json.loads(line))
    return rows


def nearest_rank(vals, q):
    vals = sorted(vals)
    return vals[max(0, math.ceil(q * len(vals)) - 1)] if vals else None


def bucket_index(v, bounds):
    return next((i for i, u in enumerate(bounds) if v <= u), len(bounds))


def check_waves(rows, epoch):
    """Every wave rwbridge finished against the simulator's."""
    totals = raw('rollout:waves_total{job="rollout"}')
    if not totals:
        say(False, "waves: rollout:waves_total exists")
        return []
    vals = totals[0][1]
    ends = []
    for (t0, v0), (t1, v1) in zip(vals, vals[1:]):
        if v1 > v0:
            ends.append((t1, int(v1)))
    series = {}
    for name in ("wave_duration_seconds", "wave_requests",
                 "wave_completion_seconds:p50", "wave_completion_seconds:p90",
                 "wave_completion_seconds:p99", "wave_tail_seconds"):
        got = raw('rollout:%s{job="rollout"}' % name)
        series[name] = dict(got[0][1]) if got else {}
    twaves = [r for r in rows if r["type"] == "wave"]
    say(len(ends) >= 2, "waves: rwbridge finished %d waves" % len(ends))
    checked = []
    for ts, k in ends:
        cands = [w for w in twaves if epoch + w["end"] <= ts + 0.05]
        if not cands:
            say(False, "waves: wave %d (at %.3f) has a truth wave" % (k, ts))
            continue
        tw = cands[-1]
        lag = ts - (epoch + tw["end"])
        say(0 <= lag <= 3.0, "waves: wave %d noticed %.2f s after it "
            "ended (<= 3 s)" % (k, lag))
        checked.append(tw)
        got = {n: series[n].get(ts) for n in series}
        want = {"wave_duration_seconds": tw["duration"],
                "wave_requests": tw["requests"],
                "wave_completion_seconds:p50": tw.get("t50"),
                "wave_completion_seconds:p90": tw.get("t90"),
                "wave_completion_seconds:p99": tw.get("t99"),
                "wave_tail_seconds": tw.get("tail")}
        tol = {"wave_duration_seconds": 2.0, "wave_requests": 0,
               "wave_completion_seconds:p50": 2.0,
               "wave_completion_seconds:p90": 2.0,
               "wave_completion_seconds:p99": 2.0,
               "wave_tail_seconds": 2.5}
        for n in series:
            g, w = got[n], want[n]
            ok = g is not None and w is not None and abs(g - w) <= tol[n]
            say(ok, "waves: wave %d %s: rwbridge %s, truth %s (within %g)"
                % (k, n, g, w, tol[n]))
    return checked


def fleet_truth_at(rows, t):
    best = None
    for r in rows:
        if r["type"] == "fleet" and r["t"] <= t + 1e-9:
            best = r
    return best


def check_server_seconds(rows, epoch, nwaves):
    """The idle/busy counters: monotonic, and their increase from the end
    of the first wave to the newest sample against the truth."""
    got = {}
    for name in ("idle", "busy"):
        r = raw('rollout:%s_server_seconds_total{job="rollout"}' % name)
        got[name] = r[0][1] if r else []
        mono = all(b[1] >= a[1] for a, b in zip(got[name], got[name][1:]))
        say(bool(got[name]) and mono,
            "server-seconds: %s counter never goes down (%d samples)"
            % (name, len(got[name])))
    totals = raw('rollout:waves_total{job="rollout"}')[0][1]
    t_from = next(t for t, v in totals if v >= 1)
    t_to = totals[-1][0]

    def at(series, t):
        return next(v for ts, v in series if ts >= t - 1e-9)
    f0 = fleet_truth_at(rows, t_from - epoch)
    f1 = fleet_truth_at(rows, t_to - epoch)
    d = {}
    for name in ("idle", "busy"):
        rw = at(got[name], t_to) - at(got[name], t_from)
        tr = f1[name + "_seconds"] - f0[name + "_seconds"]
        d[name] = (rw, tr)
        tol = 1.0 * ARGS.servers * max(nwaves, 1) + 2
        say(abs(rw - tr) <= tol, "server-seconds: %s over %.0f s: rwbridge "
            "%.1f, truth %.1f (within %.0f)" % (name, t_to - t_from, rw, tr,
                                                tol))
    fr = d["idle"][0] / max(d["idle"][0] + d["busy"][0], 1e-9)
    ft = d["idle"][1] / max(d["idle"][1] + d["busy"][1], 1e-9)
    say(abs(fr - ft) <= 0.06, "server-seconds: wasted fraction idle/(idle+"
        "busy): rwbridge %.3f, truth %.3f (within 0.06)" % (fr, ft))


def check_asleep(rows, epoch):
    """server_asleep against the truth; asleep never idle; none for v0."""
    for i in range(ARGS.servers):
        fl = i % 4
        samples = raw('rollout:server_asleep{instance="%s"}' % inst(i))
        if fl == 1:
            say(not samples, "asleep: vLLM v0 (server %d) has no sleep "
                "metric, no server_asleep" % i)
            continue
        srows = [(r["t"], r["asleep"]) for r in rows
                 if r["type"] == "server" and r["server"] == i]
        vals = samples[0][1] if samples else []
        agree = skipped = 0
        bad = []
        for ts, v in vals:
            tau = ts - epoch
            near = {a for t, a in srows if tau - 1.2 <= t <= tau + 0.3}
            state = None
            for t, a in srows:
                if t <= tau + 0.05:
                    state = a
            if len(near) > 1 or state is None:
                skipped += 1
                continue
            if state == v:
                agree += 1
            else:
                bad.append((ts, v, state))
        seen = {v for _, v in vals}
        say(vals and not bad and agree >= 10,
            "asleep: server %d: %d samples agree with the truth, %d near a "
            "transition skipped, disagreeing %s" % (i, agree, skipped,
                                                     bad[:3]))
        if fl in (0, 3):
            say(seen == {0.0, 1.0}, "asleep: server %d was seen awake and "
                "asleep (%s)" % (i, sorted(seen)))
        idle = raw('rollout:server_idle{instance="%s"}' % inst(i))
        idle = dict(idle[0][1]) if idle else {}
        both = [ts for ts, v in vals if v == 1 and idle.get(ts) == 1]
        say(not both, "asleep: server %d never asleep and idle at once"
            " (%d asleep samples)" % (i, sum(1 for _, v in vals if v == 1)))


def check_ratios():
    """Windowed series against the raw samples of the same window."""
    v1, sgl = inst(0), inst(2)
    cases = [
        ("rollout:prefix_cache_hit:ratio", v1,
         'vllm:prefix_cache_hits_total{instance="%s"}' % v1,
         'vllm:prefix_cache_queries_total{instance="%s"}' % v1, 0),
        ("rollout:prefix_cache_hit:ratio", sgl,
         'sglang:cached_tokens_total{instance="%s"}' % sgl,
         'sglang:prompt_tokens_total{instance="%s"}' % sgl, 0),
        ("rollout:truncated_requests:ratio", v1,
         'vllm:request_success_total{instance="%s",'
         'finished_reason="length"}' % v1,
         'vllm:request_success_total{instance="%s"}' % v1, 0),
        ("rollout:spec_decode_acceptance:ratio", v1,
         'vllm:spec_decode_num_accepted_tokens_total{instance="%s"}' % v1,
         'vllm:spec_decode_num_draft_tokens_total{instance="%s"}' % v1, 0),
        ("rollout:spec_decode_acceptance_length:mean", v1,
         'vllm:spec_decode_num_accepted_tokens_total{instance="%s"}' % v1,
         'vllm:spec_decode_num_drafts_total{instance="%s"}' % v1, 1),
    ]
    for name, i, num, den, plus in cases:
        s = last_sample('%s{instance="%s",window="30s"}' % (name, i))
        if s is None:
            say(False, "%s{instance=%s}: has samples" % (name, i))
            continue
        t, got = s
        n = increase(num, t)[None]
        d = increase(den, t)[None]
        want = plus + n / d if d > 0 else None
        say(want is not None and close(got, want, 1e-9),
            "%s %s over 30s at %.3f: rwbridge %r = the raw samples' %r"
            % (name, i, t, got, want))
        prom = query("sum(increase(%s[30s])) / sum(increase(%s[30s]))"
                     % (num, den), t)
        if prom and want is not None and not plus:
            pv = float(prom[0]["value"][1])
            say(close(got, pv, 0.05) or abs(got - pv) < 0.01,
                "%s %s: rwbridge %.4f ~ PromQL sum(increase) ratio %.4f "
                "(5 %%)" % (name, i, got, pv))
    sel = 'vllm:num_preemptions_total{instance="%s"}' % v1
    s = last_sample('rollout:preemptions:rate{instance="%s",window="30s"}'
                    % v1)
    if s is None:
        say(False, "rollout:preemptions:rate %s: has samples" % v1)
    else:
        t, got = s
        sp = span(sel, t)
        want = increase(sel, t)[None] / sp if sp > 0 else None
        say(want is not None and close(got, want, 1e-9),
            "rollout:preemptions:rate %s over 30s: rwbridge %r = the raw "
            "samples' %r" % (v1, got, want))


def check_quantiles():
    """Response length and queue time quantiles against the raw buckets
    and Prometheus's histogram_quantile."""
    cases = [
        ("generation_tokens", (50, 90, 99), 0,
         "vllm:request_generation_tokens"),
        ("generation_tokens", (50, 90, 99), 2,
         "sglang:generation_tokens_histogram"),
        ("queue_time_seconds", (50, 99), 0, "vllm:request_queue_time_seconds"),
        ("queue_time_seconds", (50, 99), 2, "sglang:queue_time_seconds"),
    ]
    for series, qs, i, family in cases:
        for q in qs:
            name = "rollout:%s:p%d" % (series, q)
            s = server_sample(name, i)
            if s is None:
                continue
            t, got = s
            b = bucket_increase(family, 'instance="%s"' % inst(i), t)
            want = histogram_quantile(q / 100, b)
            say(want is not None and close(got, want, 1e-9),
                "%s server %d over 30s: rwbridge %r = the raw buckets' %r"
                % (name, i, got, want))
            prom = query('histogram_quantile(%g, sum by (le) (rate(%s_bucket'
                         '{instance="%s"}[30s])))' % (q / 100, family,
                                                       inst(i)), t)
            if prom and prom[0]["value"][1] not in ("NaN",):
                pv = float(prom[0]["value"][1])
                say(close(got, pv, 0.05), "%s server %d: rwbridge %.4g ~ "
                    "Prometheus's histogram_quantile(rate) %.4g (5 %%)"
                    % (name, i, got, pv))
        if series == "generation_tokens":
            name = "rollout:generation_tokens:max_bucket"
            s = server_sample(name, i)
            if s is None:
                continue
            t, got = s
            want = max_bucket(bucket_increase(family, 'instance="%s"'
                                              % inst(i), t))
            say(want is not None and got == want, "%s server %d: rwbridge "
                "%r = the raw buckets' %r" % (name, i, got, want))


def check_truth_lengths(rows, epoch):
    """The whole run's truncation ratio and response length of server 0
    (10m window) against the simulator's finished requests."""
    i = 0
    first = raw('vllm:request_success_total{instance="%s"}' % inst(i))
    t_first = min(vals[0][0] for _, vals in first) - epoch
    s = last_sample('rollout:truncated_requests:ratio{instance="%s",'
                    'window="%s"}' % (inst(i), LONG))
    if s is None:
        say(False, "truth: truncated ratio of server 0 has samples")
        return
    t, got = s
    reqs = [r for r in rows if r["type"] == "request" and r["server"] == i
            and t_first < r["t"] <= t - epoch]
    n = len(reqs)
    want = sum(1 for r in reqs if r["finished_reason"] == "length") / n
    say(abs(got - want) <= 1.5 / n, "truth: server 0 truncated ratio of "
        "the run: rwbridge %.4f, truth %.4f of %d requests" % (got, want, n))
    for q in (50, 90, 99):
        s = last_sample('rollout:generation_tokens:p%d{instance="%s",'
                        'window="%s"}' % (q, inst(i), LONG))
        if s is None:
            say(False, "truth: server 0 response length p%d has samples" % q)
            continue
        t, got = s
        lens = [r["generation_tokens"] for r in rows
                if r["type"] == "request" and r["server"] == i
                and t_first < r["t"] <= t - epoch]
        want = nearest_rank(lens, q / 100)
        d = bucket_index(got, VLLM_TOKENS) - bucket_index(want, VLLM_TOKENS)
        say(abs(d) <= 1, "truth: server 0 response length p%d of the run: "
            "rwbridge %.1f, truth %s: within one bucket" % (q, got, want))


def check_fleet_lengths(rows, epoch):
    """The fleet response length over the vLLM and SGLang layouts,
    re-bucketed onto their union, against every finished request."""
    union = sorted(set(VLLM_TOKENS) | set(SGL_TOKENS))
    firsts = []
    for sel in ("vllm:generation_tokens_total",
                "sglang:generation_tokens_total"):
        for _, vals in raw(sel):
            firsts.append(vals[0][0])
    t_first = max(firsts) - epoch
    for q in (50, 90):
        s = last_sample('rollout:generation_tokens:p%d{job="rollout",'
                        'instance="",window="%s"}' % (q, LONG))
        if s is None:
            say(False, "fleet response length p%d has samples" % q)
            continue
        t, got = s
        lens = [r["generation_tokens"] for r in rows
                if r["type"] == "request" and t_first < r["t"] <= t - epoch]
        want = nearest_rank(lens, q / 100)
        d = bucket_index(got, union) - bucket_index(want, union)
        say(abs(d) <= 1, "fleet response length p%d over mixed layouts: "
            "rwbridge %.1f, truth %s (%d requests): within one bucket of "
            "the union" % (q, got, want, len(lens)))
    for name in ("rollout:prefix_cache_hit:ratio",
                 "rollout:truncated_requests:ratio"):
        s = last_sample('%s{job="rollout",instance="",window="%s"}'
                        % (name, LONG))
        per = [v for _, v in (last_sample('%s{instance="%s",window="%s"}'
                                          % (name, inst(i), LONG))
                              or (0, None) for i in range(ARGS.servers))
               if v is not None]
        say(s is not None and per and min(per) - 1e-9 <= s[1] <=
            max(per) + 1e-9, "fleet %s %s lies within the servers' %s"
            % (name, s and s[1], per))


# Bucket bounds of the simulator's vLLM request-time histograms.
VLLM_REQ = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
            40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]


def check_fleet_promql(rows, epoch):
    """Fleet ratios against PromQL's sums over every server (the fleet's
    windows end at each server's last scrape, PromQL's at one instant and
    extrapolated: within 10 %), and server 0's queue time of the run
    against the simulator's requests."""
    cases = [
        ("rollout:prefix_cache_hit:ratio",
         "(sum(increase(vllm:prefix_cache_hits_total[30s])) + "
         "sum(increase(sglang:cached_tokens_total[30s]))) / "
         "(sum(increase(vllm:prefix_cache_queries_total[30s])) + "
         "sum(increase(sglang:prompt_tokens_total[30s])))"),
        ("rollout:truncated_requests:ratio",
         'sum(increase(vllm:request_success_total{finished_reason="length"}'
         '[30s])) / sum(increase(vllm:request_success_total[30s]))'),
    ]
    for name, promql in cases:
        s = last_sample('%s{job="rollout",instance="",window="30s"}' % name)
        prom = query(promql, s[0]) if s else []
        pv = float(prom[0]["value"][1]) if prom else None
        # The windows differ (each server's last scrape against one
        # instant, extrapolated), so a request or two finishing at a
        # window's edge moves a ratio of about 100 requests by 0.01-0.02:
        # within 10 % or 0.03. The exact check is per server, above.
        say(s is not None and pv is not None and
            (close(s[1], pv, 0.10) or abs(s[1] - pv) < 0.03),
            "fleet %s: rwbridge %s ~ PromQL over every server %s "
            "(10 %% or 0.03)" % (name, s and s[1], pv))
    first = raw('vllm:request_success_total{instance="%s"}' % inst(0))
    t_first = min(vals[0][0] for _, vals in first) - epoch
    for q in (50, 99):
        s = last_sample('rollout:queue_time_seconds:p%d{instance="%s",'
                        'window="%s"}' % (q, inst(0), LONG))
        if s is None:
            say(False, "truth: server 0 queue time p%d has samples" % q)
            continue
        qs = [r["queue"] for r in rows if r["type"] == "request"
              and r["server"] == 0 and t_first < r["t"] <= s[0] - epoch]
        want = nearest_rank(qs, q / 100)
        d = bucket_index(s[1], VLLM_REQ) - bucket_index(want, VLLM_REQ)
        say(abs(d) <= 1, "truth: server 0 queue time p%d of the run: "
            "rwbridge %.3f, truth %s: within one bucket" % (q, s[1], want))


def check_missing():
    """A page missing an input gives no sample for that series."""
    v0, sgl = inst(1), inst(2)
    for series, i in (("rollout:prefix_cache_hit:ratio", v0),
                      ("rollout:spec_decode_acceptance:ratio", v0),
                      ("rollout:truncated_requests:ratio", sgl),
                      ("rollout:server_asleep", v0)):
        r = query('count_over_time(%s{instance="%s"}[15m])' % (series, i),
                  ARGS.at)
        say(not r, "missing input: no %s for %s, never 0" % (series, i))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--servers", type=int, required=True)
    ap.add_argument("--at", type=float, required=True)
    ARGS = ap.parse_args()
    rows = truth_rows()
    epoch = rows[0]["epoch"]
    waves = check_waves(rows, epoch)
    check_server_seconds(rows, epoch, len(waves))
    check_asleep(rows, epoch)
    check_ratios()
    check_quantiles()
    check_truth_lengths(rows, epoch)
    check_fleet_lengths(rows, epoch)
    check_fleet_promql(rows, epoch)
    check_missing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
