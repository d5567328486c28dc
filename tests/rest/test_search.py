"""runs/search: every filter entity and comparator, order_by with NaN/missing last, pagination,
limits (reference §2.2 runs/search, §6.1, §6.2)."""

import pytest
import requests

from helpers import assert_error


@pytest.fixture
def corpus(api):
    """Five runs in a fresh experiment, with distinct metrics/params/tags/status/datasets.

    name    loss   acc     model          team       status    dataset(context)
    r-a     0.1    NaN     LogisticReg    ml         FINISHED  train-set (training)
    r-b     0.5    0.9     XGBoost        ops        FINISHED  eval-set  (eval)
    r-c     0.9    0.7     xgboost        ml         FAILED    -
    r-d     -      0.8     -              -          RUNNING   -
    r-e     0.5    -       Linear-Model   Data Team  RUNNING   -
    """
    exp_id = api.create_experiment()
    spec = [
        ("r-a", 0.1, "NaN", "LogisticReg", "ml", "FINISHED", ("train-set", "training")),
        ("r-b", 0.5, 0.9, "XGBoost", "ops", "FINISHED", ("eval-set", "eval")),
        ("r-c", 0.9, 0.7, "xgboost", "ml", "FAILED", None),
        ("r-d", None, 0.8, None, None, "RUNNING", None),
        ("r-e", 0.5, None, "Linear-Model", "Data Team", "RUNNING", None),
    ]
    runs = {}
    start = 1_700_000_000_000
    for i, (name, loss, acc, model, team, status, dataset) in enumerate(spec):
        run = api.create_run(exp_id, run_name=name, start_time=start + i * 1000,
                             user_id="alice" if i % 2 == 0 else "bob")
        run_id = run["info"]["run_id"]
        metrics = []
        if loss is not None:
            metrics.append({"key": "loss", "value": loss, "timestamp": 1, "step": 0})
        if acc is not None:
            metrics.append({"key": "acc", "value": acc, "timestamp": 1, "step": 0})
        params = [{"key": "model", "value": model}] if model else []
        tags = [{"key": "team", "value": team}] if team else []
        tags.append({"key": "user-name", "value": name.upper()})
        api.post_ok("runs/log-batch", {"run_id": run_id, "metrics": metrics, "params": params,
                                       "tags": tags})
        if status != "RUNNING":
            api.post_ok("runs/update", {"run_id": run_id, "status": status,
                                        "end_time": start + i * 1000 + 500})
        if dataset:
            api.post_ok("runs/log-inputs", {"run_id": run_id, "datasets": [{
                "dataset": {"name": dataset[0], "digest": f"dg{i}", "source_type": "local",
                            "source": "{}"},
                "tags": [{"key": "mlflow.data.context", "value": dataset[1]}]}]})
        runs[name] = run_id
    return exp_id, runs, start


def _names(api, exp_id, runs, **fields):
    body = api.search_runs([exp_id], max_results=100, **fields)
    ids_to_name = {v: k for k, v in runs.items()}
    return [ids_to_name[r["info"]["run_id"]] for r in body.get("runs", [])]


def _set(api, exp_id, runs, flt):
    return set(_names(api, exp_id, runs, filter=flt))


def test_default_order_start_time_desc(api, corpus):
    exp_id, runs, _ = corpus
    assert _names(api, exp_id, runs) == ["r-e", "r-d", "r-c", "r-b", "r-a"]


