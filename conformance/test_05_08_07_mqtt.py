"""Digest §1.4 and §3.7 (contract "MQTT"): notifications delivered over MQTT to a real mosquitto (mqtt_standin.py).

Endpoint ``mqtt://127.0.0.1:<port>/<topic>``; one message per notification on ``<topic>``, payload
``{"metadata": {Content-Type, Link?, NGSILD-Tenant?, receiverInfo keys...}, "body": <Notification>}``;
notifierInfo ``MQTT-QoS`` (0/1/2, default 0) and ``MQTT-Version`` (mqtt3.1.1/mqtt5.0, default mqtt5.0). Which QoS
and protocol version the broker used is read from what the listener received and from mosquitto's log.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conformance.helpers import DATETIME_RE, LD_CONTEXT_REL, assert_problem, create, link_header, prop, send
from mqtt_standin import Message, Mosquitto, MqttListener, free_port, skip_without_mosquitto

WAIT_S = 10.0  # for one notification to arrive or for the statistics to show it
NOTIFICATION_ID = re.compile(r"^urn:ngsi-ld:Notification:\S+$")

Subscribe = Callable[..., str]


@pytest.fixture(scope="module")
def mosquitto() -> Iterator[Mosquitto]:
    skip_without_mosquitto()
    with Mosquitto() as server:
        yield server


@pytest.fixture
def topic() -> str:
    return f"ngsild/{uuid.uuid4().hex}"


@pytest.fixture
def listener(mosquitto: Mosquitto, topic: str) -> Iterator[MqttListener]:
    """Subscribed to this test's topic before the test starts."""
    with MqttListener(mosquitto.url, topic) as subscriber:
        subscriber.wait_subscribed(WAIT_S)
        yield subscriber


@pytest.fixture
def ctx(user_context_url: str) -> dict[str, str]:
    return link_header(user_context_url)


@pytest.fixture
def subscribe(client: httpx.Client) -> Iterator[Subscribe]:
    """POST a subscription to ``entity_id`` (201 expected) and return its id; deleted after the test, so that no
    retries of failed deliveries outlive it."""
    made: list[tuple[str, dict[str, str]]] = []

    def make(entity_id: str, uri: str, headers: dict[str, str], **endpoint: Any) -> str:
        body = {
            "type": "Subscription",
            "entities": [{"id": entity_id, "type": "Vehicle"}],
            "notification": {"endpoint": {"uri": uri, **endpoint}},
        }
        resp = send(client, "POST", "/subscriptions", body, headers=headers)
        assert resp.status_code == 201, f"create subscription: {resp.status_code} {resp.text[:500]}"
        sub_id = resp.headers["location"].rsplit("/", 1)[1]
        made.append((sub_id, headers))
        return sub_id

    yield make
    for sub_id, headers in made:
        client.delete(f"/subscriptions/{sub_id}", headers=headers)


def vehicle(client: httpx.Client, make_id: Callable[..., str], headers: dict[str, str]) -> str:
    """A Vehicle (speed 0) created before the subscription, so only the updates notify."""
    entity_id = make_id("Vehicle")
    create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(0)}, headers=headers)
    return entity_id


def set_speed(client: httpx.Client, entity_id: str, speed: int, headers: dict[str, str]) -> None:
    resp = send(client, "PATCH", f"/entities/{entity_id}/attrs", {"speed": prop(speed)}, headers=headers)
    assert resp.status_code == 204, f"update: {resp.status_code} {resp.text[:500]}"


def pair(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value}


def payload_of(message: Message) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, body) of a notification message, checking the envelope."""
    assert isinstance(message.payload, dict), f"payload is not a JSON object: {message.raw[:300]!r}"
    assert set(message.payload) == {"metadata", "body"}, message.payload
    metadata, body = message.payload["metadata"], message.payload["body"]
    assert isinstance(metadata, dict), f"metadata must be an object: {metadata!r}"
    assert isinstance(body, dict), body
    return metadata, body


def check_notification(body: dict[str, Any], sub_id: str, entity_id: str) -> dict[str, Any]:
    """Assert the Notification members (digest §3.4) and return its one entity."""
    assert NOTIFICATION_ID.match(body.get("id", "")), body
    assert body["type"] == "Notification", body
    assert body["subscriptionId"] == sub_id, body
    assert DATETIME_RE.match(body["notifiedAt"]), body
    assert isinstance(body["data"], list) and len(body["data"]) == 1, body
    entity = body["data"][0]
    assert (entity["id"], entity["type"]) == (entity_id, "Vehicle"), entity
    return entity  # type: ignore[no-any-return]


def speed_of(entity: dict[str, Any]) -> Any:
    return entity["speed"]["value"]


def distinct(messages: list[Message]) -> list[dict[str, Any]]:
    """The notification bodies in arrival order, each notification id once (at-least-once delivery)."""
    seen: set[str] = set()
    bodies = []
    for message in messages:
        _, body = payload_of(message)
        if body["id"] not in seen:
            seen.add(body["id"])
            bodies.append(body)
    return bodies


def statistics(client: httpx.Client, sub_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The subscription's ``notification`` member, polled until ``done`` holds for it."""
    deadline = time.monotonic() + WAIT_S
    while True:
        resp = client.get(f"/subscriptions/{sub_id}")
        assert resp.status_code == 200, f"retrieve subscription: {resp.status_code} {resp.text[:500]}"
        notification: dict[str, Any] = resp.json()["notification"]
        if done(notification):
            return notification
        assert time.monotonic() < deadline, f"statistics not as expected within {WAIT_S}s: {notification}"
        time.sleep(0.1)


