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
RUSTUP_HOME ?= $(HOME)/.rustup
# Build paths are kept out of the shipped module, so the same source gives the same bytes (and the
# same SRI hashes) on every machine.
WASM_RUSTFLAGS := --remap-path-prefix=$(CARGO_HOME)=/cargo --remap-path-prefix=$(RUSTUP_HOME)=/rustup \
	--remap-path-prefix=$(CURDIR)=/wallet-checkout

# The shipped widget is built with a pinned nightly that rebuilds the standard library for size
# (docs/decisions/0007-size-pipeline.md). `make widget WIDGET_TOOLCHAIN=stable` builds the same
# widget with the stable toolchain instead: larger, for when the nightly cannot be had.
WIDGET_TOOLCHAIN ?= nightly
NIGHTLY := $(shell cat scripts/widget-toolchain)
WASM_OPT := tools/node_modules/.bin/wasm-opt
# The features rustc (>= 1.87) emits for wasm32-unknown-unknown; wasm-opt 132 does not detect them.
WASM_OPT_FEATURES := --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
	--enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-call-indirect-overlong
# -Oz to a fixed point, then the control flow rebuilt from scratch (--flatten --rereloop) and
# optimized again, assuming that the lowest 1 KiB of memory is never used (true of rustc's layout:
# the stack sits below the data and grows down from 1 MiB), which lets constant offsets be folded
# into loads and stores. Measured in decision 7.
WASM_OPT_PASSES ?= --low-memory-unused -Oz --converge --flatten --rereloop -Oz --converge
ifeq ($(WIDGET_TOOLCHAIN),stable)
WIDGET_CARGO := cargo
WIDGET_RUSTFLAGS := $(WASM_RUSTFLAGS)
WASM_OPT_FEATURES += --enable-reference-types
else ifeq ($(WIDGET_TOOLCHAIN),nightly)
# std rebuilt for size; a panic is a bare trap (no message, no formatting machinery); no source
# locations or Debug formatting kept; no reference types (wasm-bindgen then needs no externref
# table, which only the rebuilt std allows).
WIDGET_CARGO := cargo +$(NIGHTLY) -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
WIDGET_RUSTFLAGS := $(WASM_RUSTFLAGS) -Zunstable-options -Cpanic=immediate-abort \
	-Zlocation-detail=none -Zfmt-debug=none -Ctarget-feature=-reference-types
else
$(error WIDGET_TOOLCHAIN must be nightly or stable)
endif

# A bundle step that fails leaves no integrity.json behind, so the next `make widget` makes it again.
.DELETE_ON_ERROR:

.PHONY: demo test setup widget server bench size test-native test-native-sqlite test-native-postgres test-widget test-e2e test-schemathesis screenshots

## demo: build the widget and the server, then serve the demo store at http://$(ADDR)
demo: setup widget server
	@echo "Serving the demo at http://$(ADDR)/ (Ctrl-C stops it)"
	WC_BIND=$(ADDR) $(SERVER)

## test: install what the tests need, then run every test. The five runs (the native tests on
## SQLite, the suite on PostgreSQL, the widget's, the end-to-end tests, schemathesis) go side by
## side, each on its own servers, ports and data, each one's output printed whole when it ends
test:
	scripts/setup.sh test
	$(MAKE) widget server
	$(MAKE) --jobs=5 --output-sync=target test-native-sqlite test-native-postgres test-widget test-e2e test-schemathesis

setup:
	scripts/setup.sh build

## widget: the shipped bundle in dist/wallet-checkout (loader, glue and module with content hashes,
## integrity.json, precompressed copies), built with the pinned nightly; `make widget
## WIDGET_TOOLCHAIN=stable` builds the same widget with stable Rust (larger; the README's hashes
## stay those of the shipped build)
widget:
	RUSTFLAGS="$(WIDGET_RUSTFLAGS)" $(WIDGET_CARGO) build --profile wasm-release \
		--target wasm32-unknown-unknown --bin wallet-checkout
	$(MAKE) --no-print-directory $(DIST)/integrity.json

# The bundle is made again only when the module or one of its other inputs changed (a fresh
# wasm-opt pass alone takes seconds).
$(DIST)/integrity.json: $(WASM) $(wildcard js/*.js locales/*.json scripts/*.mjs) tools/package-lock.json Makefile
	rm -rf $(BINDGEN_OUT)
	wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
		--out-dir $(BINDGEN_OUT) --out-name wallet-checkout-core $(WASM)
	$(WASM_OPT) $(WASM_OPT_FEATURES) $(WASM_OPT_PASSES) --strip-target-features \
		-o $(BINDGEN_OUT)/wallet-checkout-core_bg.wasm $(BINDGEN_OUT)/wallet-checkout-core_bg.wasm
	node scripts/bundle.mjs $(BINDGEN_OUT) $(DIST)
	node scripts/precompress.mjs $(DIST)
	node scripts/sizes.mjs $(DIST)
ifeq ($(WIDGET_TOOLCHAIN),nightly)
	node scripts/integrity-readme.mjs
endif

## size: what the module's bytes are, by twiggy (the shipped module with its function names kept)
size: widget
	scripts/setup.sh size
	rm -rf target/wasm-bindgen-names
	wasm-bindgen --target web --no-typescript --out-dir target/wasm-bindgen-names --out-name names $(WASM)
	twiggy top -n 40 target/wasm-bindgen-names/names_bg.wasm

## server: the reference server, and the wallet provider mocks the end-to-end tests run it against
server:
	cargo build --release -p wallet-checkout-server -p wallet-checkout-mocks

## test-schemathesis: schemathesis against the release server and server/openapi.json (after `make server`)
test-schemathesis:
	scripts/schemathesis.sh

## bench: sizes, widget timings and server benchmarks (results go to docs/benchmarks.md by hand)
bench: widget server
	scripts/setup.sh bench
	node bench/widget.mjs 15
	node bench/latency.mjs 50
	node bench/latency.mjs 50 $$(scripts/postgres.sh fresh)
	node bench/waits.mjs 10000
	node bench/flood.mjs 10
	bench/server.sh 10

## screenshots: the README's pictures of the console (docs/screenshots/), from a seeded server
screenshots: widget server
	scripts/setup.sh test
	node tests/e2e/screenshots.mjs

## test-native: unit tests and the server's black-box suite (one binary, tests/suite), on SQLite
## and, side by side, on PostgreSQL (a server of the run's own, deleted when it ends: see
## scripts/postgres.sh run); a test that means something on one database only is skipped on
## the other. The PostgreSQL run names the workspace too, so that it reuses the SQLite run's build
## (with `-p` alone cargo resolves other features and builds the dependencies again); whichever
## starts second waits for the other's build
test-native: test-native-sqlite test-native-postgres

test-native-sqlite:
	cargo test --workspace -- --skip ::on_postgres::

test-native-postgres:
	scripts/postgres.sh run cargo test --workspace --test suite -- --skip ::on_sqlite::

test-widget:
	CHROMEDRIVER=$$(command -v chromedriver) WASM_BINDGEN_TEST_TIMEOUT=180 cargo test --target wasm32-unknown-unknown -p wallet-checkout --test widget

test-e2e:
	cd tests/e2e && SERVER_BIN=../../$(SERVER) npm test
