"""log-metric, get-history (with paging), get-history-bulk-interval, and concurrent writers
(reference §1.3 doubles, §2.2 "Metrics", §4 limits, §11 SQLite locking)."""

import math
import threading

import pytest
import requests

from helpers import MISSING_VALUE_MSG, Api, assert_error, by_key

UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def test_log_metric_and_history(api, run_id):
    assert api.log_metric(run_id, "acc", 0.5, timestamp=1000, step=1) == {}
    api.log_metric(run_id, "acc", 0.7, timestamp=2000, step=2)
    api.log_metric(run_id, "acc", 0.25, timestamp=3000)  # step defaults to 0
    history = api.metric_history(run_id, "acc")
    got = sorted((p["step"], p["timestamp"], p["value"]) for p in history)
    assert got == [(0, 3000, 0.25), (1, 1000, 0.5), (2, 2000, 0.7)]
    for p in history:
        assert p["key"] == "acc"
        assert isinstance(p["timestamp"], int) and isinstance(p["step"], int)
        assert "step" in p  # emitted even when 0 (§1.3)


def test_history_via_run_uuid(api, run_id):
    api.log_metric(run_id, "u", 1.0, timestamp=1, step=0)
    body = api.get_ok("metrics/get-history", {"run_uuid": run_id, "metric_key": "u"})
    assert [p["value"] for p in body["metrics"]] == [1.0]


@pytest.mark.parametrize("raw,check", [
    ("NaN", math.isnan),
    ("Infinity", lambda v: v == math.inf),
    ("-Infinity", lambda v: v == -math.inf),
])
def test_non_finite_values(api, run_id, raw, check):
    api.log_metric(run_id, "odd", raw, timestamp=10, step=0)
    (point,) = api.metric_history(run_id, "odd")
    # Written as the strings "NaN", "Infinity", "-Infinity" (§1.3).
    assert point["value"] == raw
    assert check(float(point["value"]))
    latest = by_key(api.get_run(run_id)["data"]["metrics"])["odd"]
    assert latest["value"] == raw


def test_latest_value_rules(api, run_id):
    """runs/get holds the latest value per key: the highest step, then timestamp, then value."""
    def latest():
        m = by_key(api.get_run(run_id)["data"]["metrics"])["lat"]
        return m["value"], m["step"], m["timestamp"]

    api.log_metric(run_id, "lat", 1.0, timestamp=100, step=5)
    assert latest() == (1.0, 5, 100)
    api.log_metric(run_id, "lat", 2.0, timestamp=200, step=3)  # older step, newer time
    assert latest() == (1.0, 5, 100)
    api.log_metric(run_id, "lat", 3.0, timestamp=150, step=5)  # same step, newer time
    assert latest() == (3.0, 5, 150)
    api.log_metric(run_id, "lat", 0.5, timestamp=120, step=5)  # same step, older time
    assert latest() == (3.0, 5, 150)
    api.log_metric(run_id, "lat", 4.0, timestamp=1, step=6)  # newer step, oldest time
    assert latest() == (4.0, 6, 1)
    assert len(api.metric_history(run_id, "lat")) == 5


def test_identical_points_deduplicated(api, run_id):
    for _ in range(3):
        api.log_metric(run_id, "dup", 1.5, timestamp=42, step=7)
    api.log_metric(run_id, "dup", 2.5, timestamp=42, step=7)  # another value: a new point
    assert sorted(p["value"] for p in api.metric_history(run_id, "dup")) == [1.5, 2.5]


def test_integer_and_negative_values(api, run_id):
    api.log_metric(run_id, "int", 3, timestamp=0, step=-1)
    (p,) = api.metric_history(run_id, "int")
    assert p["value"] == 3 and p["step"] == -1 and p["timestamp"] == 0


@pytest.mark.parametrize("body,missing", [
    ({"value": 1.0, "timestamp": 1}, "key"),
    ({"key": "m", "timestamp": 1}, "value"),
    ({"key": "m", "value": 1.0}, "timestamp"),
    ({"key": "", "value": 1.0, "timestamp": 1}, "key"),
])
def test_log_metric_missing_fields(api, run_id, body, missing):
    assert_error(api.post("runs/log-metric", {"run_id": run_id, **body}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} '{missing}'")


@pytest.mark.parametrize("fields", [
    {"value": "abc"},
    {"value": True},
    {"value": [1]},
    {"timestamp": "yesterday"},
    {"timestamp": -1},
    {"timestamp": 1.5},
    {"step": "one"},
], ids=["value-str", "value-bool", "value-list", "ts-str", "ts-negative", "ts-float", "step-str"])
def test_log_metric_bad_types(api, run_id, fields):
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, **fields}
    assert_error(api.post("runs/log-metric", body), 400, "INVALID_PARAMETER_VALUE")