def test_search_returns_full_runs(api, corpus):
    exp_id, runs, _ = corpus
    body = api.search_runs([exp_id], filter="attributes.run_name = 'r-b'", max_results=10)
    (run,) = body["runs"]
    assert run["info"]["run_id"] == runs["r-b"]
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"loss": 0.5, "acc": 0.9}
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"model": "XGBoost"}
    assert run["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "eval-set"


@pytest.mark.parametrize("flt,expected", [
    ("metrics.loss = 0.5", {"r-b", "r-e"}),
    ("metrics.loss != 0.5", {"r-a", "r-c"}),
    ("metrics.loss > 0.5", {"r-c"}),
    ("metrics.loss >= 0.5", {"r-b", "r-c", "r-e"}),
    ("metrics.loss < 0.5", {"r-a"}),
    ("metrics.loss <= 0.5", {"r-a", "r-b", "r-e"}),
    ("metric.acc > 0.75", {"r-b", "r-d"}),
    ("metrics.`loss` < 1", {"r-a", "r-b", "r-c", "r-e"}),
    ("metrics.loss < 1 and metrics.acc >= 0.8", {"r-b"}),
    ("metrics.nosuch > 0", set()),
])
def test_filter_metrics(api, corpus, flt, expected):
    exp_id, runs, _ = corpus
    assert _set(api, exp_id, runs, flt) == expected


@pytest.mark.parametrize("flt,expected", [
    ("params.model = 'XGBoost'", {"r-b"}),
    ("params.model != 'XGBoost'", {"r-a", "r-c", "r-e"}),  # r-d lacks the param: no match
    ("params.model LIKE '%boost'", {"r-c"}),
    ("params.model LIKE 'XG%'", {"r-b"}),
    ("params.model ILIKE '%BOOST'", {"r-b", "r-c"}),
    ("params.model like 'Linear_Model'", {"r-e"}),
    ('params.model = "XGBoost"', {"r-b"}),
    ("param.model = 'xgboost'", {"r-c"}),
    ("parameter.model = 'xgboost'", {"r-c"}),
    ("parameters.model = 'xgboost'", {"r-c"}),
    ("params.`model` = 'xgboost'", {"r-c"}),
    ('params."model" = \'xgboost\'', {"r-c"}),
])
def test_filter_params(api, corpus, flt, expected):
    exp_id, runs, _ = corpus
    assert _set(api, exp_id, runs, flt) == expected


@pytest.mark.parametrize("flt,expected", [
    ("tags.team = 'ml'", {"r-a", "r-c"}),
    ("tags.team != 'ml'", {"r-b", "r-e"}),
    ("tags.team LIKE '%Team'", {"r-e"}),
    ("tags.team ILIKE 'data%'", {"r-e"}),
    ("tags.team = 'Data Team'", {"r-e"}),
    ("tag.team = 'ops'", {"r-b"}),
    ("tags.`user-name` = 'R-C'", {"r-c"}),
    ('tags."user-name" ILIKE \'r-%\'', {"r-a", "r-b", "r-c", "r-d", "r-e"}),
    ("tags.mlflow.runName = 'r-d'", {"r-d"}),
    ("tags.`mlflow.runName` ILIKE 'R-%'", {"r-a", "r-b", "r-c", "r-d", "r-e"}),
])
def test_filter_tags(api, corpus, flt, expected):
    exp_id, runs, _ = corpus
    assert _set(api, exp_id, runs, flt) == expected


def test_filter_attributes(api, corpus):
    exp_id, runs, start = corpus
    cases = [
        ("attributes.status = 'FINISHED'", {"r-a", "r-b"}),
        ("attributes.status != 'RUNNING'", {"r-a", "r-b", "r-c"}),
        ("status = 'FAILED'", {"r-c"}),
        ("attribute.status LIKE 'FIN%'", {"r-a", "r-b"}),
        ("attr.status ILIKE 'fail%'", {"r-c"}),
        ("run.run_name = 'r-c'", {"r-c"}),
        ("attributes.run_name LIKE 'r-%'", {"r-a", "r-b", "r-c", "r-d", "r-e"}),
        ("attributes.`Run name` = 'r-b'", {"r-b"}),
        ("attributes.user_id = 'bob'", {"r-b", "r-d"}),
        (f"attributes.run_id = '{runs['r-d']}'", {"r-d"}),
        (f"attributes.run_id != '{runs['r-d']}'", {"r-a", "r-b", "r-c", "r-e"}),
        (f"attributes.run_id IN ('{runs['r-a']}', '{runs['r-e']}')", {"r-a", "r-e"}),
        (f"attributes.run_id NOT IN ('{runs['r-a']}', '{runs['r-e']}')", {"r-b", "r-c", "r-d"}),
        (f"attributes.start_time >= {start + 3000}", {"r-d", "r-e"}),
        (f"attributes.start_time < {start + 1000}", {"r-a"}),
        (f"attributes.start_time = {start + 2000}", {"r-c"}),
        (f"attributes.start_time != {start + 2000}", {"r-a", "r-b", "r-d", "r-e"}),
        (f"attributes.created > {start + 3000}", {"r-e"}),
        (f"Created <= {start}", {"r-a"}),
        (f"attributes.end_time > {start}", {"r-a", "r-b", "r-c"}),
        (f"attributes.end_time <= {start + 1500}", {"r-a", "r-b"}),
        ("attributes.artifact_uri LIKE '%/artifacts'", {"r-a", "r-b", "r-c", "r-d", "r-e"}),
        ("attributes.status = 'FINISHED' AND tags.mlflow.runName ILIKE '%A'", {"r-a"}),
    ]
    for flt, expected in cases:
        assert _set(api, exp_id, runs, flt) == expected, flt


def test_filter_run_id_in_drops_uppercase(api, corpus):
    exp_id, runs, _ = corpus
    upper = runs["r-a"].upper()
    assert _set(api, exp_id, runs, f"attributes.run_id IN ('{upper}', '{runs['r-b']}')") == {"r-b"}


@pytest.mark.parametrize("flt,expected", [
    ("datasets.name = 'train-set'", {"r-a"}),
    ("datasets.name != 'train-set'", {"r-b"}),
    ("datasets.name LIKE '%-set'", {"r-a", "r-b"}),
    ("dataset.name ILIKE 'EVAL%'", {"r-b"}),
    ("datasets.digest = 'dg1'", {"r-b"}),
    ("datasets.context = 'training'", {"r-a"}),
    ("datasets.context IN ('training', 'eval')", {"r-a", "r-b"}),
    ("datasets.name NOT IN ('train-set')", {"r-b"}),
])
def test_filter_datasets(api, corpus, flt, expected):
    exp_id, runs, _ = corpus
    assert _set(api, exp_id, runs, flt) == expected


@pytest.mark.parametrize("flt", [
    "metrics.loss = 'abc'",          # metrics compare numbers
    "metrics.loss LIKE '0.1'",
    "params.model > 'a'",
    "params.model = XGBoost",       # unquoted string
    "tags.team IN ('ml')",          # lists are for run_id only
    "attributes.status IN ('FINISHED')",
    "attributes.start_time LIKE '1%'",
    "attributes.nosuch = 'x'",
    "foo.bar = 'x'",
    "metrics.loss < 1 OR metrics.loss > 2",
    "(metrics.loss < 1)",
    "metrics.loss <",
    "attributes.run_id IN ()",
    "metrics.loss < 1; DROP TABLE runs",
])
def test_bad_filters(api, corpus, flt):
    exp_id, _, _ = corpus
    assert_error(api.post("runs/search", {"experiment_ids": [exp_id], "filter": flt}), 400,
                 "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("order_by,expected", [
    # Ties on loss (r-b, r-e) fall back to start_time DESC.
    (["metrics.loss ASC"], ["r-a", "r-e", "r-b", "r-c", "r-d"]),
    (["metrics.loss DESC"], ["r-c", "r-e", "r-b", "r-a", "r-d"]),
    (["params.model ASC"], ["r-e", "r-a", "r-b", "r-c", "r-d"]),
    (["params.model DESC"], ["r-c", "r-b", "r-a", "r-e", "r-d"]),
    (["tags.team ASC"], ["r-e", "r-c", "r-a", "r-b", "r-d"]),
    (["attributes.start_time ASC"], ["r-a", "r-b", "r-c", "r-d", "r-e"]),
    (["attributes.start_time DESC"], ["r-e", "r-d", "r-c", "r-b", "r-a"]),
    (["start_time"], ["r-a", "r-b", "r-c", "r-d", "r-e"]),
    (["attributes.run_name DESC"], ["r-e", "r-d", "r-c", "r-b", "r-a"]),
    (["created ASC"], ["r-a", "r-b", "r-c", "r-d", "r-e"]),
    (["attributes.status ASC", "metrics.loss DESC"], ["r-c", "r-b", "r-a", "r-e", "r-d"]),
    (["metrics.loss ASC", "params.model", "attributes.start_time DESC"],
     ["r-a", "r-e", "r-b", "r-c", "r-d"]),
])
def test_order_by(api, corpus, order_by, expected):
    exp_id, runs, _ = corpus
    assert _names(api, exp_id, runs, order_by=order_by) == expected


