#!/usr/bin/env bash
# Builds lakeml in Release, starts `lakeml server` on a free loopback port with a fresh data
# directory, runs bench/tracking_bench (or, with --registry, bench/registry_bench) against it and
# stops the server. See bench/README.md.
#
#   scripts/bench.sh [--registry] [--postgres URI|auto] [--seconds N] [--runs N] [--json FILE]
#                    [--build-dir DIR] [--no-build] [--keep-data]
#
# --registry       benchmark the model registry instead of tracking: 1,000 models x 20 versions,
#                  then search, get-latest-versions, alias lookup and get-version latencies
#
# --postgres URI   use PostgreSQL as the backend store (default: SQLite in the data directory);
#                  `auto` starts the throwaway cluster of scripts/start-postgres.sh and benchmarks
#                  a fresh database in it (dropped afterwards unless --keep-data).
#                  The server's RSS is measured; PostgreSQL's own memory is not.
# --seconds N      duration of each timed workload (default 10)
# --runs N         runs to populate for search_runs and get_run (default 10000; not --registry)
# --json FILE      also save the results as JSON
# --no-build       use the binaries already in the build directory (default build-release)
# --keep-data      keep the temporary data directory and server log
# Extra arguments after `--` go to the driver unchanged (e.g. `-- --models 200` for registry_bench).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$repo/build-release
postgres_uri=
seconds=10
runs=10000
json_out=
build=1
keep_data=0
registry=0
driver_args=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --registry) registry=1 ;;
    --postgres) postgres_uri=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --runs) runs=$2; shift ;;
    --json) json_out=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --no-build) build=0 ;;
    --keep-data) keep_data=1 ;;
    --) shift; driver_args=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0" >&2; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "bench.sh: $*" >&2; }

if [[ $build -eq 1 ]]; then
  # -j1 by default: the benchmark machine is often a small shared box; override with JOBS=N.
  cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLAKEML_BUILD_BENCH=ON >&2
  ninja -C "$build_dir" -j "${JOBS:-1}" lakeml tracking_bench registry_bench >&2
fi
server_bin=$build_dir/bin/lakeml
driver_bin=$build_dir/bin/tracking_bench
((registry)) && driver_bin=$build_dir/bin/registry_bench
for bin in "$server_bin" "$driver_bin"; do
  [[ -x $bin ]] || { log "missing $bin (build it, or drop --no-build)"; exit 1; }
done

server_pid=
data_dir=
pg_admin_uri=
bench_db=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    # Give it a moment to shut down cleanly, then stop waiting.
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [[ -n $data_dir ]]; then
    if [[ $keep_data -eq 1 ]]; then log "kept $data_dir"; else rm -rf "$data_dir"; fi
  fi
  if [[ -n $bench_db && $keep_data -eq 0 ]]; then
    "$psql_bin" "$pg_admin_uri" -qtA -c "DROP DATABASE IF EXISTS $bench_db" >&2 || true
  fi
}
trap cleanup EXIT

# `auto`: a fresh database in the throwaway cluster, so the 10,000 benchmark runs neither land in
# the tests' database nor meet a previous benchmark's rows; dropped again on exit.
psql_bin=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)
if [[ $postgres_uri == auto ]]; then
  cluster_uri=$("$repo/scripts/start-postgres.sh")
  pg_admin_uri=${cluster_uri%/*}/postgres
  bench_db=lakeml_bench_$$
  "$psql_bin" "$pg_admin_uri" -v ON_ERROR_STOP=1 -qtA -c "CREATE DATABASE $bench_db" >&2
  postgres_uri=${cluster_uri%/*}/$bench_db
fi

# Ask the kernel for a free port; the window between closing it and the server binding it is
# harmless on a loopback bench box.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null && return
  local port
  for port in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  log "no free port found"; exit 1
}
port=$(free_port)
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/lakeml-bench.XXXXXX")
server_log=$data_dir/server.log

server_args=(server --host 127.0.0.1 --port "$port" --data "$data_dir/data")
backend=sqlite
if [[ -n $postgres_uri ]]; then
  server_args+=(--backend-store-uri "$postgres_uri")
  backend=postgresql
fi

log "starting $server_bin ${server_args[*]} (backend: $backend)"
"$server_bin" "${server_args[@]}" >"$server_log" 2>&1 &
server_pid=$!

driver=("$driver_bin" --url "http://127.0.0.1:$port" --server-pid "$server_pid"
        --seconds "$seconds" --label "$backend")
((registry)) || driver+=(--runs "$runs")
[[ -n $json_out ]] && driver+=(--json "$json_out")
status=0
"${driver[@]}" "${driver_args[@]}" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  log "the server exited during the benchmark; last lines of its log:"
  tail -n 20 "$server_log" >&2
  status=1
fi
exit "$status"
