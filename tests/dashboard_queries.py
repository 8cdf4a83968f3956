#!/usr/bin/env python3
"""Run every PromQL query of Grafana dashboards against a Prometheus.

usage: dashboard_queries.py DASH.json... --prom URL [--var NAME=VALUE ...]
                            [--parse-only] [--allow-empty REGEX] [--dry-run]
                            [--forbid-label LABEL [--forbid-except REGEX]]

Every expression of every panel target (panels nested in collapsed rows
included) is taken from the dashboard JSON, its Grafana variables are
substituted and it is run as an instant query on URL/api/v1/query. One TAP
line per expression: ok when the query succeeds and returns a non-empty
result, not ok (with the dashboard title, panel title and expression)
otherwise. Exit status 1 if any query failed.

Variables: $datasource is never part of an expression. A variable given with
--var NAME=VALUE takes VALUE. Otherwise a variable whose saved current value
is a concrete value (not All) takes it, and any other variable takes its
allValue or ".*", which suits the `label=~"$var"` matchers dashboards use.
Grafana's built-in intervals: $__rate_interval 1m, $__interval 15s,
$__range 5m (change with --var __rate_interval=2m and so on).

--parse-only    only require Prometheus to accept the query (status
                success); an empty result is fine. Use it against an
                empty Prometheus to check that every expression parses.
--allow-empty R expressions matching the regular expression R may return
                an empty result (reported as ok with a SKIP directive),
                e.g. series that only exist while requests are running.
--dry-run       print the substituted expressions as TAP lines and query
                nothing.
--forbid-label L
                a result series carrying label L fails the query, unless
                the expression matches --forbid-except R: e.g. with several
                rwbridges, `--forbid-label member` checks that the fleet
                panels show the cluster's series, not each member's.

Standard library only.
"""
import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}

# $name, ${name}, ${name:format}, [[name]] (the old syntax).
VAR_RE = re.compile(
    r"\$\{(?P<b>\w+)(?::(?P<fmt>[^}]*))?\}|\[\[(?P<o>\w+)\]\]|\$(?P<p>\w+)")


def walk_panels(panels):
    """Yield every panel, rows' nested panels included."""
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def default_value(var):
    """The value a dashboard variable takes when none is given."""
    cur = var.get("current") or {}
    val = cur.get("value")
    if isinstance(val, list):
        vals = [v for v in val if v != "$__all"]
        if vals and len(vals) == len(val):
            return "|".join(re.escape(v) for v in vals) if len(vals) > 1 \
                else vals[0]
    elif isinstance(val, str) and val and val != "$__all":
        return val
    if var.get("type") == "custom" and not var.get("includeAll"):
        opts = [o.strip() for o in str(var.get("query", "")).split(",")]
        if opts and opts[0]:
            return opts[0].split(" : ")[-1]
    if var.get("type") == "constant":
        return str(var.get("query", ""))
    return var.get("allValue") or ".*"


def dashboard_vars(dash, given):
    values = dict(BUILTINS)
    for var in (dash.get("templating") or {}).get("list", []):
        name = var.get("name")
        if not name or var.get("type") == "datasource":
            continue
        values[name] = default_value(var)
    values.update(given)
    return values


def substitute(expr, values):
    """Replace Grafana variables; unknown ones are kept (and will fail)."""
    def repl(m):
        name = m.group("b") or m.group("o") or m.group("p")
        return values.get(name, m.group(0))
    return VAR_RE.sub(repl, expr)


def exprs_of(path, given):
    """(dashboard title, panel title, raw expr, substituted expr) list."""
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    values = dashboard_vars(dash, given)
    title = dash.get("title") or path
    out = []
    for p in walk_panels(dash.get("panels")):
        for t in p.get("targets") or []:
            expr = t.get("expr")
            if not expr or t.get("hide"):
                continue
            out.append((title, p.get("title", ""), expr,
                        substitute(expr, values)))
    return out


