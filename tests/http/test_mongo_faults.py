"""The broker on MongoDB when things go wrong: the database down at start and mid-request (a clear
503, and recovery without a restart when it returns), concurrent updates of one entity (nothing
lost), and racing creates of one id (exactly one 201). A real broker process and a real database
process (SecantusDB, or MONGO_URI for the concurrency tests) talk over loopback."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mongo_standin import StandIn, with_database
from tests.brokerproc import Broker

API = "/ngsi-ld/v1"
STORE_UNAVAILABLE = "https://uri.etsi.org/ngsi-ld/errors/InternalError"


def car(entity_id: str, **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": "Car", **attrs}


def eventually(check: Callable[[], bool], within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.2)


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[StandIn, Broker]]:
    """A database of this test's own (not started yet) and a broker configured to use it."""
    server = StandIn(tmp_path / "data")
    broker = Broker(with_database(server.uri, "faults"), tmp_path / "broker.log")
    try:
        yield server, broker
    finally:
        broker.stop()
        server.stop()


def test_database_down_at_start_then_mid_request_gives_503_and_recovers(outage: tuple[StandIn, Broker]) -> None:
    """The broker starts without its database and answers 503 with a ProblemDetails, promptly; once
    the database is up it serves without a restart; when the database goes away again requests get
    503 again, and after it returns the data written before is all there."""
    server, broker = outage
    with httpx.Client(base_url=broker.url + API, timeout=30) as client:
        started = time.monotonic()
        down = client.post("/entities", json=car("urn:ngsi-ld:Car:1", speed={"type": "Property", "value": 1}))
        assert down.status_code == 503 and time.monotonic() - started < 10
        problem = down.json()
        assert problem["type"] == STORE_UNAVAILABLE and problem["title"] == "Store unavailable"
        assert "MongoDB" in problem["detail"]

        server.start()
        eventually(lambda: client.post("/entities", json=car("urn:ngsi-ld:Car:1")).status_code == 201)
        assert client.get("/entities/urn:ngsi-ld:Car:1").status_code == 200

        server.stop()
        started = time.monotonic()
        assert client.get("/entities/urn:ngsi-ld:Car:1").status_code == 503
        assert client.get("/entities", params={"type": "Car"}).status_code == 503
        assert time.monotonic() - started < 20

        server.start()
        eventually(lambda: client.get("/entities/urn:ngsi-ld:Car:1").status_code == 200)
        assert [e["id"] for e in client.get("/entities", params={"type": "Car"}).json()] == ["urn:ngsi-ld:Car:1"]


@pytest.fixture(scope="module")
def mongo_broker(mongo_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"races_{uuid.uuid4().hex[:12]}"
    broker = Broker(with_database(mongo_server, name), tmp_path_factory.mktemp("broker") / "broker.log")
    try:
        yield broker.url + API
    finally:
        broker.stop()


async def test_concurrent_updates_of_one_entity_lose_nothing(mongo_broker: str) -> None:
    """Twenty clients each append their own attribute to one entity at once. Revision conflicts are
    retried inside the broker (apart, with random backoff); a request that still loses every race
    gets 409 Conflict, as the spec allows. No update is lost: the entity ends with exactly the
    attributes whose requests succeeded."""
    entity_id = f"urn:ngsi-ld:Car:{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=mongo_broker, timeout=30) as client:
        assert (await client.post("/entities", json=car(entity_id))).status_code == 201
        responses = await asyncio.gather(
            *(client.post(f"/entities/{entity_id}/attrs", json={f"a{i}": {"type": "Property", "value": i}})
              for i in range(20))
        )  # fmt: skip
        statuses = [r.status_code for r in responses]
        stored = (await client.get(f"/entities/{entity_id}", params={"format": "keyValues"})).json()
    assert set(statuses) <= {204, 409} and statuses.count(204) >= 10, statuses
    assert {k: v for k, v in stored.items() if k.startswith("a")} == {
        f"a{i}": i for i, status in enumerate(statuses) if status == 204
    }


async def test_racing_creates_of_one_id_give_exactly_one_201(mongo_broker: str) -> None:
    """Ten clients create the same id at once: one gets 201, the others 409 AlreadyExists, and the
    stored entity is the winner's."""
    entity_id = f"urn:ngsi-ld:Car:{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=mongo_broker, timeout=30) as client:
        responses = await asyncio.gather(
            *(client.post("/entities", json=car(entity_id, n={"type": "Property", "value": i})) for i in range(10))
        )
        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [201] + [409] * 9
        assert all(r.json()["type"].endswith("AlreadyExists") for r in responses if r.status_code == 409)
        winner = statuses.index(201)
        stored = (await client.get(f"/entities/{entity_id}", params={"format": "keyValues"})).json()
    assert stored["n"] == winner
