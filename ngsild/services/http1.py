"""A lean HTTP/1.1 transport (an httpx transport) for ``http://`` notification endpoints.

Why: httpx's default transport (httpcore) costs 1.4-2.5 ms of CPU per small POST on this stack, more
than the write that caused the notification, and its pool scans every connection on each request,
so a hundred busy lanes slow each other down. Notifications are many small POSTs to few hosts: this
transport keeps idle keep-alive connections per host in a stack (no scan), writes the request in
one piece and reads the answer with asyncio streams, about 0.3 ms per request. ``https://`` stays
with httpx's client and transport (TLS, certificates and proxies are their business).

What it speaks: request bodies of known length; answers delimited by Content-Length, chunked, or the
end of the connection, after any 1xx interim answers; keep-alive unless either side says
``Connection: close`` or the answer is HTTP/1.0. Idle connections are dropped after IDLE_S, or when
the server has closed them. A request on a reused connection that ends without a byte of answer is
sent once more on a new connection (the server most likely closed it while idle; if it did see the
request, that is one more duplicate, which at-least-once delivery allows). Anything ambiguous in an
answer (conflicting lengths, a malformed chunk) closes the connection rather than guess.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final

import httpx

MAX_HEAD_BYTES: Final = 64 * 1024  # status line and headers of an answer
MAX_BODY_BYTES: Final = 1024 * 1024  # an answer's body is read (to reuse the connection), not kept beyond this
MAX_IDLE_PER_HOST: Final = 64
IDLE_S: Final = 30.0  # an idle connection older than this is closed rather than reused
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Answer = tuple[int, dict[bytes, bytes], bytes]  # status, headers (lower-case names), body


class _Closed(Exception):
    """The server closed the connection before answering."""


class Http1Transport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._idle: defaultdict[tuple[str, int], list[tuple[Connection, float]]] = defaultdict(list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        limit = max((t for t in timeouts.values() if t is not None), default=None)
        key = (request.url.host, request.url.port or 80)
        message = _message(request.method.encode(), request.url.raw_path, request.headers.raw, request.content)
        status, headers, body = await self._timed(key, message, request.method, limit, request)
        return httpx.Response(status, headers=list(headers.items()), content=body)

    async def post(self, uri: str, headers: Mapping[str, str], body: bytes, timeout: float) -> int:
        """POST without building httpx objects (they cost as much as the exchange): the status.
        Failures raise httpx.ReadTimeout or httpx.ConnectError, as through a client."""
        key, target, host = _target(uri)
        raw = [(b"Host", host), *((name.encode(), value.encode()) for name, value in headers.items())]
        status, _, _ = await self._timed(key, _message(b"POST", target, raw, body), "POST", timeout, None)
        return status

    async def _timed(
        self, key: tuple[str, int], message: bytes, method: str, limit: float | None, request: httpx.Request | None
    ) -> Answer:
        try:
            async with asyncio.timeout(limit):
                return await self._exchange(key, message, method)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer from {key[0]}:{key[1]} within {limit} s", request=request) from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, _Closed) as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from None

    async def _exchange(self, key: tuple[str, int], message: bytes, method: str) -> Answer:
        connection = self._reusable(key)
        if connection is not None:
            try:
                return await self._send(key, connection, message, method)
            except _Closed:
                pass  # closed by the server while idle, most likely: once more on a new connection
        reader, writer = await asyncio.open_connection(key[0], key[1], limit=MAX_HEAD_BYTES)
        return await self._send(key, (reader, writer), message, method)

    def _reusable(self, key: tuple[str, int]) -> Connection | None:
        """The most recently used idle connection that is young and still open; the others go."""
        idle = self._idle[key]
        while idle:
            connection, since = idle.pop()
            reader, writer = connection
            if time.monotonic() - since < IDLE_S and not reader.at_eof() and not writer.is_closing():
                return connection
            _close(connection)
        return None

    async def _send(self, key: tuple[str, int], connection: Connection, message: bytes, method: str) -> Answer:
        reader, writer = connection
        try:
            writer.write(message)
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _Closed("the server closed the connection without answering") from None
                raise
            status, headers, version = _head(head)
            while 100 <= status < 200 and status != 101:  # interim answers (100 Continue, 103 Early Hints)
                status, headers, version = _head(await reader.readuntil(b"\r\n\r\n"))
            body, reusable = await _body(reader, status, headers, method)
        except BaseException:  # a timeout or a broken answer: this connection is done
            _close(connection)
            raise
        keep = reusable and version == b"HTTP/1.1" and b"close" not in headers.get(b"connection", b"").lower()
        if keep and len(self._idle[key]) < MAX_IDLE_PER_HOST:
            self._idle[key].append((connection, time.monotonic()))
        else:
            _close(connection)
        return status, headers, body

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection, _ in connections:
                _close(connection)
        self._idle.clear()


def _message(method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The whole request as bytes: request line, the headers (Host among them), Content-Length, the body."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    for name, value in headers:
        if name.lower() not in (b"content-length", b"transfer-encoding"):
            lines.append(name + b": " + value)
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@lru_cache(maxsize=4096)
def _target(uri: str) -> tuple[tuple[str, int], bytes, bytes]:
    """(host, port), request target and Host header of a URI, normalised as httpx does; endpoints
    repeat, so each is parsed once."""
    url = httpx.URL(uri)
    return (url.host, url.port or 80), url.raw_path, url.netloc


def _head(head: bytes) -> Answer:
    status_line, *lines = head[:-4].split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise ValueError(f"not an HTTP/1.x answer: {status_line[:80]!r}")
    headers: dict[bytes, bytes] = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError(f"malformed header line {line[:80]!r}")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length" and headers.get(name, value) != value:
            raise ValueError("the answer has conflicting Content-Length headers")
        headers[name] = value if name not in headers or name == b"content-length" else headers[name] + b", " + value
    return int(code), headers, version


async def _body(
    reader: asyncio.StreamReader, status: int, headers: dict[bytes, bytes], method: str
) -> tuple[bytes, bool]:
    """The answer's body (cut at MAX_BODY_BYTES: the status is what counts), and whether the
    connection can carry another request after it."""
    if method == "HEAD" or status in (204, 304):
        return b"", True
    codings = headers.get(b"transfer-encoding", b"").lower()
    if codings:
        if codings.rsplit(b",", 1)[-1].strip() != b"chunked":
            return await reader.read(MAX_BODY_BYTES), False  # not chunked last: delimited by the close
        return await _chunked(reader)
    if b"content-length" in headers:
        raw = headers[b"content-length"]
        if not raw.isdigit():
            raise ValueError(f"the answer's Content-Length {raw[:20]!r} is not a number")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            return b"", False  # not worth reading: the connection is closed instead
        return await reader.readexactly(length), True
    return await reader.read(MAX_BODY_BYTES), False  # delimited by the end of the connection


_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


async def _chunked(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        if not size_text or not set(size_text) <= _HEX:
            raise ValueError(f"malformed chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            trailer = await reader.readuntil(b"\r\n")
            while trailer != b"\r\n":  # trailer fields, not needed
                trailer = await reader.readuntil(b"\r\n")
            return b"".join(parts), True
        total += size
        if total > MAX_BODY_BYTES:
            return b"".join(parts), False  # the rest is not read: the connection is closed instead
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk does not end with CRLF")


def _close(connection: Connection) -> None:
    connection[1].close()
