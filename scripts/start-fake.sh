# Sourced by scripts that need the fake Bitbucket: starts target/release/fake-bitbucket on a
# free port, stops it when the script exits, and exports the configuration for its sample
# workspace (BITBUCKET_WORKSPACE, BITBUCKET_API_BASE_URL, BITBUCKET_TOKEN).
fake_log=$(mktemp)
target/release/fake-bitbucket --port 0 >"$fake_log" 2>&1 &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null; rm -f "$fake_log"' EXIT
for _ in $(seq 50); do
  grep -q "listening on" "$fake_log" && break
  sleep 0.1
done
fake_base=$(grep -o 'http://[^ ]*' "$fake_log" | head -1)
[ -n "$fake_base" ] || { echo "the fake Bitbucket did not start:"; cat "$fake_log"; exit 1; }
export BITBUCKET_WORKSPACE=acme BITBUCKET_API_BASE_URL="$fake_base" BITBUCKET_TOKEN=test-token-valid