@pytest.mark.parametrize("order_by,head", [
    (["metrics.acc ASC"], ["r-c", "r-d", "r-b"]),
    (["metrics.acc"], ["r-c", "r-d", "r-b"]),
    (["metrics.acc DESC"], ["r-b", "r-d", "r-c"]),
])
def test_order_by_nan_and_missing_last(api, corpus, order_by, head):
    """NaN (r-a) and missing (r-e) sort last in both directions."""
    exp_id, runs, _ = corpus
    got = _names(api, exp_id, runs, order_by=order_by)
    assert got[:3] == head and set(got[3:]) == {"r-a", "r-e"}, got


@pytest.mark.parametrize("order_by", [["metrics.loss SIDEWAYS"], ["attributes.nosuch"],
                                      ["nosuch.loss"], ["metrics.loss ASC DESC"]])
def test_bad_order_by(api, corpus, order_by):
    exp_id, _, _ = corpus
    assert_error(api.post("runs/search", {"experiment_ids": [exp_id], "order_by": order_by}),
                 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("order_by", [None, ["metrics.acc DESC"], ["params.model ASC"],
                                      ["tags.team DESC", "attributes.run_name ASC"]])
def test_pagination_walk(api, corpus, order_by):
    exp_id, runs, _ = corpus
    fields = {"order_by": order_by} if order_by else {}
    unpaged = _names(api, exp_id, runs, **fields)
    for page_size in (1, 2, 3):
        walked, pages = api.search_runs_all([exp_id], page_size, **fields)
        ids_to_name = {v: k for k, v in runs.items()}
        assert [ids_to_name[r["info"]["run_id"]] for r in walked] == unpaged, page_size
        assert pages in (-(-5 // page_size), -(-5 // page_size) + 1)


def test_pagination_with_writes_between_pages(api, corpus):
    """A keyset or offset token must never repeat a run; new runs may or may not show up."""
    exp_id, runs, _ = corpus
    first = api.search_runs([exp_id], max_results=2)
    api.create_run(exp_id, run_name="late")
    seen = [r["info"]["run_id"] for r in first["runs"]]
    token = first["next_page_token"]
    while token:
        page = api.search_runs([exp_id], max_results=2, page_token=token)
        seen += [r["info"]["run_id"] for r in page.get("runs", [])]
        token = page.get("next_page_token")
    assert len(seen) == len(set(seen))
    assert set(runs.values()) <= set(seen)


def test_view_types(api, corpus):
    exp_id, runs, _ = corpus
    api.post_ok("runs/delete", {"run_id": runs["r-c"]})
    everyone = {"r-a", "r-b", "r-c", "r-d", "r-e"}
    assert set(_names(api, exp_id, runs)) == everyone - {"r-c"}
    assert set(_names(api, exp_id, runs, run_view_type="ACTIVE_ONLY")) == everyone - {"r-c"}
    assert set(_names(api, exp_id, runs, run_view_type="DELETED_ONLY")) == {"r-c"}
    assert set(_names(api, exp_id, runs, run_view_type="ALL")) == everyone
    assert set(_names(api, exp_id, runs, run_view_type=3)) == everyone


def test_multiple_experiments(api, corpus):
    exp_id, runs, _ = corpus
    other = api.create_experiment()
    other_run = api.create_run(other, run_name="other")["info"]["run_id"]
    body = api.search_runs([exp_id, other], max_results=100)
    ids = {r["info"]["run_id"] for r in body["runs"]}
    assert ids == set(runs.values()) | {other_run}


def test_max_results_limits(api, corpus):
    exp_id, _, _ = corpus
    assert_error(api.post("runs/search", {"experiment_ids": [exp_id], "max_results": 50001}),
                 400, "INVALID_PARAMETER_VALUE")
    body = api.search_runs([exp_id], max_results=50000)
    assert len(body["runs"]) == 5
    body = api.post_ok("runs/search", {"experiment_ids": [exp_id]})  # default 1000
    assert len(body["runs"]) == 5 and not body.get("next_page_token")


def test_bad_page_token(api, corpus):
    exp_id, _, _ = corpus
    for token in ("garbage!!", "eyJvZmZzZXQiOiAiYWJjIn0=", "e30="):
        assert_error(api.post("runs/search", {"experiment_ids": [exp_id], "max_results": 2,
                                              "page_token": token}),
                     400, "INVALID_PARAMETER_VALUE")


def test_token_from_other_order_rejected_or_consistent(api, corpus):
    """ADR 0002: a token used with another order_by is rejected rather than skipping rows."""
    exp_id, runs, _ = corpus
    first = api.search_runs([exp_id], max_results=2, order_by=["metrics.loss ASC"])
    resp = api.post("runs/search", {"experiment_ids": [exp_id], "max_results": 2,
                                     "order_by": ["params.model DESC"],
                                     "page_token": first["next_page_token"]})
    if resp.status_code != 200:
        assert_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_search_datasets_ajax(server, api, corpus):
    exp_id, _, _ = corpus
    url = f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets"
    resp = requests.post(url, json={"experiment_ids": [exp_id]}, timeout=60)
    assert resp.status_code == 200, resp.text
    summaries = {(d["experiment_id"], d["name"], d["digest"], d.get("context"))
                 for d in resp.json()["dataset_summaries"]}
    assert summaries == {(exp_id, "train-set", "dg0", "training"),
                         (exp_id, "eval-set", "dg1", "eval")}
    resp = requests.post(url, json={"experiment_ids": [str(i) for i in range(21)]}, timeout=60)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
