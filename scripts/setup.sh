#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there.
#   scripts/setup.sh build   the pinned nightly with rust-src and the wasm target, the stable wasm
#                            target, the wasm-bindgen CLI and the build tools in tools/ (for
#                            `make widget`; docs/decisions/0007-size-pipeline.md says why each)
#   scripts/setup.sh test    the above, plus Chromium, ChromeDriver and the browser tests' npm packages
#   scripts/setup.sh size    the above (build), plus twiggy (for `make size`)
#   scripts/setup.sh bench   the above (test), plus wrk (for `make bench`)
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the wasm-bindgen crate version pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
# The nightly the shipped widget is built with (the Makefile reads the same file).
NIGHTLY=$(cat scripts/widget-toolchain)

step() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

setup_build() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
  fi
  # The shipped widget rebuilds the standard library (rust-src) for wasm32 with this nightly.
  if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
    || ! rustup +"$NIGHTLY" target list --installed | grep -qx wasm32-unknown-unknown \
    || ! rustup +"$NIGHTLY" component list --installed | grep -q '^rust-src'; then
    step "installing Rust $NIGHTLY with rust-src and the wasm32 target (about 30 s)"
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
    # No --locked: one of its locked dependencies is missing from the registry index.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  if ! (cd tools && npm ls --depth=0 >/dev/null 2>&1); then
    step "installing the build tools' npm packages (binaryen's wasm-opt, esbuild)"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

setup_test() {
  setup_build
  # The end-to-end tests run in Chromium's headless shell, the widget tests (through ChromeDriver)
  # and the benchmarks in the whole browser.
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
    || ! command -v chromium-headless-shell >/dev/null; then
    step "installing Chromium, its headless shell and ChromeDriver (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell chromium-driver >/dev/null
  fi
  step "installing the browser tests' npm packages"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
}

# For `make size`: twiggy, which says what the module's bytes are (not needed to build or test).
TWIGGY_VERSION=0.8.0
setup_size() {
  setup_build
  if [ "$(twiggy --version 2>/dev/null | awk '{print $2}')" != "$TWIGGY_VERSION" ]; then
    step "installing twiggy $TWIGGY_VERSION (about 2 minutes)"
    cargo install twiggy --version "$TWIGGY_VERSION"
  fi
}

# For `make bench`: wrk, the load generator of the server's throughput runs (bench/server.sh).
setup_bench() {
  setup_test
  if ! command -v wrk >/dev/null; then
    step "installing wrk (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
}

case "${1:-build}" in
  build) setup_build ;;
  test) setup_test ;;
  size) setup_size ;;
  bench) setup_bench ;;
  *) echo "usage: $0 build|test|size|bench" >&2; exit 2 ;;
esac
