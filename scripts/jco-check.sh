#!/usr/bin/env bash
# Checks that the component runs in Node through jco (the JavaScript component host):
# installs jco and preview2-shim (jco/package-lock.json), transpiles the component, starts the
# fake Bitbucket, and runs jco/run-check.mjs, which calls list_repositories and read_file and
# checks a typed error. The repositories must match what host-demo (wasmtime) returns.
# Needs node >= 18 and npm (the first run downloads ~340 MB of node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
COMPONENT=target/wasm32-wasip2/component/bitbucket_connector.wasm
HOST=target/release/host-demo
FAKE=target/release/fake-bitbucket
for f in "$COMPONENT" "$HOST" "$FAKE"; do
  [ -e "$f" ] || { echo "jco-check: $f is missing: run \`make build\` first" >&2; exit 2; }
done
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "jco-check: needs node and npm" >&2; exit 2; }

if [ ! -x jco/node_modules/.bin/jco ] || [ jco/package-lock.json -nt jco/node_modules/.package-lock.json ]; then
  # `npm install` rather than `npm ci`: the lock file omits optional platform packages that are
  # not published for every platform, which `npm ci` refuses; `install` still follows the lock.
  echo "jco-check: npm install (jco, preview2-shim, as locked in jco/package-lock.json)"
  (cd jco && npm install --no-audit --no-fund --loglevel=error)
fi

rm -rf jco/out
(cd jco && ./node_modules/.bin/jco transpile "../$COMPONENT" -o out --name bitbucket_connector -q)

# The transpiled module is an ES module: from a package that is not `"type": "module"` Node
# refuses it. Show that (the check's own package, jco/package.json, is an ES module package).
esm_dir=$(mktemp -d)
cp -r jco/out "$esm_dir/out"
echo '{"type": "commonjs"}' >"$esm_dir/package.json"
esm_error=$(cd "$esm_dir" && node -e "import('./out/bitbucket_connector.js').then(() => console.log('loaded'), (e) => console.log(e.message.split('\n')[0]))" 2>/dev/null)
rm -rf "$esm_dir"
case "$esm_error" in
  *"outside a module"*) echo "jco-check: from a CommonJS package Node refuses the module (\"$esm_error\"); jco/package.json has \"type\": \"module\"" ;;
  *) echo "jco-check: expected Node to refuse the ES module from a CommonJS package, got: $esm_error" >&2; exit 1 ;;
esac

. scripts/start-fake.sh
node_out=$(cd jco && node run-check.mjs)
echo "jco: $node_out"

slugs() { grep -o '"slug": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | paste -sd, -; }
from_node=$(printf '%s' "$node_out" | grep -o '"slugs":\[[^]]*\]' | grep -o '"[^"]*"' | tail -n +2 | tr -d '"' | paste -sd, -)
from_wasmtime=$("$HOST" call list_repositories '{"limit": 5}' | slugs)
if [ "$from_node" != "$from_wasmtime" ]; then
  echo "jco-check: jco returned [$from_node] but host-demo returned [$from_wasmtime]" >&2
  exit 1
fi
echo "jco-check: ok (the component runs in Node via jco; same repositories as in wasmtime: $from_node)"