def test_log_metric_unknown_run(api):
    assert_error(api.post("runs/log-metric", {"run_id": UNKNOWN_RUN, "key": "m", "value": 1,
                                              "timestamp": 1}),
                 404, "RESOURCE_DOES_NOT_EXIST")


# ---- get-history ----------------------------------------------------------------------------

def test_history_paging(api, run_id):
    api.post_ok("runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "paged", "value": float(i), "timestamp": 1000 + i, "step": i} for i in range(25)]})
    whole = api.get_ok("metrics/get-history", {"run_id": run_id, "metric_key": "paged"})
    assert len(whole["metrics"]) == 25  # old clients expect everything without max_results
    assert not whole.get("next_page_token")

    pages, token, seen = [], None, []
    while True:
        query = {"run_id": run_id, "metric_key": "paged", "max_results": 10}
        if token:
            query["page_token"] = token
        body = api.get_ok("metrics/get-history", query)
        pages.append(len(body.get("metrics", [])))
        seen += [p["step"] for p in body.get("metrics", [])]
        token = body.get("next_page_token")
        assert len(pages) <= 5
        if not token:
            break
    assert pages in ([10, 10, 5], [10, 10, 5, 0])
    assert sorted(seen) == list(range(25))


def test_history_errors(api, run_id):
    assert_error(api.get("metrics/get-history", {"run_id": run_id}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'metric_key'")
    assert_error(api.get("metrics/get-history", {"metric_key": "m"}), 400,
                 "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    # MLflow's SQL store answers an unknown run with an empty history; a 404 is fine too.
    resp = api.get("metrics/get-history", {"run_id": UNKNOWN_RUN, "metric_key": "m"})
    if resp.status_code == 200:
        assert resp.json().get("metrics", []) == []
    else:
        assert_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "m",
                                                 "max_results": 5, "page_token": "garbage!!"}),
                 400, "INVALID_PARAMETER_VALUE")


def test_history_unknown_key_is_empty(api, run_id):
    body = api.get_ok("metrics/get-history", {"run_id": run_id, "metric_key": "never"})
    assert body.get("metrics", []) == []


# ---- get-history-bulk-interval --------------------------------------------------------------

def _bulk(api, **params):
    return api.get("metrics/get-history-bulk-interval", params)


@pytest.fixture
def two_runs_with_curves(api, exp_id):
    run_ids = []
    for r in range(2):
        run_id = api.create_run(exp_id)["info"]["run_id"]
        for chunk in range(0, 1000, 500):
            api.post_ok("runs/log-batch", {"run_id": run_id, "metrics": [
                {"key": "curve", "value": float(i * (r + 1)), "timestamp": 10_000 + i, "step": i}
                for i in range(chunk, chunk + 500)]})
        run_ids.append(run_id)
    return run_ids


def test_bulk_interval_all_points(api, two_runs_with_curves):
    run_ids = two_runs_with_curves
    body = api.get_ok("metrics/get-history-bulk-interval",
                      {"run_ids": run_ids, "metric_key": "curve"})  # default max_results 2500
    points = body["metrics"]
    assert len(points) == 2000
    for p in points:
        assert set(p) >= {"key", "value", "timestamp", "step", "run_id"}
        assert p["key"] == "curve" and p["run_id"] in run_ids


def test_bulk_interval_downsamples(api, two_runs_with_curves):
    run_ids = two_runs_with_curves
    body = api.get_ok("metrics/get-history-bulk-interval",
                      {"run_ids": run_ids, "metric_key": "curve", "max_results": 50})
    for run_id in run_ids:
        steps = [p["step"] for p in body["metrics"] if p["run_id"] == run_id]
        # At most max_results sampled steps, plus the last step, which is always kept.
        assert 2 <= len(steps) <= 51, len(steps)
        assert steps == sorted(steps)
        assert steps[0] == 0 and steps[-1] == 999  # the ends of the curve are kept
        assert len(set(steps)) == len(steps)


def test_bulk_interval_step_range(api, two_runs_with_curves):
    run_ids = two_runs_with_curves
    body = api.get_ok("metrics/get-history-bulk-interval",
                      {"run_ids": run_ids[0], "metric_key": "curve", "start_step": 100,
                       "end_step": 199, "max_results": 2500})
    steps = sorted(p["step"] for p in body["metrics"])
    assert steps == list(range(100, 200))


def test_bulk_interval_limits(api, run_id):
    ok = {"run_ids": [run_id], "metric_key": "curve"}
    assert_error(_bulk(api, metric_key="curve"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, run_ids=[run_id]), 400, "INVALID_PARAMETER_VALUE")
    too_many = [f"{i:032x}" for i in range(101)]
    assert_error(_bulk(api, run_ids=too_many, metric_key="curve"), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, **ok, max_results=0), 400, "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, **ok, max_results=2501), 400, "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, **ok, start_step=5), 400, "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, **ok, end_step=5), 400, "INVALID_PARAMETER_VALUE")
    assert_error(_bulk(api, **ok, start_step=10, end_step=5), 400, "INVALID_PARAMETER_VALUE")
    api.get_ok("metrics/get-history-bulk-interval", {**ok, "max_results": 2500})
    hundred = [run_id] + [f"{i:032x}" for i in range(99)]
    resp = _bulk(api, run_ids=hundred, metric_key="curve")
    assert resp.status_code in (200, 404), resp.text  # 100 ids are allowed by the limit


