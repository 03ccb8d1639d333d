#!/usr/bin/env bash
# `make bench` (throughput part): session reads and session creations per second on one server,
# with wrk from Debian on the same 2-core machine (so wrk and the server share the cores), on the
# embedded SQLite and on PostgreSQL.
#   bench/server.sh [SECONDS]     (default 10 s per run; SERVER_BIN: another build of the server)
# Each figure: requests per second, and the server's CPU time per request in brackets.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
SERVER=${SERVER_BIN:-target/release/wallet-checkout-server}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

# The server's CPU time (user and system, all its threads), from /proc.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Runs wrk (the arguments after PID) and prints "requests/s (CPU µs per request)": the server's
# CPU per request is steadier than requests per second on a machine whose cores are shared.
measure() {
  local pid=$1 before after output
  shift
  before=$(cpu_ticks "$pid")
  output=$("$@" 2>/dev/null)
  after=$(cpu_ticks "$pid")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    / requests in / { requests = $1 }
    /^Requests\/sec/ { rate = $2 }
    END { printf "%.0f (%.0f µs)", rate, ticks * 1e6 / hz / requests }' <<<"$output"
}

run() {
  local label=$1 database_url=$2 data_dir
  data_dir=$(mktemp -d)
  local log="$data_dir/server.log"
  WC_BIND=127.0.0.1:0 WC_DATA_DIR="$data_dir" DATABASE_URL="$database_url" RUST_LOG=warn,wallet_checkout_server=info \
    WC_SESSION_RATE_PER_MINUTE=0 WC_ALLOWED_ORIGINS=http://127.0.0.1 \
    NO_COLOR=1 "$SERVER" >"$log" 2>&1 &
  local pid=$!
  local address=""
  for _ in $(seq 100); do
    address=$(sed -n 's/.*listening address=\([0-9.:]*\).*/\1/p' "$log" | head -1)
    [ -n "$address" ] && break
    sleep 0.1
  done
  local base="http://$address"
  local order session
  order=$(curl -sf -X POST "$base/store/orders" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  session=$(curl -sf -X POST "$base/api/checkout/sessions" -H 'Content-Type: application/json' -H 'Idempotency-Key: bench-read' \
    -d "{\"order_id\":\"$order\",\"wallet_id\":\"wechat_pay\",\"return_url\":\"http://127.0.0.1/\",\"device\":\"desktop\"}" \
    | sed 's/.*"id":"\(ses_[^"]*\)".*/\1/')
  local reads creates
  reads=$(measure "$pid" wrk -t1 -c64 -d"${SECONDS_PER_RUN}s" "$base/api/checkout/sessions/$session")
  creates=$(ORDER=$order measure "$pid" wrk -t1 -c32 -d"${SECONDS_PER_RUN}s" -s bench/create.lua "$base")
  printf '| %s | %s | %s |\n' "$label" "$reads" "$creates"
  kill -TERM "$pid"
  wait "$pid" || true
  rm -rf "$data_dir"
}

pg=$(scripts/postgres.sh fresh)
echo "## Throughput (bench/server.sh $SECONDS_PER_RUN), $(date -u +%F)"
echo
echo "| database | session reads/s (server CPU per read), wrk -t1 -c64 | session creations/s (server CPU per creation), wrk -t1 -c32 |"
echo "|---|---:|---:|"
run "SQLite (embedded)" ""
run "PostgreSQL 15 (loopback)" "$pg"