def test_notification_is_published_on_the_endpoint_topic(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
    user_context_url: str,
) -> None:
    """An update is published on the URI's topic as {"metadata", "body"}: Content-Type application/json, a Link
    header value naming the subscription's @context, no NGSILD-Tenant in the default tenant; the body a
    Notification whose one entity is compacted with that context and has no @context."""
    entity_id = vehicle(client, make_id, ctx)
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx)
    set_speed(client, entity_id, 7, ctx)
    (message,) = listener.wait_for(1, WAIT_S)
    assert message.topic == topic
    metadata, body = payload_of(message)
    assert metadata["Content-Type"] == "application/json", metadata
    link = metadata["Link"]
    assert link.startswith(f"<{user_context_url}>"), link
    assert re.search(rf';\s*rel="?{re.escape(LD_CONTEXT_REL)}"?', link), link
    assert "NGSILD-Tenant" not in metadata, metadata
    entity = check_notification(body, sub_id, entity_id)
    assert speed_of(entity) == 7, entity
    assert "@context" not in entity, entity


def test_receiver_info_pairs_become_metadata_members(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
) -> None:
    """Each receiverInfo {key, value} appears as metadata member key: value (digest §3.7, [TP] 058_04)."""
    entity_id = vehicle(client, make_id, ctx)
    info = [pair("X-Api-Key", "k-123"), pair("Fiware-Correlator", "c-9")]
    subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx, receiverInfo=info)
    set_speed(client, entity_id, 1, ctx)
    metadata, _ = payload_of(listener.wait_for(1, WAIT_S)[0])
    assert metadata["X-Api-Key"] == "k-123", metadata
    assert metadata["Fiware-Correlator"] == "c-9", metadata
    assert metadata["Content-Type"] == "application/json", metadata


def test_non_default_tenant_is_in_metadata(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
    tenant: str,
) -> None:
    """A subscription of a non-default tenant notifies with metadata NGSILD-Tenant: <tenant>."""
    headers = {**ctx, "NGSILD-Tenant": tenant}
    entity_id = vehicle(client, make_id, headers)
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", headers)
    set_speed(client, entity_id, 2, headers)
    metadata, body = payload_of(listener.wait_for(1, WAIT_S)[0])
    assert metadata["NGSILD-Tenant"] == tenant, metadata
    check_notification(body, sub_id, entity_id)


@pytest.mark.parametrize(("qos", "expected"), [(None, 0), ("0", 0), ("1", 1), ("2", 2)])
def test_mqtt_qos(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
    qos: str | None,
    expected: int,
) -> None:
    """notifierInfo MQTT-QoS 0/1/2 publishes with that QoS (default 0); the listener subscribes with QoS 2, so
    it receives the publisher's QoS."""
    entity_id = vehicle(client, make_id, ctx)
    endpoint = {"notifierInfo": [pair("MQTT-QoS", qos)]} if qos is not None else {}
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx, **endpoint)
    set_speed(client, entity_id, 3, ctx)
    (message,) = listener.wait_for(1, WAIT_S)
    check_notification(payload_of(message)[1], sub_id, entity_id)
    assert message.qos == expected
    assert {q for _, q in mosquitto.publishers(topic)} == {expected}


@pytest.mark.parametrize(
    ("version", "expected"), [(None, "mqtt5.0"), ("mqtt3.1.1", "mqtt3.1.1"), ("mqtt5.0", "mqtt5.0")]
)
def test_mqtt_version(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
    version: str | None,
    expected: str,
) -> None:
    """notifierInfo MQTT-Version mqtt3.1.1/mqtt5.0 delivers over a connection of that protocol version (default
    mqtt5.0), as mosquitto's log tells for the client that published on the topic."""
    entity_id = vehicle(client, make_id, ctx)
    endpoint = {"notifierInfo": [pair("MQTT-Version", version)]} if version is not None else {}
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx, **endpoint)
    set_speed(client, entity_id, 4, ctx)
    check_notification(payload_of(listener.wait_for(1, WAIT_S)[0])[1], sub_id, entity_id)
    assert {protocol for protocol, _ in mosquitto.publishers(topic)} == {expected}, mosquitto.log_tail()


