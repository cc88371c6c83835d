"""Sending one notification to its endpoint (§6.3 HTTP binding; MQTT binding): the message for each
binding, the egress policy, and every transport failure translated into ``DeliveryFailed``.

HTTP goes through the injected ``httpx.AsyncClient``, except plain http:// without credentials when
a ``direct`` transport is given (the broker gives its lean one, ``services/http1.py``). MQTT
connections (aiomqtt) are kept per broker address, credentials and protocol version, and dropped on
failure so the next attempt reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from ngsild import render, subscription
from ngsild.egress import EgressPolicy, EgressRefused
from ngsild.model import Doc
from ngsild.services.http1 import Http1Transport
from ngsild.store.port import Outgoing

log = logging.getLogger("ngsild.notifications")
DEFAULT_TIMEOUT_S: Final = 10.0


class DeliveryFailed(Exception):
    """One attempt failed. ``permanent``: retrying cannot help (the egress policy refuses the host)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def headers(sub: Doc, tenant: str, accept: str) -> dict[str, str]:
    """What the receiver is told besides the body: Content-Type (the media type the body was
    rendered for), the @context Link (for plain JSON), the tenant, and the receiverInfo (§6.3.7)."""
    endpoint = sub["notification"]["endpoint"]
    out = {"Content-Type": accept}
    linked = accept == "application/json" or (accept == "application/geo+json" and body_json(sub))
    link = render.context_link(subscription.notification_context(sub)) if linked else None
    if link is not None:
        out["Link"] = link
    if tenant:
        out["NGSILD-Tenant"] = tenant
    for pair in endpoint.get("receiverInfo", ()):
        out[pair["key"]] = pair["value"]
    return out


def body_json(sub: Doc) -> bool:
    """``Prefer: body=json`` among the receiverInfo: GeoJSON without @context in the body (§6.3.6)."""
    return any(
        p["key"].lower() == "prefer" and "body=json" in p["value"]
        for p in sub["notification"]["endpoint"].get("receiverInfo", ())
    )


def _timeout(endpoint: Doc) -> float:
    return float(endpoint["timeout"]) / 1000 if "timeout" in endpoint else DEFAULT_TIMEOUT_S


def _lost(client: Any) -> bool:
    """Whether aiomqtt saw the connection end. Reading the outcome also marks it as retrieved, so
    asyncio does not report an unretrieved exception when the client is collected."""
    ended = getattr(client, "_disconnected", None)  # aiomqtt keeps no public flag for this
    if not isinstance(ended, asyncio.Future) or not ended.done():
        return False
    if not ended.cancelled():
        ended.exception()
    return True


@dataclass(frozen=True, slots=True)
class _MqttTarget:
    tls: bool
    host: str
    port: int
    username: str | None
    password: str | None
    version: str


