#!/usr/bin/env bash
# lakeml's test command (`make test` runs it; README and CI use it).
#
#   scripts/test.sh              build (Release, -Werror) in build/, then run every suite:
#                                  unit   ctest (C++ unit tests, SQLite + PostgreSQL)
#                                  rest-sqlite    tests/rest against `lakeml server` on SQLite
#                                  rest-postgres  tests/rest against `lakeml server` on PostgreSQL
#                                  npm            tests/npm (npm `mlflow` client) smoke test
#                                  interop        tests/interop (Parquet vs DuckDB, hyparquet, parquet-wasm)
#   scripts/test.sh --sanitize   build unit tests with ASan+UBSan in build-asan/ and run ctest there
#   scripts/test.sh --no-slow    skip tests marked slow (the 1 GiB artifact stream)
#   scripts/test.sh --only NAME  run one suite (unit, rest-sqlite, rest-postgres, npm, interop);
#                                repeatable
#   scripts/test.sh --no-build   use the existing build/ as it is
#
# Environment: LAKEML_SKIP_POSTGRES=1 skips everything that needs PostgreSQL;
# PYTEST_ARGS adds arguments to pytest (e.g. PYTEST_ARGS="-k search -x").
# Exits non-zero if anything failed; the last lines are a summary.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

sanitize=0
slow=1
build=1
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --no-slow) slow=0 ;;
    --no-build) build=0 ;;
    --only) only+=("$2"); shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

python=${PYTHON:-/usr/bin/python3}   # Debian's python3 has pytest and requests
jobs=${LAKEML_JOBS:-2}
skip_pg=${LAKEML_SKIP_POSTGRES:-0}
results=()
failed=0
passed=0
tmp_root=$(mktemp -d /tmp/lakeml-test.XXXXXX)
server_pid=""
pg_started=0
pg_dbs=()

log() { printf '\n==> %s\n' "$*"; }

