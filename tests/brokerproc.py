"""A real broker process for fault tests: ``python -m ngsild serve`` on a free loopback port, with
the egress policy set to loopback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from mongo_standin import free_port

REPO = Path(__file__).resolve().parents[1]


class Broker:
    """``python -m ngsild serve`` over the given store URL; ``stop`` ends it gently, ``kill`` with SIGKILL."""

    def __init__(self, store: str, log: Path, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ngsild", "serve", "--host", "127.0.0.1", "--port", port, "--store", store,
                 "--store-timeout", "1", "--egress-allow", "127.0.0.0/8,::1", *extra],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/ngsi-ld/ex/datamodels", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the broker did not start:\n{tail}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.kill()
        self.process.wait(timeout=15)
