"""Starts one `lakeml server` for the whole session and hands tests an `Api` per URL prefix.

Environment:
  LAKEML_BIN               the binary (default: <repo>/build/bin/lakeml)
  LAKEML_TEST_BACKEND_URI  a postgresql:// URI; the server then keeps its metadata there
  LAKEML_TEST_URL          use an already running server instead of starting one (tests that
                           inspect the server's files or memory are then skipped)
  LAKEML_TEST_KEEP_DATA=1  keep the temp data dir (its path is printed)
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import ARTIFACT_PREFIXES, TRACKING_PREFIXES, Api  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
_STARTED = {}


class Server:
    """What tests may know about the server under test."""

    def __init__(self, url, proc=None, base_dir=None, data_dir=None, artifact_root=None):
        self.url = url
        self.proc = proc
        self.base_dir = base_dir          # temp dir holding data_dir; nothing else writes here
        self.data_dir = data_dir          # --data
        self.artifact_root = artifact_root  # --artifacts-destination

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def local(self):
        return self.proc is not None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url, proc, log_path, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def _tail(path, n=60):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def server():
    external = os.environ.get("LAKEML_TEST_URL")
    if external:
        yield Server(external.rstrip("/"))
        return

    binary = Path(os.environ.get("LAKEML_BIN", REPO / "build" / "bin" / "lakeml"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} not found: build it first (make)", pytrace=False)

    base_dir = Path(tempfile.mkdtemp(prefix="lakeml-rest-"))
    data_dir = base_dir / "data"
    artifact_root = data_dir / "artifacts"
    data_dir.mkdir()
    backend = os.environ.get("LAKEML_TEST_BACKEND_URI")
    log_path = base_dir / "server.log"

    proc = url = None
    for _attempt in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [str(binary), "server", "--host", "127.0.0.1", "--port", str(port),
               "--data", str(data_dir), "--artifacts-destination", str(artifact_root)]
        if backend:
            cmd += ["--backend-store-uri", backend]
        log = open(log_path, "ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=base_dir)
        log.close()
        if _wait_healthy(url, proc, log_path):
            break
        proc.kill()
        proc.wait()
        proc = None
    if proc is None:
        pytest.fail(f"lakeml server did not become healthy; log:\n{_tail(log_path)}",
                    pytrace=False)

    print(f"\nlakeml server pid {proc.pid} at {url}, data {data_dir}, "
          f"backend {backend or 'sqlite'}", file=sys.stderr)
    srv = Server(url, proc, base_dir, data_dir, artifact_root)
    _STARTED["server"] = srv
    yield srv
    _STARTED.pop("server", None)

    crashed = proc.poll()
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if crashed is not None:
        print(f"lakeml server had exited with {crashed} before teardown; log:\n"
              f"{_tail(log_path)}", file=sys.stderr)
    if os.environ.get("LAKEML_TEST_KEEP_DATA") == "1":
        print(f"kept {base_dir}", file=sys.stderr)
    else:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _server_alive():
    """Fails a test loudly when the server died during it, instead of cascading errors."""
    yield
    srv = _STARTED.get("server")
    if srv is not None and srv.proc is not None and srv.proc.poll() is not None:
        pytest.fail(f"lakeml server exited with code {srv.proc.returncode}", pytrace=False)


@pytest.fixture(params=TRACKING_PREFIXES, ids=["api", "ajax"])
def api(server, request):
    """The tracking API on each prefix: tests using it run once per prefix."""
    with requests.Session() as session:
        yield Api(server.url, request.param, session)


@pytest.fixture
def api2(server):
    """The tracking API on /api/2.0/mlflow only, for tests too heavy to repeat per prefix."""
    with requests.Session() as session:
        yield Api(server.url, TRACKING_PREFIXES[0], session)


@pytest.fixture(params=ARTIFACT_PREFIXES, ids=["api", "ajax"])
def artifacts_prefix(request):
    return request.param


@pytest.fixture
def exp_id(api):
    return api.create_experiment()


@pytest.fixture
def run(api, exp_id):
    return api.create_run(exp_id)


@pytest.fixture
def run_id(run):
    return run["info"]["run_id"]


@pytest.fixture
def local_server(server):
    if not server.local:
        pytest.skip("needs a server started by the suite (LAKEML_TEST_URL is set)")
    return server
