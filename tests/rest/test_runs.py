"""Runs RPCs: create/get/update/delete/restore, params, tags, log-batch, log-model, log-inputs,
outputs (reference §2.2 "Runs", §4 limits)."""

import json
import re

import pytest

from helpers import MISSING_VALUE_MSG, assert_error, by_key, now_ms, tags_dict

RUN_NAME_TAG = "mlflow.runName"
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


# ---- create / get ---------------------------------------------------------------------------

def test_create_run_generates_name(api, exp_id):
    start = now_ms()
    run = api.create_run(exp_id, start_time=start, user_id="alice")
    info = run["info"]
    assert re.fullmatch(r"[0-9a-f]{32}", info["run_id"]), info["run_id"]
    assert info["run_uuid"] == info["run_id"]
    assert info["experiment_id"] == exp_id
    assert info["status"] == "RUNNING"
    assert info["lifecycle_stage"] == "active"
    assert info["start_time"] == start
    assert "end_time" not in info
    assert info["user_id"] == "alice"
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", info["run_name"]), info["run_name"]
    assert tags_dict(run["data"]["tags"])[RUN_NAME_TAG] == info["run_name"]
    exp = api.get_experiment(exp_id)
    assert info["artifact_uri"] == f"{exp['artifact_location']}/{info['run_id']}/artifacts"


def test_create_run_with_run_name(api, exp_id):
    run = api.create_run(exp_id, run_name="my-run",
                         tags=[{"key": "color", "value": "blue"}])
    assert run["info"]["run_name"] == "my-run"
    assert tags_dict(run["data"]["tags"]) == {RUN_NAME_TAG: "my-run", "color": "blue"}


def test_create_run_name_from_tag(api, exp_id):
    run = api.create_run(exp_id, tags=[{"key": RUN_NAME_TAG, "value": "from-tag"}])
    assert run["info"]["run_name"] == "from-tag"
    run = api.create_run(exp_id, run_name="same",
                         tags=[{"key": RUN_NAME_TAG, "value": "same"}])
    assert run["info"]["run_name"] == "same"


def test_create_run_name_conflict(api, exp_id):
    assert_error(api.post("runs/create", {"experiment_id": exp_id, "run_name": "a",
                                          "tags": [{"key": RUN_NAME_TAG, "value": "b"}]}),
                 400, "INVALID_PARAMETER_VALUE")


