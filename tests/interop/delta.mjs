// Checks a Delta table lakeml wrote, independently of lakeml's own log reader (driven by run.sh).
//   node delta.mjs live-files <table-dir>    replays _delta_log (commits in order, add/remove by
//                                           path) and prints the live data files in add order
//   node delta.mjs check <table-dir>         checks the log's shape (20-digit contiguous names,
//                                           protocol 1/2, metaData, schemaString) and every live
//                                           file's add.size and add.stats against what DuckDB
//                                           reads; prints "ok" or the mismatches
// DuckDB's delta extension cannot load offline, so the data files are read with read_parquet.
import { DuckDBInstance } from '@duckdb/node-api'
import fs from 'node:fs'
import path from 'node:path'

function replay(dir) {
  const logDir = path.join(dir, '_delta_log')
  const names = fs.readdirSync(logDir).filter((name) => /^\d{20}\.json$/.test(name)).sort()
  if (names.length === 0) throw new Error(`no commits in ${logDir}`)
  names.forEach((name, i) => {
    if (Number(name.slice(0, 20)) !== i) throw new Error(`commit ${i} missing (found ${name})`)
  })
  const commits = names.map((name) => fs.readFileSync(path.join(logDir, name), 'utf8')
    .split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line)))
  let protocol = null
  let metaData = null
  const live = new Map()  // insertion order = add order
  for (const actions of commits) {
    for (const action of actions) {
      if (action.protocol) protocol = action.protocol
      if (action.metaData) metaData = action.metaData
      if (action.remove) live.delete(action.remove.path)
    }
    for (const action of actions) if (action.add) live.set(action.add.path, action.add)
  }
  return { commits, protocol, metaData, live }
}

function checkShape({ commits, protocol, metaData }, problems) {
  if (protocol?.minReaderVersion !== 1 || protocol?.minWriterVersion !== 2) {
    problems.push(`protocol is ${JSON.stringify(protocol)}`)
  }
  for (const key of ['id', 'format', 'schemaString', 'partitionColumns', 'configuration']) {
    if (metaData?.[key] === undefined) problems.push(`metaData.${key} missing`)
  }
  if (metaData?.format?.provider !== 'parquet') problems.push('metaData.format.provider')
  commits.forEach((actions, version) => {
    const info = actions.find((a) => a.commitInfo)?.commitInfo
    if (!info || typeof info.timestamp !== 'number' || typeof info.operation !== 'string') {
      problems.push(`version ${version}: commitInfo without timestamp/operation`)
    }
    for (const action of actions) {
      const add = action.add
      if (add && (typeof add.path !== 'string' || typeof add.size !== 'number' ||
          typeof add.modificationTime !== 'number' || add.dataChange !== true ||
          typeof add.stats !== 'string' || typeof add.partitionValues !== 'object')) {
        problems.push(`version ${version}: malformed add ${JSON.stringify(add)}`)
      }
      if (action.remove && (typeof action.remove.path !== 'string' ||
          typeof action.remove.dataChange !== 'boolean')) {
        problems.push(`version ${version}: malformed remove`)
      }
    }
  })
  return JSON.parse(metaData.schemaString)
}

async function check(dir) {
  const state = replay(dir)
  const problems = []
  const schema = checkShape(state, problems)
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run('SET threads = 1')
    for (const [name, add] of state.live) {
      const file = path.join(dir, name)
      const where = `read_parquet('${file.replaceAll("'", "''")}')`
      if (fs.statSync(file).size !== add.size) problems.push(`${name}: add.size != file size`)
      const columns = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${where}`))
        .getRowObjects().map((row) => row.column_name)
      const expectedColumns = schema.fields.map((field) => field.name)
      if (JSON.stringify(columns) !== JSON.stringify(expectedColumns)) {
        problems.push(`${name}: columns ${columns} != schemaString ${expectedColumns}`)
        continue
      }
      const stats = JSON.parse(add.stats)
      const q = (column) => `"${column.replaceAll('"', '""')}"`
      const select = [`count(*)::BIGINT AS n`]
      for (const field of schema.fields) {
        const c = q(field.name)
        select.push(`(count(*) - count(${c}))::BIGINT AS ${q('nulls_' + field.name)}`)
        if (['integer', 'long'].includes(field.type)) {
          select.push(`min(${c})::VARCHAR AS ${q('min_' + field.name)}`,
            `max(${c})::VARCHAR AS ${q('max_' + field.name)}`)
        } else if (field.type === 'date') {
          select.push(`strftime(min(${c}), '%Y-%m-%d') AS ${q('min_' + field.name)}`,
            `strftime(max(${c}), '%Y-%m-%d') AS ${q('max_' + field.name)}`)
        } else if (field.type === 'string') {
          select.push(`min(${c}) AS ${q('min_' + field.name)}`,
            `max(${c}) AS ${q('max_' + field.name)}`)
        }
      }
      const row = (await connection.runAndReadAll(`SELECT ${select.join(', ')} FROM ${where}`))
        .getRowObjects()[0]
      if (BigInt(stats.numRecords) !== row.n) {
        problems.push(`${name}: numRecords ${stats.numRecords} != duckdb ${row.n}`)
      }
      for (const field of schema.fields) {
        const nulls = row['nulls_' + field.name]
        if (BigInt(stats.nullCount?.[field.name] ?? -1) !== nulls) {
          problems.push(`${name}: nullCount.${field.name} ${stats.nullCount?.[field.name]} != ${nulls}`)
        }
        for (const bound of ['min', 'max']) {
          const ours = stats[bound + 'Values']?.[field.name]
          const theirs = row[bound + '_' + field.name]
          if (ours === undefined || theirs === undefined) continue
          // Numbers above 2^53 lose digits in JSON.parse; compare integers through BigInt text.
          const same = typeof ours === 'number' && Number.isInteger(ours)
            ? Math.abs(Number(BigInt(theirs) - BigInt(Math.round(ours)))) <= Math.abs(ours) * 1e-15
            : String(ours) === String(theirs)
          if (!same) problems.push(`${name}: ${bound}Values.${field.name} ${ours} != duckdb ${theirs}`)
        }
      }
    }
  } finally {
    connection.closeSync()
  }
  return problems
}

const [command, dir] = process.argv.slice(2)
try {
  if (command === 'live-files') {
    for (const name of replay(dir).live.keys()) console.log(name)
  } else if (command === 'check') {
    const problems = await check(dir)
    console.log(problems.length === 0 ? 'ok' : problems.join('\n'))
  } else {
    console.error('usage: node delta.mjs live-files|check <table-dir>')
    process.exit(2)
  }
} catch (error) {
  console.error(`error: ${error?.stack ?? error}`)
  process.exit(1)
}
