"""Error contract (reference §1.2, §5): malformed bodies, the Content-Type check
(CVE-2023-43472), missing/empty required fields, unknown ids, unknown endpoints, never a 5xx."""

import json

import pytest
import requests

from helpers import MISSING_VALUE_MSG, assert_error, unique

UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"
UNKNOWN_EXP = "987654321"


def test_bad_json(api):
    for raw in (b"{not json", b'{"name": ', b"\xff\xfe", b'{"name": "x"} trailing'):
        resp = api.session.post(api.url("experiments/create"), data=raw,
                                headers={"Content-Type": "application/json"}, timeout=30)
        body = assert_error(resp, 400)
        assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST",
                                      "MALFORMED_REQUEST"), body


@pytest.mark.parametrize("raw", [b"[]", b"42", b"null", b'"just a string"', b"true"])
def test_body_not_an_object(api, raw):
    resp = api.session.post(api.url("experiments/create"), data=raw,
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(resp, 400)


def test_legacy_double_encoded_body(api):
    """A body that is a JSON string holding JSON is decoded a second time (§1.2)."""
    name = unique("legacy")
    resp = api.session.post(api.url("experiments/create"), data=json.dumps(json.dumps(
        {"name": name})), headers={"Content-Type": "application/json"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert api.get_ok("experiments/get-by-name", {"experiment_name": name})


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", None])
def test_post_requires_json_content_type(api, content_type):
    """CVE-2023-43472: a cross-origin 'simple' POST must not be parsed as JSON."""
    name = unique("drive-by")
    headers = {"Content-Type": content_type} if content_type else {}
    resp = api.session.post(api.url("experiments/create"), data=json.dumps({"name": name}),
                            headers=headers, timeout=30)
    body = assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    if content_type is None:  # MLflow: "Bad Request. Content-Type header is missing."
        assert "Content-Type" in body["message"], body
    else:
        assert "Content-Type must be one of [application/json]" in body["message"], body
    assert api.get("experiments/get-by-name", {"experiment_name": name}).status_code == 404


def test_text_plain_cannot_change_experiment(api, exp_id):
    before = api.get_experiment(exp_id)
    resp = api.session.post(api.url("experiments/update"), timeout=30,
                            data=json.dumps({"experiment_id": exp_id, "new_name": unique("p")}),
                            headers={"Content-Type": "text/plain"})
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert api.get_experiment(exp_id)["name"] == before["name"]


def test_json_content_type_with_parameters_accepted(api):
    resp = api.session.post(api.url("experiments/create"),
                            data=json.dumps({"name": unique("charset")}),
                            headers={"Content-Type": "application/json; charset=utf-8"},
                            timeout=30)
    assert resp.status_code == 200, resp.text


def test_missing_body_means_empty_object(api):
    resp = api.session.post(api.url("experiments/create"),
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'name'")


# (method, path, complete request, required fields). `{run}`/`{exp}` are filled per test.
REQUIRED = [
    ("POST", "experiments/create", {"name": "{new}"}, ["name"]),
    ("GET", "experiments/get", {"experiment_id": "{exp}"}, ["experiment_id"]),
    ("GET", "experiments/get-by-name", {"experiment_name": "{new}"}, ["experiment_name"]),
    ("POST", "experiments/update", {"experiment_id": "{exp}", "new_name": "{new}"},
     ["experiment_id", "new_name"]),
    ("POST", "experiments/delete", {"experiment_id": "{exp}"}, ["experiment_id"]),
    ("POST", "experiments/restore", {"experiment_id": "{exp}"}, ["experiment_id"]),
    ("POST", "experiments/set-experiment-tag", {"experiment_id": "{exp}", "key": "k",
                                                "value": "v"}, ["experiment_id", "key"]),
    ("POST", "experiments/delete-experiment-tag", {"experiment_id": "{exp}", "key": "k"},
     ["experiment_id", "key"]),
    ("POST", "runs/update", {"run_id": "{run}", "status": "FINISHED"}, ["run_id"]),
    ("POST", "runs/delete", {"run_id": "{run}"}, ["run_id"]),
    ("POST", "runs/restore", {"run_id": "{run}"}, ["run_id"]),
    ("GET", "runs/get", {"run_id": "{run}"}, ["run_id"]),
    ("POST", "runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0, "timestamp": 1},
     ["run_id", "key", "value", "timestamp"]),
    ("POST", "runs/log-parameter", {"run_id": "{run}", "key": "p", "value": "v"},
     ["run_id", "key"]),
    ("POST", "runs/set-tag", {"run_id": "{run}", "key": "t", "value": "v"}, ["run_id", "key"]),
    ("POST", "runs/delete-tag", {"run_id": "{run}", "key": "t"}, ["run_id", "key"]),
    ("POST", "runs/log-batch", {"run_id": "{run}"}, ["run_id"]),
    ("POST", "runs/log-model", {"run_id": "{run}", "model_json": "{}"},
     ["run_id", "model_json"]),
    ("POST", "runs/log-inputs", {"run_id": "{run}", "datasets": []}, ["run_id"]),
    ("POST", "runs/outputs", {"run_id": "{run}", "models": [{"model_id": "m-1", "step": 0}]},
     ["run_id", "models"]),
    ("GET", "metrics/get-history", {"run_id": "{run}", "metric_key": "m"},
     ["run_id", "metric_key"]),
    ("GET", "metrics/get-history-bulk-interval", {"run_ids": "{run}", "metric_key": "m"},
     ["run_ids", "metric_key"]),
    ("GET", "artifacts/list", {"run_id": "{run}"}, ["run_id"]),
    ("POST", "logged-models", {"experiment_id": "{exp}"}, ["experiment_id"]),
]
# An empty string counts as missing (§1.2); for number and list fields "" is a type error, which
# is a 400 INVALID_PARAMETER_VALUE too but with another message, so only "missing" is checked.
NOT_STRINGS = {"value", "timestamp", "models", "run_ids"}
REQUIRED_CASES = [(m, p, body, field, how) for m, p, body, fields in REQUIRED for field in fields
                  for how in ("missing", "empty") if how == "missing" or field not in NOT_STRINGS]


def _fill(body, run_id, exp_id):
    out = {}
    for k, v in body.items():
        if isinstance(v, str):
            v = v.replace("{run}", run_id).replace("{exp}", exp_id).replace("{new}", unique("n"))
        out[k] = v
    return out


def _send(api, method, path, body):
    if method == "GET":
        return api.get(path, body)
    return api.post(path, body)


@pytest.mark.parametrize("method,path,body,field,how", REQUIRED_CASES,
                         ids=[f"{c[1]}-{c[3]}-{c[4]}" for c in REQUIRED_CASES])
def test_required_field(api, run_id, exp_id, method, path, body, field, how):
    body = _fill(body, run_id, exp_id)
    if how == "missing":
        body.pop(field)
    else:
        body[field] = ""
    resp = _send(api, method, path, body)
    message = assert_error(resp, 400, "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)["message"]
    # run_uuid is an alias of run_id, so a message may name either.
    assert f"'{field}'" in message or (field == "run_id" and "'run_uuid'" in message), message


UNKNOWN = [
    ("GET", "experiments/get", {"experiment_id": UNKNOWN_EXP}),
    ("POST", "experiments/update", {"experiment_id": UNKNOWN_EXP, "new_name": "{new}"}),
    ("POST", "experiments/delete", {"experiment_id": UNKNOWN_EXP}),
    ("POST", "experiments/restore", {"experiment_id": UNKNOWN_EXP}),
    ("POST", "experiments/set-experiment-tag", {"experiment_id": UNKNOWN_EXP, "key": "k",
                                                "value": "v"}),
    ("POST", "experiments/delete-experiment-tag", {"experiment_id": UNKNOWN_EXP, "key": "k"}),
    ("POST", "runs/create", {"experiment_id": UNKNOWN_EXP}),
    ("GET", "runs/get", {"run_id": UNKNOWN_RUN}),
    ("POST", "runs/update", {"run_id": UNKNOWN_RUN, "status": "FINISHED"}),
    ("POST", "runs/delete", {"run_id": UNKNOWN_RUN}),
    ("POST", "runs/restore", {"run_id": UNKNOWN_RUN}),
    ("POST", "runs/log-metric", {"run_id": UNKNOWN_RUN, "key": "m", "value": 1,
                                 "timestamp": 1}),
    ("POST", "runs/log-parameter", {"run_id": UNKNOWN_RUN, "key": "p", "value": "v"}),
    ("POST", "runs/set-tag", {"run_id": UNKNOWN_RUN, "key": "t", "value": "v"}),
    ("POST", "runs/delete-tag", {"run_id": UNKNOWN_RUN, "key": "t"}),
    ("POST", "runs/log-batch", {"run_id": UNKNOWN_RUN, "params": [{"key": "p", "value": "v"}]}),
    ("POST", "runs/log-inputs", {"run_id": UNKNOWN_RUN, "datasets": [{"dataset": {
        "name": "d", "digest": "x", "source_type": "local", "source": "{}"}}]}),
    ("GET", "artifacts/list", {"run_id": UNKNOWN_RUN}),
    ("GET", "logged-models/m-0123456789abcdef0123456789abcdef", None),
    ("POST", "logged-models", {"experiment_id": UNKNOWN_EXP}),
]


@pytest.mark.parametrize("method,path,body", UNKNOWN, ids=[c[1] for c in UNKNOWN])
def test_unknown_ids(api, method, path, body):
    body = _fill(body or {}, UNKNOWN_RUN, UNKNOWN_EXP)
    assert_error(_send(api, method, path, body), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/2.0/mlflow/experiments/list"),
    ("GET", "/ajax-api/2.0/mlflow/experiments/list"),
    ("GET", "/api/2.0/mlflow/experiments/list?view_type=ACTIVE_ONLY"),
    ("POST", "/api/2.0/mlflow/experimentsset-experiment-tag"),  # the npm client's typo
    ("GET", "/api/2.0/mlflow/no-such-thing"),
    ("POST", "/api/2.0/mlflow/runs/no-such-verb"),
    ("GET", "/api/2.0/preview/mlflow/experiments/get?experiment_id=0"),
    ("GET", "/api/2.0/mlflow/registered-models/list"),
    ("GET", "/api/9.0/mlflow/experiments/get?experiment_id=0"),
    ("GET", "/api/2.0/nothing-here"),
    ("GET", "/no/such/page.json"),
])
def test_unknown_endpoints(server, method, path):
    resp = requests.request(method, f"{server.url}{path}", json={} if method == "POST" else None,
                            timeout=30)
    assert_error(resp, 404, "ENDPOINT_NOT_FOUND")
    assert resp.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/3.0/mlflow/traces"),
    ("GET", "/api/2.0/mlflow/traces"),
    ("POST", "/api/3.0/mlflow/traces/search"),
    ("GET", "/api/3.0/mlflow/scorers/list"),
])
def test_unsupported_3x_families_clean(server, method, path):
    resp = requests.request(method, f"{server.url}{path}", json={} if method == "POST" else None,
                            timeout=30)
    assert resp.status_code in (404, 501), resp.text
    assert resp.json()["error_code"] in ("ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED")


@pytest.mark.parametrize("method,path", [
    ("GET", "runs/create"), ("GET", "runs/log-metric"), ("DELETE", "experiments/get"),
    ("PUT", "runs/search"),
])
def test_wrong_method(api, method, path):
    resp = api.session.request(method, api.url(path), json={}, timeout=30)
    assert resp.status_code in (404, 405), resp.text
    assert "error_code" in resp.json()


# Bodies with wrong types and odd shapes: every answer must be a 4xx JSON error, never a 5xx.
JUNK_VALUES = [123, -1, 1.5, True, None, [], ["a"], {}, {"x": 1}, "x" * 100_000, "\u0000",
               "☃", "' OR 1=1 --", "%s%n"]
JUNK_ENDPOINTS = [
    ("POST", "experiments/create", ["name", "artifact_location", "tags"]),
    ("POST", "experiments/search", ["max_results", "filter", "order_by", "view_type",
                                    "page_token"]),
    ("POST", "runs/create", ["experiment_id", "start_time", "tags", "run_name"]),
    ("POST", "runs/log-metric", ["run_id", "key", "value", "timestamp", "step"]),
    ("POST", "runs/log-batch", ["run_id", "metrics", "params", "tags"]),
    ("POST", "runs/search", ["experiment_ids", "filter", "max_results", "order_by",
                             "run_view_type", "page_token"]),
    ("POST", "runs/update", ["run_id", "status", "end_time"]),
    ("POST", "runs/log-model", ["run_id", "model_json"]),
    ("POST", "runs/log-inputs", ["run_id", "datasets"]),
    ("GET", "metrics/get-history", ["run_id", "metric_key", "max_results", "page_token"]),
    ("GET", "experiments/search", ["max_results", "view_type", "filter"]),
]


@pytest.mark.parametrize("method,path,fields", JUNK_ENDPOINTS, ids=[e[1] for e in JUNK_ENDPOINTS])
def test_never_5xx_on_junk(api, run_id, exp_id, method, path, fields):
    base = {"run_id": run_id, "experiment_id": exp_id, "experiment_ids": [exp_id], "key": "k",
            "value": 1.0, "timestamp": 1, "name": unique("junk"), "metric_key": "k"}
    for field in fields:
        for junk in JUNK_VALUES:
            body = dict(base, **{field: junk})
            if method == "GET":
                if isinstance(junk, (dict, list)) or junk is None:
                    continue
                resp = api.get(path, {k: v for k, v in body.items() if not isinstance(v, list)})
            else:
                resp = api.post(path, body)
            assert resp.status_code < 500, f"{path} {field}={str(junk)[:40]!r}: " \
                f"{resp.status_code} {resp.text[:200]}"
            if resp.status_code != 200:
                assert "error_code" in resp.json(), resp.text[:200]


def test_error_content_type_is_json(api):
    resp = api.get("runs/get", {"run_id": UNKNOWN_RUN})
    assert resp.headers["Content-Type"].startswith("application/json")


def test_success_is_json_object(api, exp_id):
    for resp in (api.post("experiments/set-experiment-tag", {"experiment_id": exp_id,
                                                             "key": "k", "value": "v"}),
                 api.get("experiments/get", {"experiment_id": exp_id})):
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        assert isinstance(resp.json(), dict)
