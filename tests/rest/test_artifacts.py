"""Proxied artifact service, run artifact listing, /get-artifact, multipart, and 1 GB streaming
(reference §2.2 artifacts/list, §7)."""

import hashlib
import os
import shutil
import threading
import time

import pytest
import requests

from helpers import MISSING_VALUE_MSG, Artifacts, assert_error, assert_ok, unique

UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def arts(server, artifacts_prefix):
    with requests.Session() as session:
        yield Artifacts(server.url, artifacts_prefix, session)


def test_put_get_roundtrip(arts):
    top = unique("art")
    body = b"hello artifacts\n" * 100
    assert assert_ok(arts.put(f"{top}/dir/hello.txt", body, "text/plain")) == {}
    resp = arts.get(f"{top}/dir/hello.txt")
    assert resp.status_code == 200
    assert resp.content == body
    assert resp.headers["Content-Disposition"] == "attachment; filename=hello.txt"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("name,content_type,guessed", [
    ("model.json", "application/json", "application/json"),
    ("plot.png", "image/png", "image/png"),
    ("weights.bin", "application/octet-stream", "application/octet-stream"),
    ("notes", "text/plain; charset=utf-8", None),
])
def test_put_accepts_any_content_type(arts, name, content_type, guessed):
    """The client sends the MIME type guessed from the extension, not application/json."""
    path = f"{unique('ct')}/{name}"
    data = os.urandom(1000)
    assert_ok(arts.put(path, data, content_type))
    resp = arts.get(path)
    assert resp.content == data
    if guessed:
        assert resp.headers["Content-Type"].startswith(guessed)


def test_overwrite(arts):
    path = f"{unique('ow')}/f.bin"
    assert_ok(arts.put(path, b"first version"))
    assert_ok(arts.put(path, b"second"))
    assert arts.get(path).content == b"second"


def test_empty_file(arts):
    path = f"{unique('empty')}/nothing.txt"
    assert_ok(arts.put(path, b""))
    resp = arts.get(path, timeout=15)
    assert resp.status_code == 200 and resp.content == b""
    entry = arts.files(path.rsplit("/", 1)[0])["nothing.txt"]
    assert entry.get("file_size", 0) == 0


def test_list_returns_basenames(arts):
    top = unique("ls")
    assert_ok(arts.put(f"{top}/a.txt", b"12345"))
    assert_ok(arts.put(f"{top}/sub/b.txt", b"1"))
    assert_ok(arts.put(f"{top}/sub/deeper/c.txt", b"12"))
    files = arts.files(top)
    assert set(files) == {"a.txt", "sub"}
    assert files["a.txt"].get("is_dir", False) is False and files["a.txt"]["file_size"] == 5
    assert files["sub"]["is_dir"] is True and "file_size" not in files["sub"]
    sub = arts.files(f"{top}/sub")
    assert set(sub) == {"b.txt", "deeper"}
    assert sub["b.txt"]["file_size"] == 1
    assert set(arts.files(f"{top}/sub/deeper")) == {"c.txt"}
    # Listing a file rather than a directory gives an empty list.
    assert arts.files(f"{top}/a.txt") == {}
    # The root lists our top directory among others.
    root = arts.files()
    assert root[top]["is_dir"] is True


def test_list_missing_dir_is_empty(arts):
    resp = arts.list(unique("nodir"))
    assert resp.status_code in (200, 404), resp.text
    if resp.status_code == 200:
        assert resp.json().get("files", []) == []


def test_delete_recursive(arts):
    top = unique("del")
    assert_ok(arts.put(f"{top}/keep.txt", b"k"))
    assert_ok(arts.put(f"{top}/gone/x.txt", b"x"))
    assert_ok(arts.put(f"{top}/gone/y/z.txt", b"z"))
    assert assert_ok(arts.delete(f"{top}/gone")) == {}
    assert arts.get(f"{top}/gone/x.txt").status_code == 404
    assert set(arts.files(top)) == {"keep.txt"}
    assert_ok(arts.delete(f"{top}/keep.txt"))
    assert arts.get(f"{top}/keep.txt").status_code == 404


def test_get_missing_is_404(arts):
    resp = arts.get(f"{unique('missing')}/nope.txt")
    assert resp.status_code == 404
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    assert "error_code" in resp.json()


def test_get_directory_is_not_a_file(arts):
    top = unique("dirget")
    assert_ok(arts.put(f"{top}/d/f.txt", b"x"))
    resp = arts.get(f"{top}/d")
    assert resp.status_code in (400, 404), resp.text
    assert "error_code" in resp.json()


def test_multipart_not_implemented(server, artifacts_prefix):
    path = f"{unique('mpu')}/big.bin"
    resp = requests.post(f"{server.url}{artifacts_prefix}/mpu/create/{path}",
                         json={"path": path, "num_parts": 3}, timeout=30)
    body = assert_error(resp, 501, "NOT_IMPLEMENTED")
    assert body["message"].startswith(
        "Multipart upload is not supported for the current artifact repository")


# ---- run artifacts: artifacts/list and /get-artifact ----------------------------------------

def _proxy_path(artifact_uri):
    """mlflow-artifacts:/<path> (or mlflow-artifacts://host/<path>) -> <path> (§7.3)."""
    scheme = "mlflow-artifacts:"
    assert artifact_uri.startswith(scheme), f"run is not proxied: {artifact_uri}"
    rest = artifact_uri[len(scheme):]
    if rest.startswith("//"):
        rest = rest[2:].split("/", 1)[1] if "/" in rest[2:] else ""
    return rest.lstrip("/")