def test_create_run_bad_experiment(api, exp_id):
    assert_error(api.post("runs/create", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    api.post_ok("experiments/delete", {"experiment_id": exp_id})
    assert_error(api.post("runs/create", {"experiment_id": exp_id}), 400,
                 "INVALID_PARAMETER_VALUE")


def test_get_run(api, run):
    run_id = run["info"]["run_id"]
    got = api.get_run(run_id)
    assert got["info"] == run["info"]
    # run_uuid is still accepted (§1.2).
    by_uuid = api.get_ok("runs/get", {"run_uuid": run_id})["run"]
    assert by_uuid["info"]["run_id"] == run_id


def test_get_run_errors(api):
    assert_error(api.get("runs/get", {"run_id": UNKNOWN_RUN}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get("runs/get"), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'run_id'")
    assert_error(api.get("runs/get", {"run_id": ""}), 400, "INVALID_PARAMETER_VALUE",
                 MISSING_VALUE_MSG)


# ---- update ---------------------------------------------------------------------------------

def test_update_status_and_end_time(api, run):
    run_id = run["info"]["run_id"]
    end = now_ms() + 5
    info = api.post_ok("runs/update", {"run_id": run_id, "status": "FINISHED",
                                       "end_time": end})["run_info"]
    assert info["status"] == "FINISHED" and info["end_time"] == end
    assert info["run_name"] == run["info"]["run_name"]
    assert api.get_run(run_id)["info"]["status"] == "FINISHED"


def test_update_has_field_semantics(api, run):
    run_id = run["info"]["run_id"]
    # Only run_name: status and end_time stay as they are.
    info = api.post_ok("runs/update", {"run_id": run_id, "run_name": "renamed"})["run_info"]
    assert info["run_name"] == "renamed"
    assert info["status"] == "RUNNING"
    assert "end_time" not in info
    got = api.get_run(run_id)
    assert tags_dict(got["data"]["tags"])[RUN_NAME_TAG] == "renamed"
    # Only end_time.
    info = api.post_ok("runs/update", {"run_id": run_id, "end_time": 1234})["run_info"]
    assert info["end_time"] == 1234 and info["status"] == "RUNNING"
    assert info["run_name"] == "renamed"
    # Only status, given by number (enums are accepted by name or number, §1.3).
    info = api.post_ok("runs/update", {"run_uuid": run_id, "status": 4})["run_info"]
    assert info["status"] == "FAILED" and info["end_time"] == 1234
    # Nothing: nothing changes.
    info = api.post_ok("runs/update", {"run_id": run_id})["run_info"]
    assert info["status"] == "FAILED" and info["run_name"] == "renamed"


def test_update_errors(api, run):
    assert_error(api.post("runs/update", {"run_id": UNKNOWN_RUN, "status": "FINISHED"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/update", {"status": "FINISHED"}), 400,
                 "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    assert_error(api.post("runs/update", {"run_id": run["info"]["run_id"],
                                          "status": "NOT_A_STATUS"}),
                 400, "INVALID_PARAMETER_VALUE")


# ---- delete / restore -----------------------------------------------------------------------

def test_delete_restore(api, run_id):
    assert api.post_ok("runs/delete", {"run_id": run_id}) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    assert api.post_ok("runs/restore", {"run_id": run_id}) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "active"


def test_delete_restore_errors(api):
    for verb in ("delete", "restore"):
        assert_error(api.post(f"runs/{verb}", {"run_id": UNKNOWN_RUN}), 404,
                     "RESOURCE_DOES_NOT_EXIST")
        assert_error(api.post(f"runs/{verb}", {}), 400, "INVALID_PARAMETER_VALUE",
                     f"{MISSING_VALUE_MSG} 'run_id'")


@pytest.mark.parametrize("path,body", [
    ("runs/log-metric", {"key": "m", "value": 1.0, "timestamp": 1}),
    ("runs/log-parameter", {"key": "p", "value": "v"}),
    ("runs/set-tag", {"key": "t", "value": "v"}),
    ("runs/log-batch", {"metrics": [{"key": "m", "value": 1.0, "timestamp": 1}]}),
    ("runs/log-batch", {"params": [{"key": "p2", "value": "v"}]}),
    ("runs/log-batch", {"tags": [{"key": "t2", "value": "v"}]}),
])
def test_writes_to_deleted_run_rejected(api, run_id, path, body):
    api.post_ok("runs/delete", {"run_id": run_id})
    assert_error(api.post(path, {"run_id": run_id, **body}), 400, "INVALID_PARAMETER_VALUE")


def test_finished_run_stays_writable(api, run_id):
    api.post_ok("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now_ms()})
    api.log_metric(run_id, "after", 1.0)
    api.log_param(run_id, "after", "yes")
    api.set_tag(run_id, "after", "yes")


# ---- params ---------------------------------------------------------------------------------

def test_log_param_write_once(api, run_id):
    assert api.log_param(run_id, "alpha", "0.5") == {}
    api.log_param(run_id, "alpha", "0.5")  # the same value again is fine
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": "alpha",
                                                 "value": "0.6"}),
                 400, "INVALID_PARAMETER_VALUE")
    params = by_key(api.get_run(run_id)["data"]["params"])
    assert params["alpha"]["value"] == "0.5"


def test_log_param_limits(api, run_id):
    api.log_param(run_id, "k" * 250, "v" * 6000)
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": "k" * 251,
                                                 "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": "long",
                                                 "value": "v" * 6001}),
                 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("key", ["bad*key", "../escape", "/abs", "a\\b", "new\nline", "."])
def test_invalid_key_names(api, run_id, key):
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": key, "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/set-tag", {"run_id": run_id, "key": key, "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/log-metric", {"run_id": run_id, "key": key, "value": 1,
                                              "timestamp": 1}),
                 400, "INVALID_PARAMETER_VALUE")


def test_valid_key_characters(api, run_id):
    key = "dir/sub-key_1.x y:z"
    api.log_param(run_id, key, "v")
    assert by_key(api.get_run(run_id)["data"]["params"])[key]["value"] == "v"