def query(prom, expr, timeout):
    """Return (ok-to-parse, result list or None, error message)."""
    url = prom.rstrip("/") + "/api/v1/query"
    data = urllib.parse.urlencode({"query": expr}).encode()
    req = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            return False, None, "HTTP %d" % e.code
    except (urllib.error.URLError, OSError, ValueError) as e:
        return False, None, str(e)
    if body.get("status") != "success":
        return False, None, "%s: %s" % (body.get("errorType", "error"),
                                         body.get("error", "?"))
    res = body.get("data", {}).get("result")
    if body.get("data", {}).get("resultType") in ("scalar", "string"):
        res = [res]
    return True, res, ""


def forbidden(res, label):
    """label=value of the first result series carrying label, or None."""
    if not label:
        return None
    for r in res or []:
        if isinstance(r, dict) and label in (r.get("metric") or {}):
            return '%s="%s"' % (label, r["metric"][label])
    return None


def one_line(s):
    return " ".join(s.split())


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run every PromQL expression of Grafana dashboards "
        "against Prometheus, TAP output.")
    ap.add_argument("dashboards", nargs="+", metavar="DASH.json")
    ap.add_argument("--prom", metavar="URL",
                    help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    ap.add_argument("--var", action="append", default=[],
                    metavar="NAME=VALUE", help="a variable's value")
    ap.add_argument("--parse-only", action="store_true",
                    help="only require status success")
    ap.add_argument("--allow-empty", metavar="REGEX",
                    help="expressions matching REGEX may return nothing")
    ap.add_argument("--dry-run", action="store_true",
                    help="print the substituted expressions, query nothing")
    ap.add_argument("--forbid-label", metavar="LABEL",
                    help="result series must not carry LABEL")
    ap.add_argument("--forbid-except", metavar="REGEX",
                    help="expressions matching REGEX may carry it")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)
    if not args.dry_run and not args.prom:
        ap.error("--prom URL is required (or --dry-run)")
    given = {}
    for v in args.var:
        name, sep, value = v.partition("=")
        if not sep or not name:
            ap.error("--var wants NAME=VALUE, not %r" % v)
        given[name.lstrip("$")] = value
    allow_empty = re.compile(args.allow_empty) if args.allow_empty else None
    forbid_except = re.compile(args.forbid_except) if args.forbid_except \
        else None

    items = []
    for path in args.dashboards:
        try:
            items.extend(exprs_of(path, given))
        except (OSError, ValueError) as e:
            print("Bail out! %s: %s" % (path, e))
            return 1
    n = failed = 0
    for dash, panel, raw, expr in items:
        n += 1
        desc = "%s / %s: %s" % (dash, panel, one_line(expr))
        left = VAR_RE.search(expr)
        if left:
            failed += 1
            print("not ok %d - %s # unknown variable %s" % (n, desc,
                                                            left.group(0)))
            continue
        if args.dry_run:
            print("ok %d - %s" % (n, desc))
            continue
        ok, res, err = query(args.prom, expr, args.timeout)
        bad = forbidden(res, args.forbid_label) if ok and not (
            forbid_except is not None and (forbid_except.search(raw) or
                                           forbid_except.search(expr))) \
            else None
        if not ok:
            failed += 1
            print("not ok %d - %s # %s" % (n, desc, one_line(err)))
        elif bad:
            failed += 1
            print("not ok %d - %s # a series with %s" % (n, desc, bad))
        elif args.parse_only or res:
            print("ok %d - %s" % (n, desc))
        elif allow_empty is not None and (allow_empty.search(raw) or
                                          allow_empty.search(expr)):
            print("ok %d - %s # SKIP empty result allowed" % (n, desc))
        else:
            failed += 1
            print("not ok %d - %s # empty result" % (n, desc))
    print("1..%d" % n)
    if n == 0:
        print("# no expressions found")
        return 1
    if failed:
        print("# %d of %d queries failed" % (failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
