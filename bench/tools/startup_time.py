#!/usr/bin/env python3
"""Start-to-ready time of an HTTP MCP server, for bench/run.

    startup_time.py --runs 20 -- /path/to/hello-server --host 127.0.0.1 --port 0 --threads 1

Each run: take a monotonic timestamp, spawn the server (posix_spawn), read its stderr until the
`listening on http://` line, take the second timestamp, then stop the server (SIGTERM, SIGKILL after 5 s).
Prints one JSON object: {"runs": N, "median_ms": .., "min_ms": .., "max_ms": .., "samples_ms": [..]}.
"""
import argparse
import json
import os
import select
import signal
import statistics
import sys
import time

READY = b"listening on http://"
TIMEOUT_S = 15.0

child_pid = None


def stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def one_run(argv: list[str]) -> float:
    global child_pid
    read_fd, write_fd = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, write_fd, 2)])
    child_pid = pid
    os.close(write_fd)
    os.close(devnull)
    seen = b""
    ready_ns = None
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while ready_ns is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"not ready within {TIMEOUT_S} s; stderr so far: {seen[-500:]!r}")
            readable, _, _ = select.select([read_fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                raise RuntimeError(f"server exited before it was ready; stderr: {seen[-500:]!r}")
            seen += chunk
            if READY in seen:
                ready_ns = time.perf_counter_ns()
    finally:
        stop(pid)
        child_pid = None
        os.close(read_fd)
    return (ready_ns - t0) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        parser.error("no server command")
    # bench/run stops us with SIGTERM on Ctrl-C or failure: leave no server behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        samples = [one_run(argv) for _ in range(args.runs)]
    finally:
        if child_pid is not None:
            stop(child_pid)
    print(json.dumps({
        "runs": len(samples),
        "median_ms": round(statistics.median(samples), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "samples_ms": [round(s, 3) for s in samples],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
