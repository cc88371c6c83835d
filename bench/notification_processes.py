"""The two B9 helper processes (see ``bench.notifications``), pinned to CPU 1 beside wrk's place while
the broker has CPU 0: the open-loop generator (``python -m bench.notification_processes send``) and the
loopback notification receiver (``python -m bench.notification_processes receive``).

The generator sends ``PATCH /entities/{id}/attrs/dissolvedOxygen {"value": <time.monotonic() at sending>}``
on an open-loop schedule (request i at start + i / rate, whatever the answers), round robin over the
entity ids it is given (in a fixed shuffled order), times each answer from its scheduled moment, and
prints one JSON summary. The subscriptions ask for keyValues, so each notification carries the sending
moment as ``dissolvedOxygen``: the receiver's arrival time minus it is the end-to-end latency
(CLOCK_MONOTONIC is one clock for every process on Linux). The harness reads the receiver's counts at
``GET /stats`` (``?final``: with the latency percentiles) and starts a run with
``POST /reset?since=<monotonic time>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench import procs

ATTRIBUTE = "dissolvedOxygen"
REQUEST_TIMEOUT_S = 10.0  # the generator gives up on one PATCH after this long (counted as an error)
MAX_CONNECTIONS = 256  # the generator's connections to the broker (opened as the schedule needs them)
IDLE_REUSE_S = 3.0  # idle connections older than this are not reused (uvicorn closes them after 5 s)
FAST, HOLD, OTHER = "/fast", "/hold", "/other"  # the receiver's paths: FAST, OTHER answered at once, HOLD never


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1)]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


# ---- HTTP/1.1 over asyncio streams (both processes) ---------------------------------------------------


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One request or response: (first line, lower-cased headers, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        return lines[0], headers, b"".join(chunks)
    length = int(headers.get(b"content-length", b"0"))
    return lines[0], headers, (await reader.readexactly(length)) if length else b""


# ---- the receiver --------------------------------------------------------------------------------------


@dataclass
class _Sub:
    path: str
    entities: int = 0
    duplicates: int = 0
    reordered: int = 0
    ids: set[str] = field(default_factory=set)
    last_sent: dict[str, float] = field(default_factory=dict)
    values: list[float] = field(default_factory=list)  # the send times notified


@dataclass
class Receiver:
    """Answers 200 at once on /fast (and /other); on /hold reads the request and never answers. Per
    subscription: entities notified, duplicate notification ids, per-entity order; end-to-end latencies."""

    subs: dict[str, _Sub] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    first: float | None = None
    last: float | None = None
    held: int = 0
    bad: int = 0
    stale: int = 0  # notifications of updates sent before ``since`` (a previous run's backlog): ignored
    since: float = -math.inf

    def reset(self, since: float) -> None:
        self.subs, self.latencies, self.first, self.last = {}, [], None, None
        self.held, self.bad, self.stale, self.since = 0, 0, 0, since

    def record(self, path: str, body: bytes, at: float) -> None:
        try:
            note = orjson.loads(body)
            data = note["data"]
            sub = self.subs.setdefault(note["subscriptionId"], _Sub(path))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.bad += 1
            return
        sent_at = [e.get(ATTRIBUTE) for e in data if isinstance(e, dict)]
        if any(isinstance(v, float | int) and v < self.since for v in sent_at):
            self.stale += 1
            return
        if note.get("id") in sub.ids:
            sub.duplicates += 1
            return
        sub.ids.add(note.get("id"))
        self.first = at if self.first is None else self.first
        self.last = at
        for item in data:
            sub.entities += 1
            sent = item.get(ATTRIBUTE) if isinstance(item, dict) else None
            if path != FAST or not isinstance(sent, float | int):
                continue
            self.latencies.append(at - sent)
            sub.values.append(sent)
            if sent < sub.last_sent.get(item.get("id"), -math.inf):
                sub.reordered += 1
            else:
                sub.last_sent[item.get("id")] = sent

    def stats(self, final: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "now": time.monotonic(), "first": self.first, "last": self.last, "held": self.held, "bad": self.bad,
            "stale": self.stale,
            "subs": {k: {"path": s.path, "entities": s.entities, "duplicates": s.duplicates,
                         "reordered": s.reordered, **({"values": s.values} if final else {})}
                     for k, s in self.subs.items()},
        }  # fmt: skip
        if final:
            values = sorted(self.latencies)
            out["e2e"] = {f"p{q}": ms(percentile(values, q)) for q in (50, 95, 99)}
            out["e2e"]["max"] = ms(values[-1]) if values else None
        return out

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                first, _, body = await read_message(reader)
                at = time.monotonic()
                method, target, _ = first.split(b" ", 2)
                path = target.decode()
                if path.startswith(HOLD):
                    self.held += 1
                    while await reader.read(65536):  # hold it until the sender gives up
                        pass
                    return
                answer = b""
                if method == b"GET" and path.startswith("/stats"):
                    answer = orjson.dumps(self.stats(final="final" in path))
                elif method == b"POST" and path.startswith("/reset?since="):
                    self.reset(float(path.partition("=")[2]))
                else:
                    self.record(path, body, at)
                head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                writer.write(head % len(answer) + answer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


async def receive(port: int) -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, procs.HOST, port, backlog=1024)
    async with server:
        await server.serve_forever()


# ---- the generator ----------------------------------------------------------------------------------


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: float = field(default_factory=time.monotonic)


@dataclass
class Generator:
    """Open loop: request i goes out at start + i / rate on an idle connection (a new one when none is
    idle), whether or not earlier requests were answered; latency counts from the scheduled moment."""

    url: str
    ids: list[str]
    link: str | None
    idle: list[_Conn] = field(default_factory=list)
    opened: int = 0
    peak: int = 0
    free: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ok_values: list[float] = field(default_factory=list)  # the values of the PATCHes answered 2xx
    socket_errors: int = 0
    timeouts: int = 0  # sent, not answered within REQUEST_TIMEOUT_S
    unsent: int = 0  # no connection free within REQUEST_TIMEOUT_S (the broker is that far behind)
    finished: float = 0.0

    async def connection(self) -> _Conn:
        while not self.idle and self.opened >= MAX_CONNECTIONS:
            self.free.clear()
            await self.free.wait()
        while self.idle:
            conn = self.idle.pop()
            if time.monotonic() - conn.used < IDLE_REUSE_S:
                return conn
            self.release(conn, False)
        self.opened += 1
        self.peak = max(self.peak, self.opened)
        parts = urlsplit(self.url)
        try:
            return _Conn(*await asyncio.open_connection(parts.hostname, parts.port))
        except OSError:
            self.opened -= 1
            raise

    def release(self, conn: _Conn | None, reuse: bool) -> None:
        if conn is not None and reuse:
            conn.used = time.monotonic()
            self.idle.append(conn)
        elif conn is not None:
            conn.writer.close()
            self.opened -= 1
        self.free.set()

    async def one(self, entity_id: str, scheduled: float) -> None:
        conn = None
        reuse = False
        sent = None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                conn = await self.connection()
                sent = time.monotonic()
                self.lags.append(sent - scheduled)
                body = orjson.dumps({"value": sent})
                link = f"Link: {self.link}\r\n" if self.link else ""
                head = (
                    f"PATCH /ngsi-ld/v1/entities/{entity_id}/attrs/{ATTRIBUTE} HTTP/1.1\r\nHost: {procs.HOST}\r\n"
                    f"Content-Type: application/json\r\n{link}Content-Length: {len(body)}\r\n\r\n"
                )
                conn.writer.write(head.encode() + body)
                first, headers, _ = await read_message(conn.reader)
            done = time.monotonic()
            status = int(first.split(b" ", 2)[1])
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                self.ok_values.append(sent)
            self.latencies.append(done - scheduled)
            self.finished = max(self.finished, done)
            reuse = headers.get(b"connection", b"").lower() != b"close"
        except TimeoutError:
            if sent is None:
                self.unsent += 1
            else:
                self.timeouts += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            self.socket_errors += 1
        finally:
            self.release(conn, reuse)

    async def run(self, rate: float, duration_s: float) -> dict[str, Any]:
        count = int(rate * duration_s)
        order = self.ids[:]
        random.Random(9).shuffle(order)
        tasks: set[asyncio.Task[None]] = set()
        for _ in range(min(16, MAX_CONNECTIONS)):  # a few connections ready before the clock starts
            self.release(await self.connection(), True)
        start = time.monotonic() + 0.05
        for i in range(count):
            scheduled = start + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self.one(order[i % len(order)], scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        last_sent = time.monotonic()
        if tasks:
            await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
        for conn in self.idle:
            conn.writer.close()
        latencies, lags = sorted(self.latencies), sorted(self.lags)
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return {
            "start": start, "last_sent": last_sent, "finished": self.finished or last_sent, "scheduled": count,
            "sent": count - self.unsent, "unsent": self.unsent, "ok": ok, "ok_values": self.ok_values,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "socket_errors": self.socket_errors, "timeouts": self.timeouts, "unfinished": len(tasks),
            **{f"p{q}_ms": ms(percentile(latencies, q)) for q in (50, 95, 99)},
            "max_ms": ms(latencies[-1]) if latencies else None,
            "send_lag_p99_ms": ms(percentile(lags, 99)), "send_lag_max_ms": ms(lags[-1]) if lags else None,
            "connections": self.peak,
        }  # fmt: skip


# ---- the helper processes' command line -----------------------------------------------------------------


def run_loop(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notification_processes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("receive", help="the loopback notification receiver")
    rec.add_argument("--port", type=int, required=True)
    send = commands.add_parser("send", help="open-loop PATCHes; prints one JSON summary")
    send.add_argument("--url", required=True)
    send.add_argument("--rate", type=float, required=True)
    send.add_argument("--duration", type=float, required=True)
    send.add_argument("--ids", type=Path, required=True)
    send.add_argument("--link", default="-")
    args = parser.parse_args(argv)
    if urlsplit(getattr(args, "url", f"http://{procs.HOST}")).hostname != procs.HOST:
        parser.error("loopback only")
    if args.command == "receive":
        with contextlib.suppress(KeyboardInterrupt):
            run_loop(lambda: receive(args.port))
        return 0
    ids = args.ids.read_text().split()
    link = None if args.link == "-" else args.link
    result = run_loop(lambda: Generator(args.url, ids, link).run(args.rate, args.duration))
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
