#!/usr/bin/env bash
# The `deputy` client subcommands as a user runs them against `deputy dev` on free loopback ports: login (user name
# and password), whoami, tools, call (On-Behalf-Of to the dev Graph), carol's MFA step-up, a wrong password,
# logout; exit codes and output.
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

"$deputy" dev --port 0 --idp-port 0 --graph-port 0 --state "$work/state" >"$work/dev.log" 2>&1 &
pids+=($!)
mcp=$(wait_for 'http://127.0.0.1:[0-9]*/mcp' "$work/dev.log") || fail "deputy dev did not start"
authority=$(grep -o 'authority  https://127.0.0.1:[0-9]*' "$work/dev.log" | head -1 | sed 's/authority  //')
[ -n "$authority" ] || fail "deputy dev did not print its authority"

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

# alice's tools on deputy dev, with her token; a call that goes On-Behalf-Of to the dev Graph.
out=$("$deputy" tools) || fail "tools failed"
grep -q '^check_sharepoint_site_access' <<<"$out" || fail "tools said: $out"
grep -q '^test_write_tool' <<<"$out" || fail "tools said: $out"
out=$("$deputy" call check_sharepoint_site_access site_name=test-site) || fail "call failed"
[ "$out" = "✅ Access granted to site: test-site" ] || fail "call said: $out"
set +e
"$deputy" call check_sharepoint_site_access nokey >/dev/null 2>"$work/err"; code=$?
set -e
[ $code -eq 2 ] || fail "a malformed argument exits $code, not 2"
grep -q "'nokey' is not key=value" "$work/err" || fail "no clear message for a malformed argument"

# carol: the call is answered with an MFA claims challenge; the client signs in again with the claims, passes
# the MFA page with the one-time code, and the retried call goes through.
export MSAL_CACHE_PATH="$work/cache/carol.json"
"$deputy" login --username carol@deputy-dev.test --password dev-password-carol >/dev/null || fail "carol's login failed"
out=$(DEPUTY_USERNAME=carol@deputy-dev.test DEPUTY_PASSWORD=dev-password-carol DEPUTY_OTP=000000 \
      "$deputy" call whoami) || fail "carol's step-up failed"
grep -q 'Carol Clark' <<<"$out" || fail "carol's call said: $out"
export MSAL_CACHE_PATH="$work/cache/msal_cache.json"

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
