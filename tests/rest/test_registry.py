"""Model registry REST API (reference §3, §4, §5, §6.4-6.5, §7.5, §12): every registered-model and
model-version endpoint on both prefixes with MLflow's methods, the error codes clients branch on,
concurrent version creation, stages and aliases, the source attack table and
/model-versions/get-artifact, and a full register-from-a-run flow."""

import os
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from helpers import (MISSING_VALUE_MSG, Api, Artifacts, assert_error, assert_ok, raw_json,
                     raw_request, unique)

# A syntactically valid version source inside the artifact store (§3.2: mlflow-artifacts:/...).
SOURCE = "mlflow-artifacts:/0/0123456789abcdef0123456789abcdef/artifacts/model"
PROMPT_TAG = "mlflow.prompt.is_prompt"
VICTIM_TEXT = b"registry victim: must never be served\n"


class Registry:
    """Registry calls on one prefix; `*_ok` helpers assert success and return the entity."""

    def __init__(self, api):
        self.api = api

    def create_model(self, name=None, **fields):
        name = name or unique("rm")
        body = assert_ok(self.api.post("registered-models/create", {"name": name, **fields}))
        return body["registered_model"]

    def get_model(self, name):
        return self.api.get("registered-models/get", {"name": name})

    def get_model_ok(self, name):
        return assert_ok(self.get_model(name))["registered_model"]

    def create_version(self, name, source=SOURCE, **fields):
        return self.api.post("model-versions/create", {"name": name, "source": source, **fields})

    def create_version_ok(self, name, source=SOURCE, **fields):
        return assert_ok(self.create_version(name, source, **fields))["model_version"]

    def get_version(self, name, version):
        return self.api.get("model-versions/get", {"name": name, "version": str(version)})

    def get_version_ok(self, name, version):
        return assert_ok(self.get_version(name, version))["model_version"]

    def transition(self, name, version, stage, archive=False):
        return self.api.post("model-versions/transition-stage",
                             {"name": name, "version": str(version), "stage": stage,
                              "archive_existing_versions": archive})

    def transition_ok(self, name, version, stage, archive=False):
        return assert_ok(self.transition(name, version, stage, archive))["model_version"]

    def set_alias(self, name, alias, version):
        return self.api.post("registered-models/alias",
                             {"name": name, "alias": alias, "version": str(version)})

    def search_versions(self, **params):
        return assert_ok(self.api.get("model-versions/search", params))

    def search_models(self, **params):
        return assert_ok(self.api.get("registered-models/search", params))


@pytest.fixture
def reg(api):
    return Registry(api)


@pytest.fixture
def reg2(api2):
    return Registry(api2)


@pytest.fixture
def model(reg):
    return reg.create_model()["name"]


def assert_timestamp(value):
    assert isinstance(value, int) and not isinstance(value, bool) and value > 0, value


def assert_version_shape(mv, name, version, stage="None"):
    assert mv["name"] == name
    assert mv["version"] == str(version) and isinstance(mv["version"], str)
    assert_timestamp(mv["creation_timestamp"])
    assert_timestamp(mv["last_updated_timestamp"])
    assert mv["current_stage"] == stage
    assert mv["status"] == "READY"
    assert isinstance(mv["source"], str) and mv["source"]
    assert "storage_location" not in mv


def run_artifact_dir(server, run):
    """The local directory of a run's artifacts (mlflow-artifacts:/<exp>/<run>/artifacts)."""
    uri = run["info"]["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:"), uri
    return Path(server.artifact_root) / uri.split("mlflow-artifacts:", 1)[1].lstrip("/")


def upload_model_dir(server, api, run, path="model"):
    """Uploads an MLmodel and a weights file through the proxied artifact PUT (§7.4)."""
    arts = Artifacts(server.url, api.artifacts_prefix, api.session)
    root = run["info"]["artifact_uri"].split("mlflow-artifacts:", 1)[1].lstrip("/")
    mlmodel = b"artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n"
    assert_ok(arts.put(f"{root}/{path}/MLmodel", mlmodel, "text/plain"))
    assert_ok(arts.put(f"{root}/{path}/model.bin", b"\x00\x01weights"))
    return mlmodel


# ---- registered models ----------------------------------------------------------------------

def test_create_and_get_registered_model(reg):
    name = unique("rm")
    created = reg.create_model(name, description="churn model",
                               tags=[{"key": "team", "value": "ml"}, {"key": "b", "value": ""}])
    assert created["name"] == name
    assert created["description"] == "churn model"
    assert_timestamp(created["creation_timestamp"])
    assert_timestamp(created["last_updated_timestamp"])
    assert {t["key"]: t["value"] for t in created["tags"]} == {"team": "ml", "b": ""}
    # Unset fields are omitted (§1.3); user_id is never returned (§3.1).
    for absent in ("latest_versions", "aliases", "user_id"):
        assert absent not in created
    got = reg.get_model_ok(name)
    assert got == created


def test_registered_model_minimal_shape(reg):
    name = unique("rm")
    created = reg.create_model(name)
    assert set(created) == {"name", "creation_timestamp", "last_updated_timestamp"}


def test_duplicate_registered_model(reg, model):
    resp = reg.api.post("registered-models/create", {"name": model})
    assert_error(resp, 400, "RESOURCE_ALREADY_EXISTS")


def test_create_registered_model_requires_name(reg):
    for body in ({}, {"name": ""}):
        assert_error(reg.api.post("registered-models/create", body), 400,
                     "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    assert_error(reg.api.post("registered-models/create", {"name": 5}), 400,
                 "INVALID_PARAMETER_VALUE")


