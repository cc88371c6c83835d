"""Delivery (§5.8.6, §6.3 HTTP binding): from a Change to notifications stored with the write, and
from the outbox to the receivers at least once, in order per subscription, with retries, give-up,
statistics, throttling and cooldown on the injected Clock, periodic notifications, replay after a
restart, and the egress policy.

Receivers are an ``httpx.MockTransport``; time that matters for logic is a FakeClock; retries use a
policy of milliseconds so failing receivers cost little real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, cast

import httpx
import orjson
import pytest

from ngsild import subscription, updates, validate
from ngsild.clock import FakeClock, format_datetime
from ngsild.egress import EgressPolicy
from ngsild.jsonld import CORE_TERM_MAP
from ngsild.model import LD_CONTEXT_REL, Change, Doc
from ngsild.services import delivery, notifications
from ngsild.services.channels import Channels, DeliveryFailed, headers
from ngsild.services.delivery import Notifier, RetryPolicy
from ngsild.services.matching import Compiled, compile_subscription
from ngsild.store.port import Outgoing
from ngsild.store.sqlite import SqliteStore

TM = CORE_TERM_MAP
FAST = RetryPolicy(first_delay_s=0.001, max_delay_s=0.01, give_up_after_s=0.5)
EGRESS = EgressPolicy.parse("receiver.example,other.example")
CONTEXT = "https://example.org/ctx.jsonld"
URI = "http://receiver.example/notify"
OTHER = "http://other.example/notify"
REFUSED = "http://blocked.example/notify"
SUB = "urn:ngsi-ld:Subscription:1"
LINK = f'<{CONTEXT}>; rel="{LD_CONTEXT_REL}"; type="application/ld+json"'
WAIT_S = 5.0  # a bound on waiting for the event loop, never a delay the logic depends on


# ---- the receivers -------------------------------------------------------------------------------------


@dataclass
class Receiver:
    """Notification endpoints: records every attempt, answers 500 to the first ``failures[url]``
    attempts and always to the notifications in ``refuse``, holds a URL until its gate opens, and
    raises a non-HTTP error ``crashes`` times."""

    attempts: list[httpx.Request] = field(default_factory=list)
    delivered: list[httpx.Request] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    crashes: int = 0
    status: int = 204

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request)
        url = str(request.url)
        if url in self.gates:
            await self.gates[url].wait()
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("a defect in the sender")
        if self.failures.get(url, 0) > 0 or orjson.loads(request.content)["id"] in self.refuse:
            self.failures[url] = self.failures.get(url, 0) - 1
            return httpx.Response(500)
        self.delivered.append(request)
        return httpx.Response(self.status)

    def bodies(self, url: str = URI) -> list[Doc]:
        return [orjson.loads(r.content) for r in self.delivered if str(r.url) == url]

    async def until(self, condition: Callable[[], bool]) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.001)

        await asyncio.wait_for(poll(), WAIT_S)


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    adapter = SqliteStore(":memory:")
    await adapter.open()
    yield adapter
    await adapter.close()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def http(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        yield client


@pytest.fixture
def notifier(store: SqliteStore, http: httpx.AsyncClient) -> Notifier:
    return Notifier(store, FakeClock(), Channels(http, EGRESS), TM, FAST)


def clock_of(notifier: Notifier) -> FakeClock:
    return cast(FakeClock, notifier.clock)


@asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[Notifier]:
    """The notifier's run loop as a task, cancelled at the end."""
    task = asyncio.create_task(notifier.run())
    await asyncio.sleep(0)
    try:
        yield notifier
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def settle(notifier: Notifier) -> None:
    """Wait until every queued notification was delivered or given up."""
    await asyncio.wait_for(notifier.idle(), WAIT_S)


# ---- builders ------------------------------------------------------------------------------------------


