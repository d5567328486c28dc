#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL 15 cluster for lakeml's tests, without systemd.
#
#   scripts/start-postgres.sh [start] [--dir DIR] [--port PORT]   # prints the test URI on stdout
#   scripts/start-postgres.sh stop    [--dir DIR]
#   scripts/start-postgres.sh status  [--dir DIR]
#
# The cluster lives under DIR (default /tmp/lakeml-pg; env LAKEML_PG_DIR), listens on 127.0.0.1
# only (default port 54329; env LAKEML_PG_PORT) with trust authentication, and holds a database
# `lakeml_test`. Started as root, the server runs as user `postgres` (PostgreSQL refuses root).
# fsync is off because the cluster is disposable and tests create many databases; set
# LAKEML_PG_FSYNC=on to keep it. Idempotent: if the cluster already runs, only the URI is printed.
# Everything but the URI goes to stderr, so `export LAKEML_TEST_POSTGRES_URI=$(scripts/start-postgres.sh)`
# works.
set -euo pipefail

action=start
pg_dir=${LAKEML_PG_DIR:-/tmp/lakeml-pg}
port=${LAKEML_PG_PORT:-54329}
pg_bin=${LAKEML_PG_BIN:-/usr/lib/postgresql/15/bin}
fsync=${LAKEML_PG_FSYNC:-off}
db_name=lakeml_test

while [[ $# -gt 0 ]]; do
  case "$1" in
    start|stop|status) action=$1 ;;
    --dir) pg_dir=$2; shift ;;
    --port) port=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" >&2; exit 0 ;;
    *) echo "start-postgres.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "start-postgres.sh: $*" >&2; }

if [[ ! -x "$pg_bin/pg_ctl" ]]; then
  log "no PostgreSQL binaries in $pg_bin (install the Debian package 'postgresql', or set LAKEML_PG_BIN)"
  exit 1
fi

data_dir=$pg_dir/data
log_file=$pg_dir/postgres.log
uri="postgresql://postgres@127.0.0.1:${port}/${db_name}"

# PostgreSQL will not run as root: run its tools as `postgres` then.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() {
  [[ -f "$data_dir/PG_VERSION" ]] && as_pg "$pg_bin/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

case "$action" in
  status)
    if is_running; then log "running in $data_dir"; echo "$uri"; exit 0; fi
    log "not running ($data_dir)"; exit 3 ;;
  stop)
    if is_running; then
      as_pg "$pg_bin/pg_ctl" stop -D "$data_dir" -m fast -w >&2
    else
      log "not running ($data_dir)"
    fi
    exit 0 ;;
esac

if ! is_running; then
  mkdir -p "$pg_dir"
  if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
      log "running as root but there is no 'postgres' user to run the server as"
      exit 1
    fi
    chown postgres:postgres "$pg_dir"
    chmod 700 "$pg_dir"
  fi
  if [[ ! -f "$data_dir/PG_VERSION" ]]; then
    log "initdb in $data_dir"
    as_pg "$pg_bin/initdb" -D "$data_dir" -U postgres --auth=trust --no-locale -E UTF8 >&2
  fi
  log "starting on 127.0.0.1:$port (log: $log_file)"
  # Unix socket in our own dir: /var/run/postgresql may not exist or belong to a system cluster.
  as_pg "$pg_bin/pg_ctl" start -w -t 60 -D "$data_dir" -l "$log_file" \
    -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200" >&2
fi

psql_cmd=("$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
if [[ -z $(as_pg "${psql_cmd[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'") ]]; then
  log "creating database $db_name"
  as_pg "${psql_cmd[@]}" -c "CREATE DATABASE $db_name" >&2
fi

echo "$uri"
