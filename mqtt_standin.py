"""The MQTT broker that the notification tests publish to: a real mosquitto (Debian's package ``mosquitto``) started
in a subprocess on a free loopback port, plus ``MqttListener``, a subscriber that records what arrives on a topic.

A subprocess rather than something in-process: the fault tests stop it and start it again on the same port, and
its log (``log_type all``) tells which client published on which topic with which protocol version.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mongo_standin import free_port

if TYPE_CHECKING:  # paho is imported when a listener starts, so that this module imports without it
    import paho.mqtt.client as paho
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

STARTUP_TIMEOUT_S = 10.0
CONNECTED = re.compile(r"New client connected from \S+ as (\S+) \(p(\d+),")
PUBLISHED = re.compile(r"Received PUBLISH from (\S+) \(d\d, q(\d), r\d, m\d+, '([^']*)'")
PROTOCOLS = {"1": "mqtt3.1", "2": "mqtt3.1.1", "5": "mqtt5.0"}  # mosquitto's own numbering in "(p2, c1, k60)"


def mosquitto_path() -> str | None:
    """The mosquitto binary, or None when the package is not installed (it lives in /usr/sbin, often not on PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


REQUIRED_ENV = "NGSILD_REQUIRE_MOSQUITTO"
MISSING = "mosquitto is not installed (Debian package mosquitto; `make test` installs it)"


def skip_without_mosquitto() -> None:
    """Skip the calling test when mosquitto is missing; fail it instead where NGSILD_REQUIRE_MOSQUITTO is
    set (.ci/run sets it), so CI can never pass by skipping the MQTT tests."""
    if mosquitto_path() is not None:
        return
    import pytest

    if os.environ.get(REQUIRED_ENV):
        pytest.fail(f"{MISSING}, and {REQUIRED_ENV} says the MQTT tests must run")
    pytest.skip(MISSING)


class Mosquitto:
    """One mosquitto process on 127.0.0.1:``port``; the port, config and log outlive restarts."""

    def __init__(self, port: int | None = None) -> None:
        binary = mosquitto_path()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian package mosquitto)")
        self.binary = binary
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._directory = tempfile.TemporaryDirectory(prefix="ngsild-mosquitto-")
        self.config_path = Path(self._directory.name) / "mosquitto.conf"
        self.log_path = Path(self._directory.name) / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> str:
        user = pwd.getpwuid(os.geteuid()).pw_name  # as root, mosquitto would otherwise switch to user mosquitto
        self.config_path.write_text(
            f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\nuser {user}\n"
            f"log_dest file {self.log_path}\nlog_type all\nconnection_messages true\n"
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it (errors before logging starts)
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"mosquitto did not start on port {self.port}:\n{tail}")
            time.sleep(0.02)
        return self.url

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port: every client is disconnected and every session is lost."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._directory.cleanup()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def publishers(self, topic: str) -> set[tuple[str, int]]:
        """(protocol version, QoS) of every PUBLISH received on ``topic`` so far, from the log: the protocol is
        the one ``mqtt3.1.1``/``mqtt5.0`` the publishing client connected with most recently."""
        protocol: dict[str, str] = {}
        seen: set[tuple[str, int]] = set()
        for line in self.log_path.read_text(errors="replace").splitlines():
            if m := CONNECTED.search(line):
                protocol[m[1]] = PROTOCOLS.get(m[2], "p" + m[2])
            elif (m := PUBLISHED.search(line)) and m[3] == topic:
                seen.add((protocol.get(m[1], "unknown"), int(m[2])))
        return seen


@dataclass(frozen=True)
class Message:
    """One received message: ``payload`` is the parsed JSON (None when it is not JSON; ``raw`` has the bytes)."""

    topic: str
    payload: Any
    qos: int
    received_at: float  # time.monotonic()
    raw: bytes


class MqttListener:
    """Subscribes to ``topic`` (a filter) on the broker at ``url`` (``mqtt://host:port``) with QoS 2, in paho's
    network thread, and records every message.

    Reconnects on its own: paho's loop retries the connection (1-2 s apart) whenever it drops, for example while
    mosquitto restarts, and each new connection (clean session) subscribes again. ``subscribed`` counts the
    acknowledged subscriptions, so ``wait_subscribed(after=n)`` tells when the listener is back after a restart.
    """

    def __init__(self, url: str, topic: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.topic = topic
        self.subscribed = 0
        self._messages: list[Message] = []
        self._changed = threading.Condition()
        self._client: paho.Client | None = None

    def start(self) -> MqttListener:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"listener-{uuid.uuid4().hex[:12]}", protocol=paho.MQTTv311
        )
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.connect_async(self.host, self.port, keepalive=10)
        client.loop_start()
        self._client = client
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def __enter__(self) -> MqttListener:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Properties | None
    ) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic, qos=2)

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Properties | None
    ) -> None:
        with self._changed:
            self.subscribed += 1
            self._changed.notify_all()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        raw = bytes(message.payload)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        with self._changed:
            self._messages.append(Message(message.topic, payload, message.qos, time.monotonic(), raw))
            self._changed.notify_all()

    @property
    def messages(self) -> list[Message]:
        with self._changed:
            return list(self._messages)

    def wait_until(self, done: Callable[[list[Message]], bool], timeout: float, what: str = "") -> list[Message]:
        """The messages once ``done(messages)`` holds; AssertionError with what arrived when ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(list(self._messages)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = [m.raw[:300] for m in self._messages]
                    raise AssertionError(f"{what or 'condition'} not met within {timeout}s on {self.topic}: {got}")
                self._changed.wait(min(remaining, 0.1))
            return list(self._messages)

    def wait_for(self, n: int, timeout: float) -> list[Message]:
        """The messages once at least ``n`` have arrived."""
        return self.wait_until(lambda got: len(got) >= n, timeout, f"{n} message(s)")

    def wait_subscribed(self, timeout: float, after: int = 0) -> None:
        """Wait until more than ``after`` subscriptions were acknowledged (0: the first one)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.subscribed <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"listener not subscribed to {self.topic} within {timeout}s")
                self._changed.wait(min(remaining, 0.1))
