// Independent readers and writers for lakeml's Parquet interop tests (driven by run.sh).
//   node interop.mjs hash-duckdb <file>       table hash of the file as DuckDB reads it
//   node interop.mjs hash-hyparquet <file>    table hash of the file as hyparquet reads it
//   node interop.mjs write-duckdb <dir>       DuckDB writes files in every codec, V1 and V2 pages
//   node interop.mjs write-duckdb-wide-decimal <file>   a DECIMAL(38,10) file lakeml refuses
//   node interop.mjs write-wasm <dir>         parquet-wasm (arrow-rs) writes V2 pages with
//                                             DELTA_* and BYTE_STREAM_SPLIT encodings
// The hash is shared/reference/parquet-delta.md §3, computed here from the values each reader
// returns. Timestamps are hashed in microseconds (lakeml's unit).
import { DuckDBInstance, DuckDBTypeId, DuckDBDecimalValue, DuckDBTimestampValue,
  DuckDBTimestampTZValue, DuckDBTimestampMillisecondsValue, DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue, DuckDBDateValue, DuckDBBlobValue } from '@duckdb/node-api'
import { parquetMetadataAsync, parquetRead } from 'hyparquet'
import { asyncBufferFromFile } from 'hyparquet/src/node.js'
import { compressors } from 'hyparquet-compressors'
import fs from 'node:fs'
import path from 'node:path'

const FNV_OFFSET = 0x811c9dc5
const encoder = new TextEncoder()
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

function mix(h, w) { return Math.imul((h ^ w) >>> 0, 0x01000193) >>> 0 }
function mixInt64(h, v) {
  const big = BigInt.asUintN(64, BigInt(v))
  h = mix(h, Number(big & 0xffffffffn))
  return mix(h, Number(big >> 32n))
}
function floorDiv(a, b) {
  const q = a / b
  return (a % b !== 0n && a < 0n) ? q - 1n : q
}

// kind: 'bool' | 'int' | 'float' | 'decimal' | 'bytes'; values already normalised
// (ints/dates/timestamps(µs)/decimals as bigint or number, bytes as Uint8Array or string).
function hashValue(h, kind, v) {
  if (v === null || v === undefined) return mix(h, 0)
  h = mix(h, 1)
  switch (kind) {
    case 'bool': return mix(h, v ? 1 : 0)
    case 'int': return mixInt64(h, v)
    case 'float': f64[0] = Number(v); h = mix(h, u32[0]); return mix(h, u32[1])
    case 'decimal': {
      const big = BigInt.asUintN(128, BigInt(v))
      for (let i = 0n; i < 4n; i++) h = mix(h, Number((big >> (32n * i)) & 0xffffffffn))
      return h
    }
    case 'bytes': {
      const bytes = typeof v === 'string' ? encoder.encode(v) : v
      h = mix(h, bytes.length)
      for (let i = 0; i < bytes.length; i += 4) {
        let w = 0
        for (let b = 0; b < 4 && i + b < bytes.length; b++) w |= bytes[i + b] << (8 * b)
        h = mix(h, w >>> 0)
      }
      return h
    }
  }
  throw new Error(`unknown kind ${kind}`)
}

function tableHash(columnHashes) {
  let h = FNV_OFFSET
  for (const c of columnHashes) h = mix(h, c)
  return h
}
const hex = (h) => h.toString(16).padStart(8, '0')

// ---- DuckDB ----
function duckKind(type) {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return 'bool'
    case DuckDBTypeId.FLOAT: case DuckDBTypeId.DOUBLE: return 'float'
    case DuckDBTypeId.DECIMAL: return 'decimal'
    case DuckDBTypeId.VARCHAR: case DuckDBTypeId.BLOB: return 'bytes'
    default: return 'int'
  }
}
function duckValue(v) {
  if (v === null || v === undefined) return null
  if (v instanceof DuckDBDecimalValue) return v.value
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return v.micros
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis * 1000n
  if (v instanceof DuckDBTimestampNanosecondsValue) return floorDiv(v.nanos, 1000n)
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds * 1000000n
  if (v instanceof DuckDBDateValue) return v.days
  if (v instanceof DuckDBBlobValue) return v.bytes
  return v
}

async function withDuckDB(fn) {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run('SET threads = 1')
    return await fn(connection)
  } finally {
    connection.closeSync()
  }
}

async function hashDuckDB(file) {
  return withDuckDB(async (connection) => {
    const sql = `SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`
    const reader = await connection.runAndReadAll(sql)
    const types = reader.columnTypes()
    const columns = reader.getColumns()
    const hashes = types.map((type, c) => {
      const kind = duckKind(type)
      let h = FNV_OFFSET
      for (const v of columns[c] ?? []) h = hashValue(h, kind, duckValue(v))
      return h
    })
    return { hash: tableHash(hashes), rows: reader.currentRowCount }
  })
}

