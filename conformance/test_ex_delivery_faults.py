"""Extension (issue 7 contract, not GS CIM 009): notification delivery survives receiver faults. Failed attempts
(non-2xx, connection refused, timeout) are retried with backoff, the notification id is stable across retries, and
the order per subscription is kept, so nothing is lost; a slow receiver does not hold up other subscriptions.
Digest §3.6 only says "retries are not specified"; the bookkeeping (timesFailed, status) is §3.6's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conformance.helpers import DATETIME_RE, create, eventually, prop, send
from conformance.receiver import Notification, Receiver

SPEEDS = [1, 2, 3, 4, 5]
Subscribe = Callable[..., str]


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def expect(resp: httpx.Response, *statuses: int) -> httpx.Response:
    assert resp.status_code in statuses, f"expected {statuses}, got {resp.status_code}: {resp.text[:500]}"
    return resp


def set_speed(client: httpx.Client, entity_id: str, speed: int) -> None:
    expect(send(client, "PATCH", f"/entities/{entity_id}/attrs", {"speed": prop(speed)}), 204)


@pytest.fixture
def car(client: httpx.Client) -> str:
    """An entity of a fresh type with speed 0; returns its id."""
    t = uniq("Car")
    eid = f"urn:ngsi-ld:{t}:a"
    create(client, {"id": eid, "type": t, "speed": prop(0)})
    return eid


@pytest.fixture
def subscribe(client: httpx.Client, receiver: Receiver) -> Iterator[Subscribe]:
    """subscribe(entity_id, path, **endpoint) -> subscription id; the subscriptions are deleted at teardown and
    the paths answer 200 again."""
    made: list[tuple[str, str]] = []

    def make(entity_id: str, path: str, **endpoint: Any) -> str:
        sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex[:12]}"
        body = {
            "id": sub_id,
            "type": "Subscription",
            "entities": [{"type": entity_id.split(":")[2], "id": entity_id}],
            "notification": {"endpoint": {"uri": receiver.url(path), **endpoint}},
        }
        expect(send(client, "POST", "/subscriptions", body), 201)
        made.append((sub_id, path))
        return sub_id

    yield make
    for sub_id, path in made:
        receiver.reset(path)
        client.delete(f"/subscriptions/{sub_id}")


def stats(client: httpx.Client, sub_id: str) -> dict[str, Any]:
    body = expect(client.get(f"/subscriptions/{sub_id}"), 200).json()
    assert isinstance(body, dict) and isinstance(body.get("notification"), dict), body
    return body["notification"]


def poll_stats(
    client: httpx.Client, sub_id: str, done: Callable[[dict[str, Any]], bool], what: str, timeout: float = 10.0
) -> dict[str, Any]:
    """GET the subscription until ``done(notification params)`` holds (or fail after ``timeout`` s)."""
    return eventually(lambda: stats(client, sub_id), done, f"the subscription show {what}", timeout)


def delivered(notes: list[Notification]) -> list[Notification]:
    """The notifications the receiver accepted, de-duplicated by notification id (first acceptance kept)."""
    seen: set[Any] = set()
    out = []
    for note in notes:
        if note.ok and note.id not in seen:
            seen.add(note.id)
            out.append(note)
    return out


def speed_of(note: Notification) -> Any:
    return note.entity["speed"]["value"]


def assert_all_delivered_in_order(receiver: Receiver, path: str, timeout: float = 20.0) -> None:
    """Every one of the SPEEDS updates reached the receiver once or more, in order, and nothing else did."""
    got = receiver.wait_until(
        path, lambda g: len(delivered(g)) >= len(SPEEDS), timeout, f"{len(SPEEDS)} distinct accepted notifications"
    )
    assert [speed_of(n) for n in delivered(got)] == SPEEDS
    assert {n.id for n in got} == {n.id for n in delivered(got)}, "an attempt carried an id that was never accepted"
    for note in got:  # a retry repeats the same notification: same id, same content
        first = next(d for d in delivered(got) if d.id == note.id)
        assert speed_of(note) == speed_of(first), (note.summary(), first.summary())


def test_erroring_receiver_loses_nothing(
    client: httpx.Client, receiver: Receiver, subscribe: Subscribe, car: str
) -> None:
    """The receiver answers 500 for ~1.5 s, then 200: the five notifications all arrive, in order (retries keep
    the notification id)."""
    path = receiver.new_path()
    receiver.fail(path, 500)
    sub = subscribe(car, path)
    for speed in SPEEDS:
        set_speed(client, car, speed)
    first = receiver.wait_for(path, 1)[0]
    assert first.status == 500
    time.sleep(max(0.0, first.at + 1.5 - time.monotonic()))
    receiver.reset(path)
    assert_all_delivered_in_order(receiver, path)
    assert stats(client, sub).get("timesFailed", 0) >= 1


def test_unreachable_receiver_loses_nothing(
    client: httpx.Client, receiver: Receiver, subscribe: Subscribe, car: str
) -> None:
    """The receiver's port is closed (connection refused) until the broker has failed at least once, then it
    listens again on the same port: the five notifications all arrive, in order."""
    path = receiver.new_path()
    sub = subscribe(car, path)
    receiver.down()
    try:
        for speed in SPEEDS:
            set_speed(client, car, speed)
        poll_stats(client, sub, lambda s: s.get("timesFailed", 0) >= 1, "timesFailed >= 1 while down")
        time.sleep(0.5)
    finally:
        receiver.up()
    assert_all_delivered_in_order(receiver, path)
    final = poll_stats(
        client,
        sub,
        lambda s: s.get("status") == "ok" and s.get("timesSent", 0) >= len(SPEEDS) + s.get("timesFailed", 0),
        "status ok and every attempt (5 successes + the failures) counted in timesSent",
    )
    assert DATETIME_RE.match(final.get("lastFailure", "")), final


@pytest.mark.parametrize("timeout_ms", [None, 500], ids=["no endpoint timeout", "timeout 500 ms"])
def test_slow_receiver_does_not_block_others(
    client: httpx.Client, receiver: Receiver, subscribe: Subscribe, car: str, timeout_ms: int | None
) -> None:
    """A receiver that takes 3 s to answer does not delay another subscription's notification (< 1 s), nor
    the write that caused it."""
    slow, fast = receiver.new_path("slow"), receiver.new_path("fast")
    receiver.delay(slow, 3.0)
    subscribe(car, slow, **({"timeout": timeout_ms} if timeout_ms else {}))
    subscribe(car, fast)
    start = time.monotonic()
    set_speed(client, car, 1)
    assert time.monotonic() - start < 1.0, "the write waited for a notification"
    note = receiver.wait_for(fast, 1, timeout=5.0)[0]
    assert note.at - start < 1.0, f"fast receiver notified after {note.at - start:.2f}s"
    assert speed_of(note) == 1
    receiver.wait_for(slow, 1, timeout=5.0)


def test_timeout_is_a_failure_and_is_retried(
    client: httpx.Client, receiver: Receiver, subscribe: Subscribe, car: str
) -> None:
    """An attempt whose answer takes longer than endpoint.timeout counts as failed (timesFailed, status failed)
    and the same notification is sent again; once answered in time, status is ok."""
    path = receiver.new_path()
    receiver.delay(path, 3.0)
    sub = subscribe(car, path, timeout=500)
    set_speed(client, car, 1)
    first = receiver.wait_for(path, 1)[0]
    failed = poll_stats(client, sub, lambda s: s.get("timesFailed", 0) >= 1, "timesFailed >= 1", timeout=5.0)
    assert failed["status"] == "failed"
    assert DATETIME_RE.match(failed.get("lastFailure", "")), failed
    receiver.reset(path)
    got = receiver.wait_until(path, lambda g: any(n.ok and n.id == first.id for n in g), 15.0, "the retried one")
    assert len([n for n in got if n.id == first.id]) >= 2
    assert all(speed_of(n) == 1 for n in got)
    final = poll_stats(client, sub, lambda s: s.get("status") == "ok", "status ok after the retry")
    assert final["timesSent"] >= 2
    assert final["timesFailed"] >= 1
    assert DATETIME_RE.match(final.get("lastSuccess", "")), final
