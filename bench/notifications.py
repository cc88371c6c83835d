"""B9 notifications (BENCH.md): open-loop partial updates against a broker with subscriptions, the
notifications timed end to end by a loopback receiver.

Three processes besides the broker (pinned to CPU 0 like every broker): the harness, the generator
(``python -m bench.notifications send``) and the receiver (``python -m bench.notifications receive``),
the last two pinned to CPU 1 beside wrk's place. The generator sends
``PATCH /entities/{id}/attrs/dissolvedOxygen {"value": <time.monotonic() at sending>}`` on an open-loop
schedule (request i at start + i / rate, whatever the answers), round robin over the 1k bench
entities, and times each answer from its scheduled moment. The subscriptions ask for keyValues, so
each notification carries the sending moment as ``dissolvedOxygen``: the receiver's arrival time
minus it is the end-to-end latency (CLOCK_MONOTONIC is one clock for every process on Linux).

Variants, each on a fresh broker holding the 1k entities of type ``Entity``:
  a  1 subscription on type Entity;
  b  the same plus 1000 subscriptions on 1000 other types (they must cost < 10% throughput);
  c  100 subscriptions on type Entity (fan-out), at 100 updates/s only;
  d  a's subscription plus one to a receiver that reads the request and never answers (endpoint
     timeout 1 s): the updates (and a's notifications) must not suffer (>= 0.9x a's throughput).
Then b's cost against a's as BENCH.md measures ratios: two more brokers, alternating bursts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import orjson

from bench import entity, procs, report

if TYPE_CHECKING:
    from bench.runner import Harness

SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
ATTRIBUTE = "dissolvedOxygen"
DATASET = 1000
RATES = (100, 500, 1000)
FAN_OUT = 100
OTHER_TYPES = 1000
HOLD_TIMEOUT_MS = 1000
WARMUP_NOTIFICATIONS = 100
REQUEST_TIMEOUT_S = 10.0  # the generator gives up on one PATCH after this long (counted as an error)
MAX_CONNECTIONS = 256  # the generator's connections to the broker (opened as the schedule needs them)
IDLE_REUSE_S = 3.0  # idle connections older than this are not reused (uvicorn closes them after 5 s)
STALL_S = 5.0  # the drain ends when no notification arrived for this long
DRAIN_MAX_S = 120.0  # ... or after this long
FAST, HOLD, OTHER = "/fast", "/hold", "/other"


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


# ---- the harness side ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    key: str
    name: str
    matching: int
    other: int = 0
    hold: bool = False
    rates: tuple[int, ...] = RATES


VARIANTS = (
    Variant("a", "1 sub", 1),
    Variant("b", f"1 sub + {OTHER_TYPES} other types", 1, other=OTHER_TYPES),
    Variant("c", f"{FAN_OUT} subs (fan-out)", FAN_OUT, rates=(100,)),
    Variant("d", "1 sub + 1 never answering", 1, hold=True),
)


def start_on_load_cpu(harness: Harness, name: str, argv: list[str], port: int) -> procs.Server:
    """A helper process pinned to the load CPU (procs.start_server pins servers to CPU 0)."""
    log_path = harness.tmp / f"{name.replace(' ', '_')}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["taskset", "-c", str(procs.LOAD_CPU), *argv], cwd=procs_cwd(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = procs.Server(name=name, port=port, process=process, log_path=log_path, started_at=time.monotonic())
    harness.servers.append(server)
    return server


def procs_cwd() -> Path:
    return Path(__file__).resolve().parent.parent


def subscription(endpoint: str, entity_type: str, timeout_ms: int | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"uri": endpoint, "accept": "application/json"}
    if timeout_ms is not None:
        target["timeout"] = timeout_ms
    entities = [{"type": entity_type}]
    return {"type": "Subscription", "entities": entities, "notification": {"endpoint": target, "format": "keyValues"}}


@dataclass
class Bench:
    harness: Harness
    receiver: procs.Server
    client: httpx.Client
    duration_s: int

    def stats(self, final: bool = False) -> dict[str, Any]:
        """Counts; ``final``: also the end-to-end percentiles and the values each subscription got."""
        answer = self.client.get(self.receiver.url + ("/stats?final" if final else "/stats"))
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def received(self, stats: dict[str, Any], matching: set[str]) -> int:
        return sum(s["entities"] for k, s in stats["subs"].items() if k in matching)

    def subscribe(self, broker: procs.Server, variant: Variant) -> set[str]:
        headers = {"Content-Type": "application/json"}
        if self.harness.options.link:
            headers["Link"] = entity.CORE_LINK
        bodies = [(True, subscription(self.receiver.url + FAST, entity.ENTITY_TYPE)) for _ in range(variant.matching)]
        bodies += [(False, subscription(self.receiver.url + OTHER, f"Other{n}")) for n in range(variant.other)]
        if variant.hold:
            bodies.append((False, subscription(self.receiver.url + HOLD, entity.ENTITY_TYPE, HOLD_TIMEOUT_MS)))
        matching = set()
        with httpx.Client(base_url=broker.url, timeout=10.0) as client:
            for fast, body in bodies:
                answer = client.post(SUBSCRIPTIONS, content=orjson.dumps(body), headers=headers)
                if answer.status_code != 201:
                    raise RuntimeError(f"subscription create answered {answer.status_code}: {answer.text[:300]}")
                if fast:
                    matching.add(answer.headers["Location"].rsplit("/", 1)[-1])
        return matching

    def generate(self, broker: procs.Server, rate: int, duration_s: int) -> dict[str, Any]:
        argv = [sys.executable, "-m", "bench.notifications", "send", "--url", broker.url, "--rate", str(rate),
                "--duration", str(duration_s), "--ids", self.harness.ids_file(DATASET), "--link",
                self.harness.link_arg]  # fmt: skip
        done = subprocess.run(
            ["taskset", "-c", str(procs.LOAD_CPU), *argv], cwd=procs_cwd(), capture_output=True,
            timeout=duration_s + REQUEST_TIMEOUT_S + 30, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"the B9 generator exited with {done.returncode}: {done.stderr.decode()[-800:]}")
        result: dict[str, Any] = orjson.loads(done.stdout)
        return result

    def drain(self, expected: int, matching: set[str], max_s: float = DRAIN_MAX_S) -> tuple[dict[str, Any], str]:
        """Wait until every expected notification arrived ("complete"), none arrived for STALL_S
        ("stalled"), or max_s passed ("cap")."""
        deadline = time.monotonic() + max_s
        seen, progress_at = -1, time.monotonic()
        while True:
            stats = self.stats()
            got = self.received(stats, matching)
            if got >= expected:
                return stats, "complete"
            if got != seen:
                seen, progress_at = got, time.monotonic()
            if time.monotonic() - progress_at > STALL_S:
                return stats, "stalled"
            if time.monotonic() > deadline:
                return stats, "cap"
            time.sleep(0.2)

    def reset(self) -> None:
        """Forget what arrived; notifications of updates sent before now are ignored from now on."""
        self.client.post(f"{self.receiver.url}/reset?since={time.monotonic()!r}").raise_for_status()

    def warm_up(self, broker: procs.Server, matching: set[str]) -> None:
        """About WARMUP_NOTIFICATIONS notifications, not measured."""
        self.reset()
        sent = self.generate(broker, max(2, WARMUP_NOTIFICATIONS // max(1, len(matching))), 1)
        self.drain(sent["ok"] * len(matching), matching, max_s=30.0)

    def measure(self, broker: procs.Server, variant: Variant, rate: int, matching: set[str]) -> dict[str, Any]:
        self.reset()
        cpu_before = procs.cpu_seconds(broker.pid)
        busy_before, steal_before = procs.cpu_times()
        began = time.monotonic()
        gen = self.generate(broker, rate, self.duration_s)
        expected = gen["ok"] * len(matching)
        at_end = self.received(self.stats(), matching)
        time.sleep(1.0)
        after_1s = self.received(self.stats(), matching)
        # PATCHes that timed out may have been applied: wait for theirs too (or for the stall)
        _, drain_end = self.drain((gen["ok"] + gen["timeouts"]) * len(matching), matching)
        final = self.stats(final=True)
        ended = time.monotonic()
        cpu_s = procs.cpu_seconds(broker.pid) - cpu_before
        busy_after, steal_after = procs.cpu_times()
        seconds = ended - began
        subs = final["subs"]
        received = self.received(final, matching)
        ok_values = set(gen["ok_values"])
        lost = sum(len(ok_values - set(subs.get(k, {}).get("values", ()))) for k in matching)
        patch_errors = gen["sent"] - gen["ok"]
        notif_span = (final["last"] - gen["start"]) if final["last"] else None
        return {
            "kind": "notify", "scenario": "B9", "name": variant.name, "variant": variant.key,
            "dataset": DATASET, "concurrency": "open", "rate": rate, "duration_s": self.duration_s,
            "subscriptions": len(matching) + variant.other + int(variant.hold), "matching": len(matching),
            "scheduled": gen["scheduled"], "sent": gen["sent"], "unsent": gen["unsent"], "ok": gen["ok"],
            "patch_errors": patch_errors, "statuses": gen["statuses"],
            "socket_errors": gen["socket_errors"], "timeouts": gen["timeouts"],
            "rps": round(gen["ok"] / max(1e-9, gen["finished"] - gen["start"]), 1),
            **{k: gen[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "send_lag_p99_ms", "connections")},
            "notifications_expected": expected, "received": received, "lost": lost,
            "duplicates": sum(s["duplicates"] for k, s in subs.items() if k in matching),
            "reordered": sum(s["reordered"] for k, s in subs.items() if k in matching),
            "unexpected": sum(s["entities"] for k, s in subs.items() if k not in matching and s["path"] != HOLD),
            "held": final["held"], "bad_bodies": final["bad"],
            "backlog_end": expected - at_end, "backlog_1s": expected - after_1s,
            "drain_s": round(final["last"] - gen["finished"], 2) if final["last"] else None,
            "drain_end": drain_end, "stale": final["stale"],
            "notif_per_s": round(received / notif_span, 1) if notif_span else None,
            **{f"e2e_{k}_ms": v for k, v in final["e2e"].items()},
            "cpu_us_per_req": round(cpu_s / max(1, gen["sent"]) * 1e6, 1),
            "rss_mb": round(procs.rss_bytes(broker.pid) / 2**20, 1),
            "cpu0_other_pct": round(max(0.0, busy_after - busy_before - cpu_s) / seconds * 100, 1),
            "cpu0_steal_pct": round((steal_after - steal_before) / seconds * 100, 1),
            "errors": patch_errors + gen["unsent"],
        }  # fmt: skip

    def variant(self, variant: Variant) -> None:
        harness = self.harness
        broker = harness.start_broker(f"notify-{variant.key}")
        try:
            harness.load_dataset(broker, DATASET, harness.templates(), what=f"load B9 {variant.key}")
            matching = self.subscribe(broker, variant)
            self.warm_up(broker, matching)
            for rate in variant.rates:
                if harness.over_budget(f"B9 {variant.name} at {rate}/s"):
                    return
                record = self.measure(broker, variant, rate, matching)
                base = find(harness.records, "a", rate)
                if variant.key in ("b", "d") and base is not None:
                    record["ratio"] = round(record["rps"] / base["rps"], 3) if base["rps"] else None
                    record["cpu_ratio"] = round(base["cpu_us_per_req"] / record["cpu_us_per_req"], 3)
                harness.emit(record)
                harness.extra_errors += record["errors"]
                harness.log(describe(record))
                if record["lost"]:
                    why = {"stalled": f"none arrived in the last {STALL_S:g} s",
                           "cap": f"still arriving when the drain ended after {DRAIN_MAX_S:g} s"}  # fmt: skip
                    harness.notes.append(
                        f"B9 {variant.name} at {rate}/s: {record['lost']} of {record['notifications_expected']}"
                        f" notifications missing after the drain ({why.get(record['drain_end'], record['drain_end'])})"
                    )
                time.sleep(1.0)
        finally:
            harness.stop(broker)

    def burst_cost(self, broker: procs.Server, matching: set[str], rate: int, seconds: int) -> dict[str, Any]:
        """One unmeasured-latency burst: broker CPU per PATCH until its notifications arrived."""
        self.reset()
        before = procs.cpu_seconds(broker.pid)
        gen = self.generate(broker, rate, seconds)
        self.drain((gen["ok"] + gen["timeouts"]) * len(matching), matching, max_s=30.0)
        cpu_s = procs.cpu_seconds(broker.pid) - before
        subs = self.stats(final=True)["subs"]
        ok_values = set(gen["ok_values"])
        lost = sum(len(ok_values - set(subs.get(k, {}).get("values", ()))) for k in matching)
        return {"cpu_us": cpu_s / max(1, gen["sent"]) * 1e6, "lost": lost, "errors": gen["scheduled"] - gen["ok"]}

    def paired_cost(self) -> None:
        """The cost of the 1000 other subscriptions as BENCH.md measures ratios: brokers a and b side by
        side, alternating bursts A, B, B, A, ... at the lowest rate (which neither falls behind at);
        the ratio is the median of a's CPU per PATCH over b's, pair by pair."""
        harness, profile, rate = self.harness, self.harness.profile, min(RATES)
        brokers: list[procs.Server] = []
        try:
            sides: list[tuple[procs.Server, set[str], list[dict[str, Any]]]] = []
            for variant in VARIANTS[:2]:
                broker = harness.start_broker(f"notify-pair-{variant.key}")
                brokers.append(broker)
                harness.load_dataset(broker, DATASET, harness.templates(), what=f"load B9 pair {variant.key}")
                matching = self.subscribe(broker, variant)
                self.warm_up(broker, matching)
                sides.append((broker, matching, []))
            for i in range(profile.pairs):
                for broker, matching, bursts in sides if i % 2 == 0 else sides[::-1]:
                    bursts.append(self.burst_cost(broker, matching, rate, profile.burst_s))
        finally:
            for broker in brokers:
                harness.stop(broker)
        (_, _, a), (_, _, b) = sides
        ratio, q1, q3 = report.median_iqr([x["cpu_us"] / y["cpu_us"] for x, y in zip(a, b, strict=True)])
        record = {
            "kind": "notify_paired", "scenario": "B9", "name": "CPU per PATCH, a / b", "dataset": DATASET,
            "rate": rate, "burst_s": profile.burst_s, "pairs": len(a), "ratio": round(ratio, 3),
            "ratio_iqr": [round(q1, 3), round(q3, 3)],
            "a_cpu_us_per_req": round(statistics.median(x["cpu_us"] for x in a), 1),
            "b_cpu_us_per_req": round(statistics.median(x["cpu_us"] for x in b), 1),
            "lost": sum(x["lost"] for x in a + b), "errors": sum(x["errors"] for x in a + b),
        }  # fmt: skip
        harness.emit(record)
        harness.extra_errors += record["errors"]
        harness.log(paired_line(record))


def paired_line(r: dict[str, Any]) -> str:
    return (
        f"B9 paired, {r['pairs']} pairs of {r['burst_s']} s at {r['rate']}/s: broker CPU per PATCH a"
        f" {r['a_cpu_us_per_req']:.0f} us, b {r['b_cpu_us_per_req']:.0f} us; a / b {r['ratio']:.3f}"
        f" [{r['ratio_iqr'][0]:.3f}-{r['ratio_iqr'][1]:.3f}], lost {r['lost']}, errors {r['errors']}"
    )


def find(records: Iterable[dict[str, Any]], variant: str, rate: int) -> dict[str, Any] | None:
    for r in records:
        if r.get("kind") == "notify" and r["variant"] == variant and r["rate"] == rate:
            return r
    return None


def describe(r: dict[str, Any]) -> str:
    ratio = f", {r['ratio']:.2f}x a (CPU {r['cpu_ratio']:.2f}x)" if r.get("ratio") is not None else ""
    return (
        f"B9 {r['name']} at {r['rate']}/s: {r['ok']}/{r['scheduled']} PATCH ({r['rps']:.0f}/s{ratio}, p99"
        f" {r['p99_ms']} ms), notifications {r['received']}/{r['notifications_expected']} ({r['notif_per_s']}/s),"
        f" e2e p50 {r['e2e_p50_ms']} p99 {r['e2e_p99_ms']} ms, lost {r['lost']}, backlog end"
        f" {r['backlog_end']} +1s {r['backlog_1s']}, drain {r['drain_s']} s ({r['drain_end']}), CPU"
        f" {r['cpu_us_per_req']} us/PATCH, errors: {r['statuses']} socket {r['socket_errors']} timeout"
        f" {r['timeouts']} unsent {r['unsent']}" + (f", held attempts {r['held']}" if r["held"] else "")
    )


def scenario_b9(harness: Harness, duration_s: int) -> None:
    if harness.over_budget("B9 notifications"):
        return
    port = procs.free_port()
    argv = [sys.executable, "-m", "bench.notifications", "receive", "--port", str(port)]
    receiver = start_on_load_cpu(harness, "B9 receiver", argv, port)
    try:
        procs.wait_ready(receiver, "/stats")
        with httpx.Client(timeout=30.0) as client:
            bench = Bench(harness, receiver, client, duration_s)
            for variant in VARIANTS:
                if harness.over_budget(f"B9 {variant.name}"):
                    return
                harness.guarded(f"B9 {variant.name}", functools.partial(bench.variant, variant))
            if not harness.over_budget("B9 paired a / b"):
                harness.guarded("B9 paired a / b", bench.paired_cost)
    finally:
        harness.stop(receiver)


# ---- checks and the table (BENCH.md targets) -------------------------------------------------------------


def checks(records: list[dict[str, Any]]) -> list[report.Check]:
    out: list[report.Check] = []
    grade = report.grade

    def add(label: str, value: float | None, unit: str, target: float, floor: float | None, higher: bool) -> None:
        sign = ">=" if higher else "<="
        status = grade(value, target, floor, higher_is_better=higher)
        out.append(report.Check(label, value, unit, f"{sign} {target:g}", "-" if floor is None else f"{floor:g}",
                                status))  # fmt: skip

    for rate, percent, target, floor in ((100, "p50", 3.0, 10.0), (100, "p99", 15.0, 50.0), (1000, "p99", 50, 250)):
        value = of(find(records, "a", rate), f"e2e_{percent}_ms")
        add(f"B9 notification e2e {percent}, 1 sub, {rate}/s", value, "ms", target, floor, False)
    runs = [r for r in records if r.get("kind") in ("notify", "notify_paired")]
    if runs:
        # missing when none arrived for STALL_S; apart, those still arriving when the drain gave up
        lost = float(sum(r["lost"] for r in runs if r.get("drain_end") != "cap"))
        add("B9 notifications lost (drain ended, none arriving)", lost, "", 0, 0, False)
        late = float(sum(r["lost"] for r in runs if r.get("drain_end") == "cap"))
        add(f"B9 notifications undelivered {DRAIN_MAX_S:g} s after the updates", late, "", 0, 0, False)
        add("B9 PATCH errors (non-2xx, socket, timeout, unsent)", float(sum(r["errors"] for r in runs)), "", 0, 0,
            False)  # fmt: skip
    fan = of(find(records, "c", 100), "notif_per_s")
    add(f"B9 fan-out, {FAN_OUT} subs, notifications/s", fan, "/s", 5000, 2000, True)
    paired = of(next((r for r in records if r.get("kind") == "notify_paired"), None), "ratio")
    add(f"B9 +{OTHER_TYPES} other subs: CPU/PATCH a / b, paired, {min(RATES)}/s", paired, "x", 0.9, None, True)
    for rate in RATES:
        add(f"B9 isolation: PATCH/s d / a, {rate}/s", of(find(records, "d", rate), "ratio"), "x", 0.9, 0.7, True)
    return out


def of(record: dict[str, Any] | None, key: str) -> float | None:
    value = None if record is None else record.get(key)
    return None if value is None else float(value)


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
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
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