async def subscribe(
    notifier: Notifier, tenant: str = "", sub_id: str = SUB, uri: str = URI, endpoint: Doc | None = None, **members: Any
) -> Compiled:
    """Create a subscription on Shops (stored, and known to the notifier)."""
    body = {
        "type": "Subscription",
        "entities": [{"type": "Shop"}],
        "notification": {"endpoint": {"uri": uri, **(endpoint or {})}},
        **members,
    }
    now = notifier.clock.now()
    doc = subscription.create(body, TM, CONTEXT, now, format_datetime(now), sub_id)
    compiled = compile_subscription(tenant, doc, TM).with_term_map(TM)
    await notifier.store.put_subscription(tenant, doc, create=True)
    notifier.put(compiled, {})
    return compiled


def shop(n: int, type_: str = "Shop", **attrs: Any) -> Doc:
    payload = {"id": f"urn:ngsi-ld:{type_}:{n}", "type": type_, "n": n, **attrs}
    return updates.create(validate.entity(payload, TM, validate.CREATE), "2026-01-01T00:00:00.000000Z")


def created(doc: Doc, tenant: str = "") -> Change:
    return Change(tenant, doc["id"], None, doc, "create")


async def write(notifier: Notifier, doc: Doc, tenant: str = "") -> list[Outgoing]:
    """What the broker does for Create Entity: stage, store with the write, submit."""
    outbox = notifier.stage(created(doc, tenant))
    await notifier.store.create(tenant, doc, outbox)
    notifier.submit(outbox)
    return outbox


async def outbox_keys(notifier: Notifier) -> list[str]:
    return [o.key for o in await notifier.store.outgoing(100)]


def ids_in(bodies: list[Doc]) -> list[str]:
    return [entity["id"] for body in bodies for entity in body["data"]]


# ---- from a write to the receiver ----------------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["", "t1"], ids=["default tenant", "tenant"])
async def test_a_notification_is_stored_with_the_write_and_arrives_once_with_its_headers(
    notifier: Notifier, receiver: Receiver, tenant: str
) -> None:
    """Staged, stored in the write's transaction, submitted: it arrives once as a POST with
    Content-Type, the @context Link, the tenant (only when not the default) and the receiverInfo,
    and leaves the outbox once flushed."""
    await subscribe(notifier, tenant, endpoint={"receiverInfo": [{"key": "X-Api-Key", "value": "k-1"}]})
    outbox = notifier.stage(created(shop(1), tenant))
    assert len(outbox) == 1
    await notifier.store.create(tenant, shop(1), outbox)
    assert await notifier.store.outgoing(10) == outbox
    async with running(notifier):
        notifier.submit(outbox)
        await settle(notifier)
    [request] = receiver.attempts
    assert (request.method, str(request.url)) == ("POST", URI)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Link"] == LINK
    assert request.headers["X-Api-Key"] == "k-1"
    assert request.headers.get("NGSILD-Tenant") == (tenant or None)
    assert orjson.loads(request.content) == outbox[0].body
    await notifier.flush()
    assert await outbox_keys(notifier) == []


async def test_a_write_that_fires_nothing_stores_nothing(notifier: Notifier, receiver: Receiver) -> None:
    """A change no subscription concerns yields no notification."""
    await subscribe(notifier)
    assert await write(notifier, shop(1, "Car")) == []
    assert await write(notifier, shop(2), tenant="elsewhere") == []
    assert await outbox_keys(notifier) == []


async def test_notifications_submitted_before_the_run_loop_wait_for_it(notifier: Notifier, receiver: Receiver) -> None:
    """Lanes queued before run() starts are started by it."""
    await subscribe(notifier)
    await write(notifier, shop(1))
    await asyncio.sleep(0.01)
    assert receiver.attempts == []
    async with running(notifier):
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:1"]


