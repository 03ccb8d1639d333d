#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for tests and benchmarks (Debian's package).
#   scripts/postgres.sh start   installs the server if missing, starts it, prints its URL
#   scripts/postgres.sh fresh   the same, then makes a new empty database and prints its URL (a
#                               server's data directory and its database belong together: a run
#                               with a new data directory needs a new database)
#   scripts/postgres.sh stop
#   scripts/postgres.sh run CMD...
#                               runs CMD with WC_TEST_POSTGRES set to the URL of a server of its
#                               own: a new data directory (in /dev/shm when there is one), reached
#                               by a socket in it only, stopped and deleted when CMD ends, however
#                               it ends. The server suite's run: its databases (one per test) go
#                               with it, and two runs at once never meet.
# Data lives in $WC_PG_DIR (default /tmp/wallet-checkout-pg); port $WC_PG_PORT (default 54329).
set -euo pipefail

PORT=${WC_PG_PORT:-54329}
DIR=${WC_PG_DIR:-/tmp/wallet-checkout-pg}
URL="postgres://postgres@127.0.0.1:${PORT}/postgres"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# PostgreSQL refuses to run as root: run it as the `postgres` user then.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  if [ -z "$(bin_dir)" ]; then
    echo "installing PostgreSQL (Debian package)" >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

start() {
  install
  local bin
  bin=$(bin_dir)
  if as_db_user "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    echo "$URL"
    return
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  as_db_user "$bin/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  as_db_user "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB" start >&2
  echo "$URL"
}

fresh() {
  local url name
  url=$(start)
  name="wc_$(date +%s%N)"
  psql -q "$url" -c "CREATE DATABASE $name" >&2
  echo "${url%/*}/$name"
}

stop() {
  local bin
  bin=$(bin_dir)
  [ -n "$bin" ] && as_db_user "$bin/pg_ctl" -D "$DIR" -m fast stop >&2 || true
}

run() {
  install
  local bin parent dir
  bin=$(bin_dir)
  parent=/tmp
  [ -d /dev/shm ] && [ -w /dev/shm ] && parent=/dev/shm
  dir=$(mktemp -d "$parent/wc-pg.XXXXXX")
  # shellcheck disable=SC2064 # the paths are fixed now
  trap "as_db_user '$bin/pg_ctl' -D '$dir' -m immediate stop >/dev/null 2>&1 || true; rm -rf '$dir'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  as_db_user "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  as_db_user "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-k $dir -c listen_addresses='' -c max_connections=400 -c shared_buffers=256MB" start >/dev/null
  local status=0
  WC_TEST_POSTGRES="postgres://postgres@localhost/postgres?host=$dir" "$@" || status=$?
  return "$status"
}

case "${1:-start}" in
  start) start ;;
  fresh) fresh ;;
  stop) stop ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 start|fresh|stop|run CMD..." >&2; exit 2 ;;
esac
