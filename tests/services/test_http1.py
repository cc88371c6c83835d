"""The lean HTTP/1.1 transport against real loopback servers: what it sends, every way an answer can
be delimited, keep-alive and when not to, a connection the server closed while idle, timeouts and
refused connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from mongo_standin import free_port
from ngsild.egress import EgressPolicy
from ngsild.services.channels import Channels, DeliveryFailed
from ngsild.services.http1 import Http1Transport
from ngsild.store.port import Outgoing


@dataclass
class Server:
    """Answers each request with ``answer`` (raw bytes); records requests and connections."""

    answer: bytes = b"HTTP/1.1 204 No Content\r\n\r\n"
    close_after_answer: bool = False
    delay_s: float = 0.0
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = next((int(x.split(b":")[1]) for x in lines if x.lower().startswith(b"content-length")), 0)
                self.requests.append(head + await reader.readexactly(length))
                await asyncio.sleep(self.delay_s)
                writer.write(self.answer)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    listener = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(mounts={"http://": Http1Transport()}) as c:
        yield c


async def test_the_request_carries_host_headers_length_and_body(client: httpx.AsyncClient, server: Server) -> None:
    """One POST: request line with the query, Host, the caller's headers, Content-Length, the body."""
    response = await client.post(
        f"http://127.0.0.1:{server.port}/notify?x=1", content=b'{"a":1}', headers={"X-Api-Key": "k"}
    )
    assert response.status_code == 204
    [raw] = server.requests
    head, body = raw.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /notify?x=1 HTTP/1.1"
    assert f"host: 127.0.0.1:{server.port}".encode() in [line.lower() for line in lines]
    assert b"x-api-key: k" in [line.lower() for line in lines]
    assert b"content-length: 7" in [line.lower() for line in lines]
    assert body == b'{"a":1}'


@pytest.mark.parametrize(
    ("answer", "status", "body", "reused"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello", True),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nT: 1\r\n\r\n",
            200,
            b"hello",
            True,
        ),
        (b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 500, b"", False),
        (b"HTTP/1.1 201 Created\r\n\r\n", 201, b"", False),  # no length: delimited by the close
    ],
    ids=["content-length", "chunked", "connection close", "until close"],
)
async def test_answers_are_read_whole_and_connections_kept_when_they_may_be(
    client: httpx.AsyncClient, server: Server, answer: bytes, status: int, body: bytes, reused: bool
) -> None:
    """Every delimiting is understood; a connection carries the next request only if nothing said close."""
    server.answer = answer
    server.close_after_answer = not reused
    for _ in range(3):
        response = await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")
        assert (response.status_code, response.content) == (status, body)
    assert server.connections == (1 if reused else 3)


async def test_a_connection_the_server_closed_while_idle_is_replaced(client: httpx.AsyncClient, server: Server) -> None:
    """The server drops the idle keep-alive connection: the next request goes out on a new one, once."""
    await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")
    for writer in server.writers:
        writer.close()
    await asyncio.sleep(0.05)
    response = await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")
    assert response.status_code == 204
    assert (server.connections, len(server.requests)) == (2, 2)


