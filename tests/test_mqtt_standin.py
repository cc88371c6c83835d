"""mqtt_standin on its own (no broker under test): mosquitto starts, a listener receives what paho publishes,
reports the publisher's protocol and QoS from the log, and is back after mosquitto restarts on the same port."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mqtt_standin import Mosquitto, MqttListener, skip_without_mosquitto


@pytest.fixture(scope="module")
def mosquitto() -> Iterator[Mosquitto]:
    skip_without_mosquitto()
    with Mosquitto() as server:
        yield server


def publish(server: Mosquitto, topic: str, payload: bytes, qos: int, mqtt5: bool = False) -> None:
    from paho.mqtt import client, publish

    protocol = client.MQTTv5 if mqtt5 else client.MQTTv311
    publish.single(topic, payload, qos=qos, hostname=server.host, port=server.port, protocol=protocol)


def test_listener_receives_json_and_raw(mosquitto: Mosquitto) -> None:
    with MqttListener(mosquitto.url, "selfcheck/#") as listener:
        listener.wait_subscribed(5)
        publish(mosquitto, "selfcheck/a", json.dumps({"n": 1}).encode(), qos=1, mqtt5=True)
        publish(mosquitto, "selfcheck/b", b"not json", qos=2)
        first, second = listener.wait_for(2, 5)
    assert (first.topic, first.payload, first.qos) == ("selfcheck/a", {"n": 1}, 1)
    assert (second.topic, second.payload, second.raw, second.qos) == ("selfcheck/b", None, b"not json", 2)
    assert first.received_at <= second.received_at
    assert mosquitto.publishers("selfcheck/a") == {("mqtt5.0", 1)}
    assert mosquitto.publishers("selfcheck/b") == {("mqtt3.1.1", 2)}


def test_listener_resubscribes_after_restart(mosquitto: Mosquitto) -> None:
    port = mosquitto.port
    with MqttListener(mosquitto.url, "selfcheck/restart") as listener:
        listener.wait_subscribed(5)
        before = listener.subscribed
        mosquitto.restart()
        assert mosquitto.port == port
        listener.wait_subscribed(10, after=before)
        publish(mosquitto, "selfcheck/restart", b"{}", qos=0)
        assert listener.wait_for(1, 5)[0].payload == {}


def test_wait_for_times_out_with_what_arrived(mosquitto: Mosquitto) -> None:
    with MqttListener(mosquitto.url, "selfcheck/none") as listener, pytest.raises(AssertionError, match="1 message"):
        listener.wait_for(1, 0.2)
