#!/usr/bin/env bash
# Starts the fake Bitbucket with its sample workspace and runs every tool once through
# host-demo, so the whole product can be seen working without a Bitbucket account.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=target/release/host-demo

. scripts/start-fake.sh
export HOST_DEMO_CACHE_DIR="${TMPDIR:-/tmp}/bitbucket-connector-demo-cache"

run() {
  local tool=$1 args=$2
  printf '\n\033[1m$ host-demo call %s %s\033[0m\n' "$tool" "$args"
  "$HOST" call "$tool" "$args" | head -c 2500 || true
  echo
}

echo "Fake Bitbucket Cloud at $fake_base (workspace acme); credentials come from the environment."
run list_repositories '{"limit": 5}'
run browse_repository '{"repo": "widgets", "path": "src", "limit": 8}'
run read_file '{"repo": "widgets", "path": "README.md", "start_line": 1, "end_line": 8}'
run search_code '{"query": "fn main", "limit": 3}'
run list_commits '{"repo": "widgets", "limit": 3}'
first=$("$HOST" call list_commits '{"repo": "widgets", "limit": 1}' | grep -o '"hash": *"[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{40\}')
run get_commit "{\"repo\": \"widgets\", \"commit\": \"${first:0:12}\"}"
run list_pull_requests '{"repo": "widgets", "state": ["OPEN", "MERGED"], "limit": 3}'
run list_pipelines '{"repo": "widgets", "limit": 3}'
run list_branches '{"repo": "widgets", "limit": 5}'
run get_commit "{\"repo\": \"widgets\", \"commit\": \"${first:0:12}\", \"diff\": true}"
run get_pull_request '{"repo": "widgets", "id": 79, "diff": true}'
run get_pipeline '{"repo": "widgets", "pipeline": "5", "log_lines": 12}'
printf '\n\033[1mAnd a typed error: a repository that does not exist\033[0m\n'
"$HOST" call read_file '{"repo": "no-such-repo", "path": "README.md"}' || echo "(exit code $?)"
