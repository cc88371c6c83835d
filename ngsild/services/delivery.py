"""Delivery (§5.8.6): from a Change to notifications in the durable outbox, and from the outbox to
the receivers, at least once and in order.

- ``stage(change)`` runs before the write: it finds the subscriptions the change fires (through the
  index), applies throttling and cooldown, and renders the notifications. The store writes them in
  the same transaction as the entity, so a 2xx means the notifications are durable too.
- ``submit`` hands them to lanes: one per subscription, so a slow or failing receiver holds back
  only its own subscription's notifications (order per subscription, hence per entity, is kept) and
  never another's. A failed attempt is retried with exponential backoff and jitter until
  ``RetryPolicy.give_up_after_s``; then it counts as failed and is dropped, loudly.
- Delivered notifications leave the outbox in batches; statistics are kept in memory and written
  back every second. After a crash the outbox is replayed on start (so a notification may arrive
  twice, never zero times; its id is stable so receivers can tell).
- ``tick()`` sends periodic (timeInterval) notifications when the injected Clock says they are due.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ngsild import render, subscription
from ngsild.clock import Clock, format_datetime
from ngsild.jsonld import TermMap
from ngsild.model import Change, Doc
from ngsild.services import notifications
from ngsild.services.channels import Channels, DeliveryFailed
from ngsild.services.matching import Compiled, Diff, SubscriptionIndex, diff
from ngsild.store.port import Outgoing, Store

log = logging.getLogger("ngsild.notifications")
Key = tuple[str, str]  # (tenant, subscription id)

FLUSH_INTERVAL_S = 0.05  # delivered notifications leave the outbox in batches this often
STATS_INTERVAL_S = 1.0  # statistics are written back this often
TICK_INTERVAL_S = 0.1  # periodic subscriptions are checked this often
RECOVER_BATCH = 10_000  # notifications read back from the outbox at once on start
UNCERTAIN_FOR_S = 30.0  # how long the outbox is searched for the notifications of a write of unknown outcome
UNCERTAIN_CHECK_S = 1.0  # how often
PERIODIC_LIMIT = 1000  # entities in one periodic notification; more matches make several


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits up to min(max, first * 2**n)."""

    first_delay_s: float = 0.25
    max_delay_s: float = 5.0
    give_up_after_s: float = 600.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.max_delay_s, self.first_delay_s * 2.0 ** min(attempt, 32))


@dataclass(eq=False)
class _Slot:
    """A place in a lane, taken when a notification is staged (before its write), so notifications
    leave in the order their writes were staged, whatever order the writes' acknowledgements
    arrive in. It is filled (``ready``) once the write is durable, and dropped if the write fails."""

    outgoing: Outgoing
    ready: bool = False


@dataclass
class _Lane:
    queue: deque[_Slot] = field(default_factory=deque)
    running: bool = False