// ---- hyparquet ----
function hyKind(element) {
  const ltype = element.logical_type?.type
  if (element.converted_type === 'DECIMAL' || ltype === 'DECIMAL') return 'decimal'
  switch (element.type) {
    case 'BOOLEAN': return 'bool'
    case 'FLOAT': case 'DOUBLE': return 'float'
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY': return 'bytes'
    default: return 'int'
  }
}
function bigEndianSigned(bytes) {
  let value = 0n
  for (const b of bytes) value = (value << 8n) | BigInt(b)
  if (bytes.length && bytes[0] & 0x80) value -= 1n << BigInt(bytes.length * 8)
  return value
}

async function hashHyparquet(file) {
  const buffer = await asyncBufferFromFile(file)
  const metadata = await parquetMetadataAsync(buffer)
  const leaves = metadata.schema.slice(1)
  const kinds = leaves.map(hyKind)
  // Strip decimal annotations so hyparquet hands over the unscaled integers (it would
  // otherwise convert them to lossy JavaScript numbers).
  const raw = structuredClone(metadata)
  for (const element of raw.schema.slice(1)) {
    if (hyKind(element) === 'decimal') {
      delete element.converted_type
      delete element.logical_type
      delete element.scale
      delete element.precision
    }
  }
  const parsers = {
    timestampFromMilliseconds: (v) => BigInt(v) * 1000n,
    timestampFromMicroseconds: (v) => BigInt(v),
    timestampFromNanoseconds: (v) => floorDiv(BigInt(v), 1000n),
    dateFromDays: (v) => v,
    stringFromBytes: (v) => v,
    jsonFromBytes: (v) => v,
    uuidFromBytes: (v) => v,
  }
  const rows = await new Promise((resolve, reject) => {
    parquetRead({ file: buffer, metadata: raw, compressors, parsers, utf8: false,
      onComplete: resolve }).catch(reject)
  })
  const hashes = kinds.map((kind, c) => {
    let h = FNV_OFFSET
    for (const row of rows) {
      let v = row[c]
      if (kind === 'decimal' && v instanceof Uint8Array) v = bigEndianSigned(v)
      h = hashValue(h, kind, v)
    }
    return h
  })
  return { hash: tableHash(hashes), rows: rows.length }
}

// ---- writers ----
const DUCKDB_TABLE = `
CREATE TABLE t AS SELECT
  i::BIGINT AS id,
  CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
  CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 7919) % 100000 - 50000)::INTEGER END AS small,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 1000003)::BIGINT * -977 END AS big,
  CASE WHEN i % 5 = 0 THEN NULL ELSE ((i % 4000) * 0.25)::FLOAT END AS ratio,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (i / 7.0)::DOUBLE END AS score,
  CASE WHEN i % 9 = 0 THEN NULL ELSE ['red', 'green', 'blue', '', 'ünïcødé'][i % 5 + 1] END AS category,
  CASE WHEN i % 19 = 0 THEN NULL ELSE 'note-' || (i * 31 % 9973)::VARCHAR || repeat('x', i % 37) END AS note,
  CASE WHEN i % 23 = 0 THEN NULL ELSE ('\\xAA\\x00\\xFF' || (i % 1000)::VARCHAR)::BLOB END AS payload,
  CASE WHEN i % 29 = 0 THEN NULL ELSE DATE '1970-01-01' + ((i * 37) % 40000 - 10000)::INTEGER END AS day,
  CASE WHEN i % 31 = 0 THEN NULL ELSE TIMESTAMP '1950-01-01' + to_microseconds((i * 1234567891)::BIGINT) END AS at,
  CASE WHEN i % 6 = 0 THEN NULL ELSE (((i * 7919) % 2000000 - 1000000) / 100)::DECIMAL(9,2) END AS price,
  CASE WHEN i % 8 = 0 THEN NULL ELSE (((i * 1234567891) % 1000000000000 - 500000000000) / 10000)::DECIMAL(18,4) END AS amount,
  CASE WHEN i % 10 = 0 THEN NULL ELSE ((i * 13) % 1000 - 500)::DECIMAL(4,1) END AS tiny_dec,
  ('row ' || (i % 250)::VARCHAR)::VARCHAR AS label
FROM range(0, 20000) r(i)`

async function writeDuckDB(dir) {
  fs.mkdirSync(dir, { recursive: true })
  const written = []
  await withDuckDB(async (connection) => {
    await connection.run(DUCKDB_TABLE)
    for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd']) {
      for (const version of ['V1', 'V2']) {
        const file = path.join(dir, `duckdb_${codec}_${version}.parquet`)
        await connection.run(`COPY t TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ` +
          `PARQUET_VERSION ${version}, ROW_GROUP_SIZE 6000)`)
        written.push(file)
      }
    }
  })
  return written
}

