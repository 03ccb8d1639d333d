#!/usr/bin/env bash
# Property-based tests of the server's HTTP API against its OpenAPI document (server/openapi.json)
# with schemathesis: two runs side by side (the generated cases; the stateful phase), each against
# the release server on a free port with a fresh database and an admin key made with its command
# line, driving every documented operation. Exits non-zero when schemathesis finds anything (or a
# server logs a panic); stops the servers in every case. About 50 s on 2 cores.
#
#   scripts/schemathesis.sh            needs target/release/wallet-checkout-server (make server)
#
# Settings (environment): SERVER_BIN (default target/release/wallet-checkout-server),
# SCHEMATHESIS_EXAMPLES (generated cases per operation in the fuzzing phase; default 300: the
# coverage phase before it already tries every boundary the document names; an operation on one
# resource by its id gets a third of them, see below), SCHEMATHESIS_STATEFUL_EXAMPLES (the
# stateful phase's, which follows the document's links from one operation to the next; default
# 800); e.g. `SCHEMATHESIS_EXAMPLES=2000` for a deeper run,
# SCHEMATHESIS_SEED (default 20261126), SCHEMATHESIS_REPORT_DIR (a JUnit report there; default none).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=4.32.5
VENV="$ROOT/target/schemathesis-venv"
SERVER=${SERVER_BIN:-"$ROOT/target/release/wallet-checkout-server"}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-300}
STATEFUL_EXAMPLES=${SCHEMATHESIS_STATEFUL_EXAMPLES:-800}
SEED=${SCHEMATHESIS_SEED:-20261126}
REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-}

if [ ! -x "$SERVER" ]; then
  echo "schemathesis.sh: $SERVER is missing: run \`make server\` first" >&2
  exit 2
fi

# The virtualenv, made once; made again only when it does not hold this version.
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $VERSION" ]; then
  echo "schemathesis.sh: installing schemathesis $VERSION into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wc-schemathesis.XXXXXX")
SERVER_PIDS=()

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}

cleanup() {
  stop_servers
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each run has a server of its own, with a fresh SQLite database in a temporary data directory and
# nothing from the caller's configuration.
# The session rate limit (60 a minute per client address by default) is off: schemathesis sends
# thousands of `POST /api/checkout/sessions` from one address, and nearly all of them would be
# answered `429` instead of reaching the session logic. The limit and its answer are tested by
# server/tests/suite/openapi.rs.
unset WC_CONFIG WC_PUBLIC_URL WC_TRUST_PROXY WC_SESSION_TTL_SECS WC_PUBLIC_HOSTS WC_WEBHOOK_ALLOWED_NETWORKS \
  WC_DATA_DIR DATABASE_URL
# The store the document's links pay from (`return_url` must be a page of the store).
export WC_ALLOWED_ORIGINS=http://127.0.0.1
export WC_SESSION_RATE_PER_MINUTE=0
export NO_COLOR=1
export RUST_LOG=info
export WC_LOG_FORMAT=text
export WC_BIND=127.0.0.1:0
export WC_SANDBOX=true

# start_server NAME: starts a server whose data, log and output live in $WORK/NAME and makes it an
# admin key; prints its address and the key's secret, on one line.
start_server() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  local -x WC_DATA_DIR="$dir/data" DATABASE_URL="sqlite://$dir/data/wallet-checkout.db?mode=rwc"
  "$SERVER" >"$dir/server.out" 2>"$dir/server.err" &
  local pid=$! address=
  echo "$pid" >"$dir/pid"
  for _ in $(seq 300); do
    address=$(sed -n 's/.*listening address=\([0-9.:]*\).*/\1/p' "$dir/server.out" | head -n 1)
    [ -n "$address" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "schemathesis.sh: the server did not start:" >&2
      cat "$dir/server.out" "$dir/server.err" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ -z "$address" ]; then
    echo "schemathesis.sh: the server did not say where it listens within 30 s" >&2
    cat "$dir/server.out" "$dir/server.err" >&2
    return 1
  fi
  local secret
  secret=$("$SERVER" keys create --name schemathesis --role admin | grep -E '^sk_(test|live)_[A-Za-z0-9]+$' | head -n 1)
  if [ -z "$secret" ]; then
    echo "schemathesis.sh: \`keys create\` printed no secret" >&2
    return 1
  fi
  echo "schemathesis.sh: the $1 run's server at http://$address (data in $WC_DATA_DIR)" >&2
  echo "http://$address $secret"
}

