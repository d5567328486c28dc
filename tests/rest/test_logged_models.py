"""MLflow 3.x LoggedModel RPCs (reference §2.2 "LoggedModel RPCs") and the server's own routes:
/health, /version, /api/3.0/mlflow/server-info (§1.1, §1.4)."""

import re
import time

import pytest
import requests

from helpers import Artifacts, assert_error, assert_ok, tags_dict

UNKNOWN_MODEL = "m-0123456789abcdef0123456789abcdef"


def _create(api, exp_id, **fields):
    return api.post_ok("logged-models", {"experiment_id": exp_id, **fields})["model"]


def test_create_and_get(api, exp_id, run_id):
    model = _create(api, exp_id, name="wine-model", model_type="xgboost", source_run_id=run_id,
                    params=[{"key": "max_depth", "value": "4"}],
                    tags=[{"key": "team", "value": "ml"}])
    info = model["info"]
    assert re.fullmatch(r"m-[0-9a-f]{32}", info["model_id"]), info["model_id"]
    assert info["experiment_id"] == exp_id
    assert info["name"] == "wine-model"
    assert info["model_type"] == "xgboost"
    assert info["source_run_id"] == run_id
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert isinstance(info["creation_timestamp_ms"], int) and info["creation_timestamp_ms"] > 0
    assert isinstance(info["last_updated_timestamp_ms"], int)
    exp = api.get_experiment(exp_id)
    assert info["artifact_uri"] == \
        f"{exp['artifact_location']}/models/{info['model_id']}/artifacts"
    assert tags_dict(info["tags"]) == {"team": "ml"}
    assert {p["key"]: p["value"] for p in model["data"]["params"]} == {"max_depth": "4"}

    got = api.get_ok(f"logged-models/{info['model_id']}")["model"]
    assert got["info"]["model_id"] == info["model_id"]
    assert got["info"]["name"] == "wine-model"
    assert tags_dict(got["info"]["tags"]) == {"team": "ml"}


def test_create_generates_name(api, exp_id):
    info = _create(api, exp_id)["info"]
    assert info.get("name"), info