def test_unknown_registered_model_is_404(reg):
    name = unique("missing")
    api = reg.api
    calls = [
        api.get("registered-models/get", {"name": name}),
        api.post("registered-models/rename", {"name": name, "new_name": unique("x")}),
        api.patch("registered-models/update", {"name": name, "description": "d"}),
        api.delete("registered-models/delete", {"name": name}),
        api.post("registered-models/get-latest-versions", {"name": name}),
        api.get("registered-models/get-latest-versions", {"name": name}),
        api.post("registered-models/set-tag", {"name": name, "key": "k", "value": "v"}),
        api.post("registered-models/alias", {"name": name, "alias": "champ", "version": "1"}),
        api.get("registered-models/alias", {"name": name, "alias": "champ"}),
        api.post("model-versions/create", {"name": name, "source": SOURCE}),
        api.get("model-versions/get", {"name": name, "version": "1"}),
        api.get("model-versions/get-download-uri", {"name": name, "version": "1"}),
        api.post("model-versions/transition-stage",
                 {"name": name, "version": "1", "stage": "Staging",
                  "archive_existing_versions": False}),
    ]
    for resp in calls:
        assert_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_rename_moves_versions_and_aliases(reg, model):
    reg.create_version_ok(model)
    reg.create_version_ok(model, tags=[{"key": "k", "value": "v"}])
    reg.transition_ok(model, 2, "Production")
    assert_ok(reg.set_alias(model, "champion", 2))
    assert_ok(reg.api.post("registered-models/set-tag", {"name": model, "key": "t", "value": "1"}))
    new_name = unique("renamed")
    renamed = assert_ok(reg.api.post("registered-models/rename",
                                     {"name": model, "new_name": new_name}))["registered_model"]
    assert renamed["name"] == new_name
    assert renamed["aliases"] == [{"alias": "champion", "version": "2"}]
    assert {t["key"] for t in renamed["tags"]} == {"t"}
    assert_error(reg.get_model(model), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(reg.get_version(model, 1), 404, "RESOURCE_DOES_NOT_EXIST")
    v2 = reg.get_version_ok(new_name, 2)
    assert_version_shape(v2, new_name, 2, "Production")
    assert v2["aliases"] == ["champion"]
    assert v2["tags"] == [{"key": "k", "value": "v"}]
    by_alias = assert_ok(reg.api.get("registered-models/alias",
                                     {"name": new_name, "alias": "champion"}))["model_version"]
    assert by_alias["version"] == "2" and by_alias["name"] == new_name
    # The next version continues the old numbering.
    assert reg.create_version_ok(new_name)["version"] == "3"


def test_rename_errors(reg, model):
    other = reg.create_model()["name"]
    assert_error(reg.api.post("registered-models/rename", {"name": model, "new_name": other}),
                 400, "RESOURCE_ALREADY_EXISTS")
    assert_error(reg.api.post("registered-models/rename", {"name": model}), 400,
                 "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)


def test_update_registered_model_is_patch(reg, model):
    resp = reg.api.patch("registered-models/update", {"name": model, "description": "new text"})
    updated = assert_ok(resp)["registered_model"]
    assert updated["description"] == "new text"
    assert reg.get_model_ok(model)["description"] == "new text"
    # Only PATCH is routed (§3.2); other methods are unknown endpoints.
    assert_error(reg.api.post("registered-models/update", {"name": model}), 404,
                 "ENDPOINT_NOT_FOUND")


def test_delete_registered_model_with_json_body(reg, model):
    reg.create_version_ok(model)
    assert_ok(reg.set_alias(model, "a", 1))
    assert assert_ok(reg.api.delete("registered-models/delete", {"name": model})) == {}
    assert_error(reg.get_model(model), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(reg.get_version(model, 1), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "model_versions" not in reg.search_versions(filter=f"name = '{model}'")
    # The name is free again, and numbering restarts.
    reg.create_model(model)
    assert reg.create_version_ok(model)["version"] == "1"


def test_delete_body_needs_no_content_type(server, api, reg, model):
    """DELETE and PATCH bodies are parsed without the content-type check (§1.2)."""
    resp = api.session.patch(api.url("registered-models/update"),
                             data=f'{{"name": "{model}", "description": "plain"}}',
                             headers={"Content-Type": "text/plain"}, timeout=60)
    assert assert_ok(resp)["registered_model"]["description"] == "plain"
    resp = api.session.delete(api.url("registered-models/delete"), data=f'{{"name": "{model}"}}',
                              timeout=60)
    assert_ok(resp)
    assert_error(reg.get_model(model), 404, "RESOURCE_DOES_NOT_EXIST")


def test_registered_model_tags(reg, model):
    api = reg.api
    assert assert_ok(api.post("registered-models/set-tag",
                              {"name": model, "key": "owner", "value": "a"})) == {}
    assert_ok(api.post("registered-models/set-tag", {"name": model, "key": "owner", "value": "b"}))
    assert_ok(api.post("registered-models/set-tag", {"name": model, "key": "x", "value": "1"}))
    tags = {t["key"]: t["value"] for t in reg.get_model_ok(model)["tags"]}
    assert tags == {"owner": "b", "x": "1"}
    assert assert_ok(api.delete("registered-models/delete-tag", {"name": model, "key": "x"})) == {}
    assert reg.get_model_ok(model)["tags"] == [{"key": "owner", "value": "b"}]
    assert_error(api.post("registered-models/set-tag", {"name": model, "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    assert_error(api.post("registered-models/set-tag",
                          {"name": model, "key": "k", "value": "v" * 5001}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.delete("registered-models/delete-tag", {"name": unique("no"), "key": "x"}),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_registered_models(reg):
    prefix = unique("srch")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in reversed(names):
        reg.create_model(name)
    body = reg.search_models(filter=f"name LIKE '{prefix}-%'")
    assert [m["name"] for m in body["registered_models"]] == names
    assert "next_page_token" not in body
    # Paging with max_results.
    seen, token, pages = [], None, 0
    while True:
        params = {"filter": f"name LIKE '{prefix}-%'", "max_results": 2}
        if token:
            params["page_token"] = token
        page = reg.search_models(**params)
        assert len(page.get("registered_models", [])) <= 2
        seen += [m["name"] for m in page.get("registered_models", [])]
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == names and pages == 3
    body = reg.search_models(filter=f"name = '{names[3]}'")
    assert [m["name"] for m in body["registered_models"]] == [names[3]]
    body = reg.search_models(filter=f"name LIKE '{prefix}-%'", order_by="name DESC")
    assert [m["name"] for m in body["registered_models"]] == list(reversed(names))
    assert reg.search_models(filter=f"name = '{unique('none')}'") == {}


def test_search_registered_models_errors(reg):
    api = reg.api
    assert_error(api.get("registered-models/search", {"max_results": 1001}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.get("registered-models/search", {"filter": "name ~ 'x'"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.get("registered-models/search", {"page_token": "garbage!"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.post("registered-models/search", {}), 404, "ENDPOINT_NOT_FOUND")


def test_search_hides_prompts(reg):
    prefix = unique("prm")
    reg.create_model(f"{prefix}-model")
    reg.create_model(f"{prefix}-prompt", tags=[{"key": PROMPT_TAG, "value": "true"}])
    body = reg.search_models(filter=f"name LIKE '{prefix}-%'")
    assert [m["name"] for m in body["registered_models"]] == [f"{prefix}-model"]
    body = reg.search_models(filter=f"name LIKE '{prefix}-%' AND tags.`{PROMPT_TAG}` = 'true'")
    assert [m["name"] for m in body["registered_models"]] == [f"{prefix}-prompt"]


# ---- model versions -------------------------------------------------------------------------

def test_create_and_get_model_version(reg, model):
    mv = reg.create_version_ok(model, description="first", run_link="http://x/run",
                               tags=[{"key": "k", "value": "v"}])
    assert_version_shape(mv, model, 1)
    assert mv["source"] == SOURCE
    assert mv["description"] == "first"
    assert mv["run_link"] == "http://x/run"
    assert mv["tags"] == [{"key": "k", "value": "v"}]
    assert "aliases" not in mv and "run_id" not in mv
    assert reg.get_version_ok(model, 1) == mv
    mv2 = reg.create_version_ok(model)
    assert_version_shape(mv2, model, 2)
    assert set(mv2) == {"name", "version", "creation_timestamp", "last_updated_timestamp",
                        "current_stage", "source", "status"}
    latest = reg.get_model_ok(model)["latest_versions"]
    assert [(v["version"], v["current_stage"]) for v in latest] == [("2", "None")]


def test_create_version_with_run_source(server, api, reg, model, run):
    run_id = run["info"]["run_id"]
    mv = reg.create_version_ok(model, f"runs:/{run_id}/model", run_id=run_id)
    assert mv["source"] == f"runs:/{run_id}/model"
    assert mv["run_id"] == run_id
    uri = assert_ok(api.get("model-versions/get-download-uri",
                            {"name": model, "version": "1"}))["artifact_uri"]
    assert uri == run["info"]["artifact_uri"] + "/model"
    # A models:/ source resolves to the referenced version's location.
    mv2 = reg.create_version_ok(model, f"models:/{model}/1")
    assert mv2["source"] == f"models:/{model}/1"
    uri2 = assert_ok(api.get("model-versions/get-download-uri",
                             {"name": model, "version": "2"}))["artifact_uri"]
    assert uri2 == uri


def test_local_source_inside_run_dir(local_server, api, reg, model, run):
    run_id = run["info"]["run_id"]
    upload_model_dir(local_server, api, run)
    local = run_artifact_dir(local_server, run) / "model"
    assert (local / "MLmodel").is_file()
    mv = reg.create_version_ok(model, str(local), run_id=run_id)
    assert mv["version"] == "1"
    uri = assert_ok(api.get("model-versions/get-download-uri",
                            {"name": model, "version": "1"}))["artifact_uri"]
    assert uri == run["info"]["artifact_uri"] + "/model"
    # Without the run id a local path is refused.
    assert_error(reg.create_version(model, str(local)), 400, "INVALID_PARAMETER_VALUE")


def test_create_version_errors(reg, model):
    assert_error(reg.api.post("model-versions/create", {"name": model}), 400,
                 "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    assert_error(reg.create_version(model, f"runs:/{'0' * 32}/model"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(reg.create_version(model, f"models:/{model}/7"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(reg.create_version(model, "s3://bucket/model"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(reg.get_version(model, 1), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("bad", ["abc", "1.5", "0x1", "1e3"])
def test_bad_version_is_400(reg, model, bad):
    reg.create_version_ok(model)
    api = reg.api
    for resp in (api.get("model-versions/get", {"name": model, "version": bad}),
                 api.get("model-versions/get-download-uri", {"name": model, "version": bad}),
                 api.patch("model-versions/update", {"name": model, "version": bad}),
                 api.post("model-versions/transition-stage",
                          {"name": model, "version": bad, "stage": "Staging",
                           "archive_existing_versions": False}),
                 reg.set_alias(model, "champ", bad)):
        assert_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_unknown_version_is_404(reg, model):
    reg.create_version_ok(model)
    api = reg.api
    for resp in (reg.get_version(model, 99),
                 api.patch("model-versions/update", {"name": model, "version": "99"}),
                 api.delete("model-versions/delete", {"name": model, "version": "99"}),
                 reg.transition(model, 99, "Staging"),
                 api.get("model-versions/get-download-uri", {"name": model, "version": "99"}),
                 api.post("model-versions/set-tag",
                          {"name": model, "version": "99", "key": "k", "value": "v"}),
                 reg.set_alias(model, "champ", 99)):
        assert_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_version_number_as_json_integer(reg, model):
    reg.create_version_ok(model)
    resp = reg.api.patch("model-versions/update", {"name": model, "version": 1,
                                                   "description": "int"})
    assert assert_ok(resp)["model_version"]["description"] == "int"


def test_update_model_version_is_patch(reg, model):
    reg.create_version_ok(model)
    mv = assert_ok(reg.api.patch("model-versions/update",
                                 {"name": model, "version": "1", "description": "better"}))
    assert mv["model_version"]["description"] == "better"
    assert reg.get_version_ok(model, 1)["description"] == "better"
    assert_error(reg.api.post("model-versions/update", {"name": model, "version": "1"}), 404,
                 "ENDPOINT_NOT_FOUND")


def test_soft_deleted_versions_are_hidden(reg, model):
    for _ in range(3):
        reg.create_version_ok(model)
    reg.transition_ok(model, 3, "Staging")
    assert_ok(reg.set_alias(model, "best", 3))
    assert assert_ok(reg.api.delete("model-versions/delete",
                                    {"name": model, "version": "3"})) == {}
    assert_error(reg.get_version(model, 3), 404, "RESOURCE_DOES_NOT_EXIST")
    versions = reg.search_versions(filter=f"name = '{model}'")["model_versions"]
    assert sorted(v["version"] for v in versions) == ["1", "2"]
    rm = reg.get_model_ok(model)
    assert [v["version"] for v in rm["latest_versions"]] == ["2"]
    assert "aliases" not in rm  # the deleted version's alias went with it
    assert_error(reg.api.get("registered-models/alias", {"name": model, "alias": "best"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    latest = assert_ok(reg.api.post("registered-models/get-latest-versions",
                                    {"name": model, "stages": ["Staging"]}))
    assert latest == {}
    # Deleting twice is a 404, and the number is never reused.
    assert_error(reg.api.delete("model-versions/delete", {"name": model, "version": "3"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert reg.create_version_ok(model)["version"] == "4"


def test_transition_stage(reg, model):
    reg.create_version_ok(model)
    mv = reg.transition_ok(model, 1, "staging")
    assert_version_shape(mv, model, 1, "Staging")
    assert reg.transition_ok(model, 1, "PRODUCTION")["current_stage"] == "Production"
    assert reg.transition_ok(model, 1, "archived")["current_stage"] == "Archived"
    assert reg.transition_ok(model, 1, "none")["current_stage"] == "None"
    for bad in ("Prod", "Deleted_Internal", "deleted_internal", "", "Staging "):
        resp = reg.transition(model, 1, bad)
        assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    # archive_existing_versions may be given as text in any case, or left out (= false).
    resp = reg.api.post("model-versions/transition-stage",
                        {"name": model, "version": "1", "stage": "Staging"})
    assert assert_ok(resp)["model_version"]["current_stage"] == "Staging"


def test_archive_existing_versions(reg, model):
    for _ in range(4):
        reg.create_version_ok(model)
    reg.transition_ok(model, 1, "Production")
    reg.transition_ok(model, 2, "Production")
    reg.transition_ok(model, 3, "Staging")
    mv = reg.transition_ok(model, 4, "Production", archive=True)
    assert mv["current_stage"] == "Production"
    stages = {v["version"]: v["current_stage"]
              for v in reg.search_versions(filter=f"name = '{model}'")["model_versions"]}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}
    # Without the flag, other versions stay where they are.
    reg.transition_ok(model, 3, "Production")
    stages = {v["version"]: v["current_stage"]
              for v in reg.search_versions(filter=f"name = '{model}'")["model_versions"]}
    assert stages["4"] == "Production" and stages["3"] == "Production"
    # Only Staging and Production targets may archive the others.
    assert_error(reg.transition(model, 1, "Archived", archive=True), 400,
                 "INVALID_PARAMETER_VALUE")


def test_get_latest_versions(reg, model):
    for _ in range(5):
        reg.create_version_ok(model)
    reg.transition_ok(model, 1, "Production")
    reg.transition_ok(model, 2, "Staging")
    reg.transition_ok(model, 3, "Staging")
    reg.transition_ok(model, 4, "Archived")
    api = reg.api

    def latest(resp):
        return [(v["version"], v["current_stage"]) for v in assert_ok(resp)["model_versions"]]

    expected_all = [("1", "Production"), ("3", "Staging"), ("4", "Archived"), ("5", "None")]
    assert sorted(latest(api.post("registered-models/get-latest-versions",
                                  {"name": model}))) == expected_all
    assert sorted(latest(api.get("registered-models/get-latest-versions",
                                 {"name": model}))) == expected_all
    assert latest(api.post("registered-models/get-latest-versions",
                           {"name": model, "stages": ["staging"]})) == [("3", "Staging")]
    got = latest(api.get("registered-models/get-latest-versions",
                         {"name": model, "stages": ["Staging", "PRODUCTION"]}))
    assert sorted(got) == [("1", "Production"), ("3", "Staging")]
    for resp in (api.post("registered-models/get-latest-versions",
                          {"name": model, "stages": ["Prod"]}),
                 api.get("registered-models/get-latest-versions",
                         {"name": model, "stages": "nope"})):
        assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    rm = reg.get_model_ok(model)
    assert sorted((v["version"], v["current_stage"]) for v in rm["latest_versions"]) \
        == expected_all


def test_model_version_tags(reg, model):
    reg.create_version_ok(model)
    api = reg.api
    body = {"name": model, "version": "1", "key": "validated", "value": "true"}
    assert assert_ok(api.post("model-versions/set-tag", body)) == {}
    assert_ok(api.post("model-versions/set-tag", {**body, "key": "z", "value": "1"}))
    tags = {t["key"]: t["value"] for t in reg.get_version_ok(model, 1)["tags"]}
    assert tags == {"validated": "true", "z": "1"}
    assert assert_ok(api.delete("model-versions/delete-tag",
                                {"name": model, "version": "1", "key": "z"})) == {}
    assert reg.get_version_ok(model, 1)["tags"] == [{"key": "validated", "value": "true"}]
    assert_error(api.post("model-versions/set-tag", {"name": model, "version": "1", "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)
    assert_error(api.post("model-versions/set-tag",
                          {"name": model, "version": "1", "key": "../x", "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")


def test_search_model_versions(reg, run):
    run_id = run["info"]["run_id"]
    model = reg.create_model()["name"]
    other = reg.create_model()["name"]
    for i in range(4):
        reg.create_version_ok(model, tags=[{"key": "parity", "value": str(i % 2)}])
    reg.create_version_ok(other, f"runs:/{run_id}/model", run_id=run_id)

    def versions(**params):
        body = reg.search_versions(**params)
        return [(v["name"], v["version"]) for v in body.get("model_versions", [])]

    # Default order: name ASC, then version DESC.
    assert versions(filter=f"name = '{model}'") == [(model, v) for v in ["4", "3", "2", "1"]]
    assert versions(filter=f"name = '{model}' AND version_number > 2") == \
        [(model, "4"), (model, "3")]
    assert versions(filter=f"name = '{model}' AND tags.parity = '1'") == \
        [(model, "4"), (model, "2")]
    assert versions(filter=f"run_id = '{run_id}'") == [(other, "1")]
    assert versions(filter=f"name = '{model}'", order_by="version_number ASC") == \
        [(model, v) for v in ["1", "2", "3", "4"]]
    # Paging.
    page = reg.search_versions(filter=f"name = '{model}'", max_results=3)
    assert len(page["model_versions"]) == 3 and page["next_page_token"]
    rest = reg.search_versions(filter=f"name = '{model}'", max_results=3,
                               page_token=page["next_page_token"])
    assert [v["version"] for v in rest["model_versions"]] == ["1"]
    assert "next_page_token" not in rest
    api = reg.api
    assert_error(api.get("model-versions/search", {"filter": "version_number > 'x' AND"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.get("model-versions/search", {"filter": "bogus = 1"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(api.get("model-versions/search", {"max_results": 200001}), 400,
                 "INVALID_PARAMETER_VALUE")


# ---- aliases --------------------------------------------------------------------------------

def test_aliases(reg, model):
    for _ in range(2):
        reg.create_version_ok(model)
    api = reg.api
    assert assert_ok(reg.set_alias(model, "champion", 1)) == {}
    assert_ok(reg.set_alias(model, "challenger", 2))
    got = assert_ok(api.get("registered-models/alias", {"name": model, "alias": "champion"}))
    assert_version_shape(got["model_version"], model, 1)
    assert got["model_version"]["aliases"] == ["champion"]
    rm = reg.get_model_ok(model)
    assert rm["aliases"] == [{"alias": "challenger", "version": "2"},
                             {"alias": "champion", "version": "1"}]
    # Setting again moves it.
    assert_ok(reg.set_alias(model, "champion", 2))
    got = assert_ok(api.get("registered-models/alias", {"name": model, "alias": "champion"}))
    assert got["model_version"]["version"] == "2"
    assert sorted(got["model_version"]["aliases"]) == ["challenger", "champion"]
    assert "aliases" not in reg.get_version_ok(model, 1)
    # Delete (DELETE with a JSON body on the same path).
    assert assert_ok(api.delete("registered-models/alias",
                                {"name": model, "alias": "champion"})) == {}
    assert_error(api.get("registered-models/alias", {"name": model, "alias": "champion"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert reg.get_model_ok(model)["aliases"] == [{"alias": "challenger", "version": "2"}]


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "bad alias", "a/b", "a.b",
                                   "x" * 256, ""])
def test_bad_alias_is_400(reg, model, alias):
    reg.create_version_ok(model)
    assert_error(reg.set_alias(model, alias, 1), 400, "INVALID_PARAMETER_VALUE")


def test_alias_edge_names(reg, model):
    reg.create_version_ok(model)
    for alias in ("v1a", "latest_", "x" * 255, "a-b_C9", "vv1"):
        assert_ok(reg.set_alias(model, alias, 1))
    got = reg.get_version_ok(model, 1)["aliases"]
    assert len(got) == 5


# ---- concurrency ----------------------------------------------------------------------------

def test_parallel_version_creation_has_no_gap_or_duplicate(server, reg2):
    model = reg2.create_model()["name"]
    count = 20
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def create(idx):
        with requests.Session() as session:
            api = Api(server.url, session=session)
            barrier.wait()
            # One connection per request: the server gives each open connection a worker thread
            # (16 on a small box), so 20 idle keep-alive connections would queue the last ones
            # behind the keep-alive timeout instead of racing.
            resp = api.post("model-versions/create", {"name": model, "source": SOURCE},
                            headers={"Connection": "close"})
            if resp.status_code != 200:
                errors.append(resp.text)
            else:
                results[idx] = resp.json()["model_version"]["version"]

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert sorted(results, key=int) == [str(v) for v in range(1, count + 1)]
    listed = reg2.search_versions(filter=f"name = '{model}'")["model_versions"]
    assert sorted(int(v["version"]) for v in listed) == list(range(1, count + 1))


# ---- security: hostile sources and get-artifact paths (§12) ---------------------------------

def _attack_sources(run_id, run_dir, other_dir):
    return [
        # CVE-2023-1177: local directories of the server.
        "file:///etc/", "/", "//etc", "/etc/passwd", "file:///etc/passwd", "file:/etc",
        "file://localhost/etc/passwd", "etc/passwd",
        # CVE-2023-2356: relative traversal in any scheme.
        "mlflow-artifacts://host:port/../../../../", "mlflow-artifacts:/../../../etc",
        "mlflow-artifacts:/0/../../etc", "http://host/api/2.0/mlflow-artifacts/artifacts/../../",
        "https://host:5000/api/2.0/mlflow-artifacts/artifacts/../../../../etc",
        "file://path/../../../../", "file://path/to/../../../../some/where/you/should/not/be",
        "s3:/bucket/models/../../other", "/models/artifacts/../../../",
        # CVE-2023-2780: backslashes.
        "\\..\\..\\filename", "file:///..\\..\\etc", "mlflow-artifacts:/0\\..\\..\\etc",
        "C:\\Windows\\System32", "c:/windows",
        # Encoded traversals (CVE-2023-6909/6977, CVE-2024-1560, CVE-2023-6730).
        "mlflow-artifacts://host:port/..%2f..%2f..%2f..%2f", "mlflow-artifacts:/..%2F..%2Fetc",
        "mlflow-artifacts:/%2e%2e/%2e%2e/etc",
        "mlflow-artifacts:/%252e%252e%252f%252e%252e%252fetc",
        "mlflow-artifacts:/%25252e%25252e%25252fetc", f"runs:/{run_id}/..%2f..%2f..%2fetc",
        f"runs:/{run_id}/%252e%252e/%252e%252e/etc", "%2fetc%2fpasswd",
        "file%3A%2F%2F%2Fetc%2Fpasswd",
        # NUL and control characters.
        "http://host:port/api/2.0/mlflow-artifacts/artifacts%00",
        "mlflow-artifacts:/0/r/artifacts/model\x00/../../x", "mlflow-artifacts:/0/r%00/artifacts",
        "mlflow-artifacts:/0/r\n/artifacts",
        # Fragments and queries (CVE-2024-1594/3848, CVE-2024-2928).
        "mlflow-artifacts:/0/r#/../../../../etc", "http://host/#/../../../../etc/",
        "file:///#../../etc", "mlflow-artifacts:/0/r/artifacts/model?x=../../etc",
        f"runs:/{run_id}/model#frag",
        # Paths that change under normalisation, the store root, foreign stores.
        "mlflow-artifacts:/0/./r/artifacts", "mlflow-artifacts:/0//r", "mlflow-artifacts:/",
        "http://evil.example/model", "s3://bucket/model", "gs://bucket/model", "dbfs:/model",
        f"runs:/{run_id}/../../etc", f"runs://host/{run_id}/model", "models:/m/../../etc",
        # Local paths outside the run's artifact directory, even with the run id.
        f"{run_dir}/../../other", f"{run_dir}/model/../../../etc", f"{other_dir}/model",
        f"file://{other_dir}/model", f"{run_dir}x/model", f"{run_dir}/escape",
        f"{run_dir}/escape/passwd", f"{run_dir}/./model", "/proc/self/root/etc",
    ]


TAG_SETS = [
    [],
    [{"key": PROMPT_TAG, "value": "true"}],
    [{"key": PROMPT_TAG, "value": "true"}, {"key": "mlflow.prompt.text", "value": "hi {{x}}"}],
    [{"key": PROMPT_TAG, "value": "false"}],
]


def test_hostile_sources_refused_whatever_the_tags(local_server, api2, reg2):
    """CVE-2023-1177/2356/2780, CVE-2026-2614: every hostile source is a 400, with or without the
    prompt tag, with or without a run id; no version is ever created."""
    exp_id = api2.create_experiment()
    run = api2.create_run(exp_id)
    other = api2.create_run(exp_id)
    run_id = run["info"]["run_id"]
    upload_model_dir(local_server, api2, run)
    upload_model_dir(local_server, api2, other)
    run_dir = run_artifact_dir(local_server, run)
    (run_dir / "escape").symlink_to("/etc")
    other_dir = run_artifact_dir(local_server, other)
    model = reg2.create_model()["name"]
    prompt = reg2.create_model(tags=[{"key": PROMPT_TAG, "value": "true"}])["name"]
    failures = []
    for source in _attack_sources(run_id, run_dir, other_dir):
        for with_run in ({}, {"run_id": run_id}):
            for tags in TAG_SETS:
                for name in (model, prompt) if tags else (model,):
                    resp = reg2.create_version(name, source, tags=tags, **with_run)
                    body = raw_json(resp.content) or {}
                    if resp.status_code != 400 or body.get("error_code") != \
                            "INVALID_PARAMETER_VALUE":
                        failures.append((source, bool(with_run), len(tags), name,
                                         resp.status_code, resp.text[:200]))
    assert not failures, failures[:5]
    for name in (model, prompt):
        assert_error(reg2.get_version(name, 1), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.fixture(scope="module")
def registered_model_files(server):
    """A version registered from a run whose `model/` directory was uploaded; victims outside
    the artifact root, when the server's files are local."""
    with requests.Session() as session:
        api = Api(server.url, session=session)
        reg = Registry(api)
        run = api.create_run(api.create_experiment())
        mlmodel = upload_model_dir(server, api, run)
        name = reg.create_model()["name"]
        run_id = run["info"]["run_id"]
        reg.create_version_ok(name, f"runs:/{run_id}/model", run_id=run_id)
        victims = []
        if server.local:
            victims = [Path(server.base_dir) / "registry-victim.txt",
                       Path(server.data_dir) / "registry-victim.txt",
                       run_artifact_dir(server, run) / "registry-victim.txt"]
            for victim in victims:
                victim.write_bytes(VICTIM_TEXT)
        yield {"name": name, "mlmodel": mlmodel, "run": run, "victims": victims}


def test_get_artifact_serves_model_files(server, registered_model_files):
    name = registered_model_files["name"]
    resp = requests.get(f"{server.url}/model-versions/get-artifact",
                        params={"name": name, "version": "1", "path": "MLmodel"}, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.content == registered_model_files["mlmodel"]
    assert resp.headers["Content-Disposition"] == "attachment; filename=MLmodel"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = requests.get(f"{server.url}/model-versions/get-artifact",
                        params={"name": name, "version": "1", "path": "model.bin"}, timeout=60)
    assert resp.status_code == 200 and resp.content == b"\x00\x01weights"
    for params, status, code in [
        ({"name": name, "version": "1", "path": "nope.txt"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"name": name, "version": "9", "path": "MLmodel"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"name": unique("no"), "version": "1", "path": "MLmodel"}, 404,
         "RESOURCE_DOES_NOT_EXIST"),
        ({"name": name, "version": "x", "path": "MLmodel"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": name, "version": "1"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"version": "1", "path": "MLmodel"}, 400, "INVALID_PARAMETER_VALUE"),
    ]:
        resp = requests.get(f"{server.url}/model-versions/get-artifact", params=params,
                            timeout=60)
        assert_error(resp, status, code)


GET_ARTIFACT_ATTACKS = [
    "../registry-victim.txt", "../../../../../../../../etc/passwd", "..", "../",
    "..%2fregistry-victim.txt", "%2e%2e%2fregistry-victim.txt", "%2E%2E/registry-victim.txt",
    "%252e%252e%252fregistry-victim.txt", "%25252e%25252e%25252fregistry-victim.txt",
    "..%5cregistry-victim.txt", "%5c..%5cregistry-victim.txt", "..\\registry-victim.txt",
    "%2fetc%2fpasswd", "/etc/passwd", "%252fetc%252fpasswd", "C:%5cWindows%5cwin.ini",
    "C:/Windows/win.ini", "MLmodel%23x", "x%23/../../registry-victim.txt", "MLmodel%00",
    "..%00/registry-victim.txt", "file:%2f%2f%2fetc%2fpasswd", "sub/../../registry-victim.txt",
    "." + "/.." * 10 + "/etc/passwd",
]


@pytest.mark.parametrize("path", GET_ARTIFACT_ATTACKS)
def test_get_artifact_path_traversal(server, registered_model_files, path):
    name = registered_model_files["name"]
    status, _, body = raw_request(
        server.url, "GET", f"/model-versions/get-artifact?name={name}&version=1&path={path}")
    assert VICTIM_TEXT not in body and b"root:" not in body
    assert status == 400, f"{path!r}: HTTP {status} {body[:300]!r}"
    parsed = raw_json(body)
    assert parsed and parsed.get("error_code") == "INVALID_PARAMETER_VALUE", body[:300]
    for victim in registered_model_files["victims"]:
        assert victim.read_bytes() == VICTIM_TEXT


# ---- routing --------------------------------------------------------------------------------

def test_methods_are_routed_as_in_mlflow(reg):
    api = reg.api
    assert_error(api.get("registered-models/create", {"name": "x"}), 404, "ENDPOINT_NOT_FOUND")
    assert_error(api.post("model-versions/get", {"name": "x", "version": "1"}), 404,
                 "ENDPOINT_NOT_FOUND")
    assert_error(api.patch("registered-models/alias", {"name": "x"}), 404, "ENDPOINT_NOT_FOUND")
    assert_error(api.post("registered-models/delete", {"name": "x"}), 404, "ENDPOINT_NOT_FOUND")
    assert_error(api.post("model-versions/delete-tag", {"name": "x"}), 404, "ENDPOINT_NOT_FOUND")


def test_post_requires_json_content_type(reg):
    resp = reg.api.session.post(reg.api.url("registered-models/create"),
                                data='{"name": "drive-by"}',
                                headers={"Content-Type": "text/plain"}, timeout=60)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert_error(reg.get_model("drive-by"), 404, "RESOURCE_DOES_NOT_EXIST")


# ---- the full flow --------------------------------------------------------------------------

def test_full_flow_register_from_run(server, api):
    """Create a run, upload its model through the artifact proxy, register runs:/<id>/model,
    move it to Staging, and find and fetch it the ways clients do."""
    reg = Registry(api)
    run = api.create_run(api.create_experiment())
    run_id = run["info"]["run_id"]
    mlmodel = upload_model_dir(server, api, run)
    name = unique("wine_quality")
    # register_model: create (tolerating RESOURCE_ALREADY_EXISTS), then create the version.
    reg.create_model(name)
    assert_error(api.post("registered-models/create", {"name": name}), 400,
                 "RESOURCE_ALREADY_EXISTS")
    mv = reg.create_version_ok(name, f"runs:/{run_id}/model", run_id=run_id)
    assert_version_shape(mv, name, 1)
    assert mv["run_id"] == run_id
    assert reg.get_version_ok(name, 1)["status"] == "READY"  # the client polls for READY
    staged = reg.transition_ok(name, 1, "Staging")
    assert staged["current_stage"] == "Staging"
    latest = assert_ok(api.post("registered-models/get-latest-versions",
                                {"name": name, "stages": ["Staging"]}))["model_versions"]
    assert [(v["version"], v["current_stage"]) for v in latest] == [("1", "Staging")]
    uri = assert_ok(api.get("model-versions/get-download-uri",
                            {"name": name, "version": "1"}))["artifact_uri"]
    assert uri == run["info"]["artifact_uri"] + "/model"
    # The download URI is served by the artifact proxy.
    arts = Artifacts(server.url, api.artifacts_prefix, api.session)
    rel = uri.split("mlflow-artifacts:", 1)[1].lstrip("/")
    assert set(arts.files(rel)) == {"MLmodel", "model.bin"}
    assert arts.get(f"{rel}/MLmodel").content == mlmodel
    resp = api.root("model-versions/get-artifact",
                    params={"name": name, "version": "1", "path": "MLmodel"})
    assert resp.status_code == 200 and resp.content == mlmodel
    assert_ok(reg.set_alias(name, "champion", 1))
    by_alias = assert_ok(api.get("registered-models/alias",
                                 {"name": name, "alias": "champion"}))["model_version"]
    assert by_alias["current_stage"] == "Staging" and by_alias["aliases"] == ["champion"]
    rm = reg.get_model_ok(name)
    assert rm["latest_versions"][0]["version"] == "1"
    assert rm["aliases"] == [{"alias": "champion", "version": "1"}]


# ---- the embedded CLI on the server's own stores --------------------------------------------

def _lakeml_cli(server, *args):
    binary = os.environ.get("LAKEML_BIN",
                            str(Path(__file__).resolve().parents[2] / "build" / "bin" / "lakeml"))
    cmd = [binary, "models", *args, "--data", str(server.data_dir),
           "--artifacts-destination", str(server.artifact_root)]
    backend = os.environ.get("LAKEML_TEST_BACKEND_URI")
    if backend:
        cmd += ["--backend-store-uri", backend]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=server.base_dir)


def test_cli_models_commands(local_server, api2, reg2):
    """`lakeml models` works on the same database and artifacts the server uses."""
    run = api2.create_run(api2.create_experiment())
    run_id = run["info"]["run_id"]
    upload_model_dir(local_server, api2, run)
    name = unique("cli_model")
    done = _lakeml_cli(local_server, "register", f"runs:/{run_id}/model", name)
    assert done.returncode == 0, done.stderr
    assert f"models:/{name}/1" in done.stdout.splitlines()
    mv = reg2.get_version_ok(name, 1)
    assert mv["source"] == f"runs:/{run_id}/model" and mv["run_id"] == run_id
    done = _lakeml_cli(local_server, "register", f"runs:/{run_id}/model", name)
    assert f"models:/{name}/2" in done.stdout.splitlines()
    done = _lakeml_cli(local_server, "transition", name, "1", "staging")
    assert done.returncode == 0, done.stderr
    assert reg2.get_version_ok(name, 1)["current_stage"] == "Staging"
    assert _lakeml_cli(local_server, "transition", name, "2", "Staging",
                       "--archive-existing").returncode == 0
    assert reg2.get_version_ok(name, 1)["current_stage"] == "Archived"
    assert _lakeml_cli(local_server, "alias", name, "champion", "2").returncode == 0
    got = assert_ok(api2.get("registered-models/alias", {"name": name, "alias": "champion"}))
    assert got["model_version"]["version"] == "2"
    listed = _lakeml_cli(local_server, "list")
    assert listed.returncode == 0
    row = [line for line in listed.stdout.splitlines() if line.startswith(name + " ")]
    assert row and "Staging:2" in row[0] and "champion=2" in row[0], listed.stdout
    shown = _lakeml_cli(local_server, "show", name)
    assert shown.returncode == 0 and "champion -> version 2" in shown.stdout
    assert "VERSION" in shown.stdout and "Archived" in shown.stdout
    # Refused sources and bad input fail with exit code 1 and leave nothing behind.
    evil = unique("cli_evil")
    for args in (("register", "/etc/passwd", evil), ("register", "file:///etc/", evil),
                 ("register", "mlflow-artifacts:/../../etc", evil, "--run-id", run_id)):
        done = _lakeml_cli(local_server, *args)
        assert done.returncode == 1 and "INVALID_ARGUMENT" in done.stderr, done
    assert_error(reg2.get_model(evil), 404, "RESOURCE_DOES_NOT_EXIST")
    assert _lakeml_cli(local_server, "transition", name, "1", "prod").returncode == 1
    assert _lakeml_cli(local_server, "show", unique("missing")).returncode == 1
