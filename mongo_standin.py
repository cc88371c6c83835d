"""The MongoDB that tests and benchmarks use: ``MONGO_URI`` when set (a real server), else a
SecantusDB server (a MongoDB wire-protocol server on WiredTiger that presents itself as a one-node
replica set) started in a subprocess on a free loopback port.

A subprocess rather than in-process: it keeps its own interpreter (no GIL shared with the code
under test), and the fault tests can stop it and start it again on the same port and data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandIn:
    """One SecantusDB server process over a data directory that outlives restarts."""

    def __init__(self, storage: Path, port: int | None = None, prefix: tuple[str, ...] = ()) -> None:
        self.storage = storage
        self.port = port or free_port()
        self.prefix = prefix  # e.g. ("taskset", "-c", "0") to pin it to a CPU
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        log = open(self.storage.with_suffix(".log"), "ab")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(self.port),
             "--storage-path", str(self.storage), "--cache-size", "256M", "--log-level", "WARNING"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.storage.with_suffix(".log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"SecantusDB did not start on port {self.port}:\n{tail}")
            time.sleep(0.05)
        return self.uri

    def _answers(self) -> bool:
        from pymongo import MongoClient

        try:
            with MongoClient(self.uri, serverSelectionTimeoutMS=200) as client:
                client.admin.command("ping")
            return True
        except Exception:  # not up yet: any failure means try again
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None


@contextmanager
def mongo_uri(prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """``MONGO_URI``, or the URI of a stand-in running until the block ends."""
    external = os.environ.get("MONGO_URI")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="ngsild-mongo-") as directory:
        server = StandIn(Path(directory) / "data", prefix=prefix)
        try:
            yield server.start()
        finally:
            server.stop()


def with_database(uri: str, name: str) -> str:
    """``uri`` naming database ``name`` (the path part), keeping its options."""
    base, _, options = uri.partition("?")
    host = base.split("://", 1)[1].split("/", 1)[0]
    scheme = base.split("://", 1)[0]
    return f"{scheme}://{host}/{name}" + (f"?{options}" if options else "")