// A file lakeml must refuse cleanly: DECIMAL(38, 10) is stored as a 16-byte
// FIXED_LEN_BYTE_ARRAY, wider than lakeml's 18-digit decimals.
async function writeDuckDBWideDecimal(file) {
  await withDuckDB(async (connection) => {
    await connection.run(`COPY (SELECT (i * 1234567.891)::DECIMAL(38,10) AS wide FROM range(0, 10) r(i)) ` +
      `TO '${file}' (FORMAT parquet)`)
  })
  return [file]
}

async function writeWasm(dir) {
  fs.mkdirSync(dir, { recursive: true })
  const arrow = await import('apache-arrow')
  const wasm = await import('parquet-wasm/node')
  const n = 5000
  const col = (fn) => Array.from({ length: n }, (_, i) => fn(i))
  const table = new arrow.Table({
    id: arrow.vectorFromArray(col((i) => BigInt(i) * 1000003n - 7n), new arrow.Int64()),
    small: arrow.vectorFromArray(col((i) => (i % 11 === 0 ? null : (i * 7919) % 100000 - 50000)), new arrow.Int32()),
    big: arrow.vectorFromArray(col((i) => (i % 13 === 0 ? null : BigInt(i) * -977123n)), new arrow.Int64()),
    ratio: arrow.vectorFromArray(col((i) => (i % 5 === 0 ? null : (i % 4000) * 0.25)), new arrow.Float32()),
    score: arrow.vectorFromArray(col((i) => (i % 17 === 0 ? null : i / 7)), new arrow.Float64()),
    flag: arrow.vectorFromArray(col((i) => (i % 7 === 0 ? null : i % 3 === 0)), new arrow.Bool()),
    note: arrow.vectorFromArray(col((i) => (i % 19 === 0 ? null : `note-${(i * 31) % 9973}${'x'.repeat(i % 37)}`)), new arrow.Utf8()),
    sorted: arrow.vectorFromArray(col((i) => `key-${String(Math.floor(i / 3)).padStart(6, '0')}`), new arrow.Utf8()),
    day: arrow.vectorFromArray(col((i) => (i % 29 === 0 ? null : ((i * 37) % 40000 - 10000) * 86400000)), new arrow.DateDay()),
  })
  const ipc = arrow.tableToIPC(table, 'stream')
  const written = []
  const configs = [
    ['zstd', wasm.Compression.ZSTD], ['snappy', wasm.Compression.SNAPPY],
    ['gzip', wasm.Compression.GZIP], ['uncompressed', wasm.Compression.UNCOMPRESSED],
  ]
  for (const [name, codec] of configs) {
    const props = new wasm.WriterPropertiesBuilder()
      .setCompression(codec)
      .setWriterVersion(wasm.WriterVersion.V2)
      .setDictionaryEnabled(false)
      .setDataPageSizeLimit(4096)
      .setMaxRowGroupSize(2000)
      .setColumnEncoding('id', wasm.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('small', wasm.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('big', wasm.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('ratio', wasm.Encoding.BYTE_STREAM_SPLIT)
      .setColumnEncoding('score', wasm.Encoding.BYTE_STREAM_SPLIT)
      .setColumnEncoding('note', wasm.Encoding.DELTA_LENGTH_BYTE_ARRAY)
      .setColumnEncoding('sorted', wasm.Encoding.DELTA_BYTE_ARRAY)
      .setColumnEncoding('day', wasm.Encoding.DELTA_BINARY_PACKED)
      .build()
    const bytes = wasm.writeParquet(wasm.Table.fromIPCStream(ipc), props)
    const file = path.join(dir, `wasm_${name}_v2_delta.parquet`)
    fs.writeFileSync(file, bytes)
    written.push(file)
  }
  // Also the defaults (dictionary pages, V1), which is what most arrow users write.
  const file = path.join(dir, 'wasm_default.parquet')
  fs.writeFileSync(file, wasm.writeParquet(wasm.Table.fromIPCStream(ipc)))
  written.push(file)
  return written
}

const [command, arg] = process.argv.slice(2)
try {
  if (command === 'hash-duckdb') {
    const { hash, rows } = await hashDuckDB(arg)
    console.log(`${hex(hash)} ${rows}`)
  } else if (command === 'hash-hyparquet') {
    const { hash, rows } = await hashHyparquet(arg)
    console.log(`${hex(hash)} ${rows}`)
  } else if (command === 'write-duckdb') {
    for (const file of await writeDuckDB(arg)) console.log(file)
  } else if (command === 'write-duckdb-wide-decimal') {
    for (const file of await writeDuckDBWideDecimal(arg)) console.log(file)
  } else if (command === 'write-wasm') {
    for (const file of await writeWasm(arg)) console.log(file)
  } else {
    console.error('usage: node interop.mjs hash-duckdb|hash-hyparquet <file> | write-duckdb|write-wasm <dir>')
    process.exit(2)
  }
} catch (error) {
  console.error(`error: ${error?.stack ?? error}`)
  process.exit(1)
}
