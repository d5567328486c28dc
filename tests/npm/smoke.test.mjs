// Smoke test: the npm `mlflow@2.0.7` client (reference mlflow-rest.md §13) against a running
// lakeml server. Starts nothing itself: set LAKEML_URL (scripts/test.sh does).
//
//   LAKEML_URL=http://127.0.0.1:5000 node --test smoke.test.mjs
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const MLflow = require('mlflow');

const endpoint = process.env.LAKEML_URL;
if (!endpoint) {
  throw new Error('LAKEML_URL is not set (e.g. http://127.0.0.1:5000)');
}

// The client console.logs every POST body; keep the test output readable.
const quietLog = console.log;
console.log = () => {};

const mlflow = new MLflow({ endpoint });
const { Experiments, Runs, Metrics, Artifacts } = mlflow;
const uniq = (p) => `${p}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;

// The client rejects with Error("Error: " + JSON.stringify({status, statusText, data})).
function rejection(err) {
  const text = String(err.message).replace(/^Error: /, '');
  return JSON.parse(text);
}

async function expectRejection(promise, status, errorCode) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a rejection with HTTP ${status}`);
  const info = rejection(err);
  assert.equal(info.status, status, JSON.stringify(info));
  assert.equal(typeof info.data, 'object', `error body is not JSON: ${JSON.stringify(info)}`);
  assert.ok(info.data !== null, `error body is not JSON: ${JSON.stringify(info)}`);
  assert.equal(info.data.error_code, errorCode, JSON.stringify(info));
  return info;
}

const byKey = (items) => Object.fromEntries((items ?? []).map((x) => [x.key, x]));

