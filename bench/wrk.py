"""Driving wrk (pinned to the load CPU) and reading the BENCHJSON line its Lua done() prints."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.procs import LOAD_CPU

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "BENCHJSON "
TIMEOUT_S = 5


class WrkError(RuntimeError):
    pass


@dataclass
class Burst:
    requests: int
    duration_s: float
    non2xx: int
    socket_errors: int
    latency_max_us: int
    quantiles: list[tuple[float, int]]
    ok: int = 0
    failed: int = 0
    cpu_s: float = 0.0
    cpu_other_s: float = 0.0  # busy time of the servers' CPU not spent by the measured server
    cpu_steal_s: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def ensure_wrk() -> str:
    """wrk's path; installs Debian's wrk when it is missing and we are root, else fails clearly."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise WrkError("wrk is not on PATH and we are not root: run `apt-get install -y wrk` first")
    print("wrk not found: apt-get update && apt-get install -y wrk", flush=True)
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise WrkError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    path = shutil.which("wrk")
    if not path:
        raise WrkError("apt-get installed wrk but it is still not on PATH")
    return path


def wrk_command(
    url: str, script: str, args: list[str], connections: int, duration_s: int, threads: int = 1
) -> list[str]:
    """One wrk thread on the load CPU: ~50k req/s, never the bottleneck against one server core."""
    return [
        "taskset", "-c", str(LOAD_CPU), "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s",
        f"--timeout={TIMEOUT_S}s", "-s", str(LUA_DIR / script), url, "--", *args,
    ]  # fmt: skip


def parse_output(stdout: str) -> Burst:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            data = orjson.loads(line[len(MARKER) :])
            errors = data["errors"]
            return Burst(
                requests=int(data["requests"]),
                duration_s=data["duration_us"] / 1e6,
                non2xx=int(errors["status"]),
                socket_errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
                latency_max_us=int(data["latency_max_us"]),
                quantiles=[(float(q), int(v)) for q, v in data["quantiles"]],
                ok=int(data["ok"]),
                failed=int(data["failed"]),
            )
    raise WrkError(f"no {MARKER.strip()} line in wrk output: {stdout[-1500:]}")


def run_burst(url: str, script: str, args: list[str], connections: int, duration_s: int) -> Burst:
    command = wrk_command(url, script, args, connections, duration_s)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30, check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr[-1500:]}")
    return parse_output(done.stdout)


def run_until_marked(
    url: str, script: str, args: list[str], connections: int, max_s: int, marker_prefix: Path, threads: int
) -> Burst:
    """Run a script that creates '<marker_prefix><thread>' when done; SIGINT wrk once all threads are."""
    command = wrk_command(url, script, args, connections, max_s, threads)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + max_s + 5
        markers = [Path(f"{marker_prefix}{n}") for n in range(threads)]
        while process.poll() is None and time.monotonic() < deadline:
            if all(m.exists() for m in markers):
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise WrkError(f"wrk exited {process.returncode}: {stderr[-1500:]}")
    return parse_output(stdout)


def pooled_percentile(bursts: list[Burst], percentile: float) -> float:
    """Approximate percentile (ms) over all bursts' requests, from each burst's quantile grid."""
    points: list[tuple[int, float]] = []
    for burst in bursts:
        previous = 0.0
        for q, value in burst.quantiles:
            points.append((value, burst.requests * (q - previous) / 100.0))
            previous = q
    if not points:
        return float("nan")
    points.sort()
    total = sum(weight for _, weight in points)
    running = 0.0
    for value, weight in points:
        running += weight
        if running >= total * percentile / 100.0:
            return value / 1000.0
    return points[-1][0] / 1000.0
