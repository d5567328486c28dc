#!/usr/bin/env bash
# Installs every Debian bookworm package lakeml's build, tests and benchmarks need, then the npm
# smoke test's packages. Idempotent: packages already installed are left alone (apt is skipped
# entirely when nothing is missing). Run as root, or as a user with sudo.
#
#   scripts/install-deps.sh          # install what is missing
#   scripts/install-deps.sh --check  # list what is missing, install nothing (exit 1 if any)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
check_only=0
[[ ${1:-} == --check ]] && check_only=1

log() { echo "install-deps: $*" >&2; }

packages=(
  # toolchain
  build-essential g++ cmake ninja-build ccache pkg-config git clang-format clang-tidy
  # C++ libraries (cpp-httplib's pkg-config file requires openssl, zlib and brotli)
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libsqlite3-dev sqlite3 libpq-dev
  libfmt-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev zlib1g-dev libbrotli-dev libzstd-dev libsnappy-dev
  # test services and runners
  postgresql python3 python3-pytest python3-requests
  # benchmarks and scripts
  wrk curl ca-certificates procps
)
# Node.js: some machines come with NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm package. Only install Debian's pair when there is no working node + npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((check_only)); then
  if ((${#missing[@]})); then echo "missing: ${missing[*]}"; exit 1; fi
  echo "all packages installed"; exit 0
fi

if ((${#missing[@]})); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "not root and no sudo: cannot install ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
else
  log "all ${#packages[@]} Debian packages already installed"
fi

# PostgreSQL 15 server binaries are what scripts/start-postgres.sh runs.
if [[ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
  log "warning: /usr/lib/postgresql/15/bin/pg_ctl not found after installing postgresql"
fi

# The npm clients and validators the tests drive: the `mlflow` REST client, and DuckDB,
# hyparquet and parquet-wasm for Parquet interop.
for dir in tests/npm tests/interop; do
  if [[ -f "$repo/$dir/package-lock.json" ]]; then
    log "npm ci in $dir"
    (cd "$repo/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
log "done"
