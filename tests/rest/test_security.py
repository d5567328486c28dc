"""Security cases from reference §7.6 and §12: artifact path traversal on every surface (table
driven, checked on the filesystem), symlink escapes, artifact_location escapes, DNS rebinding."""

import os
from pathlib import Path

import pytest
import requests

from helpers import Api, Artifacts, assert_ok, raw_json, raw_request, unique

VICTIM_TEXT = b"victim: must never be read, changed or deleted through the API\n"
UP = "../" * 12  # from any artifact directory up to "/"


def _encodings(abs_victim):
    """(id, template, strict) where template holds {top} (a fresh dir under the artifact root)
    and the result is put verbatim in the request. `abs_victim` has no leading slash."""
    rel = UP + abs_victim
    win = abs_victim.replace("/", "\\")
    return [
        ("dotdot", "{top}/" + rel, True),
        ("dotdot-only", "..", True),
        ("dotdot-trailing", "{top}/..", True),
        ("pct-2e2e2f", "{top}/" + rel.replace("../", "%2e%2e%2f"), True),
        ("pct-upper", "{top}/" + rel.replace("../", "%2E%2E%2F"), True),
        ("dotdot-pct-2f", "{top}/" + rel.replace("../", "..%2f"), True),
        ("pct-2e-dot", "{top}/" + rel.replace("../", ".%2e/"), True),
        ("double-encoded", "{top}/" + rel.replace("../", "%252e%252e%252f"), True),
        ("triple-encoded", "{top}/" + rel.replace("../", "%25252e%25252e%25252f"), True),
        ("backslash", "{top}\\" + "..\\" * 12 + win, True),
        ("backslash-pct", "{top}%5c" + "..%5c" * 12 + win.replace("\\", "%5c"), True),
        ("backslash-double", "{top}%255c" + "..%255c" * 12 + win.replace("\\", "%255c"), True),
        ("mixed-slashes", "{top}/..\\../" + rel, True),
        ("absolute-pct", "%2f" + abs_victim.replace("/", "%2f"), True),
        ("absolute-double", "%252f" + abs_victim.replace("/", "%252f"), True),
        ("absolute-raw", "/" + abs_victim, False),  # "//" may be merged by the HTTP layer
        ("windows-drive", "C:%5cWindows%5cwin.ini", True),
        ("windows-drive-raw", "C:\\Windows\\win.ini", True),
        ("windows-drive-slash", "C:/Windows/win.ini", True),
        ("unc", "%5c%5cevil-host%5cshare%5cx", True),
        ("hash", "{top}/a%23b.txt", True),
        ("hash-traversal", "{top}/x%23/" + rel, True),
        ("nul", "{top}/a%00.txt", True),
        ("nul-double", "{top}/a%2500.txt", True),
        ("nul-traversal", "{top}/..%00/" + rel, True),
        ("file-uri", "file:%2f%2f%2f" + abs_victim.replace("/", "%2f"), True),
        ("file-uri-traversal", "file:%2f%2f{top}%2f" + rel.replace("/", "%2f"), True),
    ]


class Fs:
    """The server's files: victims outside the artifact root, and a snapshot to diff."""

    def __init__(self, server):
        self.root = Path(server.artifact_root)
        self.base = Path(server.base_dir)
        self.victims = [self.base / "victim.txt", Path(server.data_dir) / "victim.txt"]
        for v in self.victims:
            v.write_bytes(VICTIM_TEXT)
        self.before = self.outside_files()

    def outside_files(self):
        out = {}
        for dirpath, dirs, files in os.walk(self.base):
            dirs[:] = [d for d in dirs if Path(dirpath) / d != self.root]
            for name in files:
                p = Path(dirpath) / name
                if self.root in p.parents or name.startswith("lakeml.db") \
                        or name == "server.log":
                    continue
                try:
                    out[str(p)] = p.stat().st_size
                except FileNotFoundError:
                    pass
        return out

    def check(self, what):
        for v in self.victims:
            assert v.exists(), f"{what}: {v} was deleted"
            assert v.read_bytes() == VICTIM_TEXT, f"{what}: {v} was changed"
        after = self.outside_files()
        assert after == self.before, f"{what}: files outside the artifact root changed: " \
            f"{set(after.items()) ^ set(self.before.items())}"
        for stray in ("/tmp/victim.txt", "/victim.txt", "/planted.txt"):
            assert not Path(stray).exists(), f"{what}: wrote {stray}"


@pytest.fixture(scope="module")
def fs(server):
    if not server.local:
        pytest.skip("needs the server's filesystem (LAKEML_TEST_URL is set)")
    return Fs(server)


@pytest.fixture(scope="module")
def sec_run(server):
    api = Api(server.url)
    exp_id = api.create_experiment()
    run = api.create_run(exp_id)
    # One real artifact so that listing and fetching work at all.
    arts = Artifacts(server.url, "/api/2.0/mlflow-artifacts", api.session)
    root = run["info"]["artifact_uri"].split("mlflow-artifacts:", 1)[1].lstrip("/")
    assert_ok(arts.put(f"{root}/ok.txt", b"ok"))
    return run["info"]["run_id"]


def _cases(server_base="/tmp/lakeml-rest-x"):
    return _encodings(server_base.lstrip("/") + "/victim.txt")


CASE_IDS = [c[0] for c in _cases()]
SURFACES = ["put", "get", "delete", "list", "get-artifact", "artifacts-list"]
QUERY_SURFACES = {"list", "get-artifact", "artifacts-list"}