@dataclass
class Channels:
    """The senders, with the egress policy applied to every endpoint before any connection."""

    http: httpx.AsyncClient
    egress: EgressPolicy
    # http:// requests go straight to this transport when given: the client's auth, redirect and
    # cookie layers cost about as much as the request itself, and a notification needs none of them.
    direct: Http1Transport | None = None
    _refusals: dict[str, str] = field(default_factory=dict)  # endpoint -> why the egress policy refuses it, or ""
    _mqtt: dict[_MqttTarget, Any] = field(default_factory=dict)
    _mqtt_stacks: dict[_MqttTarget, AsyncExitStack] = field(default_factory=dict)
    _mqtt_locks: dict[_MqttTarget, asyncio.Lock] = field(default_factory=dict)

    async def send(self, sub: Doc, outgoing: Outgoing) -> None:
        endpoint = sub["notification"]["endpoint"]
        uri = endpoint["uri"]
        refusal = self._refusals.get(uri)
        if refusal is None:
            try:
                self.egress.check(uri)
                refusal = ""
            except EgressRefused as exc:
                refusal = str(exc)
            if len(self._refusals) < 10_000:  # the policy never changes: each endpoint is judged once
                self._refusals[uri] = refusal
        if refusal:
            raise DeliveryFailed(refusal, permanent=True)
        head = headers(sub, outgoing.tenant, outgoing.accept)
        if uri.lower().startswith("mqtt"):
            await self._send_mqtt(endpoint, head, outgoing.body)
        else:
            await self._send_http(uri, _timeout(endpoint), head, outgoing.body)

    async def _send_http(self, uri: str, timeout: float, head: Mapping[str, str], body: Doc) -> None:
        content = orjson.dumps(body)
        # Credentials in a URI go through the client, which turns them into Basic auth.
        plain = uri[:7].lower() == "http://" and "@" not in uri.split("/", 3)[2]
        direct = self.direct if plain else None
        try:
            if direct is not None:
                status = await direct.post(uri, head, content, timeout)
            else:
                status = (await self.http.post(uri, content=content, headers=head, timeout=timeout)).status_code
        except httpx.PoolTimeout:
            raise DeliveryFailed(f"no connection to {uri} was free within {timeout:g} s (too many under way)") from None
        except httpx.TimeoutException:
            raise DeliveryFailed(f"{uri} did not answer within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{uri} could not be reached: {type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"{uri} answered {status}")

    # ---- MQTT --------------------------------------------------------------------------------------

    async def _send_mqtt(self, endpoint: Doc, head: Mapping[str, str], body: Doc) -> None:
        parts = urlsplit(endpoint["uri"])
        info = {p["key"]: p["value"] for p in endpoint.get("notifierInfo", ())}
        tls = parts.scheme.lower() == "mqtts"
        target = _MqttTarget(
            tls,
            parts.hostname or "",
            parts.port or (8883 if tls else 1883),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            info.get("MQTT-Version", "mqtt5.0"),
        )
        topic = unquote(parts.path.lstrip("/"))
        payload = orjson.dumps({"metadata": dict(head), "body": body})
        qos = int(info.get("MQTT-QoS", "0"))
        timeout = _timeout(endpoint)
        lock = self._mqtt_locks.setdefault(target, asyncio.Lock())
        async with lock:  # one connection per target; publishes on it are serialised
            try:
                async with asyncio.timeout(timeout):
                    client = await self._mqtt_client(target)
                    await client.publish(topic, payload, qos=qos)
            except Exception as exc:  # aiomqtt's MqttError, OSError, TimeoutError: all end this connection
                await self._drop(target)
                raise DeliveryFailed(
                    f"MQTT {target.host}:{target.port} topic {topic!r}: {type(exc).__name__}: {exc}"
                ) from None

    async def _mqtt_client(self, target: _MqttTarget) -> Any:
        client = self._mqtt.get(target)
        if client is not None and not _lost(client):
            return client
        if client is not None:  # the MQTT broker went away since the last publish: reconnect first
            await self._drop(target)
        import aiomqtt  # imported on first use: brokers without MQTT subscribers never load paho

        version = aiomqtt.ProtocolVersion.V5 if target.version == "mqtt5.0" else aiomqtt.ProtocolVersion.V311
        stack = AsyncExitStack()
        client = aiomqtt.Client(
            target.host,
            target.port,
            username=target.username,
            password=target.password,
            protocol=version,
            tls_context=ssl.create_default_context() if target.tls else None,
        )
        await stack.enter_async_context(client)
        self._mqtt[target] = client
        self._mqtt_stacks[target] = stack
        return client

    async def _drop(self, target: _MqttTarget) -> None:
        client = self._mqtt.pop(target, None)
        stack = self._mqtt_stacks.pop(target, None)
        if stack is not None:
            try:
                await stack.aclose()
            except Exception as exc:  # the connection is already broken; closing it fails the same way
                log.debug("closing the MQTT connection to %s:%d: %s", target.host, target.port, exc)
        if client is not None:
            _lost(client)

    async def close(self) -> None:
        for target in list(self._mqtt):
            await self._drop(target)