def test_log_param_errors(api, run_id):
    assert_error(api.post("runs/log-parameter", {"run_id": UNKNOWN_RUN, "key": "k",
                                                 "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'key'")


# ---- tags -----------------------------------------------------------------------------------

def test_set_tag_upsert_and_delete(api, run_id):
    api.set_tag(run_id, "stage", "one")
    api.set_tag(run_id, "stage", "two")
    assert tags_dict(api.get_run(run_id)["data"]["tags"])["stage"] == "two"
    assert api.post_ok("runs/delete-tag", {"run_id": run_id, "key": "stage"}) == {}
    assert "stage" not in tags_dict(api.get_run(run_id)["data"]["tags"])


def test_tag_errors(api, run_id):
    assert_error(api.post("runs/delete-tag", {"run_id": run_id, "key": "never-set"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/set-tag", {"run_id": UNKNOWN_RUN, "key": "k", "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/delete-tag", {"run_id": UNKNOWN_RUN, "key": "k"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/set-tag", {"run_id": run_id, "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'key'")


def test_tag_value_limit(api, run_id):
    api.set_tag(run_id, "big", "v" * 8000)
    assert len(tags_dict(api.get_run(run_id)["data"]["tags"])["big"]) == 8000
    assert_error(api.post("runs/set-tag", {"run_id": run_id, "key": "big", "value": "v" * 8001}),
                 400, "INVALID_PARAMETER_VALUE")


# ---- log-batch ------------------------------------------------------------------------------

def test_log_batch(api, run_id):
    body = {
        "run_id": run_id,
        "run_uuid": run_id,  # the npm client sends it; unknown/extra fields are ignored
        "metrics": [{"key": "loss", "value": 1.0 - i / 10, "timestamp": 1000 + i, "step": i}
                    for i in range(5)],
        "params": [{"key": "lr", "value": "0.1"}, {"key": "depth", "value": "3"}],
        "tags": [{"key": "t", "value": "first"}, {"key": "t", "value": "last"}],
    }
    assert api.post_ok("runs/log-batch", body) == {}
    data = api.get_run(run_id)["data"]
    assert by_key(data["metrics"])["loss"]["value"] == pytest.approx(0.6)
    assert by_key(data["metrics"])["loss"]["step"] == 4
    assert {p["key"]: p["value"] for p in data["params"]} == {"lr": "0.1", "depth": "3"}
    assert tags_dict(data["tags"])["t"] == "last"
    history = api.metric_history(run_id, "loss")
    assert sorted(p["step"] for p in history) == [0, 1, 2, 3, 4]


def test_log_batch_empty(api, run_id):
    assert api.post_ok("runs/log-batch", {"run_id": run_id}) == {}


def _metrics(n):
    return [{"key": f"m{i % 7}", "value": float(i), "timestamp": 1, "step": i} for i in range(n)]


def _kv(n, prefix):
    return [{"key": f"{prefix}{i}", "value": "v"} for i in range(n)]


def test_log_batch_limits_at_maximum(api, run_id):
    api.post_ok("runs/log-batch", {"run_id": run_id, "metrics": _metrics(1000)})
    api.post_ok("runs/log-batch", {"run_id": run_id, "params": _kv(100, "p"),
                                   "tags": _kv(100, "t")})
    api.post_ok("runs/log-batch", {"run_id": run_id, "metrics": _metrics(800),
                                   "params": _kv(100, "q"), "tags": _kv(100, "u")})
    assert len(api.metric_history(run_id, "m0")) == len({i for i in range(1000) if i % 7 == 0})


@pytest.mark.parametrize("fields", [
    {"metrics": _metrics(1001)},
    {"params": _kv(101, "p")},
    {"tags": _kv(101, "t")},
    {"metrics": _metrics(900), "params": _kv(100, "p"), "tags": _kv(1, "t")},  # 1001 in total
], ids=["1001-metrics", "101-params", "101-tags", "1001-entities"])
def test_log_batch_over_limits(api, run_id, fields):
    assert_error(api.post("runs/log-batch", {"run_id": run_id, **fields}), 400,
                 "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("fields", [
    {"metrics": [{"value": 1.0, "timestamp": 1}]},
    {"metrics": [{"key": "m", "timestamp": 1}]},
    {"metrics": [{"key": "m", "value": 1.0}]},
    {"params": [{"value": "v"}]},
    {"tags": [{"value": "v"}]},
    {"params": [{"key": "dup", "value": "a"}, {"key": "dup", "value": "b"}]},
], ids=["metric-key", "metric-value", "metric-timestamp", "param-key", "tag-key",
        "duplicate-params"])
def test_log_batch_invalid_items(api, run_id, fields):
    assert_error(api.post("runs/log-batch", {"run_id": run_id, **fields}), 400,
                 "INVALID_PARAMETER_VALUE")


def test_log_batch_param_rules(api, run_id):
    api.log_param(run_id, "fixed", "1")
    api.post_ok("runs/log-batch", {"run_id": run_id, "params": [{"key": "fixed", "value": "1"}]})
    assert_error(api.post("runs/log-batch", {"run_id": run_id,
                                             "params": [{"key": "fixed", "value": "2"}]}),
                 400, "INVALID_PARAMETER_VALUE")


def test_log_batch_errors(api):
    assert_error(api.post("runs/log-batch", {"run_id": UNKNOWN_RUN,
                                             "tags": [{"key": "a", "value": "b"}]}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/log-batch", {"tags": [{"key": "a", "value": "b"}]}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'run_id'")


# ---- log-model ------------------------------------------------------------------------------

def _model_json(run_id, path="model"):
    return {"artifact_path": path, "run_id": run_id,
            "utc_time_created": "2024-06-01 12:00:00.000000",
            "flavors": {"python_function": {"loader_module": "mlflow.xgboost",
                                            "data": "model.xgb"}},
            "model_uuid": "3b8d2e1a4f5c4d7890abcdef01234567"}


def test_log_model_appends_history(api, run_id):
    for path in ("model", "model2"):
        assert api.post_ok("runs/log-model", {"run_id": run_id,
                                              "model_json": json.dumps(_model_json(run_id,
                                                                                   path))}) == {}
    history = json.loads(tags_dict(api.get_run(run_id)["data"]["tags"])["mlflow.log-model.history"])
    assert isinstance(history, list) and len(history) == 2
    assert [h["artifact_path"] for h in history] == ["model", "model2"]
    assert history[0]["flavors"]["python_function"]["loader_module"] == "mlflow.xgboost"
    assert history[0]["run_id"] == run_id


@pytest.mark.parametrize("missing", ["artifact_path", "flavors", "utc_time_created", "run_id"])
def test_log_model_missing_keys(api, run_id, missing):
    model = _model_json(run_id)
    del model[missing]
    assert_error(api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)}),
                 400, "INVALID_PARAMETER_VALUE")


def test_log_model_bad_requests(api, run_id):
    assert_error(api.post("runs/log-model", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'model_json'")
    assert_error(api.post("runs/log-model", {"run_id": run_id, "model_json": "{not json"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/log-model", {"run_id": UNKNOWN_RUN,
                                             "model_json": json.dumps(_model_json(UNKNOWN_RUN))}),
                 404, "RESOURCE_DOES_NOT_EXIST")


# ---- log-inputs -----------------------------------------------------------------------------

def _dataset(name="wine", digest="d1g3st"):
    return {"name": name, "digest": digest, "source_type": "local",
            "source": '{"uri": "/data/wine.csv"}', "schema": '{"mlflow_colspec": []}',
            "profile": '{"num_rows": 10}'}


def test_log_inputs(api, run_id):
    body = {"run_id": run_id, "datasets": [
        {"dataset": _dataset(), "tags": [{"key": "mlflow.data.context", "value": "training"}]},
        {"dataset": _dataset("eval", "e1")},
    ]}
    assert api.post_ok("runs/log-inputs", body) == {}
    inputs = api.get_run(run_id)["inputs"]["dataset_inputs"]
    by_name = {i["dataset"]["name"]: i for i in inputs}
    assert set(by_name) == {"wine", "eval"}
    assert by_name["wine"]["dataset"] == _dataset()
    assert tags_dict(by_name["wine"]["tags"]) == {"mlflow.data.context": "training"}


@pytest.mark.parametrize("missing", ["name", "digest", "source_type", "source"])
def test_log_inputs_missing_dataset_field(api, run_id, missing):
    ds = _dataset()
    del ds[missing]
    assert_error(api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": ds}]}),
                 400, "INVALID_PARAMETER_VALUE")


def test_log_inputs_errors(api, run_id):
    assert_error(api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"tags": []}]}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/log-inputs", {"run_id": UNKNOWN_RUN,
                                              "datasets": [{"dataset": _dataset()}]}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/log-inputs", {"datasets": [{"dataset": _dataset()}]}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'run_id'")
    ds = _dataset(digest="x" * 37)  # digest limit 36
    assert_error(api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": ds}]}),
                 400, "INVALID_PARAMETER_VALUE")


# ---- outputs (3.x) --------------------------------------------------------------------------

def test_run_outputs(api, exp_id, run_id):
    model = api.post_ok("logged-models", {"experiment_id": exp_id, "name": "m",
                                          "source_run_id": run_id})["model"]
    model_id = model["info"]["model_id"]
    assert api.post_ok("runs/outputs", {"run_id": run_id,
                                        "models": [{"model_id": model_id, "step": 3}]}) == {}
    outputs = api.get_run(run_id)["outputs"]["model_outputs"]
    assert outputs == [{"model_id": model_id, "step": 3}]


def test_run_outputs_errors(api, run_id):
    assert_error(api.post("runs/outputs", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'models'")
    assert_error(api.post("runs/outputs", {"models": [{"model_id": "m-0", "step": 0}]}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'run_id'")
    assert_error(api.post("runs/outputs", {"run_id": UNKNOWN_RUN,
                                           "models": [{"model_id": "m-0", "step": 0}]}),
                 404, "RESOURCE_DOES_NOT_EXIST")
