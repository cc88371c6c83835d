"""Notifications when the broker itself fails: a broker killed with SIGKILL while notifications are
pending delivers them after it restarts, in order, on either store. A real broker process, a real
receiver on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.brokerproc import Broker

API = "/ngsi-ld/v1"


class Receiver:
    """Answers 503 while ``down`` is set, else 204; records what it accepted."""

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not receiver.down:
                    receiver.accepted.append(body)
                self.send_response(503 if receiver.down else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def speeds(self) -> list[int]:
        """The speeds notified, each notification once (a redelivery after a crash is allowed)."""
        seen: dict[str, int] = {}
        for body in self.accepted:
            seen.setdefault(body["id"], body["data"][0]["speed"]["value"])
        return list(seen.values())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(params=["sqlite", "mongodb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "mongodb":
        return str(request.getfixturevalue("mongo_url"))
    return f"sqlite:///{tmp_path / 'broker.db'}"


def test_notifications_pending_at_a_sigkill_are_delivered_after_the_restart(
    receiver: Receiver, store_url: str, tmp_path: Path
) -> None:
    """Kill -9 with every notification still undelivered: after the restart all arrive, in order."""
    log = tmp_path / "broker.log"
    broker = Broker(store_url, log, "--notification-retry-first", "0.05", "--notification-retry-max", "0.2")
    try:
        subscription = {
            "type": "Subscription",
            "entities": [{"type": "Car"}],
            "notification": {"endpoint": {"uri": receiver.url}},
        }
        assert httpx.post(f"{broker.url}{API}/subscriptions", json=subscription).status_code == 201
        car = {"id": "urn:ngsi-ld:Car:k9", "type": "Car", "speed": {"type": "Property", "value": 0}}
        assert httpx.post(f"{broker.url}{API}/entities", json=car).status_code == 201
        for speed in range(1, 6):
            patch = {"speed": {"type": "Property", "value": speed}}
            assert httpx.patch(f"{broker.url}{API}/entities/{car['id']}/attrs", json=patch).status_code == 204
        time.sleep(0.3)  # some attempts fail meanwhile
    finally:
        broker.kill()
    assert receiver.accepted == []
    receiver.down = False
    restarted = Broker(store_url, log)
    try:
        deadline = time.monotonic() + 20
        while receiver.speeds() != [0, 1, 2, 3, 4, 5]:
            assert time.monotonic() < deadline, f"after the restart only {receiver.speeds()} arrived"
            time.sleep(0.1)
    finally:
        restarted.stop()
