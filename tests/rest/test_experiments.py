"""Experiments RPCs (reference §2.2 "Experiments", §6.3 search grammar)."""

import time

import pytest

from helpers import MISSING_VALUE_MSG, assert_error, assert_ok, tags_dict, unique


def test_create_and_get(api):
    name = unique("exp")
    exp_id = api.create_experiment(name, tags=[{"key": "team", "value": "ml"}])
    assert exp_id.isdigit(), "SQL-store experiment ids are decimal strings"
    exp = api.get_experiment(exp_id)
    assert exp["experiment_id"] == exp_id
    assert exp["name"] == name
    assert exp["lifecycle_stage"] == "active"
    assert isinstance(exp["creation_time"], int) and exp["creation_time"] > 0
    assert isinstance(exp["last_update_time"], int) and exp["last_update_time"] > 0
    assert tags_dict(exp["tags"]) == {"team": "ml"}
    # The server proxies artifacts, so new experiments live under mlflow-artifacts:/<id> (§2.1).
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"


def test_default_experiment_exists(api):
    exp = api.get_experiment("0")
    assert exp["name"] == "Default"
    assert exp["experiment_id"] == "0"


def test_create_duplicate_name(api):
    name = unique("dup")
    api.create_experiment(name)
    assert_error(api.post("experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS")


def test_create_duplicate_of_deleted_experiment(api):
    name = unique("dupdel")
    exp_id = api.create_experiment(name)
    api.post_ok("experiments/delete", {"experiment_id": exp_id})
    assert_error(api.post("experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS")


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"tags": []}])
def test_create_missing_name(api, body):
    assert_error(api.post("experiments/create", body), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'name'")


def test_create_name_length_limit(api):
    ok = "n" * 488 + unique("")[-12:]  # exactly 500 characters
    assert len(ok) == 500
    api.create_experiment(ok)
    assert_error(api.post("experiments/create", {"name": "x" * 501}), 400,
                 "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("location", [
    "runs:/0123456789abcdef/artifacts",
    "s3://bucket/path#fragment",
    "s3://bucket/path;param=1",           # URL params (the ";" part), not the query
    "s3://bucket/path?x=..%2f..%2fetc",   # ".." in the decoded query
    "http://host/#/../../../../etc/",
])
def test_create_rejects_bad_artifact_location(api, location):
    assert_error(api.post("experiments/create",
                          {"name": unique("loc"), "artifact_location": location}),
                 400, "INVALID_PARAMETER_VALUE")


