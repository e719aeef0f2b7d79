#!/usr/bin/env python3
"""Checks one HTTP response body for bench/run: exits 0 when it carries the expected JSON-RPC message.

    check_body.py echo < body        # hello-server's echo: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}
    check_body.py write < body       # deputy serve's test_write_tool answer (text and structuredContent)
    check_body.py sharepoint < body  # check_sharepoint_site_access for test-site: "✅ Access granted to site: test-site"
    check_body.py initialize < body  # an initialize result for id 0 (returns its protocolVersion on stdout)

The body may be plain JSON (application/json) or one SSE event whose `data:` lines hold it (text/event-stream, as
the TypeScript SDK answers). Objects are compared as JSON, so member order does not matter.
"""
import json
import sys

# The tools/call answers each section's servers must give, exactly (bench/run sends the matching request).
_WRITE_MESSAGE = "This is a write test tool response"
EXPECTED_CALLS = {
    "echo": {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "hello"}]}},
    "write": {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": _WRITE_MESSAGE}],
                                                     "structuredContent": {"message": _WRITE_MESSAGE}}},
    "sharepoint": {"jsonrpc": "2.0", "id": 1,
                   "result": {"content": [{"type": "text", "text": "✅ Access granted to site: test-site"}]}},
}


def message(raw: str):
    text = raw.strip()
    if text.startswith("{"):
        return json.loads(text)
    data = [line[5:].lstrip() for line in text.splitlines() if line.startswith("data:")]
    if len(data) != 1:
        raise ValueError(f"expected one SSE data line, found {len(data)}")
    return json.loads(data[0])


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else "echo"
    raw = sys.stdin.buffer.read().decode("utf-8")
    try:
        msg = message(raw)
    except ValueError as err:
        print(f"check_body: not a JSON-RPC message ({err}): {raw[:300]!r}", file=sys.stderr)
        return 1
    if kind in EXPECTED_CALLS:
        expected = EXPECTED_CALLS[kind]
        if msg != expected:
            print(f"check_body: unexpected answer {json.dumps(msg, ensure_ascii=False)}; "
                  f"expected {json.dumps(expected, ensure_ascii=False)}", file=sys.stderr)
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