# ---- concurrency ----------------------------------------------------------------------------

def test_concurrent_log_metric(server, api2):
    """16 threads x 200 log-metric calls on one run: every call 200, no 5xx, exact history."""
    exp_id = api2.create_experiment()
    run_id = api2.create_run(exp_id)["info"]["run_id"]
    threads_n, calls_n = 16, 200
    failures, lock = [], threading.Lock()

    def worker(t):
        with requests.Session() as session:
            client = Api(server.url, api2.prefix, session)
            for i in range(calls_n):
                body = {"run_id": run_id, "key": f"m{t}", "value": float(i),
                        "timestamp": 1_000_000 + i, "step": i}
                try:
                    resp = client.post("runs/log-metric", body)
                    status = resp.status_code
                except requests.RequestException as e:  # connection refused/reset
                    status = repr(e)
                if status != 200:
                    with lock:
                        failures.append((t, i, status))
                # Also one shared key that all threads write to at distinct steps.
                if i % 20 == 0:
                    resp = client.post("runs/log-metric", {"run_id": run_id, "key": "shared",
                                                           "value": 1.0, "timestamp": 5,
                                                           "step": t * 1000 + i})
                    if resp.status_code != 200:
                        with lock:
                            failures.append((t, i, resp.status_code))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=600)
    assert not any(th.is_alive() for th in threads)
    assert failures == [], failures[:20]
    for t in range(threads_n):
        history = api2.metric_history(run_id, f"m{t}")
        assert sorted(p["step"] for p in history) == list(range(calls_n)), t
    assert len(api2.metric_history(run_id, "shared")) == threads_n * (calls_n // 20)
    latest = by_key(api2.get_run(run_id)["data"]["metrics"])
    for t in range(threads_n):
        assert latest[f"m{t}"]["value"] == calls_n - 1 and latest[f"m{t}"]["step"] == calls_n - 1


# ---- get-history-bulk (ajax only) -----------------------------------------------------------

def test_history_bulk_ajax(server, two_runs_with_curves):
    run_ids = two_runs_with_curves
    url = f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk"
    resp = requests.get(url, params={"run_id": run_ids, "metric_key": "curve",
                                     "max_results": 25000}, timeout=60)
    assert resp.status_code == 200, resp.text
    points = resp.json()["metrics"]
    assert len(points) == 2000
    for run_id in run_ids:
        steps = sorted(p["step"] for p in points if p["run_id"] == run_id)
        assert steps == list(range(1000))
    assert all(p["key"] == "curve" for p in points)
    resp = requests.get(url, params={"run_id": [f"{i:032x}" for i in range(101)],
                                     "metric_key": "curve"}, timeout=60)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = requests.get(url, params={"run_id": run_ids, "metric_key": "curve",
                                     "max_results": 25001}, timeout=60)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