describe('npm mlflow@2.0.7 client against lakeml', () => {
  let experimentId;
  let runId;
  const name = uniq('npm-exp');

  before(async () => {
    const created = await Experiments.create({ name });
    experimentId = created.experiment_id;
  });

  test('Experiments.create/get', async () => {
    assert.match(experimentId, /^\d+$/);
    const { experiment } = await Experiments.get({ experiment_id: experimentId });
    assert.equal(experiment.experiment_id, experimentId);
    assert.equal(experiment.name, name);
    assert.equal(experiment.lifecycle_stage, 'active');
    assert.equal(typeof experiment.creation_time, 'number');
  });

  test('Experiments.create duplicate rejects with RESOURCE_ALREADY_EXISTS', async () => {
    await expectRejection(Experiments.create({ name }), 400, 'RESOURCE_ALREADY_EXISTS');
  });

  test('Experiments.update/delete/restore', async () => {
    const other = (await Experiments.create({ name: uniq('npm-other') })).experiment_id;
    const renamed = uniq('npm-renamed');
    assert.deepEqual(await Experiments.update({ experiment_id: other, new_name: renamed }), {});
    assert.equal((await Experiments.get({ experiment_id: other })).experiment.name, renamed);
    assert.deepEqual(await Experiments.delete({ experiment_id: other }), {});
    assert.equal((await Experiments.get({ experiment_id: other })).experiment.lifecycle_stage,
      'deleted');
    assert.deepEqual(await Experiments.restore({ experiment_id: other }), {});
    assert.equal((await Experiments.get({ experiment_id: other })).experiment.lifecycle_stage,
      'active');
  });

  test('Experiments.get of an unknown id rejects with 404', async () => {
    await expectRejection(Experiments.get({ experiment_id: '987654321' }), 404,
      'RESOURCE_DOES_NOT_EXIST');
  });

  test('Experiments.list (removed in MLflow 2.0) is a JSON ENDPOINT_NOT_FOUND 404', async () => {
    await expectRejection(Experiments.list({}), 404, 'ENDPOINT_NOT_FOUND');
  });

  test('Experiments.setExperimentTag (path missing a slash) is a JSON 404', async () => {
    await expectRejection(
      Experiments.setExperimentTag({ experiment_id: experimentId, key: 'k', value: 'v' }),
      404, 'ENDPOINT_NOT_FOUND');
  });

  test('Runs.create/get', async () => {
    const start = Date.now();
    const { run } = await Runs.create({
      experiment_id: experimentId, user_id: 'npm-user', start_time: start,
      tags: [{ key: 'origin', value: 'npm' }],
    });
    runId = run.info.run_id;
    assert.match(runId, /^[0-9a-f]{32}$/);
    assert.equal(run.info.run_uuid, runId);
    assert.equal(run.info.experiment_id, experimentId);
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.start_time, start);
    assert.equal(run.info.lifecycle_stage, 'active');
    assert.ok(run.info.run_name, 'a run name is generated');
    const tags = byKey(run.data.tags);
    assert.equal(tags.origin.value, 'npm');
    assert.equal(tags['mlflow.runName'].value, run.info.run_name);

    const got = (await Runs.get({ run_id: runId })).run;
    assert.deepEqual(got.info, run.info);
  });

  test('Runs.logMetric / Metrics.getHistory', async () => {
    for (const [step, value] of [[0, 0.5], [1, 0.25], [2, 0.125]]) {
      assert.deepEqual(await Runs.logMetric({
        run_id: runId, key: 'loss', value, timestamp: 1000 + step, step,
      }), {});
    }
    const { metrics } = await Metrics.getHistory({ run_id: runId, metric_key: 'loss' });
    const points = metrics.map((m) => [m.step, m.value, m.timestamp]).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(points, [[0, 0.5, 1000], [1, 0.25, 1001], [2, 0.125, 1002]]);
    const { run } = await Runs.get({ run_id: runId });
    assert.equal(byKey(run.data.metrics).loss.value, 0.125);
  });

  test('Runs.logParameter is write-once', async () => {
    assert.deepEqual(await Runs.logParameter({ run_id: runId, key: 'alpha', value: '0.1' }), {});
    await Runs.logParameter({ run_id: runId, key: 'alpha', value: '0.1' });
    await expectRejection(Runs.logParameter({ run_id: runId, key: 'alpha', value: '0.2' }), 400,
      'INVALID_PARAMETER_VALUE');
    const { run } = await Runs.get({ run_id: runId });
    assert.equal(byKey(run.data.params).alpha.value, '0.1');
  });

  test('Runs.setTag/deleteTag', async () => {
    await Runs.setTag({ run_id: runId, key: 'color', value: 'red' });
    await Runs.setTag({ run_id: runId, key: 'color', value: 'green' });
    let { run } = await Runs.get({ run_id: runId });
    assert.equal(byKey(run.data.tags).color.value, 'green');
    assert.deepEqual(await Runs.deleteTag({ run_id: runId, key: 'color' }), {});
    ({ run } = await Runs.get({ run_id: runId }));
    assert.equal(byKey(run.data.tags).color, undefined);
    await expectRejection(Runs.deleteTag({ run_id: runId, key: 'color' }), 404,
      'RESOURCE_DOES_NOT_EXIST');
  });

  test('Runs.logBatch (with the extra run_uuid field)', async () => {
    const result = await Runs.logBatch({
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.8, timestamp: 2000, step: 0 },
        { key: 'acc', value: 0.9, timestamp: 2001, step: 1 },
      ],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'batch', value: 'yes' }],
    });
    assert.deepEqual(result, {});
    const { run } = await Runs.get({ run_id: runId });
    assert.equal(byKey(run.data.metrics).acc.value, 0.9);
    assert.equal(byKey(run.data.params).depth.value, '6');
    assert.equal(byKey(run.data.tags).batch.value, 'yes');
    const { metrics } = await Metrics.getHistory({ run_id: runId, metric_key: 'acc' });
    assert.equal(metrics.length, 2);
  });

  test('Runs.search with filter and order_by', async () => {
    const second = (await Runs.create({ experiment_id: experimentId, start_time: Date.now() }))
      .run.info.run_id;
    await Runs.logMetric({ run_id: second, key: 'loss', value: 0.9, timestamp: 1, step: 0 });
    let res = await Runs.search({
      experiment_ids: [experimentId], filter: 'metrics.loss < 0.5', max_results: 10,
    });
    assert.deepEqual(res.runs.map((r) => r.info.run_id), [runId]);
    res = await Runs.search({
      experiment_ids: [experimentId], order_by: ['metrics.loss DESC'], max_results: 10,
    });
    assert.deepEqual(res.runs.map((r) => r.info.run_id), [second, runId]);
    res = await Runs.search({ experiment_ids: [experimentId], max_results: 1 });
    assert.equal(res.runs.length, 1);
    assert.ok(res.next_page_token, 'a next page token for the second run');
    const page2 = await Runs.search({
      experiment_ids: [experimentId], max_results: 1, page_token: res.next_page_token,
    });
    assert.equal(page2.runs.length, 1);
    assert.notEqual(page2.runs[0].info.run_id, res.runs[0].info.run_id);
    await expectRejection(
      Runs.search({ experiment_ids: [experimentId], filter: 'metrics.loss <<< 1' }), 400,
      'INVALID_PARAMETER_VALUE');
  });

  test('Runs.update sets status and end_time', async () => {
    const end = Date.now() + 1;
    const { run_info: info } = await Runs.update({ run_id: runId, status: 'FINISHED',
      end_time: end });
    assert.equal(info.status, 'FINISHED');
    assert.equal(info.end_time, end);
    assert.equal((await Runs.get({ run_id: runId })).run.info.status, 'FINISHED');
  });

  test('Artifacts.list of a run without artifacts', async () => {
    const res = await Artifacts.list({ run_id: runId });
    const { run } = await Runs.get({ run_id: runId });
    assert.equal(res.root_uri, run.info.artifact_uri);
    assert.deepEqual(res.files ?? [], []);
  });

  test('Runs.delete/restore', async () => {
    assert.deepEqual(await Runs.delete({ run_id: runId }), {});
    assert.equal((await Runs.get({ run_id: runId })).run.info.lifecycle_stage, 'deleted');
    await expectRejection(Runs.logMetric({ run_id: runId, key: 'late', value: 1, timestamp: 1 }),
      400, 'INVALID_PARAMETER_VALUE');
    assert.deepEqual(await Runs.restore({ run_id: runId }), {});
    assert.equal((await Runs.get({ run_id: runId })).run.info.lifecycle_stage, 'active');
  });

  test('Runs.get of an unknown run rejects with 404', async () => {
    await expectRejection(Runs.get({ run_id: '0123456789abcdef0123456789abcdef' }), 404,
      'RESOURCE_DOES_NOT_EXIST');
  });
});

process.on('exit', () => { console.log = quietLog; });