def _request(server, surface, prefix, target, run_id):
    """Sends one attack; returns the HTTP status."""
    art = f"{prefix}/artifacts"
    if surface == "put":
        status, _, body = raw_request(server.url, "PUT", f"{art}/{target}",
                                      {"Content-Type": "application/octet-stream"},
                                      b"attacker-bytes")
    elif surface == "get":
        status, _, body = raw_request(server.url, "GET", f"{art}/{target}")
    elif surface == "delete":
        status, _, body = raw_request(server.url, "DELETE", f"{art}/{target}")
    elif surface == "list":
        status, _, body = raw_request(server.url, "GET", f"{art}?path={target}")
    elif surface == "get-artifact":
        status, _, body = raw_request(server.url, "GET",
                                      f"/get-artifact?run_id={run_id}&path={target}")
    else:
        api_prefix = prefix.replace("/mlflow-artifacts", "/mlflow")
        status, _, body = raw_request(server.url, "GET",
                                      f"{api_prefix}/artifacts/list?run_id={run_id}&path={target}")
    assert VICTIM_TEXT not in body, "the victim file was served"
    return status, body


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case_id", CASE_IDS)
@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"],
                         ids=["api", "ajax"])
def test_artifact_path_traversal(server, fs, sec_run, surface, case_id, prefix):
    cases = {c[0]: c for c in _encodings(str(fs.base).lstrip("/") + "/victim.txt")}
    _, template, strict = cases[case_id]
    strict = strict or surface in QUERY_SURFACES  # a query value has no "//" merging excuse
    top = unique("sec")
    # A real directory to start from, so "not found" cannot hide a missing check.
    Artifacts(server.url, prefix, requests.Session()).put(f"{top}/seed.txt", b"seed")
    target = template.format(top=top)
    status, body = _request(server, surface, prefix, target, sec_run)
    if strict:
        assert status == 400, f"{surface} {target!r}: HTTP {status} {body[:300]!r}"
        parsed = raw_json(body)
        if parsed is not None:
            assert parsed.get("error_code") in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"), parsed
    else:
        assert status != 500, body[:300]
    fs.check(f"{surface} {target!r}")


def test_symlink_inside_root_pointing_outside(server, fs):
    top = unique("symlink")
    arts = Artifacts(server.url, "/api/2.0/mlflow-artifacts", requests.Session())
    assert_ok(arts.put(f"{top}/seed.txt", b"seed"))
    (fs.root / top / "escape").symlink_to(fs.base, target_is_directory=True)
    (fs.root / top / "victim-link.txt").symlink_to(fs.victims[0])
    for path in (f"{top}/escape/victim.txt", f"{top}/victim-link.txt"):
        resp = arts.get(path)
        assert resp.status_code in (400, 403, 404), f"GET {path}: {resp.status_code}"
        assert VICTIM_TEXT not in resp.content
    resp = arts.put(f"{top}/escape/planted.txt", b"planted")
    assert resp.status_code in (400, 403, 404), resp.status_code
    assert not (fs.base / "planted.txt").exists()
    resp = arts.put(f"{top}/victim-link.txt", b"overwritten")
    assert fs.victims[0].read_bytes() == VICTIM_TEXT
    resp = arts.delete(f"{top}/escape")
    fs.check("symlink")
    listing = arts.list(f"{top}/escape")
    assert b"victim.txt" not in listing.content or listing.status_code != 200


@pytest.mark.parametrize("location_fn", [
    lambda fs: f"file://{fs.base}",
    lambda fs: str(fs.base),
    lambda fs: "file:///etc",
    lambda fs: f"file://{fs.root}/../..",
], ids=["file-uri-base", "abs-path-base", "file-etc", "file-traversal"])
def test_artifact_location_cannot_escape_roots(server, fs, location_fn):
    """An experiment whose artifact_location points outside the configured roots must either be
    refused, or never let its runs read or list files there (§7.6 "Also required")."""
    api = Api(server.url)
    resp = api.post("experiments/create", {"name": unique("loc"),
                                            "artifact_location": location_fn(fs)})
    if resp.status_code == 400:
        return
    assert resp.status_code == 200, resp.text
    exp_id = resp.json()["experiment_id"]
    run = api.create_run(exp_id)
    run_id = run["info"]["run_id"]
    listing = api.get("artifacts/list", {"run_id": run_id})
    names = [f["path"] for f in listing.json().get("files", [])] if listing.ok else []
    assert "victim.txt" not in names and "passwd" not in names, names
    for path in ("victim.txt", "../victim.txt", "passwd", "../../victim.txt"):
        got = api.root("get-artifact", params={"run_id": run_id, "path": path})
        assert VICTIM_TEXT not in got.content and b"root:x:0:0" not in got.content, path
    fs.check("artifact_location")


# ---- DNS rebinding (CVE-2025-14279) ---------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "attacker.test:80"])
@pytest.mark.parametrize("path", ["/health", "/api/2.0/mlflow/experiments/search",
                                  "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0",
                                  "/api/2.0/mlflow-artifacts/artifacts", "/version"])
def test_dns_rebinding_host_rejected(server, host, path):
    resp = requests.get(f"{server.url}{path}", headers={"Host": host}, timeout=30)
    assert resp.status_code == 403, f"{path} with Host {host}: {resp.status_code}"


def test_dns_rebinding_post_rejected(server):
    name = unique("rebind")
    resp = requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": name},
                         headers={"Host": "evil.example"}, timeout=30)
    assert resp.status_code == 403
    check = requests.get(f"{server.url}/api/2.0/mlflow/experiments/get-by-name",
                         params={"experiment_name": name}, timeout=30)
    assert check.status_code == 404


def test_allowed_hosts(server):
    port = server.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", "127.0.0.1"):
        resp = requests.get(f"{server.url}/health", headers={"Host": host}, timeout=30)
        assert resp.status_code == 200, host
