#!/usr/bin/env python3
"""Assembles bench/run's measurements into bench/results/{latest.json,latest.md,<date>.json} and prints the table.

    report.py --meta meta.json --load nginx=a.json --load deputy=b.json --load typescript-sdk=c.json \
              [--load auth-nginx=d.json --load auth-deputy=e.json --load auth-typescript-sdk=f.json] \
              [--load tier2-deputy=g.json --exchanges tier2-deputy=g.exchanges.json ...] \
              [--startup startup.json] [--sessions sessions.json] --out-dir bench/results

Each --load file is what bench/run writes for one measured wrk run:
    {"label": .., "server_cpu_s": .., "wrk_cpu_s": .., "elapsed_s": .., "result": <wrk BENCH_RESULT object>}
Each --exchanges file counts the On-Behalf-Of exchanges the identity provider issued during a Tier-2 load:
    {"warmup": {"calls": .., "exchanges": ..}, "measured": {"calls": .., "exchanges": ..}}
"""
import argparse
import json
import os
import sys

LABELS = {"deputy": "deputy hello-server (1 thread)", "nginx": "nginx (1 worker, fixed body)",
          "typescript-sdk": "TypeScript SDK server (node)",
          "auth-nginx": "nginx (1 worker, fixed body, header ignored)",
          "auth-deputy": "deputy serve, token checked (1 thread)",
          "auth-typescript-sdk": "TypeScript SDK + requireBearerAuth, jose (node)",
          "tier2-deputy": "deputy dev: token checked, OBO cached + single-flight (1 thread)",
          "tier2-typescript-sdk": "TypeScript SDK + jose + msal-node OBO (.default), fetch (node)",
          "tier2-typescript-sdk-scopes": "TypeScript SDK + jose + msal-node OBO (named scopes), fetch (node)"}
# The two load sections: plain tools/call, and the same with a bearer token on every request.
PLAIN = ("nginx", "deputy", "typescript-sdk")
AUTH = ("auth-nginx", "auth-deputy", "auth-typescript-sdk")
# Tier 2: check_sharepoint_site_access (token checked, exchanged On-Behalf-Of, Graph called); its limit is the plain
# nginx of the same run.
TIER2 = ("nginx", "tier2-deputy", "tier2-typescript-sdk", "tier2-typescript-sdk-scopes")


def per_thousand(exchanges, calls):
    return round(1000 * exchanges / calls, 3) if calls else None