wanted() {
  ((${#only[@]} == 0)) && return 0
  local s
  for s in "${only[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

record() {  # name status seconds [note]
  local name=$1 rc=$2 secs=$3 note=${4:-}
  if [[ $rc -eq 0 ]]; then
    results+=("PASS  $name (${secs}s)${note:+ $note}"); passed=$((passed + 1))
  else
    results+=("FAIL  $name (${secs}s, exit $rc)${note:+ $note}"); failed=$((failed + 1))
  fi
}

run_step() {  # name command...
  local name=$1; shift
  log "$name: $*"
  local start=$SECONDS
  "$@"
  local rc=$?
  record "$name" "$rc" $((SECONDS - start))
  return "$rc"
}

stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  server_pid=""
}

psql_admin() {  # runs SQL against the cluster's postgres database
  psql "${LAKEML_TEST_POSTGRES_URI%/*}/postgres" -v ON_ERROR_STOP=1 -qtA -c "$1"
}

cleanup() {
  stop_server
  if [[ -n ${LAKEML_TEST_POSTGRES_URI:-} ]]; then
    local db
    for db in "${pg_dbs[@]}"; do psql_admin "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; done
  fi
  if ((pg_started)); then
    scripts/start-postgres.sh stop >/dev/null 2>&1
  fi
  rm -rf "$tmp_root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

summary() {
  printf '\n==> summary\n'
  printf '  %s\n' "${results[@]}"
  echo "test.sh: $passed passed, $failed failed"
  ((failed == 0))
  exit $?
}

configure_and_build() {  # dir extra-cmake-args...
  local dir=$1; shift
  # Reuse a build dir only if it was configured with Ninja (cmake refuses to switch generators).
  if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
    echo "test.sh: $dir was configured with another generator; reconfiguring" >&2
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
  cmake -S . -B "$dir" -G Ninja -DLAKEML_WERROR=ON "$@" && cmake --build "$dir" -j "$jobs"
}

start_postgres() {
  if [[ $skip_pg == 1 ]]; then
    echo "test.sh: LAKEML_SKIP_POSTGRES=1: PostgreSQL tests are skipped" >&2
    return 0
  fi
  if [[ ! -x scripts/start-postgres.sh ]] && [[ ! -f scripts/start-postgres.sh ]]; then
    echo "test.sh: scripts/start-postgres.sh is missing" >&2
    return 1
  fi
  if ! bash scripts/start-postgres.sh status >/dev/null 2>&1; then pg_started=1; fi
  local uri
  uri=$(bash scripts/start-postgres.sh) || return 1
  export LAKEML_TEST_POSTGRES_URI=$uri
  echo "test.sh: PostgreSQL at $uri"
}

free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- sanitizer mode: unit tests only ----------------------------------------------------------
if ((sanitize)); then
  run_step "build-asan" configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DLAKEML_SANITIZE=ON -DLAKEML_BUILD_BENCH=OFF || summary
  run_step "postgres" start_postgres || summary
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  run_step "unit-asan" timeout 2400 ctest --test-dir build-asan --output-on-failure \
    --no-tests=error -j "$jobs"
  summary
fi

# ---- normal mode ------------------------------------------------------------------------------
# -O2 rather than CMake's -O3: a smaller, faster build on CI's two cores. (GCC 12's false
# -Wrestrict positives are switched off in CMakeLists.txt.)
if ((build)); then
  run_step "build" configure_and_build build -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" || summary
fi
binary=$repo/build/bin/lakeml
if [[ ! -x $binary ]]; then
  echo "test.sh: $binary was not built" >&2
  record "binary" 1 0; summary
fi

needs_pg=0
if wanted unit || wanted rest-postgres; then needs_pg=1; fi
if ((needs_pg)); then run_step "postgres" start_postgres || summary; fi

if wanted unit; then
  run_step "unit" timeout 1800 ctest --test-dir build --output-on-failure --no-tests=error \
    -j "$jobs"
fi

run_rest() {  # name backend-uri-or-empty extra-pytest-args...
  local name=$1 backend=$2; shift 2
  local args=(-m pytest tests/rest -q -p no:cacheprovider --durations=10 "$@")
  # shellcheck disable=SC2206
  [[ -n ${PYTEST_ARGS:-} ]] && args+=(${PYTEST_ARGS})
  log "$name: pytest ${args[*]:2}"
  local start=$SECONDS rc
  LAKEML_BIN=$binary LAKEML_TEST_BACKEND_URI=$backend timeout 3000 "$python" "${args[@]}"
  rc=$?
  # pytest exits 5 when it collected no tests: that is a failure too.
  [[ $rc -eq 5 ]] && echo "test.sh: pytest ran no tests" >&2
  record "$name" "$rc" $((SECONDS - start))
}

if wanted rest-sqlite; then
  if ((slow)); then run_rest rest-sqlite ""; else run_rest rest-sqlite "" -m "not slow"; fi
fi

if wanted rest-postgres; then
  if [[ $skip_pg == 1 ]]; then
    results+=("SKIP  rest-postgres (LAKEML_SKIP_POSTGRES=1)")
  else
    db="lakeml_rest_$$_$RANDOM"
    log "rest-postgres: creating database $db"
    if psql_admin "CREATE DATABASE $db" >/dev/null; then
      pg_dbs+=("$db")
      # The 1 GiB stream does not depend on the metadata backend: run it on SQLite only.
      run_rest rest-postgres "${LAKEML_TEST_POSTGRES_URI%/*}/$db" -m "not slow"
    else
      record "rest-postgres" 1 0 "(could not create database $db)"
    fi
  fi
fi

if wanted npm; then
  npm_test() {
    if [[ ! -d tests/npm/node_modules/mlflow ]]; then
      (cd tests/npm && npm ci --no-audit --no-fund --loglevel=error) || return 1
    fi
    local port data=$tmp_root/npm-data
    port=$(free_port)
    mkdir -p "$data"
    "$binary" server --host 127.0.0.1 --port "$port" --data "$data" >"$tmp_root/npm-server.log" 2>&1 &
    server_pid=$!
    local ok=0
    for _ in $(seq 300); do
      if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ok=1; break; fi
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if ((!ok)); then
      echo "test.sh: lakeml server for the npm test did not start; log:" >&2
      tail -n 40 "$tmp_root/npm-server.log" >&2
      stop_server; return 1
    fi
    (cd tests/npm && LAKEML_URL="http://127.0.0.1:$port" timeout 600 node --test smoke.test.mjs)
    local rc=$?
    stop_server
    return $rc
  }
  run_step "npm" npm_test
fi

if wanted interop; then
  run_step "interop" timeout 900 tests/interop/run.sh "$repo/build/src/storage/parquet_tool"
fi

summary
