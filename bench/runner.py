"""The scenarios: paired alternating bursts of a subject against B0 on the same CPU (BENCH.md)."""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import orjson

from bench import entity, models, notifications, procs, queries, report
from bench.wrk import Burst, ensure_wrk, run_burst, run_until_marked
from mongo_standin import mongo_uri, with_database

REPO = Path(__file__).resolve().parent.parent
ENTITIES = "/ngsi-ld/v1/entities"
READY_PATH = ENTITIES + "?type=Entity&limit=1"
UVICORN_FLAGS = ["--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
EGRESS_ALLOW = "127.0.0.0/8,::1,localhost"
LOADER_CONNECTIONS = 32
SCENARIOS = ("B0", "B1", "B2", "B5", "B6", "B7", "B8", "SDM", "B9")
QUERY_SCENARIOS = ("B5", "B6", "B7")
NOISY_PCT = 20
BATCH_SIZE = 100
BATCH_CONNECTIONS = 4
SINGLE_CONNECTIONS = 50  # B8's single creates at B1's best concurrency, so the ratio flatters nothing


@dataclass(frozen=True)
class Profile:
    name: str
    dataset: int
    pairs: int
    burst_s: int
    warmup_s: int
    budget_s: int
    scenarios: tuple[str, ...]  # run when --scenarios is not given
    query_datasets: tuple[int, ...]  # B5-B7: one broker and one load per size
    notify_s: int = 10  # B9: seconds of open-loop updates per rate


SMOKE = Profile(
    "smoke", dataset=10_000, pairs=4, burst_s=1, warmup_s=0, budget_s=270,
    scenarios=("B0", "B1", "B2"), query_datasets=(10_000,),
)  # fmt: skip
QUERIES_SMOKE = Profile(
    "queries-smoke", dataset=10_000, pairs=3, burst_s=1, warmup_s=0, budget_s=220,
    scenarios=QUERY_SCENARIOS, query_datasets=(1_000, 10_000),
)  # fmt: skip
FULL = Profile(
    "full", dataset=100_000, pairs=10, burst_s=2, warmup_s=1, budget_s=4200,
    scenarios=SCENARIOS, query_datasets=(1_000, 10_000, 100_000),
)  # fmt: skip


MONGODB_MIN_LOAD_RATE = 20  # entities/s: the SecantusDB stand-in loads at about 50/s on one CPU
# On the stand-in a query reads documents at ~0.1 ms each (10k: a second per query), so B5/B7 run
# at 1k by default; on a real server use --dataset 1000,100000.
MONGODB = Profile(
    "mongodb", dataset=10_000, pairs=6, burst_s=2, warmup_s=1, budget_s=1800,
    scenarios=("B1", "B2", "B5", "B7"), query_datasets=(1_000,),
)  # fmt: skip


@dataclass(frozen=True)
class Options:
    profile: Profile
    scenarios: tuple[str, ...]
    out: Path
    link: bool = True
    store: str = "sqlite"  # or "mongodb": MONGO_URI, else a SecantusDB stand-in on the servers' CPU


@dataclass(frozen=True)
class Load:
    """What one side of a pair runs: a wrk script with its arguments against one server."""

    label: str
    server: procs.Server
    script: str
    args: list[str]


class BrokerBroken(RuntimeError):
    pass


def git_sha() -> tuple[str, bool]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return (git("rev-parse", "--short=12", "HEAD") or "nocommit", bool(git("status", "--porcelain")))


def measure(load: Load, connections: int, duration_s: int) -> Burst:
    before = procs.cpu_seconds(load.server.pid)
    busy_before, steal_before = procs.cpu_times()
    burst = run_burst(load.server.url, load.script, load.args, connections, duration_s)
    busy_after, steal_after = procs.cpu_times()
    burst.cpu_s = procs.cpu_seconds(load.server.pid) - before
    burst.cpu_other_s = max(0.0, busy_after - busy_before - burst.cpu_s)
    burst.cpu_steal_s = steal_after - steal_before
    return burst


def paired(
    a: Load, b: Load, connections: int, profile: Profile, b_connections: int | None = None
) -> tuple[list[Burst], list[Burst]]:
    """Alternate A, B, B, A, ... bursts; pair i is the i-th burst of each side. B runs at
    ``b_connections`` when given (B8 compares batches at c=4 with single creates at c=50)."""
    sides = [(a, connections), (b, connections if b_connections is None else b_connections)]
    if profile.warmup_s:
        for load, c in sides:
            run_burst(load.server.url, load.script, load.args, c, profile.warmup_s)
    first: list[Burst] = []
    second: list[Burst] = []
    for i in range(profile.pairs):
        order = [(sides[0], first), (sides[1], second)] if i % 2 == 0 else [(sides[1], second), (sides[0], first)]
        for (load, c), bursts in order:
            bursts.append(measure(load, c, profile.burst_s))
    return first, second


@dataclass
class Harness:
    options: Options
    tmp: Path
    sha: str
    dirty: bool
    started: float = field(default_factory=time.monotonic)
    records: list[dict[str, Any]] = field(default_factory=list)
    servers: list[procs.Server] = field(default_factory=list)
    cold_starts: list[float] = field(default_factory=list)
    rss_dataset: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_errors: int = 0
    out: IO[bytes] | None = None
    mongo: str | None = None  # the MongoDB URI when the brokers run on MongoDB

    @property
    def profile(self) -> Profile:
        return self.options.profile

    @property
    def link_arg(self) -> str:
        return entity.CORE_LINK if self.options.link else "-"

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def emit(self, record: dict[str, Any]) -> None:
        record = {"sha": self.sha, "dirty": self.dirty, "profile": self.profile.name, "store": self.options.store,
                  **record}  # fmt: skip
        self.records.append(record)
        if self.out is not None:
            self.out.write(orjson.dumps(record) + b"\n")
            self.out.flush()

    def over_budget(self, what: str) -> bool:
        if time.monotonic() - self.started <= self.profile.budget_s:
            return False
        self.notes.append(f"skipped {what}: time budget of {self.profile.budget_s} s used up")
        self.log(self.notes[-1])
        return True

    # -- servers -----------------------------------------------------------------------------

    def start(self, name: str, argv_for_port: Callable[[int], list[str]]) -> procs.Server:
        port = procs.free_port()
        log_path = self.tmp / f"{name.replace(' ', '_')}.log"
        server = procs.start_server(name, argv_for_port(port), port, REPO, log_path)
        self.servers.append(server)
        return server

    def start_baseline(self, name: str) -> procs.Server:
        def argv(port: int) -> list[str]:
            app = ["bench.baseline:app", "--host", procs.HOST, "--port", str(port)]
            return [sys.executable, "-m", "uvicorn", *app, *UVICORN_FLAGS]

        server = self.start(name, argv)
        procs.wait_ready(server, "/")
        return server

    def start_broker(self, tag: str, extra: tuple[str, ...] = ()) -> procs.Server:
        db = self.tmp / tag / "bench.db"
        db.parent.mkdir(parents=True, exist_ok=True)

        store = f"sqlite:///{db}" if self.mongo is None else with_database(self.mongo, f"bench_{tag.replace('-', '_')}")

        def argv(port: int) -> list[str]:
            where = ["--host", procs.HOST, "--port", str(port), "--store", store]
            return [sys.executable, "-m", "ngsild", "serve", *where, "--egress-allow", EGRESS_ALLOW, *extra]

        server = self.start(f"broker {tag}", argv)
        self.cold_starts.append(procs.wait_ready(server, READY_PATH))
        self.probe(server)
        return server

    def stop(self, server: procs.Server) -> None:
        procs.stop_server(server)
        if server in self.servers:
            self.servers.remove(server)
        self.count_tracebacks(server)

    def stop_all(self) -> None:
        for server in list(self.servers):
            self.stop(server)

    def count_tracebacks(self, server: procs.Server) -> None:
        try:
            text = server.log_path.read_text(errors="replace")
        except OSError:
            return
        if (count := text.count("Traceback")) > 0:
            self.notes.append(f"{server.name}: {count} tracebacks in its log (kept: {server.log_path})")

    def probe(self, server: procs.Server) -> None:
        """One create and one retrieve must work before a broker is measured; the probe is deleted."""
        body = entity.entity_bytes(random.Random(0))
        entity_id = orjson.loads(body)["id"]
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.options.link:
            headers["Link"] = entity.CORE_LINK
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            created = client.post(ENTITIES, content=body, headers=headers)
            if created.status_code != 201:
                raise BrokerBroken(f"probe create answered {created.status_code}: {created.text[:500]}")
            got = client.get(f"{ENTITIES}/{entity_id}", headers={"Accept": "application/json"})
            if got.status_code != 200:
                raise BrokerBroken(f"probe retrieve answered {got.status_code}: {got.text[:500]}")
            client.delete(f"{ENTITIES}/{entity_id}")

    # -- files for the wrk scripts -----------------------------------------------------------

    def templates(self) -> str:
        path = self.tmp / "templates.txt"
        if not path.exists():
            entity.write_templates(path, 256)
        return str(path)

    def ids_file(self, count: int) -> str:
        path = self.tmp / f"ids-{count}.txt"
        if not path.exists():
            entity.write_ids(path, count)
        return str(path)

    def create_load(self, label: str, server: procs.Server) -> Load:
        return Load(label, server, "create.lua", [self.templates(), self.link_arg])

    def retrieve_load(self, label: str, server: procs.Server, query: str = "-") -> Load:
        return Load(label, server, "retrieve.lua", [self.ids_file(self.profile.dataset), query, "-"])

    # -- scenarios ----------------------------------------------------------------------------

    def run_pair(
        self,
        meta: dict[str, Any],
        subject: Load,
        baseline: Load,
        connections: int,
        baseline_connections: int | None = None,
    ) -> dict[str, Any] | None:
        what = f"{meta['scenario']} {meta['name']} data={meta['dataset']} c={connections}"
        if self.over_budget(what):
            return None
        a, b = paired(subject, baseline, connections, self.profile, baseline_connections)
        record = report.paired_record(
            {**meta, "concurrency": connections, "burst_s": self.profile.burst_s},
            (subject.label, a),
            (baseline.label, b),
        )
        record["rss_mb"] = round(procs.rss_bytes(subject.server.pid) / 2**20, 1)
        self.emit(record)
        p99 = "-" if record["p99_ms"] is None else f"{record['p99_ms']:.2f}"
        self.log(
            f"{what}: {record['rps']:.0f} req/s vs B0 {record['baseline']['rps']:.0f}, ratio"
            f" {record['ratio']:.2f} [{record['ratio_iqr'][0]:.2f}-{record['ratio_iqr'][1]:.2f}],"
            f" p99 {p99} ms, errors {record['errors']}"
        )
        if record["stalled_bursts"]:
            self.notes.append(
                f"{what}: {record['stalled_bursts']} of {self.profile.pairs} bursts completed no request"
                f" (stalled or slower than the {self.profile.burst_s} s burst)"
            )
            self.log(self.notes[-1])
        return record

    def scenario_b0(self, b0: procs.Server) -> None:
        """B0 against a second B0 on the same CPU: the method's self-check, the ratio must be ~1.0."""
        twin = self.start_baseline("B0 twin")
        try:
            for connections in (1, 50):
                meta = {"scenario": "B0", "name": "GET (vs B0 twin)", "dataset": "-"}
                self.run_pair(
                    meta,
                    self.retrieve_load("B0 twin GET", twin),
                    self.retrieve_load("B0 GET", b0),
                    connections,
                )
            for connections in (1, 50):
                meta = {"scenario": "B0", "name": "POST (vs B0 twin)", "dataset": "-"}
                self.run_pair(
                    meta, self.create_load("B0 twin POST", twin), self.create_load("B0 POST", b0), connections
                )
        finally:
            self.stop(twin)

    def scenario_b1_empty(self, b0: procs.Server) -> None:
        for connections in (10, 50):
            if self.over_budget(f"B1 create empty c={connections}"):
                return
            broker = self.start_broker(f"empty-c{connections}")
            try:
                meta = {"scenario": "B1", "name": "create", "dataset": "empty"}
                self.run_pair(meta, self.create_load("create", broker), self.create_load("B0 POST", b0), connections)
            finally:
                self.stop(broker)

    def load_dataset(
        self, broker: procs.Server, count: int, templates: str, what: str = "load", min_rate: int = 150
    ) -> int:
        """Create ``count`` entities (ids-<count>.txt, bodies from ``templates``) with lua/load.lua; the RSS.
        The load is cut after ``count / min_rate`` seconds (at least 120)."""
        ids = self.ids_file(count)
        marker = self.tmp / f"loaded-{broker.port}-"
        if self.mongo is not None:
            min_rate = min(min_rate, MONGODB_MIN_LOAD_RATE)
        max_s = max(120, count // min_rate)
        self.log(f"{what}: {count} entities through the broker's HTTP API (wrk, c={LOADER_CONNECTIONS})")
        before = procs.cpu_seconds(broker.pid)
        start = time.monotonic()
        args = [ids, templates, "1", str(marker), self.link_arg]
        burst = run_until_marked(broker.url, "load.lua", args, LOADER_CONNECTIONS, max_s, marker, threads=1)
        seconds = time.monotonic() - start
        cpu_s = procs.cpu_seconds(broker.pid) - before
        time.sleep(1.0)
        rss = procs.rss_bytes(broker.pid)
        missing = self.verify_sample(broker, ids)
        self.extra_errors += burst.failed + burst.socket_errors + missing
        self.emit(
            {
                "kind": "load", "scenario": what, "dataset": count, "concurrency": LOADER_CONNECTIONS,
                "created": burst.ok, "failed": burst.failed, "socket_errors": burst.socket_errors,
                "seconds": round(seconds, 2), "entities_per_s": round(burst.ok / seconds, 1),
                "cpu_us_per_req": round(cpu_s / max(1, burst.requests) * 1e6, 1),
                "rss_mb": round(rss / 2**20, 1), "sample_missing": missing,
            }
        )  # fmt: skip
        self.log(
            f"loaded {burst.ok}/{count} in {seconds:.1f} s ({burst.ok / seconds:.0f}/s), failed"
            f" {burst.failed}, socket errors {burst.socket_errors}, RSS {rss / 2**20:.0f} MB,"
            f" sample missing {missing}"
        )
        if burst.ok == 0:
            raise BrokerBroken("the dataset load created no entity")
        return rss

    def verify_sample(self, broker: procs.Server, ids_path: str, size: int = 50) -> int:
        ids = Path(ids_path).read_text().split()
        missing = 0
        with httpx.Client(base_url=broker.url, timeout=10.0) as client:
            for entity_id in random.Random(7).sample(ids, min(size, len(ids))):
                if client.get(f"{ENTITIES}/{entity_id}").status_code != 200:
                    missing += 1
        return missing

    def scenario_b2(self, b0: procs.Server, broker: procs.Server) -> None:
        count = self.profile.dataset
        for name, query in (("retrieve normalized", "-"), ("retrieve keyValues", "format=keyValues")):
            for connections in (1, 10, 50):
                meta = {"scenario": "B2", "name": name, "dataset": count}
                subject = self.retrieve_load(name, broker, query)
                self.run_pair(meta, subject, self.retrieve_load("B0 GET", b0), connections)
        self.rss_dataset.append(procs.rss_bytes(broker.pid))

    def emit_memory(self) -> None:
        mb = [round(rss / 2**20, 1) for rss in self.rss_dataset]
        self.emit({"kind": "memory", "dataset": self.profile.dataset, "rss_mb": mb, "when": ["load", "B2"]})

    def scenario_b1_dataset(self, b0: procs.Server, broker: procs.Server) -> None:
        for connections in (10, 50):
            meta = {"scenario": "B1", "name": "create", "dataset": self.profile.dataset}
            self.run_pair(meta, self.create_load("create", broker), self.create_load("B0 POST", b0), connections)

    def broker_scenarios(self, b0: procs.Server) -> None:
        wanted = self.options.scenarios
        if "B1" in wanted:
            self.scenario_b1_empty(b0)
        if ("B1" in wanted or "B2" in wanted) and not self.over_budget("the dataset"):
            broker = self.start_broker("dataset")
            try:
                self.rss_dataset.append(self.load_dataset(broker, self.profile.dataset, self.templates()))
                if "B2" in wanted:
                    self.scenario_b2(b0, broker)
                self.emit_memory()
                if "B1" in wanted:
                    self.scenario_b1_dataset(b0, broker)
            finally:
                self.stop(broker)

    # -- B8 batch ------------------------------------------------------------------------------

    def scenario_b8(self) -> None:
        """Batches of 100 (create, then upsert of new ids) against single creates on the same broker,
        which starts empty and grows with every burst."""
        if self.over_budget("B8 batch"):
            return
        broker = self.start_broker("batch")
        try:
            for operation in ("create", "upsert"):
                path = f"/ngsi-ld/v1/entityOperations/{operation}"
                subject = Load(operation, broker, "batch.lua", [self.templates(), path, str(BATCH_SIZE), self.link_arg])
                meta = {"scenario": "B8", "name": f"{operation} x{BATCH_SIZE}", "dataset": "empty+"}
                record = self.run_pair(
                    meta, subject, self.create_load("single create", broker), BATCH_CONNECTIONS, SINGLE_CONNECTIONS
                )
                if record is None:
                    continue
                derived = {
                    "kind": "batch", "operation": operation, "batch_size": BATCH_SIZE,
                    "entities_per_s": round(record["rps"] * BATCH_SIZE, 1),
                    "entities_ratio": round(record["ratio"] * BATCH_SIZE, 2),
                    "single_connections": SINGLE_CONNECTIONS, "failed_batches": record["failed"],
                }  # fmt: skip
                self.extra_errors += record["failed"]
                self.emit(derived)
                self.log(
                    f"B8 {operation}: {derived['entities_per_s']:.0f} entities/s, {derived['entities_ratio']:.2f}x"
                    f" single creates (c={SINGLE_CONNECTIONS}) on the same broker, failed batches {record['failed']}"
                )
            self.log(f"B8: the broker holds {self.count_entities(broker)} entities at the end")
        finally:
            self.stop(broker)

    def count_entities(self, broker: procs.Server) -> int:
        with httpx.Client(base_url=broker.url, timeout=60.0) as client:
            answer = client.get(ENTITIES, params={"type": "Entity", "count": "true", "limit": "0"})
            return int(answer.headers.get("NGSILD-Results-Count", "-1"))

    # -- Smart Data Models validation ------------------------------------------------------------

    def scenario_sdm(self) -> None:
        """Creates of WaterQualityObserved with validation enforced, paired with the same creates on a
        broker that knows the models but does not validate (--validation off)."""
        if not models.available():
            self.notes.append(f"SDM skipped: {models.EXAMPLE} is missing (../shared beside the checkout)")
            self.log(self.notes[-1])
            return
        templates = self.tmp / "sdm-templates.txt"
        models.write_templates(templates, 256)
        source = ("--datamodels", str(models.MODELS))
        enforced = self.start_broker("sdm-enforce", (*source, "--validation", "enforce"))
        unchecked = self.start_broker("sdm-off", (*source, "--validation", "off"))
        try:
            for connections in (10, 50):
                meta = {"scenario": "SDM", "name": "create WaterQualityObserved, enforce vs off", "dataset": "empty+"}
                subject = Load("enforce", enforced, "create.lua", [str(templates), models.LINK])
                baseline = Load("off", unchecked, "create.lua", [str(templates), models.LINK])
                self.run_pair(meta, subject, baseline, connections)
        finally:
            self.stop(enforced)
            self.stop(unchecked)

    # -- B5-B7 queries -------------------------------------------------------------------------

    def query_kinds(self) -> list[queries.QueryKind]:
        return [kind for kind in queries.KINDS if kind.scenario in self.options.scenarios]

    def query_scenarios(self, b0: procs.Server) -> None:
        """Per dataset size: a fresh broker, the typed dataset, a result-count sample, then the paired runs."""
        for count in self.profile.query_datasets:
            if self.over_budget(f"the {count}-entity query dataset"):
                return
            self.guarded(f"queries at {count}", functools.partial(self.query_dataset, b0, count))

    def query_dataset(self, b0: procs.Server, count: int) -> None:
        templates = self.tmp / f"query-templates-{count}.txt"
        pairs = queries.write_dataset(templates, count)
        broker = self.start_broker(f"query-{count}")
        try:
            # Distinct typed bodies load slower than the 256 templates of B1/B2 (~300/s at 10k): more time.
            self.load_dataset(broker, count, str(templates), what="load B5-B7", min_rate=60)
            files: list[tuple[queries.QueryKind, Path]] = []
            for n, kind in enumerate(self.query_kinds()):
                path = self.tmp / f"paths-{kind.key}-{count}.txt"
                paths = queries.write_paths(path, kind, pairs, seed=100 + n)
                files.append((kind, path))
                self.sample_queries(broker, kind, count, paths)
            for kind, path in files:
                for connections in (1, 10):
                    meta = {"scenario": kind.scenario, "name": kind.name, "dataset": count}
                    subject = Load(kind.name, broker, "query.lua", [str(path), self.link_arg])
                    self.run_pair(meta, subject, self.retrieve_load("B0 GET", b0), connections)
        finally:
            self.stop(broker)

    def sample_queries(self, broker: procs.Server, kind: queries.QueryKind, count: int, paths: list[str]) -> None:
        link = entity.CORE_LINK if self.options.link else None
        sample = queries.sample_counts(broker.url, paths, link)
        self.emit({"kind": "sample", "scenario": kind.scenario, "name": kind.name, "dataset": count, **sample})
        self.log(
            f"{kind.scenario} {kind.name} data={count}: {sample['samples']} sample GETs, mean count"
            f" {sample['mean_count']} [{sample['min_count']}-{sample['max_count']}], mean returned"
            f" {sample['mean_returned']}, failed {sample['failed']}"
        )
        if sample["failed"]:
            self.extra_errors += sample["failed"]
            self.notes.append(f"{kind.scenario} {kind.name} data={count} sample: {sample['first_error']}")

    def run(self) -> None:
        b0 = self.start_baseline("B0")
        if "B0" in self.options.scenarios:
            self.guarded("B0", lambda: self.scenario_b0(b0))
        if {"B1", "B2"} & set(self.options.scenarios):
            self.guarded("broker scenarios", lambda: self.broker_scenarios(b0))
        if set(QUERY_SCENARIOS) & set(self.options.scenarios):
            self.query_scenarios(b0)
        if "B8" in self.options.scenarios:
            self.guarded("B8", self.scenario_b8)
        if "SDM" in self.options.scenarios:
            self.guarded("SDM", self.scenario_sdm)
        if "B9" in self.options.scenarios:
            self.guarded("B9", lambda: notifications.scenario_b9(self, self.profile.notify_s))

    def guarded(self, what: str, block: Callable[[], None]) -> None:
        """Run a block of scenarios; a failure ends that block with a note, not the whole run."""
        try:
            block()
        except (RuntimeError, OSError, httpx.HTTPError, subprocess.TimeoutExpired) as error:
            self.notes.append(f"{what} stopped: {type(error).__name__}: {error}")
            self.log(self.notes[-1])


def run(options: Options) -> int:
    """Run the profile; print the tables; return the exit code (0 when nothing failed its floor)."""
    cpus = os.sched_getaffinity(0)
    if not {procs.SERVER_CPU, procs.LOAD_CPU} <= cpus:
        raise SystemExit(f"bench needs CPUs {procs.SERVER_CPU} and {procs.LOAD_CPU}; this process may use {cpus}")
    ensure_wrk()
    procs.pin_self_to_load_cpu()
    sha, dirty = git_sha()
    options.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ngsild-bench-"))
    harness = Harness(options=options, tmp=tmp, sha=sha, dirty=dirty)
    keep_tmp = False
    try:
        with contextlib.ExitStack() as stack, options.out.open("wb") as out:
            if options.store == "mongodb":
                harness.mongo = stack.enter_context(mongo_uri(("taskset", "-c", str(procs.SERVER_CPU))))
            harness.out = out
            harness.log(f"profile {options.profile.name}, scenarios {','.join(options.scenarios)}, tmp {tmp}")
            harness.emit(meta_record(options))
            try:
                harness.run()
            finally:
                harness.stop_all()
            checks = build_checks(harness)
            for check in checks:
                harness.emit(check.record())
            for note in harness.notes:
                harness.emit({"kind": "note", "note": note})
        keep_tmp = any("tracebacks" in note or "stopped" in note for note in harness.notes)
    finally:
        if keep_tmp:
            for db in tmp.glob("*/bench.db*"):
                db.unlink(missing_ok=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_summary(harness, checks)
    if options.store == "mongodb":
        return 0  # the stand-in's figures are for reference only (bench/README.md): no floor applies
    return 1 if any(c.status == "FAIL" for c in checks) else 0


def meta_record(options: Options) -> dict[str, Any]:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    return {
        "kind": "meta",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenarios": list(options.scenarios),
        "dataset": options.profile.dataset,
        "query_datasets": list(options.profile.query_datasets),
        "pairs": options.profile.pairs,
        "burst_s": options.profile.burst_s,
        "notify_s": options.profile.notify_s,
        "link_header": "core" if options.link else "none",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "wrk": wrk_version.splitlines()[0] if wrk_version else "",
        "entity_bytes": len(entity.entity_bytes(random.Random(0))),
    }


def print_summary(harness: Harness, checks: list[report.Check]) -> None:
    profile = harness.profile
    print()
    print(
        f"NGSI-LD broker bench @ {harness.sha}{' (dirty)' if harness.dirty else ''}, profile {profile.name}:"
        f" {profile.pairs} pairs of {profile.burst_s} s bursts, broker and B0 on CPU {procs.SERVER_CPU},"
        f" wrk on CPU {procs.LOAD_CPU} (one core of a 2-vCPU machine)"
    )
    print()
    if any(r.get("kind") == "result" for r in harness.records):
        print(report.results_table(harness.records))
    if any(r.get("kind") == "notify" for r in harness.records):
        print(report.notifications_table(harness.records))
    for record in harness.records:
        if record.get("kind") == "load":
            print(
                f"\nload: {record['created']}/{record['dataset']} entities in {record['seconds']} s"
                f" ({record['entities_per_s']}/s, c={record['concurrency']}), RSS {record['rss_mb']} MB"
            )
    samples = [r for r in harness.records if r.get("kind") == "sample"]
    if samples:
        print("\nquery results, a sample of each kind with count=true (mean total, its range, mean page size):")
        print(report.samples_table(samples))
    print()
    print(report.checks_table(checks))
    noisy = [r for r in harness.records if r.get("kind") == "result" and report.noise_pct(r) > NOISY_PCT]
    if noisy:
        print(
            f"note: in {len(noisy)} of the results other processes (or steal) took more than {NOISY_PCT}% of"
            f" CPU {procs.SERVER_CPU} during the bursts (noise column): rerun those on a quieter machine"
        )
    for note in harness.notes:
        print(f"note: {note}")
    print(f"\nresults: {harness.options.out}")


def find(harness: Harness, scenario: str, name: str, dataset: Any, connections: int) -> dict[str, Any] | None:
    for r in harness.records:
        if r.get("kind") == "result" and (r["scenario"], r["name"], r["dataset"], r["concurrency"]) == (
            scenario,
            name,
            dataset,
            connections,
        ):
            return r
    return None


def build_checks(harness: Harness) -> list[report.Check]:
    if not {"B0", "B1", "B2"} & set(harness.options.scenarios):
        # a B5-B8 run: no n/a rows for B0-B2
        return [*common_checks(harness), *query_checks(harness), *batch_checks(harness), *sdm_checks(harness),
                *notify_checks(harness)]  # fmt: skip
    n = harness.profile.dataset
    checks: list[report.Check] = []

    def ratio_check(label: str, record: dict[str, Any] | None, target: float, floor: float) -> None:
        value = record["ratio"] if record else None
        status = report.grade(value, target, floor, higher_is_better=True)
        checks.append(report.Check(label, value, "x", f">= {target}", f"{floor}", status))

    for dataset in ("empty", n):
        record = find(harness, "B1", "create", dataset, 50)
        ratio_check(f"create / B0 POST, c=50, {dataset}", record, 0.35, 0.15)
    for name in ("retrieve normalized", "retrieve keyValues"):
        ratio_check(f"{name} / B0 GET, c=50, {n}", find(harness, "B2", name, n, 50), 0.50, 0.25)
    for name in ("retrieve normalized", "retrieve keyValues"):
        record = find(harness, "B2", name, n, 10)
        value = record["p99_ms"] if record else None
        status = report.grade(value, 10.0, None, higher_is_better=False)
        checks.append(report.Check(f"{name} p99, c=10, {n}", value, "ms", "< 10", "-", status))
    rss = max(harness.rss_dataset) / 2**20 if harness.rss_dataset else None
    status = report.grade(rss, 250.0, 500.0, higher_is_better=False)
    checks.append(report.Check(f"broker RSS holding {n} entities", rss, "MB", "<= 250", "500", status))
    checks.extend(common_checks(harness))
    for name in ("GET (vs B0 twin)", "POST (vs B0 twin)"):
        record = find(harness, "B0", name, "-", 50)
        value = record["ratio"] if record else None
        ok = value is not None and 0.85 <= value <= 1.15
        status = "n/a" if value is None else ("pass" if ok else "warn")
        label = f"self-check B0 twin / B0 {name.split()[0]}, c=50"
        checks.append(report.Check(label, value, "x", "~1.0", "-", status))
    checks.extend(query_checks(harness))
    checks.extend(batch_checks(harness))
    checks.extend(sdm_checks(harness))
    checks.extend(notify_checks(harness))
    return checks


def notify_checks(harness: Harness) -> list[report.Check]:
    """B9: notification latency, losses, fan-out, the cost of other subscriptions, isolation."""
    return notifications.checks(harness.records) if "B9" in harness.options.scenarios else []


def sdm_checks(harness: Harness) -> list[report.Check]:
    """Issue 6: validating Smart Data Models at ingest costs at most 20% of create throughput."""
    checks: list[report.Check] = []
    for record in harness.records:
        if record.get("kind") == "result" and record["scenario"] == "SDM":
            label = f"SDM create enforce / off, c={record['concurrency']}"
            status = report.grade(record["ratio"], 0.8, 0.6, higher_is_better=True)
            checks.append(report.Check(label, record["ratio"], "x", ">= 0.8", "0.6", status))
    return checks


def batch_checks(harness: Harness) -> list[report.Check]:
    """B8 (BENCH.md): >= 20k entities/s in batches, and >= 4x single creates (floor 2x) in the same run."""
    checks: list[report.Check] = []
    for record in (r for r in harness.records if r.get("kind") == "batch"):
        name = f"B8 {record['operation']} x{record['batch_size']}"
        rate = record["entities_per_s"]
        checks.append(
            report.Check(f"{name} entities/s, c={BATCH_CONNECTIONS}", rate, "/s", ">= 20000", "-",
                         report.grade(rate, 20000.0, None, higher_is_better=True))
        )  # fmt: skip
        ratio = record["entities_ratio"]
        label = f"{name} / single creates c={record['single_connections']}"
        checks.append(
            report.Check(label, ratio, "x", ">= 4", "2", report.grade(ratio, 4.0, 2.0, higher_is_better=True))
        )
    return checks


def common_checks(harness: Harness) -> list[report.Check]:
    checks: list[report.Check] = []
    cold = max(harness.cold_starts) if harness.cold_starts else None
    status = report.grade(cold, 1.0, 2.0, higher_is_better=False)
    checks.append(report.Check("cold start, spawn to first answer", cold, "s", "<= 1", "2", status))
    broker_runs = [r for r in harness.records if r.get("kind") == "result" and r["scenario"] != "B0"]
    errors = sum(r["errors"] for r in broker_runs) + harness.extra_errors if broker_runs else None
    status = report.grade(None if errors is None else float(errors), 0.0, 0.0, higher_is_better=False)
    checks.append(report.Check("broker errors (non-2xx + socket)", errors, "", "0", "0", status))
    return checks


def stalled_or(record: dict[str, Any] | None, status: str) -> str:
    """FAIL for a measurement in which the broker completed no request at all (its latency is unknown)."""
    return "FAIL" if record is not None and not record["requests"] else status


def short(count: int) -> str:
    return f"{count // 1000}k" if count >= 1000 and count % 1000 == 0 else str(count)


# B5-B7 targets (BENCH.md, at 100k): (kind, percentile, concurrency, target ms, floor ms)
QUERY_TARGETS = (
    (queries.B5, "p50", 1, 1.0, 5.0), (queries.B5, "p50", 10, 10.0, 50.0), (queries.B5, "p99", 10, 50.0, 250.0),
    (queries.B6, "p50", 1, 1.0, 5.0), (queries.B6, "p50", 10, 10.0, 50.0), (queries.B6, "p99", 10, 50.0, 250.0),
    (queries.B5_COUNT, "p50", 1, 20.0, 100.0),
    (queries.B7_NEAR, "p50", 1, 3.0, 20.0), (queries.B7_NEAR, "p99", 10, 50.0, 300.0),
    (queries.B7_WITHIN, "p50", 1, 3.0, 20.0), (queries.B7_WITHIN, "p99", 10, 50.0, 300.0),
)  # fmt: skip


def query_checks(harness: Harness) -> list[report.Check]:
    """The B5-B7 latency targets at the largest query dataset measured (they are meant for 100k), and the
    query scaling, p50 at c=1 at the largest over the smallest dataset (meant as 100k / 1k)."""
    checks: list[report.Check] = []
    measured = {r["dataset"] for r in harness.records if r.get("kind") == "result" and r["scenario"] in QUERY_SCENARIOS}
    if not measured:
        return checks
    largest, smallest = max(measured), min(measured)
    for kind, percentile, connections, target, floor in QUERY_TARGETS:
        if kind.scenario not in harness.options.scenarios:
            continue
        record = find(harness, kind.scenario, kind.name, largest, connections)
        value = record[f"{percentile}_ms"] if record else None
        status = stalled_or(record, report.grade(value, target, floor, higher_is_better=False))
        label = f"{kind.scenario} {kind.name} {percentile}, c={connections}, {short(largest)}"
        checks.append(report.Check(label, value, "ms", f"<= {target:g}", f"{floor:g}", status))
    if largest == smallest:
        return checks
    for kind in harness.query_kinds():
        top, bottom = (find(harness, kind.scenario, kind.name, n, 1) for n in (largest, smallest))
        fine = top and bottom and top["p50_ms"] is not None and bottom["p50_ms"]
        value = top["p50_ms"] / bottom["p50_ms"] if top and bottom and fine else None
        status = stalled_or(top, report.grade(value, 2.0, 5.0, higher_is_better=False))
        label = f"query scaling {kind.scenario} {kind.name}: p50 c=1 {short(largest)} / {short(smallest)}"
        checks.append(report.Check(label, value, "x", "<= 2", "5", status))
    return checks
