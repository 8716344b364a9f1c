# The two commands a newcomer needs: `make demo` and `make test`.
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
COMPONENT := target/$(WASM_TARGET)/component/bitbucket_connector.wasm
HOST := target/release/host-demo

.PHONY: build component host test lint demo clean

build: component host

# The component is built with the size-optimised `component` profile (see Cargo.toml).
component:
	@rustup target list --installed 2>/dev/null | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	$(CARGO) build -p bitbucket-connector --target $(WASM_TARGET) --profile component
	@ls -l $(COMPONENT) | awk '{print "component: " $$NF " (" $$5 " bytes)"}'

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

clean:
	$(CARGO) clean