async def test_notifications_leave_in_the_order_their_writes_were_staged(
    notifier: Notifier, receiver: Receiver
) -> None:
    """Writes acknowledged out of order (a remote database's replies can overtake each other) are
    still notified in the order they were staged; a failed write's place does not block the others."""
    await subscribe(notifier)
    first, failed, last = (notifier.stage(created(shop(n))) for n in (1, 2, 3))
    async with running(notifier):
        notifier.submit(last)
        await asyncio.sleep(0.02)
        assert receiver.attempts == []  # waits for the first, staged before it
        notifier.unstage(failed)
        notifier.submit(first)
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:1", "urn:ngsi-ld:Shop:3"]


async def test_notifications_of_a_write_with_unknown_outcome_are_sent_if_it_was_applied(
    notifier: Notifier, receiver: Receiver
) -> None:
    """A write reported as failed though it was applied (the database went away after the commit):
    its notifications are found in the outbox and delivered; those of a write that was not are not."""
    await subscribe(notifier)
    applied, lost = notifier.stage(created(shop(1))), notifier.stage(created(shop(2)))
    await notifier.store.create("", shop(1), applied)
    notifier.unstage(lost, uncertain=True)
    notifier.unstage(applied, uncertain=True)
    async with running(notifier):
        await asyncio.sleep(0.3)  # a few housekeeping rounds
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:1"]


