#!/usr/bin/env python3
"""Memory cost of idle MCP sessions, for bench/run.

    sessions_rss.py --url http://127.0.0.1:PORT/mcp --pid SERVER_PID --sessions 10000

Reads the server's VmRSS (/proc/PID/status), opens N sessions (initialize, then notifications/initialized, each
checked) over a few keep-alive connections, closes those connections, lets the server settle, reads VmRSS again,
and checks that a sample of the sessions is still alive (ping answered 200). Prints one JSON object.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

PROTOCOL = "2025-06-18"
INITIALIZE = json.dumps({
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "deputy-bench", "version": "1"}},
}, separators=(",", ":")).encode()
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
PING = b'{"jsonrpc":"2.0","id":7,"method":"ping"}'
BASE_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def rss_kib(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    return out


class Client:
    def __init__(self, host: str, port: int, path: str):
        self.conn = http.client.HTTPConnection(host, port, timeout=10)
        self.path = path

    def post(self, body: bytes, session: str | None = None):
        headers = dict(BASE_HEADERS)
        if session:
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = PROTOCOL
        self.conn.request("POST", self.path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, response.getheader("Mcp-Session-Id"), data

    def open_session(self) -> str:
        status, session, data = self.post(INITIALIZE)
        if status != 200 or not session:
            raise RuntimeError(f"initialize: HTTP {status}, session {session!r}, body {data[:200]!r}")
        status, _, data = self.post(INITIALIZED, session)
        if not 200 <= status <= 299:
            raise RuntimeError(f"notifications/initialized: HTTP {status}, body {data[:200]!r}")
        return session

    def close(self):
        self.conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait before the second reading")
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.url)
    before = rss_kib(args.pid)

    sessions: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(args.sessions))
    deadline = time.monotonic() + args.time_limit

    def worker():
        client = Client(url.hostname, url.port, url.path)
        try:
            while not errors:
                with lock:
                    if next(counter, None) is None:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"time limit of {args.time_limit} s exceeded")
                session = client.open_session()
                with lock:
                    sessions.append(session)
        except Exception as err:  # noqa: BLE001 - reported below
            with lock:
                errors.append(f"{type(err).__name__}: {err}")
        finally:
            client.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        print(f"sessions_rss: {len(sessions)} sessions opened, then: {errors[0]}", file=sys.stderr)
        return 1
    if len(set(sessions)) != len(sessions):
        print("sessions_rss: the server handed out a session id twice", file=sys.stderr)
        return 1

    time.sleep(args.settle)  # the client connections are closed; let the server drop them
    after = rss_kib(args.pid)

    # The sessions must still be there, or the delta means nothing.
    client = Client(url.hostname, url.port, url.path)
    sample = random.sample(sessions, min(50, len(sessions)))
    dead = 0
    for session in sample:
        status, _, _ = client.post(PING, session)
        dead += status != 200
    client.close()
    if dead:
        print(f"sessions_rss: {dead} of {len(sample)} sampled sessions no longer answer ping", file=sys.stderr)
        return 1

    delta_kib = after["VmRSS"] - before["VmRSS"]
    print(json.dumps({
        "sessions": len(sessions),
        "seconds_to_open": round(elapsed, 2),
        "client_connections": args.connections,
        "vmrss_before_kib": before["VmRSS"],
        "vmrss_after_kib": after["VmRSS"],
        "vmhwm_after_kib": after.get("VmHWM"),
        "rss_anon_before_kib": before.get("RssAnon"),
        "rss_anon_after_kib": after.get("RssAnon"),
        "delta_mib": round(delta_kib / 1024, 2),
        "bytes_per_session": round(delta_kib * 1024 / len(sessions)),
        "sampled_alive": f"{len(sample) - dead}/{len(sample)}",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
