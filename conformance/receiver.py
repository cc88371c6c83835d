"""A loopback HTTP notification receiver for the subscription tests (sync code, no ngsild imports).

One ThreadingHTTPServer on 127.0.0.1 (free port) runs in a daemon thread and records every POST per path:
the path, the headers (case-insensitive), the parsed JSON body, the monotonic arrival time and the status it
answered. Per path a test can make the receiver answer another status (``fail(path, 500)``) or answer late
(``delay(path, 3.0)``); ``down()`` closes the listening socket and ``up()`` listens again on the same port.
Tests use a fresh path each (``new_path()``), so they never see each other's notifications.
"""

from __future__ import annotations

import errno
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

REBIND_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Notification:
    """One POST the receiver got (a delivery attempt)."""

    path: str
    headers: httpx.Headers
    body: Any
    raw: bytes
    at: float  # time.monotonic() at arrival
    status: int  # the status the receiver answered (or was going to answer, after its delay)
    delayed: float = 0.0

    @property
    def id(self) -> Any:
        return self.body.get("id") if isinstance(self.body, dict) else None

    @property
    def ok(self) -> bool:
        """The receiver answered 2xx without delay (a delayed answer may have been abandoned by the sender)."""
        return 200 <= self.status < 300 and not self.delayed

    @property
    def data(self) -> Any:
        assert isinstance(self.body, dict), f"notification body is not an object: {self.raw[:300]!r}"
        return self.body.get("data")

    @property
    def entity(self) -> dict[str, Any]:
        """The single entity of ``data`` (change-driven notifications carry exactly one)."""
        data = self.data
        assert isinstance(data, list) and len(data) == 1, f"expected data with one entity, got {data!r}"
        assert isinstance(data[0], dict), data
        return data[0]

    def summary(self) -> str:
        text = self.raw.decode("utf-8", errors="replace")
        return f"[{self.status}{' delayed' if self.delayed else ''}] {text[:400]}"


@dataclass
class _Behaviour:
    status: int = 200
    delay: float = 0.0


@dataclass
class Receiver:
    """The notification receiver; see the module docstring."""

    host: str = "127.0.0.1"
    port: int = 0
    _records: dict[str, list[Notification]] = field(default_factory=dict)
    _behaviour: dict[str, _Behaviour] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Receiver:
        """Listen (on a free port the first time, on the same port afterwards)."""
        if self._httpd is not None:
            return self
        deadline = time.monotonic() + REBIND_TIMEOUT_S
        while True:
            try:
                httpd = ThreadingHTTPServer((self.host, self.port), self._handler_class())
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        httpd.daemon_threads = True
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the socket (requests being answered finish on their own threads)."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def down(self) -> None:
        """Be unreachable: the port refuses connections until ``up()``."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    @property
    def is_up(self) -> bool:
        return self._httpd is not None

    # ------------------------------------------------------------------ addresses and behaviour

    def new_path(self, prefix: str = "notify") -> str:
        """A path no other test uses."""
        return f"/{prefix}/{uuid.uuid4().hex}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this receiver."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{self.host}:{self.port}{path}"

    def fail(self, path: str, status: int = 500) -> None:
        """Answer ``status`` to POSTs on ``path`` (200 restores normal behaviour)."""
        with self._cond:
            self._behaviour.setdefault(path, _Behaviour()).status = status

    def delay(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` before answering POSTs on ``path`` (0 restores normal behaviour)."""
        with self._cond:
            self._behaviour.setdefault(path, _Behaviour()).delay = seconds

    def reset(self, path: str) -> None:
        """Answer 200 at once on ``path``."""
        with self._cond:
            self._behaviour.pop(path, None)

    # ------------------------------------------------------------------ what arrived

    def received(self, path: str) -> list[Notification]:
        """Every POST on ``path`` so far (failed and delayed attempts included), in arrival order."""
        with self._cond:
            return list(self._records.get(path, ()))

    def accepted(self, path: str) -> list[Notification]:
        """The POSTs on ``path`` the receiver answered 2xx without delay, in arrival order."""
        return [n for n in self.received(path) if n.ok]

    def wait_until(
        self,
        path: str,
        done: Callable[[list[Notification]], bool],
        timeout: float = 10.0,
        what: str = "the expected notifications",
    ) -> list[Notification]:
        """Wait (up to ``timeout`` s) until ``done(received(path))`` holds and return what arrived; fail with
        a listing of what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = list(self._records.get(path, ()))
                if done(got):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.1))
        listing = "\n".join(f"  +{n.at - got[0].at:.3f}s {n.summary()}" for n in got) or "  (nothing)"
        raise AssertionError(f"timed out after {timeout}s waiting for {what} on {path}; {len(got)} arrived:\n{listing}")

    def wait_for(self, path: str, n: int = 1, timeout: float = 10.0, *, accepted: bool = False) -> list[Notification]:
        """Wait until at least ``n`` POSTs (only those answered 2xx with ``accepted``) arrived on ``path``;
        return them all, in arrival order."""

        def enough(got: list[Notification]) -> bool:
            return len([x for x in got if x.ok] if accepted else got) >= n

        got = self.wait_until(path, enough, timeout, f"{n} {'accepted ' if accepted else ''}notification(s)")
        return [x for x in got if x.ok] if accepted else got

    # ------------------------------------------------------------------ server side

    def _record(self, note: Notification) -> None:
        with self._cond:
            self._records.setdefault(note.path, []).append(note)
            self._cond.notify_all()

    def _behaviour_of(self, path: str) -> _Behaviour:
        with self._cond:
            b = self._behaviour.get(path)
            return _Behaviour(b.status, b.delay) if b else _Behaviour()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: down() really makes the port go away

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_POST(self) -> None:
                at = time.monotonic()
                path = self.path.split("?")[0]
                raw = self._read_body()
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                behaviour = receiver._behaviour_of(path)
                receiver._record(
                    Notification(
                        path=path,
                        headers=httpx.Headers(list(self.headers.items())),
                        body=body,
                        raw=raw,
                        at=at,
                        status=behaviour.status,
                        delayed=behaviour.delay,
                    )
                )
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                try:
                    self.send_response(behaviour.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (TimeoutError, BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def log_error(self, format: str, *args: Any) -> None:
                pass

        return Handler
