#!/usr/bin/env python3
"""Register verl rollout servers with rwbridge (standard library only).

verl starts its vLLM / SGLang rollout servers as Ray actors on random ports
and already knows their "ip:port" addresses (AsyncLLMServerManager and
AgentLoopManager keep them in ``server_addresses``). Hand that list to
rwbridge once per rollout (re)start and rwbridge scrapes the servers and
forwards their metrics by remote write; Prometheus's config never changes.

In the trainer, right after the rollout servers are up::

    import verl_rwbridge

    manager = AgentLoopManager(config, worker_group)  # or AsyncLLMServerManager
    try:
        verl_rwbridge.register(
            "verl-" + run_name,                 # one group per run
            manager.server_addresses,           # ["10.0.0.5:34567", ...]
            labels={"model_name": model_path, "experiment": run_name})
    except verl_rwbridge.RWBridgeError as e:
        print("metrics registration failed:", e)  # never stop training

and, when the run ends (optional: a removed group's series go stale at once,
an abandoned one just reports its servers down)::

    verl_rwbridge.unregister("verl-" + run_name)

register() replaces the whole group (HTTP PUT), so calling it again after
the servers restarted on new ports drops the old addresses: their series are
marked stale in Prometheus immediately instead of lingering for 5 minutes.

The rwbridge URL defaults to $RWBRIDGE_URL or http://127.0.0.1:9108; the
bearer token to the contents of $RWBRIDGE_API_TOKEN_FILE, if set.

A cluster of rwbridges (global.cluster: members_count, member_num, each
keeping the servers rendezvous hashing gives it): pass every member's URL,
as a list or comma-separated (also in $RWBRIDGE_URL). register() sends the
whole group to every member and each keeps what it owns, so nothing here
needs to know the split; it returns the number of servers scraped, summed
over the members (the group's size times the replication factor). A member
that cannot be reached does not stop the others: the error names it after
every other member got the group.

From a shell::

    python3 verl_rwbridge.py register verl-run1 10.0.0.5:34567 10.0.0.6:34567 \\
        --label model_name=Qwen/Qwen3-8B
    python3 verl_rwbridge.py unregister verl-run1
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://127.0.0.1:9108"

__all__ = ["RWBridgeError", "register", "unregister"]


class RWBridgeError(Exception):
    """rwbridge refused the request or could not be reached."""


def _default_url():
    return os.environ.get("RWBRIDGE_URL") or DEFAULT_URL


def _default_token():
    path = os.environ.get("RWBRIDGE_API_TOKEN_FILE")
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def _address(a):
    """Turn "ip:port" or (host, port) into the "host:port" rwbridge wants."""
    if isinstance(a, (tuple, list)):
        host, port = a[0], int(a[1])
        if ":" in host and not host.startswith("["):
            host = "[" + host + "]"
        return "%s:%d" % (host, port)
    return str(a)


def _urls(url):
    """The bridge URLs: a list, or one string, comma-separated."""
    if url is None:
        url = _default_url()
    if isinstance(url, str):
        url = url.split(",")
    urls = [u.strip() for u in url if u and u.strip()]
    if not urls:
        raise RWBridgeError("no rwbridge URL given")
    return urls


def _each(urls, fn):
    """Call fn(url) for every URL; raise one error naming every failure."""
    results, errors = [], []
    for u in urls:
        try:
            results.append(fn(u))
        except RWBridgeError as e:
            errors.append(e)
    if errors:
        raise RWBridgeError("; ".join(str(e) for e in errors))
    return results


def _request(method, url, group, body=None, token=None, query=None,
             timeout=10.0):
    path = "/api/v1/targets/" + urllib.parse.quote(group, safe="")
    if query:
        path += "?" + urllib.parse.urlencode(query)
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token is None:
        token = _default_token()
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request((url or _default_url()).rstrip("/") + path,
                                 data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        try:
            msg = json.load(e).get("error") or e.reason
        except ValueError:
            msg = e.reason
        raise RWBridgeError("%s: %s (HTTP %d)" % (url or _default_url(), msg,
                                                e.code)) from None
    except (urllib.error.URLError, OSError) as e:
        raise RWBridgeError("cannot reach rwbridge at %s: %s" %
                            (url or _default_url(), e)) from None


def register(group, addresses, labels=None, url=None, token=None,
             interval=None, job=None, timeout=10.0):
    """Make `group` exactly these servers; return how many it holds.

    addresses: "ip:port" strings (verl's server_addresses) or (host, port)
    pairs. labels: extra labels for every series of these servers.
    interval: scrape interval such as "5s" (default: rwbridge's).
    url: one rwbridge URL, or a list (or comma-separated string) of the
    members of a cluster; each keeps the servers it owns.
    """
    body = {"targets": [_address(a) for a in addresses],
            "labels": dict(labels or {})}
    if interval:
        body["interval"] = interval
    if job:
        body["job"] = job
    docs = _each(_urls(url), lambda u: _request("PUT", u, group, body, token,
                                                timeout=timeout))
    return sum(d["data"]["targets"] for d in docs)


def unregister(group, url=None, token=None, missing_ok=True, timeout=10.0):
    """Remove `group` (from every URL); False if none had it registered."""
    def one(u):
        try:
            _request("DELETE", u, group, token=token, timeout=timeout)
        except RWBridgeError as e:
            if missing_ok and "(HTTP 404)" in str(e):
                return False
            raise
        return True
    return any(_each(_urls(url), one))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Register rollout servers with rwbridge.")
    ap.add_argument("--url", default=None,
                    help="rwbridge URL, or the members of a cluster "
                    "comma-separated (default $RWBRIDGE_URL or %s)" %
                    DEFAULT_URL)
    ap.add_argument("--token-file", default=None,
                    help="bearer token file (default "
                    "$RWBRIDGE_API_TOKEN_FILE)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register", help="replace a group's servers")
    r.add_argument("group")
    r.add_argument("addresses", nargs="*", metavar="HOST:PORT")
    r.add_argument("--label", action="append", default=[],
                   metavar="NAME=VALUE")
    r.add_argument("--interval")
    r.add_argument("--job")
    u = sub.add_parser("unregister", help="remove a group")
    u.add_argument("group")
    args = ap.parse_args(argv)

    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.read().strip()
    try:
        if args.cmd == "register":
            labels = {}
            for kv in args.label:
                name, sep, value = kv.partition("=")
                if not sep or not name:
                    ap.error("--label wants NAME=VALUE, not %r" % kv)
                labels[name] = value
            n = register(args.group, args.addresses, labels, url=args.url,
                         token=token, interval=args.interval, job=args.job)
            print("group %s: %d target%s" % (args.group, n,
                                             "" if n == 1 else "s"))
        elif unregister(args.group, url=args.url, token=token):
            print("removed group %s" % args.group)
        else:
            print("group %s was not registered" % args.group)
    except RWBridgeError as e:
        print("verl_rwbridge: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
