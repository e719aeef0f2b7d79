#!/usr/bin/env python3
"""Assembles bench/run's measurements into bench/results/{latest.json,latest.md,<date>.json} and prints the table.

    report.py --meta meta.json --load nginx=a.json --load deputy=b.json --load typescript-sdk=c.json \
              [--startup startup.json] [--sessions sessions.json] --out-dir bench/results

Each --load file is what bench/run writes for one measured wrk run:
    {"label": .., "server_cpu_s": .., "wrk_cpu_s": .., "elapsed_s": .., "result": <wrk BENCH_RESULT object>}
"""
import argparse
import json
import os
import sys

LABELS = {"deputy": "deputy hello-server (1 thread)", "nginx": "nginx (1 worker, fixed body)",
          "typescript-sdk": "TypeScript SDK server (node)"}


def load_json(path):
    with open(path) as f:
        return json.load(f)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meta", required=True)
    parser.add_argument("--load", action="append", default=[], metavar="NAME=FILE")
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
    nginx = servers.get("nginx", {}).get("req_per_s")
    for s in servers.values():
        s["ratio_to_nginx"] = round(s["req_per_s"] / nginx, 3) if nginx else None
    ratio_ts = None
    if "deputy" in servers and "typescript-sdk" in servers:
        ratio_ts = round(servers["deputy"]["req_per_s"] / servers["typescript-sdk"]["req_per_s"], 2)

    doc = dict(meta)
    doc["servers"] = servers
    doc["deputy_to_typescript_sdk"] = ratio_ts
    if args.startup:
        doc["startup"] = load_json(args.startup)
    if args.sessions:
        doc["idle_sessions"] = load_json(args.sessions)

    lines = [
        "| server | req/s | p50 (ms) | p99 (ms) | × nginx | server CPU | wrk CPU | other CPU | idle |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("nginx", "deputy", "typescript-sdk"):
        if name not in servers:
            continue
        s = servers[name]
        lines.append(f"| {s['label']} | {s['req_per_s']:,.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
                     f"{s['ratio_to_nginx']:.2f} | {s['server_cpu_pct']:.0f}% | {s['wrk_cpu_pct']:.0f}% | "
                     f"{s['other_cpu_pct']:.0f}% | {s['idle_cpu_pct']:.0f}% |")
    table = "\n".join(lines)
    summary = []
    busy = [n for n, s in servers.items() if s["other_cpu_pct"] > 10]
    if meta.get("background_cpu_pct_before", 0) > 10 or busy:
        summary.append(f"**Warning: other processes used the CPU during this run** (machine "
                       f"{meta.get('background_cpu_pct_before')}% busy before it started; \"other\" in the table): the numbers are low and noisy.")
    summary.append("CPU columns: share of one core during the measured run (100% = one core; the machine has "
                   f"{meta['machine']['nproc']}, shared by server and wrk): the server's processes, wrk, the rest "
                   "(other processes, softirq work outside those two), and idle. A server near 100% with idle left "
                   "over is the bottleneck; wrk near 100% means the load generator is.")
    if ratio_ts is not None:
        summary.append(f"deputy / TypeScript SDK server: **{ratio_ts:.1f}×** the requests per second.")
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
           f"which POSTs one MCP `tools/call` of `echo` (message \"hello\") per request on an initialized session "
           f"and checks every status; nginx {m['versions'].get('nginx', '?')} answers the same POST with a fixed "
           f"78-byte JSON-RPC result (1 worker, access_log off); TypeScript SDK "
           f"{m['versions'].get('mcp_sdk', '?')} on node {m['versions'].get('node', '?')} "
           f"(tests/interop/peer-everything-server.mjs --profile hello, stateful sessions, SSE answers). "
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
            section = (table + "\n\n" + "\n\n".join(summary[1:]) +
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