def test_accept_ld_json(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
    user_context_url: str,
) -> None:
    """accept application/ld+json: metadata Content-Type application/ld+json, no Link, and an @context naming the
    subscription's context inside each entity of data (digest §3.6, [TP] 046_14)."""
    entity_id = vehicle(client, make_id, ctx)
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx, accept="application/ld+json")
    set_speed(client, entity_id, 5, ctx)
    metadata, body = payload_of(listener.wait_for(1, WAIT_S)[0])
    assert metadata["Content-Type"] == "application/ld+json", metadata
    assert "Link" not in metadata, metadata
    entity = check_notification(body, sub_id, entity_id)
    context = entity.get("@context")
    assert user_context_url in (context if isinstance(context, list) else [context]), entity
    assert speed_of(entity) == 5, entity


def test_delivery_statistics(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
) -> None:
    """After a delivered message the subscription shows timesSent >= 1, no failure, status "ok", lastSuccess."""
    entity_id = vehicle(client, make_id, ctx)
    sub_id = subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx)
    set_speed(client, entity_id, 6, ctx)
    listener.wait_for(1, WAIT_S)
    stats = statistics(client, sub_id, lambda n: n.get("timesSent", 0) >= 1 and n.get("status") == "ok")
    assert stats.get("timesFailed", 0) == 0, stats
    assert DATETIME_RE.match(stats["lastSuccess"]), stats
    assert DATETIME_RE.match(stats["lastNotification"]), stats
    assert "lastFailure" not in stats, stats


def test_fault_mosquitto_restarted_mid_stream(
    client: httpx.Client,
    make_id: Callable[..., str],
    mosquitto: Mosquitto,
    topic: str,
    listener: MqttListener,
    subscribe: Subscribe,
    ctx: dict[str, str],
) -> None:
    """QoS 1; updates 1..3 delivered, mosquitto restarted on the same port (every connection and session lost),
    updates 4..6 once the listener is back: 4..6 still arrive (the broker reconnects; duplicates allowed, told
    apart by notification id) and the distinct notifications keep the update order 1..6."""
    entity_id = vehicle(client, make_id, ctx)
    subscribe(entity_id, f"{mosquitto.url}/{topic}", ctx, notifierInfo=[pair("MQTT-QoS", "1")])

    def speeds(messages: list[Message]) -> list[Any]:
        return [speed_of(body["data"][0]) for body in distinct(messages)]

    for speed in (1, 2, 3):
        set_speed(client, entity_id, speed, ctx)
    listener.wait_until(lambda got: {1, 2, 3} <= set(speeds(got)), WAIT_S, "updates 1..3")
    subscribed = listener.subscribed
    mosquitto.restart()
    listener.wait_subscribed(WAIT_S, after=subscribed)
    for speed in (4, 5, 6):
        set_speed(client, entity_id, speed, ctx)
    got = listener.wait_until(lambda got: {4, 5, 6} <= set(speeds(got)), 2 * WAIT_S, "updates 4..6 after restart")
    assert speeds(got) == [1, 2, 3, 4, 5, 6]


def test_fault_nothing_listens_on_the_endpoint(
    client: httpx.Client, make_id: Callable[..., str], subscribe: Subscribe, ctx: dict[str, str]
) -> None:
    """An MQTT endpoint on a port where nothing listens: the attempt fails, so timesFailed >= 1, status "failed"
    and lastFailure are shown (contract: connection errors are failed attempts, each counted in timesSent)."""
    entity_id = vehicle(client, make_id, ctx)
    sub_id = subscribe(entity_id, f"mqtt://127.0.0.1:{free_port()}/ngsild/{uuid.uuid4().hex}", ctx)
    set_speed(client, entity_id, 1, ctx)
    stats = statistics(client, sub_id, lambda n: n.get("timesFailed", 0) >= 1 and n.get("status") == "failed")
    assert stats["timesSent"] >= stats["timesFailed"], stats
    assert DATETIME_RE.match(stats["lastFailure"]), stats
    assert "lastSuccess" not in stats, stats


@pytest.mark.parametrize(
    "notifier_info",
    [
        [pair("MQTT-QoS", "3")],
        [pair("MQTT-QoS", "high")],
        [pair("MQTT-Version", "mqtt9")],
        [pair("MQTT-Flavour", "vanilla")],  # digest §2.1 item 4: only known keys ([OLD])
    ],
    ids=["qos-3", "qos-not-a-number", "unknown-version", "unknown-key"],
)
def test_invalid_notifier_info_is_rejected(
    client: httpx.Client, make_id: Callable[..., str], notifier_info: list[dict[str, str]]
) -> None:
    """Digest §2.1 item 4: for an MQTT endpoint, notifierInfo with an unknown key or a value outside MQTT-QoS
    {0,1,2} / MQTT-Version {mqtt3.1.1, mqtt5.0} -> 400 BadRequestData."""
    body = {
        "type": "Subscription",
        "entities": [{"id": make_id("Vehicle"), "type": "Vehicle"}],
        "notification": {
            "endpoint": {"uri": f"mqtt://127.0.0.1:{free_port()}/ngsild/invalid", "notifierInfo": notifier_info}
        },
    }
    assert_problem(send(client, "POST", "/subscriptions", body), 400, "BadRequestData")