@pytest.fixture
def run_with_artifacts(api, run):
    arts = Artifacts(api.base_url, api.artifacts_prefix, api.session)
    root = _proxy_path(run["info"]["artifact_uri"])
    assert_ok(arts.put(f"{root}/model/MLmodel", b"artifact_path: model\n"))
    assert_ok(arts.put(f"{root}/model/model.xgb", b"\x00" * 300))
    assert_ok(arts.put(f"{root}/metrics.json", b'{"auc": 0.9}'))
    return run


def test_run_artifacts_list(api, run_with_artifacts):
    run_id = run_with_artifacts["info"]["run_id"]
    body = api.get_ok("artifacts/list", {"run_id": run_id})
    assert body["root_uri"] == run_with_artifacts["info"]["artifact_uri"]
    files = {f["path"]: f for f in body["files"]}
    assert set(files) == {"model", "metrics.json"}
    assert files["model"]["is_dir"] is True
    assert files["metrics.json"]["file_size"] == len(b'{"auc": 0.9}')
    body = api.get_ok("artifacts/list", {"run_id": run_id, "path": "model"})
    files = {f["path"]: f for f in body["files"]}
    assert set(files) == {"model/MLmodel", "model/model.xgb"}  # relative to the run root
    assert files["model/model.xgb"]["file_size"] == 300
    by_uuid = api.get_ok("artifacts/list", {"run_uuid": run_id, "path": "model"})
    assert len(by_uuid["files"]) == 2


def test_run_artifacts_list_empty_and_errors(api, run):
    body = api.get_ok("artifacts/list", {"run_id": run["info"]["run_id"]})
    assert body.get("files", []) == []
    assert_error(api.get("artifacts/list", {"run_id": UNKNOWN_RUN}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get("artifacts/list"), 400, "INVALID_PARAMETER_VALUE", MISSING_VALUE_MSG)


def test_get_artifact(api, run_with_artifacts):
    run_id = run_with_artifacts["info"]["run_id"]
    resp = api.root("get-artifact", params={"run_id": run_id, "path": "model/MLmodel"})
    assert resp.status_code == 200
    assert resp.content == b"artifact_path: model\n"
    assert "attachment" in resp.headers.get("Content-Disposition", "")
    resp = api.root("get-artifact", params={"run_uuid": run_id, "path": "metrics.json"})
    assert resp.content == b'{"auc": 0.9}'
    resp = api.root("get-artifact", params={"run_id": run_id, "path": "model/absent"})
    assert resp.status_code == 404
    resp = api.root("get-artifact", params={"run_id": UNKNOWN_RUN, "path": "x"})
    assert_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


# ---- large artifact streaming ---------------------------------------------------------------

def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class _RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, _rss_kb(self.pid))
            time.sleep(0.02)


CHUNK = 1 << 20
TOTAL_CHUNKS = 1024  # 1 GiB


def _chunks(digest):
    block = hashlib.sha256(b"lakeml").digest() * (CHUNK // 32)
    for i in range(TOTAL_CHUNKS):
        chunk = i.to_bytes(8, "little") + block[8:]
        digest.update(chunk)
        yield chunk


@pytest.mark.slow
def test_one_gib_streams_with_bounded_memory(local_server):
    server = local_server
    free = shutil.disk_usage(server.artifact_root.parent).free
    if free < 3 * (1 << 30):
        pytest.skip(f"needs 3 GiB free disk, have {free >> 20} MiB")
    session = requests.Session()
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
    path = f"{unique('big')}/one-gib.bin"
    # Warm up the server's buffers first so the baseline is fair.
    assert_ok(session.put(f"{base}/{unique('warm')}/w.bin", data=os.urandom(4 * CHUNK),
                          timeout=60))
    baseline_kb = _rss_kb(server.pid)

    sampler = _RssSampler(server.pid)
    sampler.start()
    try:
        sent = hashlib.sha256()
        # A generator body makes requests use chunked transfer encoding.
        resp = session.put(f"{base}/{path}", data=_chunks(sent),
                           headers={"Content-Type": "application/octet-stream"}, timeout=600)
        assert_ok(resp)
        upload_peak_kb = sampler.peak_kb
        on_disk = server.artifact_root / path
        assert on_disk.stat().st_size == CHUNK * TOTAL_CHUNKS

        got, size = hashlib.sha256(), 0
        with session.get(f"{base}/{path}", stream=True, timeout=600) as resp:
            assert resp.status_code == 200
            for piece in resp.iter_content(CHUNK):
                got.update(piece)
                size += len(piece)
        assert size == CHUNK * TOTAL_CHUNKS
        assert got.hexdigest() == sent.hexdigest()
    finally:
        sampler.stop.set()
        sampler.join()
        session.delete(f"{base}/{path}", timeout=120)
    growth_mb = (sampler.peak_kb - baseline_kb) / 1024
    print(f"RSS baseline {baseline_kb // 1024} MiB, upload peak {upload_peak_kb // 1024} MiB, "
          f"overall peak {sampler.peak_kb // 1024} MiB")
    assert growth_mb < 50, f"server RSS grew by {growth_mb:.0f} MiB while streaming 1 GiB"
    assert not (server.artifact_root / path).exists()
