#!/usr/bin/env bash
# Parquet interop: lakeml's writer and reader against DuckDB, hyparquet and parquet-wasm, and a
# Delta table lakeml writes, checked with delta.mjs and DuckDB.
#   tests/interop/run.sh [path/to/parquet_tool]
# (default: $PARQUET_TOOL, else build/src/storage/parquet_tool). Needs node and npm; runs
# `npm ci` when node_modules is missing. Prints "N passed, M failed"; exits 1 on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tool="${1:-${PARQUET_TOOL:-$root/build/src/storage/parquet_tool}}"
if [[ ! -x "$tool" ]]; then
  echo "parquet_tool not found at '$tool' (build it: ninja -C build parquet_tool)" >&2
  exit 2
fi
cd "$here"
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund >/dev/null || { echo "npm ci failed" >&2; exit 2; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# check NAME EXPECTED ACTUAL: both are "<hash> <rows>" lines.
check() {
  if [[ -n "$2" && "$2" == "$3" ]]; then
    passed=$((passed + 1))
    echo "ok   $1 ($2)"
  else
    failed=$((failed + 1))
    echo "FAIL $1: expected '$2', got '$3'"
  fi
}

# (a) files we write, read by DuckDB and hyparquet (and by our own reader).
for codec in uncompressed snappy gzip zstd; do
  file="$work/lakeml_$codec.parquet"
  expected="$("$tool" write-sample "$file" "$codec" 10000 2>&1)"
  check "lakeml $codec: our reader" "$expected" "$("$tool" hash "$file" 2>&1)"
  check "lakeml $codec: duckdb" "$expected" "$(node interop.mjs hash-duckdb "$file" 2>&1)"
  check "lakeml $codec: hyparquet" "$expected" "$(node interop.mjs hash-hyparquet "$file" 2>&1)"
done
# An empty file (no row groups) must be readable too.
file="$work/lakeml_empty.parquet"
expected="$("$tool" write-sample "$file" zstd 0 2>&1)"
check "lakeml empty: duckdb" "$expected" "$(node interop.mjs hash-duckdb "$file" 2>&1)"
check "lakeml empty: our reader" "$expected" "$("$tool" hash "$file" 2>&1)"

# (b) files others write, read by us; DuckDB's reading is the reference.
others="$(node interop.mjs write-duckdb "$work/duckdb" 2>&1 && node interop.mjs write-wasm "$work/wasm" 2>&1)"
if [[ $? -ne 0 ]]; then
  failed=$((failed + 1))
  echo "FAIL writing the peer files: $others"
fi
for file in "$work"/duckdb/*.parquet "$work"/wasm/*.parquet; do
  [[ -e "$file" ]] || continue
  name="$(basename "$file")"
  reference="$(node interop.mjs hash-duckdb "$file" 2>&1)"
  check "$name: ours vs duckdb" "$reference" "$("$tool" hash "$file" 2>&1)"
  check "$name: hyparquet vs duckdb" "$reference" "$(node interop.mjs hash-hyparquet "$file" 2>&1)"
done

# (c) what lakeml cannot hold is refused with a clear error, not misread.
file="$work/wide_decimal.parquet"
node interop.mjs write-duckdb-wide-decimal "$file" >/dev/null 2>&1
output="$("$tool" hash "$file" 2>&1)"
[[ "$output" == "error: UNIMPLEMENTED"* ]] && output="refused"
check "decimal(38,10) is refused as unimplemented" "refused" "$output"

# (d) a Delta table we write (create, append, delete): the log replayed by delta.mjs names the
# live files we expect, DuckDB reads each of them with the intended values, and add.size/stats
# agree with what DuckDB reads.
table="$work/delta_table"
expected_files="$("$tool" write-table "$table" 5000 2>&1)"
listed="$(node delta.mjs live-files "$table" 2>&1)"
check "delta log lists the live files" "$(cut -d' ' -f1 <<< "$expected_files" | tr '\n' ' ')" \
  "$(tr '\n' ' ' <<< "$listed")"
while read -r name hash rows; do
  [[ -n "$name" && -n "$rows" ]] || continue
  check "delta $name: duckdb" "$hash $rows" "$(node interop.mjs hash-duckdb "$table/$name" 2>&1)"
done <<< "$expected_files"
check "delta log shape and stats vs duckdb" "ok" "$(node delta.mjs check "$table" 2>&1)"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