def test_create_errors(api):
    assert_error(api.post("logged-models", {}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("logged-models", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_get_unknown(api):
    assert_error(api.get(f"logged-models/{UNKNOWN_MODEL}"), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("status", ["LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED", 2])
def test_finalize(api, exp_id, status):
    model_id = _create(api, exp_id)["info"]["model_id"]
    model = assert_ok(api.patch(f"logged-models/{model_id}", {"status": status}))["model"]
    expected = "LOGGED_MODEL_READY" if status == 2 else status
    assert model["info"]["status"] == expected
    assert api.get_ok(f"logged-models/{model_id}")["model"]["info"]["status"] == expected


def test_finalize_errors(api, exp_id):
    model_id = _create(api, exp_id)["info"]["model_id"]
    assert_error(api.patch(f"logged-models/{model_id}", {}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.patch(f"logged-models/{model_id}", {"status": "BOGUS"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.patch(f"logged-models/{UNKNOWN_MODEL}", {"status": "LOGGED_MODEL_READY"}),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_tags(api, exp_id):
    model_id = _create(api, exp_id, tags=[{"key": "a", "value": "1"}])["info"]["model_id"]
    model = assert_ok(api.patch(f"logged-models/{model_id}/tags",
                                {"tags": [{"key": "a", "value": "2"},
                                          {"key": "b", "value": "3"}]}))["model"]
    assert tags_dict(model["info"]["tags"]) == {"a": "2", "b": "3"}
    assert assert_ok(api.delete(f"logged-models/{model_id}/tags/a")) == {}
    got = api.get_ok(f"logged-models/{model_id}")["model"]
    assert tags_dict(got["info"]["tags"]) == {"b": "3"}
    assert_error(api.delete(f"logged-models/{UNKNOWN_MODEL}/tags/a"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.patch(f"logged-models/{UNKNOWN_MODEL}/tags",
                           {"tags": [{"key": "a", "value": "1"}]}),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_params(api, exp_id):
    model_id = _create(api, exp_id)["info"]["model_id"]
    assert api.post_ok(f"logged-models/{model_id}/params",
                       {"params": [{"key": "eta", "value": "0.3"},
                                   {"key": "depth", "value": "6"}]}) == {}
    got = api.get_ok(f"logged-models/{model_id}")["model"]
    assert {p["key"]: p["value"] for p in got["data"]["params"]} == {"eta": "0.3", "depth": "6"}


def test_delete(api, exp_id):
    model_id = _create(api, exp_id)["info"]["model_id"]
    assert assert_ok(api.delete(f"logged-models/{model_id}")) == {}
    assert_error(api.get(f"logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.delete(f"logged-models/{UNKNOWN_MODEL}"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_search(api, exp_id):
    ids = []
    for i in range(5):
        ids.append(_create(api, exp_id, name=f"m{i}")["info"]["model_id"])
        time.sleep(0.005)  # distinct creation timestamps (ms) make the order certain
    body = api.post_ok("logged-models/search", {"experiment_ids": [exp_id], "max_results": 50})
    assert {m["info"]["model_id"] for m in body["models"]} == set(ids)

    walked, token, pages = [], None, 0
    while True:
        req = {"experiment_ids": [exp_id], "max_results": 2,
               "order_by": [{"field_name": "creation_timestamp", "ascending": True}]}
        if token:
            req["page_token"] = token
        page = api.post_ok("logged-models/search", req)
        assert len(page.get("models", [])) <= 2
        walked += [m["info"]["model_id"] for m in page.get("models", [])]
        token = page.get("next_page_token")
        pages += 1
        assert pages <= 5
        if not token:
            break
    assert walked == ids  # created in order, ascending creation time

    body = api.post_ok("logged-models/search",
                       {"experiment_ids": [exp_id], "max_results": 50,
                        "order_by": [{"field_name": "creation_timestamp", "ascending": False}]})
    assert [m["info"]["model_id"] for m in body["models"]] == list(reversed(ids))


def test_search_excludes_deleted_and_limits(api, exp_id):
    keep = _create(api, exp_id)["info"]["model_id"]
    gone = _create(api, exp_id)["info"]["model_id"]
    assert_ok(api.delete(f"logged-models/{gone}"))
    body = api.post_ok("logged-models/search", {"experiment_ids": [exp_id], "max_results": 50})
    assert [m["info"]["model_id"] for m in body["models"]] == [keep]
    assert_error(api.post("logged-models/search", {"experiment_ids": [exp_id],
                                                   "max_results": 51}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("logged-models/search", {"experiment_ids": [exp_id],
                                                   "page_token": "garbage!!"}),
                 400, "INVALID_PARAMETER_VALUE")


def test_artifact_directories(api, exp_id):
    info = _create(api, exp_id)["info"]
    uri = info["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:"), uri
    root = uri[len("mlflow-artifacts:"):].lstrip("/")
    arts = Artifacts(api.base_url, api.artifacts_prefix, api.session)
    assert_ok(arts.put(f"{root}/MLmodel", b"flavors: {}\n"))
    assert_ok(arts.put(f"{root}/data/model.xgb", b"12345"))
    body = api.get_ok(f"logged-models/{info['model_id']}/artifacts/directories")
    files = {f["path"]: f for f in body.get("files", [])}
    assert set(files) == {"MLmodel", "data"}
    assert files["data"]["is_dir"] is True
    body = api.get_ok(f"logged-models/{info['model_id']}/artifacts/directories",
                      {"artifact_directory_path": "data"})
    files = {f["path"]: f for f in body.get("files", [])}
    assert set(files) == {"data/model.xgb"}
    assert files["data/model.xgb"]["file_size"] == 5


# ---- server routes --------------------------------------------------------------------------

def test_health(server):
    resp = requests.get(f"{server.url}/health", timeout=10)
    assert resp.status_code == 200 and resp.text.strip() == "OK"


def test_version(server):
    resp = requests.get(f"{server.url}/version", timeout=10)
    assert resp.status_code == 200
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", resp.text.strip()), resp.text


@pytest.mark.parametrize("prefix", ["/api/3.0/mlflow", "/ajax-api/3.0/mlflow"])
def test_server_info(server, prefix):
    body = assert_ok(requests.get(f"{server.url}{prefix}/server-info", timeout=10))
    assert body["workspaces_enabled"] is False
    assert body["multipart_uploads_enabled"] is False
    assert body["multipart_downloads_enabled"] is False
    assert body.get("trace_archival_enabled", False) is False
    assert isinstance(body["store_type"], str) and body["store_type"]