# `GET /api/checkout/sessions/{id}?wait=N` holds the answer up to 25 s while the status stays as
# it is: generated reads of real sessions would spend the run waiting. They are made with
# `wait=0` (waiting reads are tested in server/tests/suite/openapi.rs and realtime.rs).
# An operation on one resource by its id (`/orders/{id}`, `/keys/{id}/revoke`, ...) is fuzzed with
# a third of the cases: a generated id names nothing, so nearly every case meets the same "not
# found" or "malformed id" answer (schemathesis warns of it), and the stateful phase reaches these
# operations with real ids. The figure is set here, not on the command line, where it would
# override every operation's.
cat >"$WORK/schemathesis.toml" <<TOML
[generation]
max-examples = $EXAMPLES

[[operations]]
include-operation-id = "getSession"
parameters = { "query.wait" = 0 }

[[operations]]
include-path-regex = '\{id\}'
phases.fuzzing.generation.max-examples = $(( (EXAMPLES + 2) / 3 ))
TOML

# Run from the temporary directory, so that no configuration file or example database of the
# caller's directory takes part and nothing is written into the repository. One worker: the
# seed then fixes the generated cases, and CPython 3.11's `ast` is not safe to use from two threads, which
# Hypothesis does when two workers describe strategies at once (a `SystemError` of the tool).
# Two runs, as the stateful phase takes its number of cases from `--max-examples` alone: the
# examples, coverage and fuzzing phases, and the stateful phase with its own figure. They go side
# by side, each a process of its own against a server of its own (so each sees what it alone did,
# as it would alone); each one's output is printed whole when both have ended.
# run_schemathesis NAME PHASES [OPTION...]: one run against the server at $WORK/NAME.
run_schemathesis() {
  local name=$1 phases=$2
  shift 2
  local base secret report_args=()
  read -r base secret <"$WORK/$name/server"
  if [ -n "$REPORT_DIR" ]; then
    report_args=(--report junit --report-junit-path "$REPORT_DIR/schemathesis-$name.xml")
  fi
  cd "$WORK"
  "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$base/openapi.json" \
    --header "Authorization: Bearer $secret" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases "$phases" \
    "$@" \
    --seed "$SEED" \
    --generation-database none \
    --workers 1 \
    --request-timeout 40 \
    --no-color \
    "${report_args[@]}"
}

if [ -n "$REPORT_DIR" ]; then
  mkdir -p "$REPORT_DIR"
  REPORT_DIR=$(cd "$REPORT_DIR" && pwd)
fi
RUNS=(cases stateful)
for name in "${RUNS[@]}"; do
  mkdir -p "$WORK/$name"
  start_server "$name" >"$WORK/$name/server"
  SERVER_PIDS+=("$(cat "$WORK/$name/pid")")
done
run_schemathesis cases examples,coverage,fuzzing >"$WORK/cases/output" 2>&1 &
cases_pid=$!
run_schemathesis stateful stateful --max-examples "$STATEFUL_EXAMPLES" >"$WORK/stateful/output" 2>&1 &
stateful_pid=$!
status=0
wait "$cases_pid" || status=$?
wait "$stateful_pid" || { run_status=$?; [ "$status" -ne 0 ] || status=$run_status; }

for name in "${RUNS[@]}"; do
  dir="$WORK/$name"
  cat "$dir/output"
  if grep -q 'panicked' "$dir/server.out" "$dir/server.err"; then
    echo "schemathesis.sh: the $name run's server panicked:" >&2
    grep -h -A3 'panicked' "$dir/server.out" "$dir/server.err" >&2
    [ "$status" -ne 0 ] || status=1
  fi
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "schemathesis.sh: the $name run's server died during the run:" >&2
    tail -n 20 "$dir/server.err" >&2
    [ "$status" -ne 0 ] || status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "schemathesis.sh: schemathesis found problems (exit $status); server errors logged:" >&2
  grep -hE 'ERROR' "$WORK"/*/server.out | tail -n 20 >&2 || true
fi
exit "$status"
