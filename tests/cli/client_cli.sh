#!/usr/bin/env bash
# The `deputy` client subcommands as a user runs them: `deputy idp` and `deputy serve` on free loopback ports,
# then login (user name and password), whoami, tools, call, a wrong password, logout; exit codes and output.
set -euo pipefail
deputy="${1:?usage: client_cli.sh path/to/deputy}"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "client_cli: $*" >&2; exit 1; }

# Waits (bounded) for a pattern in a log and prints the match.
wait_for() {
  local pattern=$1 log=$2 found=""
  for _ in $(seq 1 200); do
    found=$(grep -o "$pattern" "$log" | head -1 || true)
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.05
  done
  cat "$log" >&2
  return 1
}

"$deputy" idp --port 0 --state "$work/state" >"$work/idp.log" 2>&1 &
pids+=($!)
authority=$(wait_for 'https://127.0.0.1:[0-9]*' "$work/idp.log") || fail "deputy idp did not start"
"$deputy" serve --port 0 --threads 1 >"$work/serve.log" 2>&1 &
pids+=($!)
mcp=$(wait_for 'http://127.0.0.1:[0-9]*/mcp' "$work/serve.log") || fail "deputy serve did not start"

# Every setting from the environment (the seed's names), as a .env-driven user would have them.
export AUTHORITY="$authority" DEPUTY_CA_FILE="$work/state/ca.pem" MSAL_CACHE_PATH="$work/cache/msal_cache.json"
export MCP_URL="$mcp"
cd "$work"  # no .env here

out=$("$deputy" login --username alice@deputy-dev.test --password dev-password-alice) || fail "login failed"
[ "$out" = "Signed in as alice@deputy-dev.test (Alice Adams)" ] || fail "login said: $out"
[ "$(stat -c %a "$MSAL_CACHE_PATH")" = 600 ] || fail "the cache is not 0600"
grep -q '"RefreshToken"' "$MSAL_CACHE_PATH" || fail "no refresh token cached"

out=$("$deputy" whoami) || fail "whoami failed"
grep -q '^alice@deputy-dev.test (Alice Adams)$' <<<"$out" || fail "whoami said: $out"
grep -q 'min left' <<<"$out" || fail "whoami does not say until when: $out"
"$deputy" whoami --json | grep -q '"username": "alice@deputy-dev.test"' || fail "whoami --json"

# `deputy serve` here runs without authentication: the tools are called without a token.
out=$("$deputy" tools --no-auth) || fail "tools failed"
grep -q '^echo$' <<<"$out" || fail "tools said: $out"
out=$("$deputy" call echo message=hello --no-auth) || fail "call failed"
[ "$out" = hello ] || fail "call said: $out"
set +e
"$deputy" call echo nokey --no-auth >/dev/null 2>"$work/err"; code=$?
set -e
[ $code -eq 2 ] || fail "a malformed argument exits $code, not 2"
grep -q "'nokey' is not key=value" "$work/err" || fail "no clear message for a malformed argument"

set +e
"$deputy" login --username alice@deputy-dev.test --password wrong >/dev/null 2>"$work/err"; code=$?
set -e
[ $code -eq 1 ] || fail "a wrong password exits $code"
grep -q "Your account or password is incorrect" "$work/err" || fail "wrong password said: $(cat "$work/err")"

out=$("$deputy" logout) || fail "logout failed"
[ "$out" = "Signed out alice@deputy-dev.test." ] || fail "logout said: $out"
set +e
"$deputy" whoami >/dev/null 2>&1; code=$?
set -e
[ $code -eq 1 ] || fail "whoami after logout exits $code"
grep -q 'alice' "$MSAL_CACHE_PATH" && fail "the cache still names alice after logout"
echo "client_cli: ok"