def test_get_unknown_and_missing(api):
    assert_error(api.get("experiments/get", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get("experiments/get"), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'experiment_id'")


def test_get_returns_deleted(api, exp_id):
    api.post_ok("experiments/delete", {"experiment_id": exp_id})
    assert api.get_experiment(exp_id)["lifecycle_stage"] == "deleted"


def test_get_by_name(api):
    name = unique("byname")
    exp_id = api.create_experiment(name)
    body = api.get_ok("experiments/get-by-name", {"experiment_name": name})
    assert body["experiment"]["experiment_id"] == exp_id
    assert body["experiment"]["name"] == name


def test_get_by_name_missing(api):
    name = unique("nosuch")
    assert_error(api.get("experiments/get-by-name", {"experiment_name": name}), 404,
                 "RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")
    assert_error(api.get("experiments/get-by-name"), 400, "INVALID_PARAMETER_VALUE",
                 f"{MISSING_VALUE_MSG} 'experiment_name'")


def test_get_by_name_deleted(api):
    name = unique("bynamedel")
    exp_id = api.create_experiment(name)
    api.post_ok("experiments/delete", {"experiment_id": exp_id})
    exp = api.get_ok("experiments/get-by-name", {"experiment_name": name})["experiment"]
    assert exp["experiment_id"] == exp_id and exp["lifecycle_stage"] == "deleted"


def test_update_renames(api, exp_id):
    new_name = unique("renamed")
    assert api.post_ok("experiments/update", {"experiment_id": exp_id, "new_name": new_name}) == {}
    assert api.get_experiment(exp_id)["name"] == new_name
    found = api.get_ok("experiments/get-by-name", {"experiment_name": new_name})
    assert found["experiment"]["experiment_id"] == exp_id


def test_update_to_taken_name(api, exp_id):
    other = unique("taken")
    api.create_experiment(other)
    resp = api.post("experiments/update", {"experiment_id": exp_id, "new_name": other})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] in ("RESOURCE_ALREADY_EXISTS", "INVALID_PARAMETER_VALUE")


def test_update_missing_fields(api, exp_id):
    assert_error(api.post("experiments/update", {"experiment_id": exp_id}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'new_name'")
    assert_error(api.post("experiments/update", {"experiment_id": exp_id, "new_name": ""}), 400,
                 "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'new_name'")
    assert_error(api.post("experiments/update", {"experiment_id": "987654321",
                                                 "new_name": unique("x")}),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_delete_and_restore(api, exp_id):
    run_id = api.create_run(exp_id)["info"]["run_id"]
    assert api.post_ok("experiments/delete", {"experiment_id": exp_id}) == {}
    assert api.get_experiment(exp_id)["lifecycle_stage"] == "deleted"
    # Its runs are marked deleted too.
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    assert api.post_ok("experiments/restore", {"experiment_id": exp_id}) == {}
    assert api.get_experiment(exp_id)["lifecycle_stage"] == "active"


def test_delete_restore_unknown(api):
    for verb in ("delete", "restore"):
        assert_error(api.post(f"experiments/{verb}", {"experiment_id": "987654321"}), 404,
                     "RESOURCE_DOES_NOT_EXIST")
        assert_error(api.post(f"experiments/{verb}", {}), 400, "INVALID_PARAMETER_VALUE",
                     f"{MISSING_VALUE_MSG} 'experiment_id'")


def test_set_and_delete_experiment_tag(api, exp_id):
    api.post_ok("experiments/set-experiment-tag",
                {"experiment_id": exp_id, "key": "k", "value": "v1"})
    api.post_ok("experiments/set-experiment-tag",
                {"experiment_id": exp_id, "key": "k", "value": "v2"})  # upsert
    api.post_ok("experiments/set-experiment-tag",
                {"experiment_id": exp_id, "key": "other", "value": "o"})
    assert tags_dict(api.get_experiment(exp_id)["tags"]) == {"k": "v2", "other": "o"}
    assert api.post_ok("experiments/delete-experiment-tag",
                       {"experiment_id": exp_id, "key": "k"}) == {}
    assert tags_dict(api.get_experiment(exp_id)["tags"]) == {"other": "o"}


def test_experiment_tag_errors(api, exp_id):
    assert_error(api.post("experiments/set-experiment-tag",
                          {"experiment_id": "987654321", "key": "k", "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("experiments/set-experiment-tag", {"experiment_id": exp_id,
                                                             "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE", f"{MISSING_VALUE_MSG} 'key'")
    assert_error(api.post("experiments/delete-experiment-tag",
                          {"experiment_id": exp_id, "key": "never-set"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("experiments/set-experiment-tag",
                          {"experiment_id": exp_id, "key": "k" * 251, "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/set-experiment-tag",
                          {"experiment_id": exp_id, "key": "k", "value": "v" * 5001}),
                 400, "INVALID_PARAMETER_VALUE")


# ---- search -----------------------------------------------------------------------------------

def _search(api, method, **fields):
    if method == "GET":
        return assert_ok(api.get("experiments/search", fields))
    return api.post_ok("experiments/search", fields)


def _names(page):
    return [e["name"] for e in page.get("experiments", [])]


@pytest.fixture
def three_experiments(api):
    prefix = unique("srch")
    ids = {}
    for suffix, team in [("a", "ml"), ("b", "ops"), ("c", "ml")]:
        ids[suffix] = api.create_experiment(f"{prefix}-{suffix}",
                                            tags=[{"key": "team", "value": team}])
        time.sleep(0.005)  # distinct creation_time values (ms) make the default order certain
    return prefix, ids


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_filter_by_name(api, three_experiments, method):
    prefix, _ = three_experiments
    page = _search(api, method, filter=f"name LIKE '{prefix}-%'", max_results=100)
    # Default order: creation_time DESC, experiment_id ASC.
    assert _names(page) == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    assert "next_page_token" not in page or not page["next_page_token"]
    page = _search(api, method, filter=f"name = '{prefix}-b'", max_results=100)
    assert _names(page) == [f"{prefix}-b"]
    page = _search(api, method, filter=f"name ILIKE '{prefix.upper()}-%'", max_results=100)
    assert len(_names(page)) == 3
    page = _search(api, method, filter=f"name LIKE '{prefix.upper()}-%'", max_results=100)
    assert _names(page) == []  # LIKE is case-sensitive


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_order_by(api, three_experiments, method):
    prefix, _ = three_experiments
    flt = f"name LIKE '{prefix}-%'"
    asc = _search(api, method, filter=flt, order_by=["name ASC"], max_results=100)
    assert _names(asc) == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    desc = _search(api, method, filter=flt, order_by=["name DESC"], max_results=100)
    assert _names(desc) == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    by_id = _search(api, method, filter=flt, order_by=["experiment_id"], max_results=100)
    ids = [int(e["experiment_id"]) for e in by_id["experiments"]]
    assert ids == sorted(ids)
    by_time = _search(api, method, filter=flt, order_by=["creation_time ASC"], max_results=100)
    assert _names(by_time) == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]


def test_search_filter_by_tag_and_time(api, three_experiments):
    prefix, ids = three_experiments
    page = _search(api, "POST", filter=f"name LIKE '{prefix}-%' AND tags.team = 'ml'",
                   order_by=["name"], max_results=100)
    assert _names(page) == [f"{prefix}-a", f"{prefix}-c"]
    page = _search(api, "POST", filter=f"name LIKE '{prefix}-%' AND tags.team != 'ml'",
                   max_results=100)
    assert _names(page) == [f"{prefix}-b"]
    created = api.get_experiment(ids["a"])["creation_time"]
    page = _search(api, "POST", filter=f"name LIKE '{prefix}-%' AND creation_time >= {created}",
                   max_results=100)
    assert len(_names(page)) == 3
    page = _search(api, "POST",
                   filter=f"name LIKE '{prefix}-%' AND creation_time < {created}", max_results=100)
    assert _names(page) == []
    page = _search(api, "POST",
                   filter=f"name LIKE '{prefix}-%' AND last_update_time > 0", max_results=100)
    assert len(_names(page)) == 3


def test_search_view_type(api, three_experiments):
    prefix, ids = three_experiments
    api.post_ok("experiments/delete", {"experiment_id": ids["b"]})
    flt = f"name LIKE '{prefix}-%'"
    for view_type, expected in [(None, {"a", "c"}), ("ACTIVE_ONLY", {"a", "c"}),
                                ("DELETED_ONLY", {"b"}), ("ALL", {"a", "b", "c"})]:
        fields = {"filter": flt, "max_results": 100}
        if view_type:
            fields["view_type"] = view_type
        for method in ("GET", "POST"):
            got = {n.rsplit("-", 1)[1] for n in _names(_search(api, method, **fields))}
            assert got == expected, (view_type, method)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_paging_walk(api, method):
    prefix = unique("page")
    created = []
    for i in range(7):
        created.append(api.create_experiment(f"{prefix}-{i:02d}"))
        time.sleep(0.005)
    seen, token, pages = [], None, 0
    while True:
        fields = {"filter": f"name LIKE '{prefix}-%'", "max_results": 2}
        if token:
            fields["page_token"] = token
        page = _search(api, method, **fields)
        assert len(page.get("experiments", [])) <= 2
        seen += [e["experiment_id"] for e in page.get("experiments", [])]
        token = page.get("next_page_token")
        pages += 1
        assert pages <= 10
        if not token:
            break
    assert pages == 4
    assert sorted(seen) == sorted(created) and len(set(seen)) == 7
    assert seen == list(reversed(created))  # creation_time DESC, experiment_id ASC


def test_search_errors(api):
    assert_error(api.post("experiments/search", {"max_results": 50001}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_ok(api.post("experiments/search", {"max_results": 50000}))
    assert_error(api.post("experiments/search", {"max_results": 10, "page_token": "garbage!!"}),
                 400, "INVALID_PARAMETER_VALUE")
    for bad in ["name = unquoted", "name IN ('a')", "metrics.x > 1", "name = 'a' OR name = 'b'",
                "params.p = 'x'", "bogus_attr = 'x'", "name ~ 'x'"]:
        assert_error(api.post("experiments/search", {"filter": bad, "max_results": 10}), 400,
                     "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"order_by": ["bogus_column"],
                                                  "max_results": 10}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"view_type": "NOT_A_VIEW"}), 400,
                 "INVALID_PARAMETER_VALUE")


def test_search_empty_result_is_object(api):
    page = api.post_ok("experiments/search",
                       {"filter": f"name = '{unique('none')}'", "max_results": 5})
    assert page.get("experiments", []) == []