async def test_a_change_that_fails_to_render_takes_no_place_in_any_lane(
    notifier: Notifier, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If rendering fails for one subscription, no lane keeps a place for that change (it would block
    the lane for good), and the next change is delivered."""
    await subscribe(notifier, sub_id="urn:s:a")
    await subscribe(notifier, sub_id="urn:s:b", watchedAttributes=["n"])
    real = notifications.notified_entity

    def failing(sub: Compiled, *args: Any) -> Doc:
        if sub.id == "urn:s:b":
            raise RuntimeError("a defect")
        return real(sub, *args)

    monkeypatch.setattr(notifications, "notified_entity", failing)
    with pytest.raises(RuntimeError):
        notifier.stage(created(shop(1)))
    monkeypatch.setattr(notifications, "notified_entity", real)
    async with running(notifier):
        await write(notifier, shop(2))
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:2", "urn:ngsi-ld:Shop:2"]


async def test_a_load_whose_callers_went_away_still_counts(notifier: Notifier) -> None:
    """The loader runs once even if every caller waiting on it was cancelled meanwhile."""
    runs = 0

    async def loader() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)

    notifier.loaded, notifier.loader = False, loader
    waiting = asyncio.ensure_future(notifier.ensure_loaded())
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.sleep(0.1)
    await notifier.ensure_loaded()
    assert (runs, notifier.loaded) == (1, True)


async def test_failed_attempts_are_retried_until_delivered_in_order(notifier: Notifier, receiver: Receiver) -> None:
    """A receiver failing the first attempts still gets every notification, once each and in order;
    every attempt counts in timesSent, failures in timesFailed."""
    await subscribe(notifier)
    receiver.failures[URI] = 3
    async with running(notifier):
        for n in range(1, 4):
            await write(notifier, shop(n))
        await settle(notifier)
    assert ids_in(receiver.bodies()) == [f"urn:ngsi-ld:Shop:{n}" for n in range(1, 4)]
    stats = notifier.stats[("", SUB)]
    assert (stats["timesSent"], stats["timesFailed"], stats["status"]) == (6, 3, "ok")


async def test_a_failing_subscription_keeps_its_order_and_holds_back_no_other(
    notifier: Notifier, receiver: Receiver
) -> None:
    """Each subscription has its own lane: one receiver's failures delay only its own notifications,
    which still arrive in the order of the changes."""
    await subscribe(notifier, sub_id="urn:s:failing", uri=URI)
    await subscribe(notifier, sub_id="urn:s:healthy", uri=OTHER)
    receiver.failures[URI] = 5
    async with running(notifier):
        for n in range(1, 6):
            await write(notifier, shop(n))
        await settle(notifier)
    expected = [f"urn:ngsi-ld:Shop:{n}" for n in range(1, 6)]
    assert ids_in(receiver.bodies(URI)) == expected
    assert ids_in(receiver.bodies(OTHER)) == expected


async def test_a_receiver_that_hangs_does_not_delay_another_subscription(
    notifier: Notifier, receiver: Receiver
) -> None:
    """While one endpoint holds its request, another subscription's notifications keep flowing; the
    held ones follow in order once it answers."""
    await subscribe(notifier, sub_id="urn:s:slow", uri=URI)
    await subscribe(notifier, sub_id="urn:s:fast", uri=OTHER)
    gate = receiver.gates[URI] = asyncio.Event()
    async with running(notifier):
        for n in range(1, 4):
            await write(notifier, shop(n))
        await receiver.until(lambda: len(receiver.bodies(OTHER)) == 3)
        assert receiver.bodies(URI) == []
        gate.set()
        await settle(notifier)
    assert ids_in(receiver.bodies(URI)) == [f"urn:ngsi-ld:Shop:{n}" for n in range(1, 4)]


async def test_a_notification_is_given_up_after_the_retry_time(notifier: Notifier, receiver: Receiver) -> None:
    """A receiver that never answers 2xx: after give_up_after_s the notification counts as failed,
    is dropped from the outbox, and the subscription's status is failed."""
    await subscribe(notifier)
    receiver.failures[URI] = 10**9
    async with running(notifier):
        started = asyncio.get_running_loop().time()
        [outgoing] = await write(notifier, shop(1))
        await settle(notifier)
        elapsed = asyncio.get_running_loop().time() - started
    assert FAST.give_up_after_s <= elapsed < FAST.give_up_after_s + 1
    stats = notifier.stats[("", SUB)]
    assert stats["timesSent"] == stats["timesFailed"] == len(receiver.attempts) > 1
    assert stats["status"] == "failed" and "lastSuccess" not in stats
    await notifier.flush()
    assert outgoing.key not in await outbox_keys(notifier)


async def test_a_given_up_notification_does_not_block_the_next(notifier: Notifier, receiver: Receiver) -> None:
    """After one notification is given up, the next one of the same subscription is delivered."""
    await subscribe(notifier)
    async with running(notifier):
        first = notifier.stage(created(shop(1)))
        second = notifier.stage(created(shop(2)))
        receiver.refuse.add(first[0].key)
        notifier.submit(first + second)
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:2"]
    stats = notifier.stats[("", SUB)]
    assert stats["status"] == "ok" and stats["timesSent"] == stats["timesFailed"] + 1


async def test_statistics_record_each_attempt_on_the_clock(notifier: Notifier, receiver: Receiver) -> None:
    """timesSent, timesFailed, status, lastNotification, lastSuccess and lastFailure follow the
    attempts, stamped by the Clock, and are written back to the store on flush."""
    clock = clock_of(notifier)
    sub = await subscribe(notifier)
    t0 = format_datetime(clock.now())
    async with running(notifier):
        await write(notifier, shop(1))
        await settle(notifier)
        assert notifier.stats[("", SUB)] == {
            "timesSent": 1,
            "lastNotification": t0,
            "status": "ok",
            "lastSuccess": t0,
        }
        clock.advance(60)
        t1 = format_datetime(clock.now())
        moved = {"notification": {"endpoint": {"uri": REFUSED}}}
        notifier.put(compile_subscription("", subscription.update(sub.doc, moved, TM, clock.now(), t1), TM))
        await write(notifier, shop(2))
        await settle(notifier)
    assert notifier.stats[("", SUB)] == {
        "timesSent": 2,
        "timesFailed": 1,
        "lastNotification": t1,
        "status": "failed",
        "lastSuccess": t0,
        "lastFailure": t1,
    }
    await notifier.flush()
    [stored] = await notifier.store.subscriptions()
    assert stored.stats == notifier.stats[("", SUB)]


async def test_a_defect_in_sending_is_a_failed_attempt_not_a_dead_lane(notifier: Notifier, receiver: Receiver) -> None:
    """An unexpected exception while sending counts as a failure and is retried."""
    await subscribe(notifier)
    receiver.crashes = 1
    async with running(notifier):
        await write(notifier, shop(1))
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:1"]
    assert notifier.stats[("", SUB)]["timesFailed"] == 1


async def test_the_egress_policy_refusal_is_permanent(notifier: Notifier, receiver: Receiver) -> None:
    """An endpoint the egress policy refuses is never contacted nor retried: one failed attempt, and
    the notification leaves the outbox."""
    await subscribe(notifier, uri=REFUSED)
    async with running(notifier):
        started = asyncio.get_running_loop().time()
        [outgoing] = await write(notifier, shop(1))
        await settle(notifier)
        assert asyncio.get_running_loop().time() - started < FAST.give_up_after_s
    assert receiver.attempts == []
    stats = notifier.stats[("", SUB)]
    assert (stats["timesSent"], stats["timesFailed"], stats["status"]) == (1, 1, "failed")
    await notifier.flush()
    assert outgoing.key not in await outbox_keys(notifier)


async def test_a_deleted_subscription_takes_its_pending_notifications_along(
    notifier: Notifier, receiver: Receiver
) -> None:
    """Deleting a subscription while its notification is retried stops the retries and drops it."""
    await subscribe(notifier)
    receiver.failures[URI] = 10**9
    async with running(notifier):
        [outgoing] = await write(notifier, shop(1))
        await receiver.until(lambda: len(receiver.attempts) >= 2)
        notifier.remove("", SUB)
        await asyncio.wait_for(notifier.idle(), FAST.give_up_after_s / 2)
        attempts = len(receiver.attempts)
        await asyncio.sleep(0.02)
        assert len(receiver.attempts) == attempts
    await notifier.flush()
    assert outgoing.key not in await outbox_keys(notifier)


# ---- throttling, cooldown, status -----------------------------------------------------------------------


async def test_throttling_drops_changes_inside_the_window(notifier: Notifier) -> None:
    """Within ``throttling`` seconds of the last notification nothing is staged (TP 046_15); from
    the end of the window on, it is again."""
    clock = clock_of(notifier)
    await subscribe(notifier, throttling=10)
    assert len(notifier.stage(created(shop(1)))) == 1
    assert notifier.stage(created(shop(2))) == []
    clock.advance(9.999)
    assert notifier.stage(created(shop(3))) == []
    clock.advance(0.001)
    assert len(notifier.stage(created(shop(4)))) == 1
    assert notifier.stage(created(shop(5))) == []


async def test_throttling_is_per_subscription(notifier: Notifier) -> None:
    """One subscription's window does not hold back another's."""
    await subscribe(notifier, sub_id="urn:s:throttled", throttling=10)
    await subscribe(notifier, sub_id="urn:s:free")
    assert [o.subscription_id for o in notifier.stage(created(shop(1)))] == ["urn:s:free", "urn:s:throttled"]
    assert [o.subscription_id for o in notifier.stage(created(shop(2)))] == ["urn:s:free"]


async def test_unstage_forgets_the_notification_for_throttling(notifier: Notifier) -> None:
    """A write that failed never notified: its staged notifications do not open a throttling window."""
    await subscribe(notifier, throttling=10)
    notifier.unstage(notifier.stage(created(shop(1))))
    assert len(notifier.stage(created(shop(2)))) == 1


async def test_unstage_restores_the_previous_window(notifier: Notifier) -> None:
    """Unstaging puts back the window of the notification before the failed one."""
    clock = clock_of(notifier)
    await subscribe(notifier, throttling=10)
    notifier.submit(notifier.stage(created(shop(1))))
    clock.advance(10)
    notifier.unstage(notifier.stage(created(shop(2))))
    assert len(notifier.stage(created(shop(3)))) == 1  # the window of shop 1 is over


async def test_unstaging_an_older_write_keeps_a_newer_writes_window(notifier: Notifier) -> None:
    """Two writes staged concurrently: when the older one fails after the newer one was staged, the
    newer notification (which is sent) still opens its throttling window."""
    clock = clock_of(notifier)
    await subscribe(notifier, throttling=10)
    older = notifier.stage(created(shop(1)))
    clock.advance(11)
    newer = notifier.stage(created(shop(2)))
    notifier.unstage(older)
    notifier.submit(newer)
    clock.advance(1)
    assert notifier.stage(created(shop(3))) == []


async def test_cooldown_holds_notifications_after_a_failure(notifier: Notifier) -> None:
    """After a failed attempt nothing is staged until lastFailure + cooldown (milliseconds)."""
    clock = clock_of(notifier)
    await subscribe(notifier, uri=REFUSED, endpoint={"cooldown": 5000})
    async with running(notifier):
        await write(notifier, shop(1))
        await settle(notifier)
    assert notifier.stats[("", SUB)]["status"] == "failed"
    assert notifier.stage(created(shop(2))) == []
    clock.advance(4.999)
    assert notifier.stage(created(shop(3))) == []
    clock.advance(0.001)
    assert len(notifier.stage(created(shop(4)))) == 1


async def test_cooldown_ends_with_a_success(notifier: Notifier) -> None:
    """Once the last attempt succeeded, the cooldown no longer applies."""
    await subscribe(notifier, endpoint={"cooldown": 60_000})
    notifier.stats[("", SUB)] = {"status": "ok", "lastFailure": format_datetime(notifier.clock.now())}
    assert len(notifier.stage(created(shop(1)))) == 1


async def test_an_expired_subscription_stages_nothing(notifier: Notifier) -> None:
    """Once the Clock passes expiresAt, changes notify nobody."""
    clock = clock_of(notifier)
    await subscribe(notifier, expiresAt=format_datetime(clock.now() + timedelta(seconds=60)))
    assert len(notifier.stage(created(shop(1)))) == 1
    clock.advance(60)
    assert notifier.stage(created(shop(2))) == []


async def test_a_paused_subscription_stages_nothing(notifier: Notifier) -> None:
    """isActive=false: changes are not notified (nor kept for later)."""
    await subscribe(notifier, isActive=False)
    assert notifier.stage(created(shop(1))) == []


async def test_a_periodic_subscription_ignores_changes(notifier: Notifier) -> None:
    """timeInterval subscriptions are driven by the timer, not by changes."""
    await subscribe(notifier, timeInterval=60)
    assert notifier.stage(created(shop(1))) == []


# ---- periodic notifications -----------------------------------------------------------------------------


async def store_entities(notifier: Notifier, *docs: Doc) -> None:
    for doc in docs:
        await notifier.store.create("", doc)


async def test_tick_sends_one_notification_with_every_matching_entity_each_interval(notifier: Notifier) -> None:
    """A periodic subscription gets one notification holding all the entities that match, at the
    first tick and then once per timeInterval by the Clock, never before."""
    clock = clock_of(notifier)
    await store_entities(notifier, shop(1), shop(2, "Car"), shop(3))
    await subscribe(notifier, timeInterval=60)
    await notifier.tick()
    [first] = await notifier.store.outgoing(10)
    assert first.subscription_id == SUB
    assert ids_in([first.body]) == ["urn:ngsi-ld:Shop:1", "urn:ngsi-ld:Shop:3"]
    await notifier.tick()
    clock.advance(59.9)
    await notifier.tick()
    assert len(await notifier.store.outgoing(10)) == 1
    clock.advance(0.1)
    await notifier.tick()
    assert len(await notifier.store.outgoing(10)) == 2


async def test_periodic_notifications_are_delivered(notifier: Notifier, receiver: Receiver) -> None:
    """A periodic notification goes through the lanes like any other."""
    await store_entities(notifier, shop(1))
    await subscribe(notifier, timeInterval=5)
    async with running(notifier):
        await notifier.tick()
        await settle(notifier)
    assert ids_in(receiver.bodies())[:1] == ["urn:ngsi-ld:Shop:1"]


async def test_tick_splits_many_matches_into_several_notifications(
    notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PERIODIC_LIMIT matches, every entity is still sent, in notifications of at most that many."""
    monkeypatch.setattr(delivery, "PERIODIC_LIMIT", 2)
    await store_entities(notifier, *(shop(n) for n in range(1, 6)))
    await subscribe(notifier, timeInterval=60)
    await notifier.tick()
    sent = await notifier.store.outgoing(10)
    assert [len(o.body["data"]) for o in sent] == [2, 2, 1]
    assert ids_in([o.body for o in sent]) == [f"urn:ngsi-ld:Shop:{n}" for n in range(1, 6)]


async def test_tick_sends_nothing_when_no_entity_matches(notifier: Notifier) -> None:
    """An empty result is no notification (data needs at least one entity)."""
    await store_entities(notifier, shop(1, "Car"))
    await subscribe(notifier, timeInterval=60)
    await notifier.tick()
    assert await notifier.store.outgoing(10) == []


@pytest.mark.parametrize("members", [{"isActive": False}, {"expiresAt": "2026-01-01T00:00:30Z"}])
async def test_tick_skips_paused_and_expired_subscriptions(notifier: Notifier, members: Doc) -> None:
    """A periodic subscription that is paused or expired sends nothing."""
    await store_entities(notifier, shop(1))
    await subscribe(notifier, timeInterval=60, **members)
    clock_of(notifier).advance(31)
    await notifier.tick()
    assert await notifier.store.outgoing(10) == []


async def test_tick_restarts_the_interval_only_when_the_interval_changes(notifier: Notifier) -> None:
    """An update that keeps timeInterval keeps the period; a new timeInterval starts a new one at once."""
    await store_entities(notifier, shop(1))
    sub = await subscribe(notifier, timeInterval=60)
    await notifier.tick()
    notifier.put(sub)
    await notifier.tick()
    assert len(await notifier.store.outgoing(10)) == 1
    notifier.put(replace(sub, doc={**sub.doc, "timeInterval": 30}))
    await notifier.tick()
    assert len(await notifier.store.outgoing(10)) == 2


# ---- restart ----------------------------------------------------------------------------------------------


async def test_recover_replays_the_outbox_after_a_restart(
    notifier: Notifier, store: SqliteStore, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Notifications stored with their writes but never delivered (a crash) are sent by the next
    process, with the same notification id; rows of subscriptions deleted meanwhile are dropped."""
    sub = await subscribe(notifier)
    staged = notifier.stage(created(shop(1)))
    await store.create("", shop(1), staged)  # ... and the process dies before delivering it
    gone = Outgoing("urn:ngsi-ld:Notification:gone", "", "urn:ngsi-ld:Subscription:deleted", {"id": "x"})
    await store.add_outgoing([gone])

    restarted = Notifier(store, FakeClock(), Channels(http, EGRESS), TM, FAST)
    restarted.put(sub, {})
    assert await restarted.recover() == 1
    assert await outbox_keys(restarted) == [staged[0].key]
    async with running(restarted):
        await settle(restarted)
    assert receiver.bodies() == [staged[0].body]
    await restarted.flush()
    assert await outbox_keys(restarted) == []


async def test_recover_with_an_empty_outbox_sends_nothing(notifier: Notifier, receiver: Receiver) -> None:
    """Nothing pending, nothing replayed."""
    await subscribe(notifier)
    assert await notifier.recover() == 0


async def test_submit_after_the_run_loop_stopped_is_kept_for_the_next_run(
    notifier: Notifier, receiver: Receiver
) -> None:
    """A write that commits while the run loop is stopping must not fail, and its notification is
    delivered once a run loop runs again."""
    await subscribe(notifier)
    async with running(notifier):
        await settle(notifier)
    outbox = notifier.stage(created(shop(1)))
    await notifier.store.create("", shop(1), outbox)
    notifier.submit(outbox)
    async with running(notifier):
        await settle(notifier)
    assert ids_in(receiver.bodies()) == ["urn:ngsi-ld:Shop:1"]


# ---- channels ---------------------------------------------------------------------------------------------


def sub_doc(accept: str = "application/json", context: Any = CONTEXT, **endpoint: Any) -> Doc:
    return {"context": context, "notification": {"endpoint": {"uri": URI, "accept": accept, **endpoint}}}


@pytest.mark.parametrize(
    ("doc", "tenant", "expected"),
    [
        (sub_doc(), "", {"Content-Type": "application/json", "Link": LINK}),
        (sub_doc(context=[CONTEXT]), "", {"Content-Type": "application/json", "Link": LINK}),
        (sub_doc(), "t1", {"Content-Type": "application/json", "Link": LINK, "NGSILD-Tenant": "t1"}),
        (sub_doc("application/ld+json"), "", {"Content-Type": "application/ld+json"}),
        (sub_doc("application/geo+json"), "", {"Content-Type": "application/geo+json"}),
        (sub_doc(context=[CONTEXT, {"a": "https://a"}]), "", {"Content-Type": "application/json"}),
        (
            sub_doc(receiverInfo=[{"key": "X-A", "value": "1"}, {"key": "X-B", "value": "2"}]),
            "",
            {"Content-Type": "application/json", "Link": LINK, "X-A": "1", "X-B": "2"},
        ),
    ],
    ids=["json", "one-context list", "tenant", "ld+json", "geo+json", "several contexts", "receiverInfo"],
)
def test_headers_tell_the_receiver_what_the_body_does_not(doc: Doc, tenant: str, expected: dict[str, str]) -> None:
    """Content-Type is the accept; the Link to the @context only for plain JSON (TP 046_10, 046_14);
    NGSILD-Tenant for a non-default tenant; each receiverInfo pair as a header (TP 046_09)."""
    assert headers(doc, tenant, doc["notification"]["endpoint"].get("accept", "application/json")) == expected


async def send(handler: Callable[[httpx.Request], Any], doc: Doc, egress: EgressPolicy = EGRESS) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await Channels(client, egress).send(doc, Outgoing("urn:n:1", "", SUB, {"id": "urn:n:1"}))


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_any_2xx_is_a_delivery(status: int) -> None:
    """Success is any 2xx answer."""
    await send(lambda request: httpx.Response(status), sub_doc())


@pytest.mark.parametrize("status", [301, 400, 404, 500, 503])
async def test_any_other_status_is_a_failure_worth_retrying(status: int) -> None:
    """A non-2xx answer is a failed attempt, not a permanent one."""
    with pytest.raises(DeliveryFailed, match=str(status)) as caught:
        await send(lambda request: httpx.Response(status), sub_doc())
    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("error", "says"),
    [(httpx.ReadTimeout("slow"), "did not answer"), (httpx.ConnectError("refused"), "could not be reached")],
)
async def test_transport_errors_are_failures(error: Exception, says: str) -> None:
    """Timeouts and connection errors become DeliveryFailed, to be retried."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(DeliveryFailed, match=says) as caught:
        await send(handler, sub_doc())
    assert not caught.value.permanent


async def test_the_endpoint_timeout_is_in_milliseconds() -> None:
    """endpoint.timeout (ms) bounds the request; without it a default applies."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    await send(handler, sub_doc(timeout=1500))
    await send(handler, sub_doc())
    assert seen[0]["read"] == 1.5
    assert seen[1]["read"] == 10.0


async def test_a_refused_host_is_a_permanent_failure_without_a_connection() -> None:
    """The egress policy is checked before any connection; its refusal is permanent."""
    contacted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        contacted.append(request)
        return httpx.Response(204)

    with pytest.raises(DeliveryFailed) as caught:
        await send(handler, sub_doc(), EgressPolicy.parse("elsewhere.example"))
    assert caught.value.permanent and contacted == []
