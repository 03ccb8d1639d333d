# wallet-checkout: `make demo` builds everything and serves the demo store; `make test` installs
# what the tests need and runs them all. See README.md.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

ADDR ?= 127.0.0.1:8080
DIST := dist/wallet-checkout
WASM := target/wasm32-unknown-unknown/wasm-release/wallet-checkout.wasm
SERVER := target/release/wallet-checkout-server

.PHONY: demo test setup widget server test-native test-widget test-e2e

## demo: build the widget and the server, then serve the demo store at http://$(ADDR)
demo: setup widget server
	@echo "Demo store: http://$(ADDR)/  (Ctrl-C stops it)"
	WC_BIND=$(ADDR) $(SERVER)

## test: install what the tests need, then run every test
test:
	scripts/setup.sh test
	$(MAKE) widget server
	$(MAKE) test-native test-widget test-e2e

setup:
	scripts/setup.sh build

## widget: the shipped bundle in dist/wallet-checkout (JS loader, wasm-bindgen glue, wasm; precompressed)
widget:
	cargo build --profile wasm-release --target wasm32-unknown-unknown --bin wallet-checkout
	rm -rf $(DIST) && mkdir -p $(DIST)
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir $(DIST) --out-name wallet-checkout-core $(WASM)
	cp js/wallet-checkout.js $(DIST)/
	node scripts/precompress.mjs $(DIST)

server:
	cargo build --release -p wallet-checkout-server

test-native:
	cargo test --workspace

test-widget:
	CHROMEDRIVER=$$(command -v chromedriver) cargo test --target wasm32-unknown-unknown -p wallet-checkout --test widget

test-e2e:
	cd tests/e2e && SERVER_BIN=../../$(SERVER) npm test
