# The two commands a newcomer needs: `make demo` and `make test`.
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
COMPONENT := target/$(WASM_TARGET)/component/bitbucket_connector.wasm
HOST := target/release/host-demo
# The Spin HTTP component has its own target directory: it links the connector as a library
# (without the `component` feature), and cargo would otherwise put that build's
# `bitbucket_connector.wasm` (exporting nothing) in place of the real component.
SPIN_TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)/spin
SPIN_COMPONENT := $(SPIN_TARGET_DIR)/$(WASM_TARGET)/component/bitbucket_spin.wasm

.PHONY: build component spin host test lint demo clean bench jco-check jco-install conformance

build: component spin host

# The component is built with the size-optimised `component` profile (see Cargo.toml).
component:
	@rustup target list --installed 2>/dev/null | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	$(CARGO) build -p bitbucket-connector -p misbehaving-guest --target $(WASM_TARGET) --profile component
	@ls -l $(COMPONENT) | awk '{print "component: " $$NF " (" $$5 " bytes)"}'

# The Spin HTTP component (spin/): MCP over HTTP and a JSON API, same tools, same profile.
spin:
	@rustup target list --installed 2>/dev/null | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	$(CARGO) build -p bitbucket-spin --target $(WASM_TARGET) --profile component --target-dir $(SPIN_TARGET_DIR)
	@ls -l $(SPIN_COMPONENT) | awk '{print "spin component: " $$NF " (" $$5 " bytes)"}'

host:
	$(CARGO) build --release -p host-demo -p fake-bitbucket

# Unit tests (guest logic natively, host, fake server) and end-to-end tests of the real
# component in the real host against the fake Bitbucket. One profile (release) throughout.
test: build
	$(CARGO) test --release --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

demo: build
	@scripts/demo.sh

# Speed as ratios (not part of `make test`): tools against the fake with injected latency,
# host overhead, cold and warm start, component size; then `host-demo serve` under load
# (32 and 200 concurrent MCP sessions over HTTP). See BENCHMARKS.md.
bench: build
	$(CARGO) run --release -p fake-bitbucket --bin bench
	$(CARGO) run --release -p fake-bitbucket --bin bench-load

# The component in Node through jco (not part of `make test`: needs node and npm, and the
# first run downloads ~340 MB of node_modules, ~20 s; later runs take ~2 s).
jco-check: build
	@scripts/jco-check.sh

# The official MCP conformance suite against `host-demo serve` (needs npm; installs the suite
# and Node 22 into conformance/node_modules, ~240 MB, ~20 s the first time).
conformance: build
	@scripts/conformance.sh

# jco and preview2-shim as locked in jco/package-lock.json, into jco/node_modules (outside
# git): for `make jco-check` and for tests/tests/e2e_jco_serve.rs (part of `make test`, which
# says it was skipped when they are missing; `.ci/run` installs them, so CI runs it).
jco-install:
	@[ -x jco/node_modules/.bin/jco ] && [ ! jco/package-lock.json -nt jco/node_modules/.package-lock.json ] || \
	  (cd jco && npm install --no-audit --no-fund --loglevel=error)

clean:
	$(CARGO) clean