async def test_a_slow_answer_is_a_timeout(client: httpx.AsyncClient, server: Server) -> None:
    """No answer within the timeout: httpx.ReadTimeout, and the connection is not reused."""
    server.delay_s = 1.0
    with pytest.raises(httpx.ReadTimeout):
        await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}", timeout=0.1)
    server.delay_s = 0.0
    assert (await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")).status_code == 204
    assert server.connections == 2


async def test_nobody_listening_is_a_connect_error(client: httpx.AsyncClient) -> None:
    """A refused connection is httpx.ConnectError (a failed attempt, retried by delivery)."""
    with pytest.raises(httpx.ConnectError):
        await client.post(f"http://127.0.0.1:{free_port()}/n", content=b"{}")


async def test_an_answer_that_is_not_http_is_an_error(client: httpx.AsyncClient, server: Server) -> None:
    """Something else listening on the port is an error, not a success."""
    server.answer = b"SSH-2.0-OpenSSH\r\n\r\n"
    with pytest.raises(httpx.ConnectError, match="not an HTTP"):
        await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")


async def test_concurrent_requests_use_separate_connections_then_share_them(
    client: httpx.AsyncClient, server: Server
) -> None:
    """Requests in flight at once each get a connection; afterwards the idle ones are reused."""
    server.delay_s = 0.05
    await asyncio.gather(*(client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}") for _ in range(4)))
    assert server.connections == 4
    await asyncio.gather(*(client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}") for _ in range(4)))
    assert server.connections == 4


def sub_doc(port: int, timeout_ms: int | None = None) -> dict[str, object]:
    endpoint: dict[str, object] = {"uri": f"http://127.0.0.1:{port}/notify", "accept": "application/json"}
    if timeout_ms is not None:
        endpoint["timeout"] = timeout_ms
    return {"context": "https://example.org/ctx.jsonld", "notification": {"endpoint": endpoint}}


@pytest.mark.parametrize(
    ("answer", "delay_s", "failure"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", 0.0, None),
        (b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", 0.0, "answered 503"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 1.0, "did not answer within 0.1 s"),
    ],
    ids=["2xx", "503", "timeout"],
)
async def test_channels_send_http_notifications_through_the_transport_directly(
    server: Server, answer: bytes, delay_s: float, failure: str | None
) -> None:
    """With a direct transport, a notification goes out with its headers, and a non-2xx answer or a
    timeout (endpoint.timeout, in ms) is a failed attempt, as through the client."""
    server.answer, server.delay_s = answer, delay_s
    transport = Http1Transport()
    channels = Channels(httpx.AsyncClient(), EgressPolicy.parse("127.0.0.0/8"), transport)
    outgoing = Outgoing("urn:n:1", "t1", "urn:s:1", {"id": "urn:n:1"})
    try:
        if failure is None:
            await channels.send(sub_doc(server.port), outgoing)
        else:
            with pytest.raises(DeliveryFailed, match=failure):
                await channels.send(sub_doc(server.port, 100), outgoing)
    finally:
        await transport.aclose()
    [raw] = server.requests
    assert b"ngsild-tenant: t1" in raw.lower() and b"link: <https://example.org/ctx.jsonld>" in raw.lower()
    assert raw.endswith(b'{"id":"urn:n:1"}')


async def test_interim_answers_are_skipped(client: httpx.AsyncClient, server: Server) -> None:
    """A 103 Early Hints (or 100 Continue) before the answer is not the answer, and leaves nothing behind."""
    server.answer = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
    for _ in range(2):
        assert (await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")).status_code == 500
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhelXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    ],
    ids=["conflicting lengths", "bad chunk size", "chunk without CRLF", "signed length"],
)
async def test_an_ambiguous_answer_is_an_error_not_a_guess(
    client: httpx.AsyncClient, server: Server, answer: bytes
) -> None:
    """Anything that could leave stray bytes on a kept connection fails the attempt and closes it."""
    server.answer = answer
    with pytest.raises(httpx.ConnectError):
        await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")


async def test_a_huge_answer_counts_by_its_status_and_closes_the_connection(
    client: httpx.AsyncClient, server: Server
) -> None:
    """A 2xx with a body past the read limit is still a 2xx; its connection is not reused."""
    server.answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 5_000_000
    for _ in range(2):
        assert (await client.post(f"http://127.0.0.1:{server.port}/n", content=b"{}")).status_code == 200
    assert server.connections == 2


async def test_credentials_in_the_uri_go_through_the_client_as_basic_auth() -> None:
    """http://user:pw@host/ is sent by the client (Basic auth), not by the lean transport."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mock:
        channels = Channels(mock, EgressPolicy.parse("127.0.0.0/8"), Http1Transport())
        sub = {
            "context": "https://example.org/ctx.jsonld",
            "notification": {"endpoint": {"uri": "http://u:p@127.0.0.1:9/n"}},
        }
        await channels.send(sub, Outgoing("urn:n:1", "", "urn:s:1", {"id": "urn:n:1"}))
    [request] = seen
    assert request.headers["Authorization"] == "Basic dTpw"
