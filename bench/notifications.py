"""B9 notifications (BENCH.md): open-loop partial updates against a broker with subscriptions, the
notifications timed end to end by a loopback receiver.

This is the harness side: the variants, the subscriptions, the measurements and BENCH.md's checks. The
broker runs pinned to CPU 0 like every broker; the generator and the receiver are processes of their
own pinned to CPU 1 beside wrk's place (``bench.notification_processes``, which describes how they
time an update and its notifications).

Variants, each on a fresh broker holding the 1k entities of type ``Entity``:
  a  1 subscription on type Entity;
  b  the same plus 1000 subscriptions on 1000 other types (they must cost < 10% throughput);
  c  100 subscriptions on type Entity (fan-out), at 100 updates/s only;
  d  a's subscription plus one to a receiver that reads the request and never answers (endpoint
     timeout 1 s): the updates (and a's notifications) must not suffer (>= 0.9x a's throughput).
Then b's cost against a's as BENCH.md measures ratios: two more brokers, alternating bursts.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from bench import entity, procs, report
from bench.notification_processes import FAST, HOLD, OTHER, REQUEST_TIMEOUT_S

if TYPE_CHECKING:
    from bench.runner import Harness

SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
DATASET = 1000
RATES = (100, 500, 1000)
FAN_OUT = 100
OTHER_TYPES = 1000
HOLD_TIMEOUT_MS = 1000
WARMUP_NOTIFICATIONS = 100
STALL_S = 5.0  # the drain ends when no notification arrived for this long
DRAIN_MAX_S = 120.0  # ... or after this long


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
        argv = [sys.executable, "-m", "bench.notification_processes", "send", "--url", broker.url,
                "--rate", str(rate), "--duration", str(duration_s), "--ids", self.harness.ids_file(DATASET),
                "--link", self.harness.link_arg]  # fmt: skip
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
    argv = [sys.executable, "-m", "bench.notification_processes", "receive", "--port", str(port)]
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