class Notifier:
    def __init__(
        self, store: Store, clock: Clock, channels: Channels, core: TermMap, retry: RetryPolicy | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.channels = channels
        self.core = core
        self.retry = retry or RetryPolicy()
        self.index = SubscriptionIndex()
        self.editing = asyncio.Lock()  # subscription changes are read-modify-writes: one at a time
        self.stats: dict[Key, Doc] = {}
        self._dirty: set[Key] = set()
        self._last_fired: dict[Key, datetime] = {}
        self._staged: dict[str, tuple[Key, datetime | None, datetime, _Slot]] = {}
        self.loaded = False  # subscriptions loaded from the store: until then no write may go through
        self.loader: Callable[[], Coroutine[Any, Any, None]] | None = None  # loads them (and replays the outbox)
        self._loading: asyncio.Task[None] | None = None
        self._next_due: dict[Key, datetime] = {}
        self._periodic: set[Key] = set()  # the subscriptions tick() looks at
        self._lanes: dict[Key, _Lane] = {}
        self._delivered: list[str] = []
        self._uncertain: list[tuple[Outgoing, float]] = []  # staged for writes of unknown outcome, looked for until
        self._uncertain_checked = 0.0
        self._group: asyncio.TaskGroup | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- the registry ----------------------------------------------------------------------------

    async def ensure_loaded(self) -> None:
        """Run the loader once; callers meanwhile share its attempt and see its error (the store's)."""
        if self.loaded:
            return
        assert self.loader is not None, "no loader was set"
        if self._loading is None or self._loading.done():
            self._loading = asyncio.get_running_loop().create_task(self._load(self.loader))
        await asyncio.shield(self._loading)

    async def _load(self, loader: Callable[[], Coroutine[Any, Any, None]]) -> None:
        await loader()
        self.loaded = True  # here, not in a caller: a load whose callers all went away still counts

    def put(self, compiled: Compiled, stats: Doc | None = None) -> None:
        key = (compiled.tenant, compiled.id)
        old = self.index.put(compiled)
        if stats is not None:
            self.stats[key] = dict(stats)
        if old is None or old.doc.get("timeInterval") != compiled.doc.get("timeInterval"):
            self._next_due.pop(key, None)  # a new period starts now
        if compiled.periodic:
            self._periodic.add(key)
        else:
            self._periodic.discard(key)

    def remove(self, tenant: str, sub_id: str) -> None:
        key = (tenant, sub_id)
        self.index.remove(tenant, sub_id)
        self.stats.pop(key, None)
        self._last_fired.pop(key, None)
        self._next_due.pop(key, None)
        self._periodic.discard(key)
        self._dirty.discard(key)

    # ---- from a change to the outbox --------------------------------------------------------------

    def stage(self, change: Change) -> list[Outgoing]:
        """The notifications this change causes, rendered now; the caller stores them with the
        write and then calls ``submit`` (or ``unstage`` if the write failed)."""
        if not self.index.serves(change.tenant):
            return []
        computed: list[Diff] = []

        def changed_now() -> Diff:
            if not computed:
                computed.append(diff(change))
            return computed[0]

        candidates = self.index.candidates(change, changed_now)
        if not candidates:
            return []
        now = self.clock.now()
        changed = changed_now()
        out: list[Outgoing] = []
        try:
            self._stage(change, changed, candidates, now, out)
        except BaseException:
            self.unstage(out)  # the places already taken would block their lanes for good
            raise
        return out

    def _stage(
        self, change: Change, changed: Diff, candidates: list[Compiled], now: datetime, out: list[Outgoing]
    ) -> None:
        stamp = format_datetime(now)
        told: dict[tuple[bytes, int], Doc] = {}  # fan-out: subscriptions that render alike share one rendering
        for sub in candidates:
            if sub.periodic or subscription.status(sub.doc, now) != "active" or self._holding(sub, now):
                continue
            if not sub.fires(change, changed):
                continue
            tm = sub.tm or self.core
            shape = (sub.render_key, id(tm))
            entity = told.get(shape)
            if entity is None:
                entity = told[shape] = notifications.notified_entity(sub, change, changed, tm, stamp)
            doc = change.after if change.after is not None else change.before
            assert doc is not None
            outgoing = notifications.notification(sub, [doc], [entity], stamp)
            key = (sub.tenant, sub.id)
            slot = _Slot(outgoing)
            self._lanes.setdefault(key, _Lane()).queue.append(slot)
            self._idle.clear()
            self._staged[outgoing.key] = (key, self._last_fired.get(key), now, slot)
            self._last_fired[key] = now
            out.append(outgoing)

    def _holding(self, sub: Compiled, now: datetime) -> bool:
        """Throttling (§5.8.6: nothing within ``throttling`` s of the previous notification) and
        the endpoint's cooldown after a failure."""
        key = (sub.tenant, sub.id)
        throttling = sub.doc.get("throttling")
        last = self._last_fired.get(key)
        if throttling is not None and last is not None and now < last + timedelta(seconds=throttling):
            return True
        cooldown = sub.doc["notification"]["endpoint"].get("cooldown")
        stats = self.stats.get(key, {})
        if cooldown is not None and stats.get("status") == "failed" and "lastFailure" in stats:
            failed_at = datetime.fromisoformat(stats["lastFailure"].replace("Z", "+00:00"))
            return now < failed_at + timedelta(milliseconds=cooldown)
        return False

    def unstage(self, outbox: Sequence[Outgoing], *, uncertain: bool = False) -> None:
        """The write failed: its notifications never happened, so throttling forgets them.
        ``uncertain``: the write may have been applied all the same (the database went away after
        it was sent); the outbox is then searched for them soon, and what is found is delivered."""
        if uncertain:
            until = asyncio.get_running_loop().time() + UNCERTAIN_FOR_S
            self._uncertain.extend((o, until) for o in outbox)
        for outgoing in reversed(outbox):
            staged = self._staged.pop(outgoing.key, None)
            if staged is None:
                continue
            key, previous, fired, slot = staged
            lane = self._lanes.get(key)
            if lane is not None:
                lane.queue.remove(slot)
                self._start(key, lane)  # the slot may have held back ready ones behind it
            if self._last_fired.get(key) is not fired:
                continue  # a later write has fired since: its window stands
            if previous is None:
                self._last_fired.pop(key, None)
            else:
                self._last_fired[key] = previous

    def submit(self, outbox: Sequence[Outgoing]) -> None:
        """Deliver stored notifications: staged ones in their reserved places, others (replayed,
        periodic) at the end of their subscription's lane."""
        for outgoing in outbox:
            key = (outgoing.tenant, outgoing.subscription_id)
            staged = self._staged.pop(outgoing.key, None)
            lane = self._lanes.setdefault(key, _Lane())
            if staged is not None:
                staged[3].ready = True
            else:
                lane.queue.append(_Slot(outgoing, ready=True))
            self._idle.clear()
            self._start(key, lane)

    def _start(self, key: Key, lane: _Lane) -> None:
        """Lanes are workers in the run loop's TaskGroup; queued before it runs, they wait for it."""
        if not lane.queue and not lane.running:
            self._forget(key, lane)
        elif not lane.running and lane.queue[0].ready and self._group is not None:
            draining = self._drain(key, lane)
            try:
                self._group.create_task(draining)
            except RuntimeError:  # the TaskGroup is shutting down: the lane waits for the next run
                draining.close()
                return
            lane.running = True

    def _forget(self, key: Key, lane: _Lane) -> None:
        if self._lanes.get(key) is lane:
            del self._lanes[key]
        if not self._lanes:
            self._idle.set()

    # ---- delivery ------------------------------------------------------------------------------------

    async def _drain(self, key: Key, lane: _Lane) -> None:
        """Deliver the lane's ready head, one at a time, until the head is empty or still staged."""
        try:
            while lane.queue and lane.queue[0].ready:
                outgoing = lane.queue[0].outgoing
                try:
                    await self._deliver(key, outgoing)
                except Exception:  # a defect: keep the notification, tell, and try again later
                    log.exception("delivering notification %s failed unexpectedly; retrying", outgoing.key)
                    await asyncio.sleep(self.retry.max_delay_s)
                    continue
                lane.queue.popleft()
                self._delivered.append(outgoing.key)
        finally:
            lane.running = False
            if not lane.queue:
                self._forget(key, lane)

    async def _deliver(self, key: Key, outgoing: Outgoing) -> None:
        """Attempt until delivered, the subscription is gone, or the retry time is up."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 0
        while True:
            sub = self.index.get(*key)
            if sub is None:
                return  # deleted: its pending notifications go with it
            try:
                try:
                    await self.channels.send(sub.doc, outgoing)
                except DeliveryFailed:
                    raise
                except Exception as exc:  # a defect must not stop the lane or lose the notification
                    log.exception("sending notification %s failed unexpectedly", outgoing.key)
                    raise DeliveryFailed(f"internal error: {type(exc).__name__}") from exc
            except DeliveryFailed as exc:
                self._record(key, ok=False)
                elapsed = loop.time() - started
                if exc.permanent or elapsed >= self.retry.give_up_after_s:
                    log.error(
                        "notification %s of subscription %s was not delivered after %d attempts in %.0f s: %s",
                        outgoing.key, key[1], attempt + 1, elapsed, exc,
                    )  # fmt: skip
                    return
                log.warning("notification %s of %s failed (attempt %d): %s", outgoing.key, key[1], attempt + 1, exc)
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            self._record(key, ok=True)
            return

    def _record(self, key: Key, *, ok: bool) -> None:
        """The statistics of §5.2.14: every attempt counts in timesSent."""
        if self.index.get(*key) is None:
            return  # deleted while the attempt was under way
        stamp = format_datetime(self.clock.now())
        stats = self.stats.setdefault(key, {})
        stats["timesSent"] = stats.get("timesSent", 0) + 1
        stats["lastNotification"] = stamp
        if ok:
            stats["status"] = "ok"
            stats["lastSuccess"] = stamp
        else:
            stats["status"] = "failed"
            stats["lastFailure"] = stamp
            stats["timesFailed"] = stats.get("timesFailed", 0) + 1
        self._dirty.add(key)

    # ---- periodic notifications ------------------------------------------------------------------

    async def tick(self) -> None:
        """Send every periodic notification that is due by the Clock (§5.8.6, timeInterval)."""
        now = self.clock.now()
        for key in list(self._periodic):
            sub = self.index.get(*key)
            due = self._next_due.get(key)
            if sub is None or (due is not None and now < due):
                continue
            self._next_due[key] = now + timedelta(seconds=sub.doc["timeInterval"])
            if subscription.status(sub.doc, now) != "active":
                continue
            tm = sub.tm or self.core
            opts = notifications.render_options(sub)
            offset = 0
            while True:  # every matching entity, in notifications of at most PERIODIC_LIMIT
                page = await self.store.find(sub.tenant, sub.query, offset=offset, limit=PERIODIC_LIMIT, count=False)
                if not page.docs:
                    break
                entities = [render.entity(doc, tm, opts) for doc in page.docs]
                outgoing = notifications.notification(sub, page.docs, entities, format_datetime(now))
                await self.store.add_outgoing([outgoing])
                self.submit([outgoing])
                if len(page.docs) < PERIODIC_LIMIT:
                    break
                offset += PERIODIC_LIMIT

    # ---- running -------------------------------------------------------------------------------------

    async def _outbox(self) -> AsyncIterator[list[Outgoing]]:
        """The whole outbox, oldest first, a page at a time."""
        offset = 0
        while True:
            page = await self.store.outgoing(RECOVER_BATCH, offset)
            if page:
                yield page
            if len(page) < RECOVER_BATCH:
                return
            offset += len(page)

    async def recover(self) -> int:
        """Queue what the outbox still holds (after a restart), oldest first; returns how many.
        Rows of subscriptions deleted meanwhile are dropped."""
        known: list[Outgoing] = []
        gone: list[Outgoing] = []
        async for page in self._outbox():
            for o in page:
                (known if self.index.get(o.tenant, o.subscription_id) is not None else gone).append(o)
        await self.store.remove_outgoing([o.key for o in gone])
        self.submit(known)
        if known:
            log.info("replaying %d notifications from the outbox", len(known))
        return len(known)

    async def flush(self) -> None:
        """Write back what was delivered and the statistics that changed."""
        if self._delivered:
            await self.store.remove_outgoing(self._take_delivered())
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            # Concurrent writes: the SQLite writer commits them as one group, MongoDB in parallel.
            keys = [k for k in dirty if k in self.stats]
            try:
                await asyncio.gather(
                    *(self.store.put_subscription_stats(t, i, dict(self.stats[(t, i)])) for t, i in keys)
                )
            except Exception:
                self._dirty |= dirty  # written again next time
                raise

    async def run(self) -> None:
        """Delivery lanes and the background loop (periodic ticks, write-backs) in one TaskGroup,
        until cancelled."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for key, lane in list(self._lanes.items()):
                    self._start(key, lane)
                group.create_task(self._housekeeping())
        finally:
            self._group = None  # what is submitted now waits in its lane (and the outbox) for the next run
            for lane in self._lanes.values():
                lane.running = False

    async def _housekeeping(self) -> None:
        last_stats = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.tick()
                if self._uncertain:
                    await self._settle_uncertain()
                if self._delivered:
                    await self.store.remove_outgoing(self._take_delivered())
                if loop.time() - last_stats >= STATS_INTERVAL_S:
                    last_stats = loop.time()
                    await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the notification loop failed; retrying")
            await asyncio.sleep(min(TICK_INTERVAL_S, FLUSH_INTERVAL_S))

    async def _settle_uncertain(self) -> None:
        """Deliver the notifications of uncertain writes once they show up in the outbox (the write
        was applied, perhaps late); stop looking for one after UNCERTAIN_FOR_S (it was not)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._uncertain_checked < UNCERTAIN_CHECK_S:
            return
        self._uncertain_checked = loop.time()
        pending, self._uncertain = self._uncertain, []
        try:
            wanted = {o.key for o, _ in pending}
            found: dict[str, Outgoing] = {}
            async for page in self._outbox():
                found.update((o.key, o) for o in page if o.key in wanted)
                wanted -= {o.key for o in page}
                if not wanted:
                    break
        except BaseException:
            self._uncertain = pending + self._uncertain
            raise
        now = loop.time()
        self._uncertain += [(o, until) for o, until in pending if o.key not in found and now < until]
        if found:
            log.warning("%d notifications of writes with an unknown outcome were stored after all", len(found))
            self.submit([found[o.key] for o, _ in pending if o.key in found])

    def _take_delivered(self) -> list[str]:
        done, self._delivered = self._delivered, []
        return done

    async def idle(self) -> None:
        """Wait until every queued notification has been delivered or given up (tests, shutdown)."""
        await self._idle.wait()

    async def close(self) -> None:
        """After ``run`` was cancelled: write back what was delivered, close connections. What is
        still queued stays in the outbox for the next start."""
        await self.flush()
        await self.channels.close()
