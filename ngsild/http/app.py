"""create_app(settings): the Starlette application. The lifespan opens the store and the HTTP client
and yields {"broker": Broker}, so there is no module-level state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from ngsild.clock import Clock, SystemClock
from ngsild.contexts import ContextLimits, ContextResolver
from ngsild.http.routes import EXTENSIONS, ROUTES, Dispatcher
from ngsild.services import admission, context_store, subscriptions
from ngsild.services.broker import Broker, ChangeListener
from ngsild.services.channels import Channels
from ngsild.services.delivery import Notifier, RetryPolicy
from ngsild.services.http1 import Http1Transport
from ngsild.settings import Settings
from ngsild.store.factory import open_store


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
    listeners: list[ChangeListener] | None = None,
) -> Starlette:
    """The broker as an ASGI app. ``clock``, ``http`` and Change ``listeners`` are injectable."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store = open_store(settings.store, **settings.store_options)
        await store.open()
        client = http or httpx.AsyncClient(trust_env=False)
        the_clock = clock or SystemClock()
        limits = ContextLimits(
            timeout_s=settings.context_timeout_s,
            max_bytes=settings.context_max_bytes,
            ttl_s=settings.context_ttl_s,
            unavailable_status=settings.ld_context_unavailable_status,
        )
        contexts = ContextResolver(client, settings.egress, the_clock, limits)
        checks = await admission.load(settings.datamodels, settings.validation, settings.validation_types, contexts)
        # Notifications get their own connections, without a limit: receivers that hang hold
        # connections, and they must not starve other receivers or the @context fetches. Plain
        # http:// goes to the lean transport directly (see services/http1.py for why); an injected
        # client (tests) gets every request.
        direct = None if http is not None else Http1Transport()
        notify = http or httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=None))
        channels = Channels(notify, settings.egress, direct)
        retry = RetryPolicy(
            settings.notification_retry_first_s, settings.notification_retry_max_s, settings.notification_retry_for_s
        )
        notifier = Notifier(store, the_clock, channels, await contexts.term_map([]), retry)
        broker = Broker(settings, store, contexts, the_clock, client, list(listeners or []), checks, notifier)
        loading = await context_store.restore(broker)
        delivering = await subscriptions.start(broker)
        try:
            yield {"broker": broker}
        finally:
            for task in (loading, delivering):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            try:
                await notifier.close()
            finally:
                await store.close()
                if http is None:
                    await client.aclose()
                    await notify.aclose()
                if direct is not None:
                    await direct.aclose()

    return BrokerApp(lifespan, Dispatcher(ROUTES, EXTENSIONS))


class BrokerApp(Starlette):
    """Starlette runs the lifespan; HTTP requests go straight to the dispatcher, which turns every
    error into a ProblemDetails itself, so Starlette's generic middleware stack and router would
    only add cost to every request."""

    def __init__(self, lifespan: Any, dispatcher: Dispatcher) -> None:
        super().__init__(lifespan=lifespan)
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.dispatcher(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
