"""Shared helpers for the REST suite: a thin client over `requests` and error assertions.

Everything here is written from shared/reference/mlflow-rest.md (the MLflow wire contract),
not from lakeml's implementation.
"""

import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

import requests

# Every classic RPC is served on both prefixes (§1.1).
TRACKING_PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"]
ARTIFACT_PREFIXES = ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"]

MISSING_VALUE_MSG = "Missing value for required parameter"


def unique(prefix="t"):
    """A name no other test uses (tests share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def now_ms():
    return int(time.time() * 1000)


def assert_error(resp, status, code=None, message=None):
    """Asserts an MLflow error response: the HTTP status, a JSON object body with `error_code`
    (and `message`), and optionally that `message` contains a substring."""
    assert resp.status_code == status, (
        f"expected HTTP {status} {code or ''}, got {resp.status_code}: {resp.text[:500]}")
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {resp.text[:500]!r}")
    assert isinstance(body, dict), f"error body is not a JSON object: {body!r}"
    assert "error_code" in body, f"no error_code in {body!r}"
    assert isinstance(body.get("message", ""), str)
    if code is not None:
        assert body["error_code"] == code, f"expected {code}, got {body!r}"
    if message is not None:
        assert message in body.get("message", ""), f"expected {message!r} in {body!r}"
    return body


def assert_ok(resp):
    """Asserts a 200 whose body is a JSON object (§1.3: the Python client rejects anything else)
    and returns it."""
    assert resp.status_code == 200, f"HTTP {resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, dict), f"200 body is not a JSON object: {resp.text[:200]!r}"
    return body


def tags_dict(tags):
    return {t["key"]: t.get("value") for t in (tags or [])}


def by_key(items):
    return {m["key"]: m for m in (items or [])}


class Api:
    """A client for one URL prefix of the tracking API.

    `api.post("runs/create", {...})` sends JSON to `<base><prefix>/runs/create` and returns the
    `requests.Response`; the `*_ok` helpers assert success and return the decoded body.
    """

    def __init__(self, base_url, prefix="/api/2.0/mlflow", session=None):
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix
        self.session = session or requests.Session()
        # The artifact service lives beside the tracking prefix: /api/2.0/mlflow-artifacts.
        self.artifacts_prefix = prefix.replace("/mlflow", "/mlflow-artifacts", 1)

    # -- raw calls -------------------------------------------------------------------------
    def url(self, path):
        return f"{self.base_url}{self.prefix}/{path.lstrip('/')}"

    def get(self, path, params=None, **kw):
        return self.session.get(self.url(path), params=params, timeout=60, **kw)

    def post(self, path, body=None, **kw):
        return self.session.post(self.url(path), json={} if body is None else body, timeout=60,
                                 **kw)

    def patch(self, path, body=None, **kw):
        return self.session.patch(self.url(path), json={} if body is None else body, timeout=60,
                                  **kw)

    def delete(self, path, body=None, **kw):
        if body is None:
            return self.session.delete(self.url(path), timeout=60, **kw)
        return self.session.delete(self.url(path), json=body, timeout=60, **kw)

    def root(self, path, **kw):
        """GET a non-prefixed route such as /health or /get-artifact."""
        return self.session.get(f"{self.base_url}/{path.lstrip('/')}", timeout=60, **kw)

    def artifact_url(self, path=""):
        base = f"{self.base_url}{self.artifacts_prefix}/artifacts"
        return f"{base}/{path}" if path else base

    # -- asserted helpers ------------------------------------------------------------------
    def get_ok(self, path, params=None):
        return assert_ok(self.get(path, params))

    def post_ok(self, path, body=None):
        return assert_ok(self.post(path, body))

    def create_experiment(self, name=None, **fields):
        body = {"name": name or unique("exp"), **fields}
        exp_id = self.post_ok("experiments/create", body)["experiment_id"]
        assert isinstance(exp_id, str) and exp_id, exp_id
        return exp_id

    def get_experiment(self, exp_id):
        return self.get_ok("experiments/get", {"experiment_id": exp_id})["experiment"]

    def create_run(self, exp_id, **fields):
        body = {"experiment_id": exp_id, "start_time": now_ms(), **fields}
        return self.post_ok("runs/create", body)["run"]

    def get_run(self, run_id):
        return self.get_ok("runs/get", {"run_id": run_id})["run"]

    def log_metric(self, run_id, key, value, timestamp=None, step=None):
        body = {"run_id": run_id, "key": key, "value": value,
                "timestamp": now_ms() if timestamp is None else timestamp}
        if step is not None:
            body["step"] = step
        return self.post_ok("runs/log-metric", body)

    def log_param(self, run_id, key, value):
        return self.post_ok("runs/log-parameter", {"run_id": run_id, "key": key, "value": value})

    def set_tag(self, run_id, key, value):
        return self.post_ok("runs/set-tag", {"run_id": run_id, "key": key, "value": value})

    def metric_history(self, run_id, key, **params):
        """All points of a metric, following next_page_token."""
        points, token, pages = [], None, 0
        while True:
            query = {"run_id": run_id, "metric_key": key, **params}
            if token:
                query["page_token"] = token
            body = self.get_ok("metrics/get-history", query)
            points += body.get("metrics", [])
            token = body.get("next_page_token")
            pages += 1
            assert pages < 10000
            if not token:
                return points

    def search_runs(self, exp_ids, **fields):
        return self.post_ok("runs/search", {"experiment_ids": list(exp_ids), **fields})

    def search_runs_all(self, exp_ids, page_size, **fields):
        """Walks every page of runs/search; returns the runs in order and the page count."""
        runs, token, pages = [], None, 0
        while True:
            body = {"max_results": page_size, **fields}
            if token:
                body["page_token"] = token
            page = self.search_runs(exp_ids, **body)
            got = page.get("runs", [])
            assert len(got) <= page_size
            runs += got
            pages += 1
            token = page.get("next_page_token")
            assert pages < 10000
            if not token:
                return runs, pages


class Artifacts:
    """The proxied artifact service on one prefix."""

    def __init__(self, base_url, prefix, session):
        self.base = f"{base_url}{prefix}/artifacts"
        self.s = session

    def put(self, path, data, content_type="application/octet-stream"):
        return self.s.put(f"{self.base}/{path}", data=data, timeout=120,
                          headers={"Content-Type": content_type})

    def get(self, path, timeout=120, **kw):
        return self.s.get(f"{self.base}/{path}", timeout=timeout, **kw)

    def delete(self, path):
        return self.s.delete(f"{self.base}/{path}", timeout=120)

    def list(self, path=None):
        params = {"path": path} if path is not None else None
        return self.s.get(self.base, params=params, timeout=120)

    def files(self, path=None):
        return {f["path"]: f for f in assert_ok(self.list(path)).get("files", [])}


def raw_request(base_url, method, target, headers=None, body=None, timeout=60):
    """Sends a request with the request-target exactly as given (no client-side normalisation of
    `..` or percent-escapes, which urllib3 would do). Returns (status, headers, body bytes)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data
    finally:
        conn.close()


def raw_json(data):
    try:
        return json.loads(data)
    except ValueError:
        return None
