"""Starting, pinning, measuring and stopping the server processes (by PID, on loopback only)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
SERVER_CPU = 0
LOAD_CPU = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pin_self_to_load_cpu() -> None:
    """Keep the harness (and so wrk) off the servers' CPU."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {LOAD_CPU})


def start_server(name: str, argv: list[str], port: int, cwd: Path, log_path: Path) -> Server:
    command = ["taskset", "-c", str(SERVER_CPU), *argv]
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    finally:
        log.close()
    return Server(name=name, port=port, process=process, log_path=log_path, started_at=time.monotonic())


def wait_ready(server: Server, path: str, timeout_s: float = 30.0) -> float:
    """Poll until the server answers HTTP at all; return seconds from spawn to that first answer."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode}: {log_tail(server)}")
            with contextlib.suppress(httpx.HTTPError):
                client.get(server.url + path)
                return time.monotonic() - server.started_at
            time.sleep(0.02)
    raise RuntimeError(f"{server.name} did not answer within {timeout_s:.0f} s: {log_tail(server)}")


def log_tail(server: Server, lines: int = 15) -> str:
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def descendants(pid: int) -> list[int]:
    """PIDs of the children of pid, transitively (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read_stat(int(entry.name))
            if stat is not None:
                parents.setdefault(int(stat[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


def _read_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid and its descendants, in seconds."""
    ticks = 0
    for member in [pid, *descendants(pid)]:
        stat = _read_stat(member)
        if stat is not None:
            ticks += int(stat[11]) + int(stat[12])
    return ticks / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of pid and its descendants."""
    total = 0
    for member in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def cpu_times(cpu: int = SERVER_CPU) -> tuple[float, float]:
    """(busy, steal) seconds of one CPU since boot, from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in line.split()[1:9])
            return ((user + nice + system + irq + softirq) / CLOCK_TICKS, steal / CLOCK_TICKS)
    return (0.0, 0.0)


def stop_server(server: Server, grace_s: float = 5.0) -> None:
    """SIGTERM the server and whatever it spawned, by PID; SIGKILL what is left after grace_s."""
    if server.process.poll() is not None:
        return
    pids = [server.pid, *descendants(server.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.process.wait(timeout=grace_s)
