# wallet-checkout: `make demo` builds everything and serves the demo store; `make test` installs
# what the tests need and runs them all. See README.md.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

ADDR ?= 127.0.0.1:8080
DIST := dist/wallet-checkout
WASM := target/wasm32-unknown-unknown/wasm-release/wallet-checkout.wasm
BINDGEN_OUT := target/wasm-bindgen
SERVER := target/release/wallet-checkout-server
CARGO_HOME ?= $(HOME)/.cargo
# Build paths are kept out of the shipped module, so the same source gives the same bytes (and the
# same SRI hashes) on every machine.
WASM_RUSTFLAGS := --remap-path-prefix=$(CARGO_HOME)=/cargo --remap-path-prefix=$(CURDIR)=/wallet-checkout

.PHONY: demo test setup widget server bench test-native test-widget test-e2e test-schemathesis

## demo: build the widget and the server, then serve the demo store at http://$(ADDR)
demo: setup widget server
	@echo "Demo store: http://$(ADDR)/  (Ctrl-C stops it)"
	WC_BIND=$(ADDR) $(SERVER)

## test: install what the tests need, then run every test
test:
	scripts/setup.sh test
	$(MAKE) widget server
	$(MAKE) test-native test-widget test-e2e test-schemathesis

setup:
	scripts/setup.sh build

## widget: the shipped bundle in dist/wallet-checkout (loader, glue and module with content hashes,
## integrity.json, precompressed copies)
widget:
	RUSTFLAGS="$(WASM_RUSTFLAGS)" cargo build --profile wasm-release --target wasm32-unknown-unknown --bin wallet-checkout
	rm -rf $(BINDGEN_OUT)
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir $(BINDGEN_OUT) --out-name wallet-checkout-core $(WASM)
	node scripts/bundle.mjs $(BINDGEN_OUT) $(DIST)
	node scripts/precompress.mjs $(DIST)
	node scripts/integrity-readme.mjs

## server: the reference server, and the wallet provider mocks the end-to-end tests run it against
server:
	cargo build --release -p wallet-checkout-server -p wallet-checkout-mocks

## test-schemathesis: schemathesis against the release server and server/openapi.json (after `make server`)
test-schemathesis:
	scripts/schemathesis.sh

## bench: sizes, widget timings and server benchmarks (results go to docs/benchmarks.md by hand)
bench: widget server
	scripts/setup.sh test
	node bench/widget.mjs 15
	node bench/latency.mjs 50
	node bench/latency.mjs 50 $$(scripts/postgres.sh start)
	node bench/waits.mjs 10000
	bench/server.sh 10

## test-native: unit tests and the server's black-box suite, on SQLite and again on PostgreSQL
test-native:
	cargo test --workspace
	WC_TEST_POSTGRES=$$(scripts/postgres.sh start) cargo test -p wallet-checkout-server

test-widget:
	CHROMEDRIVER=$$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=180 cargo test --target wasm32-unknown-unknown -p wallet-checkout --test widget

test-e2e:
	cd tests/e2e && SERVER_BIN=../../$(SERVER) npm test
