"""Session fixtures: the broker under test, an HTTP client, ids, tenants and a loopback @context server.

``BROKER_URL`` (for example ``http://127.0.0.1:1026``) selects an already running broker; the API root
is ``$BROKER_URL/ngsi-ld/v1``. Without it, ``python -m ngsild serve`` is started once per session on a
free loopback port and terminated at the end: on an in-memory SQLite store, or with
``CONFORMANCE_STORE=mongodb`` on MongoDB (``MONGO_URI``, else a SecantusDB stand-in started for the
session; see mongo_standin.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from conformance.helpers import ContextServer, new_id
from conformance.receiver import Receiver
from mongo_standin import mongo_uri, with_database

API_PREFIX = "/ngsi-ld/v1"
STARTUP_TIMEOUT_S = 15.0
REPO_ROOT = Path(__file__).resolve().parent.parent
SMART_DATA_MODELS = REPO_ROOT.parent / "shared" / "smart-data-models"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(base_url: str, proc: subprocess.Popen[bytes] | None, log_path: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    probe = f"{base_url}{API_PREFIX}/entities/urn:ngsi-ld:X:probe"
    while True:
        if proc is not None and proc.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path else ""
            pytest.exit(f"broker exited with {proc.returncode} before answering:\n{log[-4000:]}", returncode=3)
        try:
            httpx.get(probe, timeout=1.0)
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            log = log_path.read_text(errors="replace") if log_path else ""
            pytest.exit(f"broker at {base_url} did not answer within {STARTUP_TIMEOUT_S}s:\n{log[-4000:]}", 3)
        time.sleep(0.05)


@pytest.fixture(scope="session")
def store_url() -> Iterator[str]:
    """The store of the broker this session starts."""
    if os.environ.get("CONFORMANCE_STORE", "sqlite") != "mongodb":
        yield "sqlite://:memory:"
        return
    with mongo_uri() as uri:
        name = f"conformance_{uuid.uuid4().hex[:12]}"
        yield with_database(uri, name)
        with MongoClient(uri) as client:
            client.drop_database(name)


@pytest.fixture(scope="session")
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The broker's base URL (without the API root)."""
    external = os.environ.get("BROKER_URL")
    if external:
        url = external.rstrip("/")
        _wait_until_up(url, None, None)
        yield url
        return
    store = request.getfixturevalue("store_url")
    port = _free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="ngsild-conformance-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log_file.name)
    cmd = [
        sys.executable,
        "-m",
        "ngsild",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        store,
        "--egress-allow",
        "127.0.0.0/8,::1,localhost",
    ]
    if SMART_DATA_MODELS.is_dir():  # the broker's Smart Data Models extension (test_ex_datamodels.py)
        cmd += ["--datamodels", str(SMART_DATA_MODELS), "--validation", "enforce"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log_file.close()
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def api_root(broker_url: str) -> str:
    """The NGSI-LD API root, ``<broker>/ngsi-ld/v1``."""
    return broker_url + API_PREFIX


@pytest.fixture(scope="session")
def client(api_root: str) -> Iterator[httpx.Client]:
    """A synchronous client whose base_url is the API root; it never follows redirects."""
    with httpx.Client(base_url=api_root, timeout=30.0) as c:
        yield c


@pytest.fixture
def make_id() -> Callable[..., str]:
    """Build unique entity ids: ``make_id("Vehicle") -> urn:ngsi-ld:Vehicle:<uuid4>``."""
    return new_id


@pytest.fixture
def tenant() -> str:
    """A tenant name no other test uses (the tenant does not exist until something creates it)."""
    return f"conf{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def context_server() -> Iterator[ContextServer]:
    """The loopback @context server (127.0.0.1, free port), for remote-context tests."""
    server_ref: dict[str, ContextServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            srv = server_ref["srv"]
            path = self.path.split("?")[0]
            srv.hits[path] = srv.hits.get(path, 0) + 1
            status, data, ctype = srv.routes.get(path, (404, b"{}", "application/json"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    srv = ContextServer(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    server_ref["srv"] = srv
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def user_context_url(context_server: ContextServer) -> str:
    """The URL of the shared user @context (terms of ``helpers.USER_CONTEXT``)."""
    return context_server.valid()


@pytest.fixture
def unreachable_context_url() -> str:
    """A context URL on a loopback port nobody listens on."""
    return f"http://127.0.0.1:{_free_port()}/ctx/unreachable.jsonld"


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    """The loopback notification receiver (127.0.0.1, free port); each test uses its own ``new_path()``."""
    recv = Receiver().start()
    try:
        yield recv
    finally:
        recv.stop()