def load_json(path):
    with open(path) as f:
        return json.load(f)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meta", required=True)
    parser.add_argument("--load", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--exchanges", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--startup")
    parser.add_argument("--sessions")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--readme", help="README to show the table in, between its bench markers")
    args = parser.parse_args()

    meta = load_json(args.meta)
    servers = {}
    for item in args.load:
        name, _, path = item.partition("=")
        raw = load_json(path)
        r = raw["result"]
        seconds = r["duration_us"] / 1e6
        servers[name] = {
            "label": LABELS.get(name, name),
            "requests": r["requests"],
            "req_per_s": round(r["requests"] / seconds, 1),
            "p50_ms": round(r["latency_us"]["p50"] / 1000, 3),
            "p90_ms": round(r["latency_us"]["p90"] / 1000, 3),
            "p99_ms": round(r["latency_us"]["p99"] / 1000, 3),
            "p999_ms": round(r["latency_us"]["p999"] / 1000, 3),
            "max_ms": round(r["latency_us"]["max"] / 1000, 3),
            "non_2xx": r["non_2xx"],
            "non_200": r["non_200"],
            "socket_errors": r["errors"],
            "server_cpu_pct": round(100 * raw["server_cpu_s"] / raw["elapsed_s"], 1),
            "wrk_cpu_pct": round(100 * raw["wrk_cpu_s"] / raw["elapsed_s"], 1),
            "other_cpu_pct": round(100 * raw["other_cpu_s"] / raw["elapsed_s"], 1),
            "idle_cpu_pct": round(100 * raw["idle_cpu_s"] / raw["elapsed_s"], 1),
        }
    for item in args.exchanges:
        name, _, path = item.partition("=")
        ex = load_json(path)
        both_calls = ex["warmup"]["calls"] + ex["measured"]["calls"]
        both_exchanges = ex["warmup"]["exchanges"] + ex["measured"]["exchanges"]
        servers[name]["exchanges"] = {
            **ex,
            # From a cold cache: the warm-up starts with a token the server has not seen.
            "per_1000_calls": per_thousand(both_exchanges, both_calls),
            "per_1000_calls_measured": per_thousand(ex["measured"]["exchanges"], ex["measured"]["calls"]),
        }

    def rps(name):
        return servers.get(name, {}).get("req_per_s")

    def ratio(a, b, digits):
        return round(a / b, digits) if a and b else None

    # Each section's nginx is its own limit; the authenticated one falls back to the plain nginx of the same run.
    nginx = rps("nginx")
    auth_nginx = rps("auth-nginx") or nginx
    for name, s in servers.items():
        s["ratio_to_nginx"] = ratio(s["req_per_s"], auth_nginx if name in AUTH else nginx, 3)
    ratio_ts = ratio(rps("deputy"), rps("typescript-sdk"), 2)
    tier2 = None
    if any(name in servers for name in TIER2[1:]):
        tier2 = {
            "nginx": "nginx" if nginx else None,
            "deputy_to_nginx": ratio(rps("tier2-deputy"), nginx, 3),
            # Against msal-node asking .default (as deputy does), and against msal-node with the scopes named so that
            # its cache finds the token: the second is the fairer comparison of two cached servers.
            "deputy_to_typescript_sdk": ratio(rps("tier2-deputy"), rps("tier2-typescript-sdk"), 2),
            "deputy_to_typescript_sdk_scopes": ratio(rps("tier2-deputy"), rps("tier2-typescript-sdk-scopes"), 2),
        }
    auth = None
    if any(name in servers for name in AUTH):
        auth = {
            "nginx": "auth-nginx" if "auth-nginx" in servers else ("nginx" if nginx else None),
            "deputy_to_nginx": ratio(rps("auth-deputy"), auth_nginx, 3),
            "deputy_to_typescript_sdk": ratio(rps("auth-deputy"), rps("auth-typescript-sdk"), 2),
            # What checking the token costs deputy: deputy serve with auth against hello-server without it.
            "deputy_auth_to_deputy_plain": ratio(rps("auth-deputy"), rps("deputy"), 3),
            "typescript_sdk_auth_to_plain": ratio(rps("auth-typescript-sdk"), rps("typescript-sdk"), 3),
        }

    doc = dict(meta)
    doc["servers"] = servers
    doc["deputy_to_typescript_sdk"] = ratio_ts
    doc["authenticated"] = auth
    doc["tier2"] = tier2
    if args.startup:
        doc["startup"] = load_json(args.startup)
    if args.sessions:
        doc["idle_sessions"] = load_json(args.sessions)

    def table_of(names, heading=None):
        lines = [heading, ""] if heading else []
        lines += [
            "| server | req/s | p50 (ms) | p99 (ms) | × nginx | server CPU | wrk CPU | other CPU | idle |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in names:
            if name not in servers:
                continue
            s = servers[name]
            times = f"{s['ratio_to_nginx']:.2f}" if s["ratio_to_nginx"] is not None else "–"
            lines.append(f"| {s['label']} | {s['req_per_s']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
                         f"{times} | {s['server_cpu_pct']:.0f}% | {s['wrk_cpu_pct']:.0f}% | "
                         f"{s['other_cpu_pct']:.0f}% | {s['idle_cpu_pct']:.0f}% |")
        return "\n".join(lines)

    def tier2_table():
        lines = [
            "Tier 2: `tools/call` of check_sharepoint_site_access {\"site_name\":\"test-site\"} with alice's token "
            "against one `deputy dev` stack: the token checked, exchanged On-Behalf-Of for Microsoft Graph, the dev "
            "Graph called over HTTPS. Exchanges: what the identity provider issued per 1,000 calls, from a cold cache "
            "(warm-up and measured run), and during the measured run alone. nginx: the plain section's, the limit.",
            "",
            "| server | req/s | p50 (ms) | p99 (ms) | × nginx | exchanges / 1,000 calls | exchanges (measured) "
            "| server CPU | wrk CPU | other CPU | idle |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in TIER2:
            if name not in servers:
                continue
            s = servers[name]
            times = f"{s['ratio_to_nginx']:.3f}" if s["ratio_to_nginx"] is not None else "–"
            ex = s.get("exchanges")
            per = f"{ex['per_1000_calls']:.2f}" if ex and ex["per_1000_calls"] is not None else "–"
            measured = (f"{ex['measured']['exchanges']:,} of {ex['measured']['calls']:,} calls" if ex else "–")
            lines.append(f"| {s['label']} | {s['req_per_s']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
                         f"{times} | {per} | {measured} | {s['server_cpu_pct']:.0f}% | {s['wrk_cpu_pct']:.0f}% | "
                         f"{s['other_cpu_pct']:.0f}% | {s['idle_cpu_pct']:.0f}% |")
        return "\n".join(lines)

    tables = []
    if any(name in servers for name in PLAIN):
        tables.append(table_of(PLAIN))
    if auth:
        token_bytes = (meta.get("auth") or {}).get("token_bytes")
        tables.append(table_of(
            AUTH, "Authenticated `tools/call` of the seed's `test_write_tool` (role Task.All or Task.Write) with "
                  "`Authorization: Bearer` and one RS256 access token "
                  f"({token_bytes:,} bytes, Entra v2 claims) on every request." if token_bytes else
                  "Authenticated `tools/call` of the seed's `test_write_tool` with `Authorization: Bearer` and one "
                  "RS256 access token on every request."))
    if tier2:
        tables.append(tier2_table())
    table = "\n\n".join(tables)
    summary = []
    busy = [n for n, s in servers.items() if s["other_cpu_pct"] > 10]
    if meta.get("background_cpu_pct_before", 0) > 10 or busy:
        summary.append(f"**Warning: other processes used the CPU during this run** (machine "
                       f"{meta.get('background_cpu_pct_before')}% busy before it started; \"other\" in the table): the numbers are low and noisy.")
    cpu_note = ("CPU columns: share of one core during the measured run (100% = one core; the machine has "
                f"{meta['machine']['nproc']}, shared by server and wrk): the server's processes, wrk, the rest "
                "(other processes, softirq work outside those two), and idle. A server near 100% with idle left "
                "over is the bottleneck; wrk near 100% means the load generator is.")
    summary.append(cpu_note)
    if ratio_ts is not None:
        summary.append(f"deputy / TypeScript SDK server: **{ratio_ts:.1f}×** the requests per second.")
    if auth:
        parts = []
        if auth["deputy_to_nginx"] is not None:
            parts.append(f"deputy / nginx **{auth['deputy_to_nginx']:.2f}**")
        if auth["deputy_to_typescript_sdk"] is not None:
            parts.append(f"deputy / TypeScript SDK **{auth['deputy_to_typescript_sdk']:.1f}×**")
        if auth["deputy_auth_to_deputy_plain"] is not None:
            parts.append(f"deputy serve with the token checked (test_write_tool) / hello-server without (echo) "
                         f"{auth['deputy_auth_to_deputy_plain']:.2f}")
        if auth["typescript_sdk_auth_to_plain"] is not None:
            parts.append(f"TypeScript SDK with / without {auth['typescript_sdk_auth_to_plain']:.2f}")
        if parts:
            summary.append("Authenticated: " + "; ".join(parts) + ".")
    if tier2:
        parts = []
        if tier2["deputy_to_typescript_sdk_scopes"] is not None:
            parts.append(f"deputy / TypeScript SDK asking the named scopes "
                         f"**{tier2['deputy_to_typescript_sdk_scopes']:.1f}×**")
        if tier2["deputy_to_typescript_sdk"] is not None:
            parts.append(f"deputy / TypeScript SDK asking .default (the seed's scope) "
                         f"**{tier2['deputy_to_typescript_sdk']:.1f}×**")
        if tier2["deputy_to_nginx"] is not None:
            parts.append(f"deputy / nginx {tier2['deputy_to_nginx']:.3f}")
        ex = servers.get("tier2-deputy", {}).get("exchanges")
        if ex:
            parts.append(f"deputy exchanged {ex['warmup']['exchanges'] + ex['measured']['exchanges']:,} time(s) in "
                         f"{ex['warmup']['calls'] + ex['measured']['calls']:,} calls")
        if parts:
            summary.append("Tier 2: " + "; ".join(parts) + ".")
    if "startup" in doc:
        st = doc["startup"]
        summary.append(f"hello-server start-to-ready (exec to `listening on`): median **{st['median_ms']:.1f} ms** "
                       f"of {st['runs']} runs (min {st['min_ms']:.1f}, max {st['max_ms']:.1f}).")
    if "idle_sessions" in doc:
        ss = doc["idle_sessions"]
        summary.append(f"{ss['sessions']:,} idle sessions (initialize + initialized each): VmRSS "
                       f"{ss['vmrss_before_kib'] / 1024:.1f} → {ss['vmrss_after_kib'] / 1024:.1f} MiB, "
                       f"**+{ss['delta_mib']:.1f} MiB** (~{ss['bytes_per_session']:,} bytes/session; target ≤ 40 MiB).")
    m = meta
    how = (f"Measured {m['date']} on {m['machine']['nproc']} × {m['machine']['model_name']} "
           f"({m['machine'].get('mem_total_mib', '?')} MiB RAM), server and load generator on the same machine over "
           f"127.0.0.1: wrk {m['wrk']['version']} `-t{m['wrk']['threads']} -c{m['connections']} "
           f"-d{m['duration_s']}s --latency` (after a {m['warmup_s']} s warm-up) with `bench/wrk/mcp-call.lua`, "
           f"which POSTs one MCP `tools/call` per request on an initialized session (`echo` of \"hello\" in the "
           f"first section) and checks every status; nginx {m['versions'].get('nginx', '?')} answers the same POST with a fixed "
           f"78-byte JSON-RPC result (1 worker, access_log off); TypeScript SDK "
           f"{m['versions'].get('mcp_sdk', '?')} on node {m['versions'].get('node', '?')} "
           f"(tests/interop/peer-everything-server.mjs --profile hello, stateful sessions, SSE answers). "
           + (f"Authenticated section: `tools/call` of the seed's test_write_tool (role Task.All or Task.Write) with "
              f"`Authorization: Bearer <token>` (`MCP_BEARER_TOKEN`), nginx answering deputy's answer to it byte for "
              f"byte, one RS256 token minted with jose by {m['auth']['token_script']} for a user "
              f"with the role Task.All, the JWKS in a file; `deputy serve` with `auth` (provider entra, jwks_file) "
              f"and `authz` on, `--threads 1`; the TypeScript SDK's requireBearerAuth with a jose verifier "
              f"(createRemoteJWKSet + jwtVerify, issuer, audience, scope, ver) and the same test_write_tool in "
              f"{m['auth']['typescript_peer']}. "
              f"Before its load each authenticated server must refuse the call without the token (401). "
              if m.get("auth") else "") +
           (f"Tier-2 section: one `deputy dev --threads 1` stack (development identity provider, dev Graph and the "
            f"MCP server in one process; the identity provider and the Graph run on threads of their own, so their "
            f"CPU is in deputy's server CPU, and in \"other\" for the TypeScript peers); {m['tier2']['user']}'s "
            f"token ({m['tier2']['token_bytes']:,} bytes) minted by `deputy idp mint-token`; the TypeScript peer "
            f"{m['tier2']['typescript_peer']} (requireBearerAuth + jose createRemoteJWKSet against the provider's "
            f"JWKS, @azure/msal-node {m['tier2']['msal_node']} ConfidentialClientApplication with the client secret, "
            f"acquireTokenOnBehalfOf, then fetch) run twice: asking `https://graph.microsoft.com/.default` as deputy "
            f"does (the provider answers with the granted scopes and `.default`, as Entra does, so msal-node's "
            f"cache finds the token again), and asking those two scopes by name. Each load uses a token the server "
            f"has not seen "
            f"(the sample calls use another of the same user), so every server starts with a cold cache; the "
            f"exchanges are the identity provider's `issued.on_behalf_of` (`/_dev/stats`) before and after. "
            if m.get("tier2") else "") +
           f"wrk -t{m['wrk']['threads']} was chosen because it gave nginx the higher number"
           f"{' (probe: ' + ', '.join(f'-t{k}: {v:,.0f} req/s' for k, v in m['wrk']['probe_req_per_s'].items()) + ')' if m['wrk'].get('probe_req_per_s') else ''}. "
           f"deputy commit {m['deputy']['commit']}{' (dirty tree)' if m['deputy']['dirty'] else ''}. "
           f"Command: `{m['command']}`.")
    md = "# deputy benchmark — latest run\n\n" + table + "\n\n" + "\n\n".join(summary) + "\n\n" + how + "\n"

    os.makedirs(args.out_dir, exist_ok=True)
    text = json.dumps(doc, indent=2) + "\n"
    stamp = meta["date_stamp"]
    for name, content in (("latest.json", text), (f"{stamp}.json", text), ("latest.md", md)):
        tmp = os.path.join(args.out_dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(content)
        os.replace(tmp, os.path.join(args.out_dir, name))

    if args.readme:
        # The README shows the latest table between its bench markers.
        with open(args.readme) as f:
            readme = f.read()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        if start in readme and end in readme:
            section = (table + "\n\n" + "\n\n".join(line for line in summary if line != cpu_note) +
                       f"\n\nMeasured {m['date']} ({m['machine']['nproc']} cores, server and wrk on the same machine); "
                       "how, in [bench/results/latest.md](bench/results/latest.md).\n")
            head, rest = readme.split(start, 1)
            _, tail = rest.split(end, 1)
            tmp = args.readme + ".tmp"
            with open(tmp, "w") as f:
                f.write(head + start + "\n" + section + end + tail)
            os.replace(tmp, args.readme)

    print()
    print(table)
    print()
    for line in summary:
        print(line.replace("**", ""))
    print()
    print(f"wrk: -t{m['wrk']['threads']} -c{m['connections']} -d{m['duration_s']}s "
          f"(-t{m['wrk']['threads']} gave nginx the highest number)")
    print(f"results: {os.path.join(args.out_dir, 'latest.json')}, latest.md, {stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
