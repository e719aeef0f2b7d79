#!/usr/bin/env python3
"""Checks one HTTP response body for bench/run: exits 0 when it carries the expected JSON-RPC message.

    check_body.py call < body        # the echo answer: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}
    check_body.py initialize < body  # an initialize result for id 0 (returns its protocolVersion on stdout)

The body may be plain JSON (application/json) or one SSE event whose `data:` lines hold it (text/event-stream, as
the TypeScript SDK answers). Objects are compared as JSON, so member order does not matter.
"""
import json
import sys

EXPECTED_CALL = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "hello"}]}}


def message(raw: str):
    text = raw.strip()
    if text.startswith("{"):
        return json.loads(text)
    data = [line[5:].lstrip() for line in text.splitlines() if line.startswith("data:")]
    if len(data) != 1:
        raise ValueError(f"expected one SSE data line, found {len(data)}")
    return json.loads(data[0])


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else "call"
    raw = sys.stdin.read()
    try:
        msg = message(raw)
    except ValueError as err:
        print(f"check_body: not a JSON-RPC message ({err}): {raw[:300]!r}", file=sys.stderr)
        return 1
    if kind == "call":
        if msg != EXPECTED_CALL:
            print(f"check_body: unexpected answer {json.dumps(msg)}; expected {json.dumps(EXPECTED_CALL)}",
                  file=sys.stderr)
            return 1
        return 0
    if kind == "initialize":
        result = msg.get("result") if isinstance(msg, dict) else None
        if msg.get("id") != 0 or not isinstance(result, dict) or "protocolVersion" not in result:
            print(f"check_body: not an initialize result: {json.dumps(msg)[:300]}", file=sys.stderr)
            return 1
        print(result["protocolVersion"])
        return 0
    print(f"check_body: unknown kind {kind}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
