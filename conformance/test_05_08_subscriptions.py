"""Digest part 2 §1-§2: context information subscriptions — the Subscription data type (ETSI GS CIM 009 §5.2.12,
EntitySelector §5.2.33, GeoQuery §5.2.13, NotificationParams §5.2.14, Endpoint §5.2.15, KeyValuePair §5.2.22) and
the operations Create / Update / Retrieve / Query / Delete Subscription (§5.8.1-§5.8.5, HTTP binding §6.10-§6.11):
validation (§2.1 checklist), defaults, term expansion and compaction, status computation (§1.5), pagination,
tenancy and expiry. Notification delivery is tested elsewhere; endpoints here point at a port nobody listens on.

Every test works in its own tenant (NGSILD-Tenant) so the subscription listing of that tenant is exactly what the
test created, and no entity of another test can ever match one of its subscriptions."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urljoin

import httpx
import pytest

from conformance.helpers import (
    BAD_PAGING,
    CORE_CONTEXT_RE,
    DATETIME_RE,
    ERRORS,
    EX,
    LD_CONTEXT_REL,
    NULL,
    assert_problem,
    link_header,
    media_type,
    new_id,
    send,
)

SUBS = "/subscriptions"
LOCATION_PREFIX = "/ngsi-ld/v1/subscriptions/"
ENDPOINT = "http://127.0.0.1:9/notify"
MQTT_ENDPOINT = "mqtt://127.0.0.1:1883/conformance/notify"
LD = "application/ld+json"
DEFAULT_TRIGGERS = ["attributeCreated", "attributeUpdated"]
ALL_TRIGGERS = [
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
]
SUBSCRIPTION_MEMBERS = {
    "id",
    "type",
    "subscriptionName",
    "description",
    "entities",
    "watchedAttributes",
    "notificationTrigger",
    "timeInterval",
    "q",
    "geoQ",
    "csf",
    "scopeQ",
    "lang",
    "isActive",
    "status",
    "expiresAt",
    "throttling",
    "temporalQ",
    "notification",
    "jsonldContext",
    "datasetId",
    "localOnly",
    "splitEntities",
    "jsonKeys",
    "expandValues",
    "createdAt",
    "modifiedAt",
}
NOTIFICATION_MEMBERS = {
    "attributes",
    "pick",
    "omit",
    "sysAttrs",
    "format",
    "showChanges",
    "join",
    "joinLevel",
    "endpoint",
    "status",
    "timesSent",
    "timesFailed",
    "lastNotification",
    "lastSuccess",
    "lastFailure",
}
NOTIFICATION_DEFAULTS = {"format": "normalized", "join": "@none"}  # a default may be returned or left out
ENDPOINT_MEMBERS = {"uri", "accept", "timeout", "cooldown", "receiverInfo", "notifierInfo"}
PAGE_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')
DROP: Any = object()  # a member given as DROP is left out of the built object


# --------------------------------------------------------------------------------------------- helpers


def h(tenant: str) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant}


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _without_drops(members: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in members.items() if v is not DROP}


def endpoint(**members: Any) -> dict[str, Any]:
    """An Endpoint to the dead loopback port, with ``members`` overriding or (DROP) removing."""
    return _without_drops({"uri": ENDPOINT, **members})


def notification(**members: Any) -> dict[str, Any]:
    """NotificationParams with the default endpoint, with ``members`` overriding or (DROP) removing."""
    return _without_drops({"endpoint": endpoint(), **members})


def subscription(**members: Any) -> dict[str, Any]:
    """A valid subscription with a fresh id on a fresh entity type; ``members`` override or (DROP) remove."""
    base = {
        "id": new_id("Subscription"),
        "type": "Subscription",
        "entities": [{"type": uniq("Vehicle")}],
        "notification": notification(),
    }
    return _without_drops({**base, **members})


def item(sid: str) -> str:
    """The path of one subscription."""
    return f"{SUBS}/{quote(sid, safe=':')}"


def future(seconds: float = 3600.0) -> str:
    """A DateTime ``seconds`` from now (UTC, milliseconds, Z)."""
    return stamp(datetime.now(UTC) + timedelta(seconds=seconds))


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_dt(value: str) -> datetime:
    assert isinstance(value, str) and DATETIME_RE.match(value), f"not a DateTime: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def problem(resp: httpx.Response, status: int | tuple[int, ...], name: str) -> dict[str, Any]:
    """assert_problem, plus a non-empty string detail."""
    body = assert_problem(resp, status, name)
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    return body


def post(
    client: httpx.Client,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    ctype: str = "application/json",
) -> httpx.Response:
    return send(client, "POST", SUBS, body, ctype=ctype, headers=headers)


def create_sub(
    client: httpx.Client,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    ctype: str = "application/json",
) -> str:
    """Create a subscription, assert 201, and return its id (taken from Location)."""
    resp = post(client, body, headers, ctype=ctype)
    assert resp.status_code == 201, f"create failed: {resp.status_code} {resp.text[:500]}"
    location = unquote(resp.headers.get("location", ""))
    assert LOCATION_PREFIX in location, location
    return location.split(LOCATION_PREFIX, 1)[1]


def patch(client: httpx.Client, sid: str, fragment: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return send(client, "PATCH", item(sid), fragment, headers=headers)


def patched(client: httpx.Client, sid: str, fragment: Any, headers: dict[str, str] | None = None) -> None:
    """PATCH and assert 204 with no body."""
    resp = patch(client, sid, fragment, headers)
    assert resp.status_code == 204, f"update failed: {resp.status_code} {resp.text[:500]}"
    assert resp.content == b""


def get_sub(client: httpx.Client, sid: str, headers: dict[str, str] | None = None, **params: str) -> dict[str, Any]:
    """GET /subscriptions/{id}, assert 200, return the body."""
    resp = client.get(item(sid), headers=headers, params=params or None)
    assert resp.status_code == 200, f"retrieve failed: {resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, dict), body
    return body


def snapshot(client: httpx.Client, sid: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The stored subscription with system attributes (for unchanged-ness checks)."""
    return get_sub(client, sid, headers, options="sysAttrs")


def listing(client: httpx.Client, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return client.get(SUBS, headers=headers, params=params or None)


def listed(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, list), body
    return body


def listed_ids(client: httpx.Client, headers: dict[str, str] | None = None, **params: str) -> list[str]:
    return [s["id"] for s in listed(listing(client, headers, **params))]


def page_links(resp: httpx.Response) -> dict[str, str]:
    """rel -> target of the Link response headers."""
    found: dict[str, str] = {}
    for value in resp.headers.get_list("link"):
        for target, rel_ in PAGE_LINK_RE.findall(value):
            found[rel_] = target
    return found


def assert_nothing_stored(client: httpx.Client, headers: dict[str, str], sid: Any = None) -> None:
    """The tenant holds no subscription, and ``sid`` (when a usable id) is 404."""
    assert listed_ids(client, headers, limit="1000") == []
    if isinstance(sid, str) and sid.startswith("urn:"):
        resp = client.get(item(sid), headers=headers)
        assert resp.status_code == 404, f"{resp.status_code}: {resp.text[:500]}"


def status_of(client: httpx.Client, sid: str, headers: dict[str, str]) -> str:
    return str(get_sub(client, sid, headers)["status"])


# --------------------------------------------------------------------------------------------- 5.8.1 create


def test_create_returns_201_with_location(client: httpx.Client, tenant: str) -> None:
    """Create gives 201 with no body and Location /ngsi-ld/v1/subscriptions/<id>."""
    body = subscription()
    resp = post(client, body, h(tenant))
    assert resp.status_code == 201, resp.text
    assert resp.content == b""
    assert unquote(resp.headers.get("location", "")).endswith(LOCATION_PREFIX + body["id"])


def test_create_without_id_generates_one(client: httpx.Client, tenant: str) -> None:
    """Without id the broker generates urn:ngsi-ld:Subscription:<uuid>, named in Location and retrievable."""
    sid = create_sub(client, subscription(id=DROP), h(tenant))
    assert sid.startswith("urn:ngsi-ld:Subscription:"), sid
    uuid.UUID(sid.rsplit(":", 1)[1])
    assert get_sub(client, sid, h(tenant))["id"] == sid
    assert listed_ids(client, h(tenant)) == [sid]


def test_retrieve_minimal_subscription_with_defaults(client: httpx.Client, tenant: str) -> None:
    """A minimal subscription is returned with isActive true, status active, the default notificationTrigger,
    format normalized, accept application/json and a jsonldContext (the core context), without sysAttrs."""
    body = subscription()
    sid = create_sub(client, body, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["id"] == body["id"]
    assert got["type"] == "Subscription"
    assert got["entities"] == body["entities"]
    assert got["isActive"] is True
    assert got["status"] == "active"
    assert sorted(got["notificationTrigger"]) == sorted(DEFAULT_TRIGGERS)
    assert CORE_CONTEXT_RE.match(str(got.get("jsonldContext"))), got.get("jsonldContext")
    notif = got["notification"]
    assert notif["format"] == "normalized"
    assert notif["endpoint"]["uri"] == ENDPOINT
    assert notif["endpoint"]["accept"] == "application/json"
    assert notif.get("timesSent", 0) == 0
    assert "lastNotification" not in notif
    assert set(got) <= SUBSCRIPTION_MEMBERS - {"createdAt", "modifiedAt"}, set(got)
    assert set(notif) <= NOTIFICATION_MEMBERS, set(notif)
    assert set(notif["endpoint"]) <= ENDPOINT_MEMBERS, set(notif["endpoint"])


def test_create_full_subscription_round_trips(client: httpx.Client, tenant: str) -> None:
    """Every member of a rich subscription (digest §1.6 example) is returned as it was sent."""
    t = uniq("ParkingLot")
    body = {
        "id": new_id("Subscription"),
        "type": "Subscription",
        "subscriptionName": "lot occupancy",
        "description": "free spots of the northern lots",
        "entities": [{"type": t, "idPattern": f"^urn:ngsi-ld:{t}:north-.*"}, {"type": t, "id": f"urn:ngsi-ld:{t}:x"}],
        "watchedAttributes": ["freeSpots"],
        "q": "freeSpots<5",
        "scopeQ": "/Madrid/#",
        "lang": "fr",
        "notificationTrigger": ["attributeUpdated", "entityDeleted"],
        "throttling": 10,
        "isActive": True,
        "expiresAt": future(),
        "notification": {
            "format": "concise",
            "pick": ["id", "type", "freeSpots"],
            "sysAttrs": True,
            "showChanges": True,
            "endpoint": {
                "uri": ENDPOINT,
                "accept": LD,
                "timeout": 1500,
                "cooldown": 500,
                "receiverInfo": [{"key": "X-Api-Key", "value": "k-123"}],
            },
        },
    }
    sid = create_sub(client, body, h(tenant))
    got = get_sub(client, sid, h(tenant))
    for member, value in body.items():
        if member == "expiresAt":
            assert parse_dt(got[member]) == parse_dt(value)
        elif member == "notification":
            for key, sent in value.items():
                assert got[member][key] == sent, key
        else:
            assert got[member] == value, member
    assert got["status"] == "active"


def test_create_with_watched_attributes_only(client: httpx.Client, tenant: str) -> None:
    """watchedAttributes alone (no entities) is a valid subscription."""
    sid = create_sub(client, subscription(entities=DROP, watchedAttributes=["speed"]), h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["watchedAttributes"] == ["speed"]
    assert "entities" not in got


def test_create_paused(client: httpx.Client, tenant: str) -> None:
    """Created with isActive false, the subscription is returned with status paused."""
    sid = create_sub(client, subscription(isActive=False), h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["isActive"] is False
    assert got["status"] == "paused"


@pytest.mark.parametrize("trigger", ALL_TRIGGERS)
def test_each_notification_trigger_is_accepted(client: httpx.Client, tenant: str, trigger: str) -> None:
    """Each of the six notificationTrigger values is accepted and returned."""
    sid = create_sub(client, subscription(notificationTrigger=[trigger]), h(tenant))
    assert get_sub(client, sid, h(tenant))["notificationTrigger"] == [trigger]


@pytest.mark.parametrize(
    "notif",
    [
        pytest.param(notification(format="concise"), id="concise"),
        pytest.param(notification(format="keyValues"), id="keyValues"),
        pytest.param(notification(endpoint=endpoint(accept=LD)), id="accept-ld+json"),
        pytest.param(notification(endpoint=endpoint(accept="application/geo+json")), id="accept-geo+json"),
        pytest.param(notification(attributes=["speed"]), id="attributes"),
        pytest.param(notification(omit=["speed"]), id="omit"),
        pytest.param(notification(join="@none"), id="join-none"),
        pytest.param(notification(endpoint=endpoint(uri="https://127.0.0.1:9/notify")), id="https"),
        pytest.param(
            notification(
                endpoint=endpoint(
                    uri=MQTT_ENDPOINT,
                    notifierInfo=[{"key": "MQTT-QoS", "value": "1"}, {"key": "MQTT-Version", "value": "mqtt3.1.1"}],
                )
            ),
            id="mqtt",
        ),
    ],
)
def test_valid_notification_variants_are_accepted(client: httpx.Client, tenant: str, notif: dict[str, Any]) -> None:
    """Supported formats, media types, projections and bindings are accepted and returned as sent (a member
    sent with its default value may also be left out)."""
    sid = create_sub(client, subscription(notification=notif), h(tenant))
    got = get_sub(client, sid, h(tenant))["notification"]
    for key, sent in notif.items():
        if key == "endpoint":
            for ekey, evalue in sent.items():
                assert got["endpoint"][ekey] == evalue, ekey
        else:
            assert got.get(key, NOTIFICATION_DEFAULTS.get(key)) == sent, key


@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"timeInterval": 10}, id="timeInterval"),
        pytest.param({"timeInterval": 1}, id="timeInterval-1"),
        pytest.param({"throttling": 0.5}, id="throttling-fraction"),
        pytest.param(
            {"geoQ": {"geometry": "Point", "coordinates": [10, 50], "georel": "near;maxDistance==2000"}}, id="geoQ"
        ),
        pytest.param(
            {
                "geoQ": {
                    "geometry": "Polygon",
                    "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
                    "georel": "within",
                    "geoproperty": "location",
                }
            },
            id="geoQ-polygon",
        ),
    ],
)
def test_valid_optional_members_are_accepted(client: httpx.Client, tenant: str, members: dict[str, Any]) -> None:
    """Valid timeInterval, throttling and geoQ values are accepted and returned."""
    sid = create_sub(client, subscription(**members), h(tenant))
    got = get_sub(client, sid, h(tenant))
    for key, sent in members.items():
        if key == "geoQ":
            assert got["geoQ"]["geometry"] == sent["geometry"]
            assert got["geoQ"]["georel"] == sent["georel"]
        else:
            assert got[key] == sent, key


def test_duplicate_id_is_already_exists(client: httpx.Client, tenant: str) -> None:
    """A second create with the same id gives 409 AlreadyExists; the first subscription is unchanged."""
    first = subscription(description="first")
    sid = create_sub(client, first, h(tenant))
    before = snapshot(client, sid, h(tenant))
    second = subscription(id=first["id"], description="second")
    problem(post(client, second, h(tenant)), 409, "AlreadyExists")
    assert snapshot(client, sid, h(tenant)) == before
    assert listed_ids(client, h(tenant)) == [sid]


@pytest.mark.parametrize("raw", ["{not json", '{"type": "Subscription",', "", "[1, 2"])
def test_invalid_json_is_invalid_request(client: httpx.Client, tenant: str, raw: str) -> None:
    """A body that is not JSON gives 400 InvalidRequest and stores nothing."""
    resp = send(client, "POST", SUBS, raw=raw, headers=h(tenant))
    problem(resp, 400, "InvalidRequest")
    assert_nothing_stored(client, h(tenant))


def test_empty_object_is_bad_request(client: httpx.Client, tenant: str) -> None:
    """An empty JSON object gives 400 BadRequestData and stores nothing."""
    problem(post(client, {}, h(tenant)), 400, "BadRequestData")
    assert_nothing_stored(client, h(tenant))


def _bad(members: dict[str, Any], case_id: str) -> Any:
    return pytest.param(members, id=case_id)


def _geo(**members: Any) -> dict[str, Any]:
    return {"geoQ": _without_drops({"geometry": "Point", "coordinates": [10, 50], "georel": "within", **members})}


BAD_CREATES = [
    # type and id
    _bad({"type": DROP}, "type-missing"),
    _bad({"type": "Entity"}, "type-not-subscription"),
    _bad({"type": "subscription"}, "type-wrong-case"),
    _bad({"id": "not-a-uri"}, "id-not-uri"),
    _bad({"id": "has space:x"}, "id-with-space"),
    _bad({"id": 42}, "id-not-string"),
    # what is watched
    _bad({"entities": DROP}, "neither-entities-nor-watched"),
    _bad({"entities": []}, "entities-empty"),
    _bad({"watchedAttributes": []}, "watched-empty"),
    _bad({"entities": DROP, "watchedAttributes": []}, "watched-empty-alone"),
    _bad({"entities": [{"id": "urn:ngsi-ld:Vehicle:1"}]}, "selector-without-type"),
    _bad({"entities": [{"type": "Vehicle", "idPattern": "(unclosed"}]}, "idPattern-invalid-regex"),
    _bad({"entities": [{"type": "Vehicle", "id": "not a uri"}]}, "selector-id-not-uri"),
    _bad({"entities": {"type": "Vehicle"}}, "entities-not-array"),
    # notification and endpoint
    _bad({"notification": DROP}, "notification-missing"),
    _bad({"notification": notification(endpoint=DROP)}, "endpoint-missing"),
    _bad({"notification": notification(endpoint=endpoint(uri=DROP))}, "endpoint-uri-missing"),
    _bad({"notification": notification(endpoint=endpoint(uri="/notify"))}, "endpoint-uri-relative"),
    _bad({"notification": notification(endpoint=endpoint(uri="notify"))}, "endpoint-uri-no-scheme"),
    _bad({"notification": notification(endpoint=endpoint(uri="ftp://127.0.0.1/notify"))}, "endpoint-uri-ftp"),
    _bad({"notification": notification(endpoint=endpoint(accept="text/plain"))}, "accept-text-plain"),
    _bad({"notification": notification(endpoint=endpoint(accept="application/xml"))}, "accept-xml"),
    _bad({"notification": notification(endpoint=endpoint(timeout=0))}, "timeout-zero"),
    _bad({"notification": notification(endpoint=endpoint(timeout=-100))}, "timeout-negative"),
    _bad({"notification": notification(endpoint=endpoint(cooldown=0))}, "cooldown-zero"),
    _bad({"notification": notification(endpoint=endpoint(cooldown=-1))}, "cooldown-negative"),
    _bad({"notification": notification(endpoint=endpoint(receiverInfo=[{"key": "X-A", "value": 1}]))}, "ri-value-int"),
    _bad({"notification": notification(endpoint=endpoint(receiverInfo=[{"key": 7, "value": "v"}]))}, "ri-key-int"),
    _bad({"notification": notification(endpoint=endpoint(receiverInfo=[{"value": "v"}]))}, "ri-key-missing"),
    _bad({"notification": notification(endpoint=endpoint(receiverInfo=[{"key": "X-A"}]))}, "ri-value-missing"),
    _bad({"notification": notification(endpoint=endpoint(receiverInfo={"key": "X-A", "value": "v"}))}, "ri-object"),
    _bad(
        {"notification": notification(endpoint=endpoint(uri=MQTT_ENDPOINT, notifierInfo=[{"value": "1"}]))},
        "ni-key-missing",
    ),
    _bad(
        {"notification": notification(endpoint=endpoint(uri=MQTT_ENDPOINT, notifierInfo=[{"key": "MQTT-QoS"}]))},
        "ni-value-missing",
    ),
    _bad(
        {
            "notification": notification(
                endpoint=endpoint(uri=MQTT_ENDPOINT, notifierInfo=[{"key": "MQTT-QoS", "value": 1}])
            )
        },
        "ni-value-int",
    ),
    _bad(
        {
            "notification": notification(
                endpoint=endpoint(uri=MQTT_ENDPOINT, notifierInfo=[{"key": "MQTT-QoS", "value": "3"}])
            )
        },
        "mqtt-qos-3",
    ),
    _bad(
        {
            "notification": notification(
                endpoint=endpoint(uri=MQTT_ENDPOINT, notifierInfo=[{"key": "MQTT-Version", "value": "mqtt4.0"}])
            )
        },
        "mqtt-version-unknown",
    ),
    # notification parameters
    _bad({"notification": notification(format="flat")}, "format-unknown"),
    _bad({"notification": notification(format="keyValues", showChanges=True)}, "showChanges-with-keyValues"),
    _bad({"notification": notification(attributes=["speed"], pick=["brand"])}, "attributes-with-pick"),
    _bad({"notification": notification(attributes=["speed"], omit=["brand"])}, "attributes-with-omit"),
    _bad({"notification": notification(pick=["speed", "brand"], omit=["brand"])}, "pick-omit-overlap"),
    _bad({"notification": notification(attributes=[])}, "attributes-empty"),
    _bad({"notification": notification(pick=[])}, "pick-empty"),
    _bad({"notification": notification(omit=[])}, "omit-empty"),
    _bad({"notification": notification(sysAttrs="yes")}, "sysAttrs-not-boolean"),
    _bad({"notification": "http://127.0.0.1:9/notify"}, "notification-not-object"),
    # triggers and timing
    _bad({"notificationTrigger": ["entityChanged"]}, "trigger-unknown"),
    _bad({"notificationTrigger": ["attributeCreated", "bogus"]}, "trigger-one-unknown"),
    _bad({"notificationTrigger": "attributeCreated"}, "trigger-not-array"),
    _bad({"timeInterval": 0}, "timeInterval-zero"),
    _bad({"timeInterval": 0.5}, "timeInterval-below-one"),
    _bad({"timeInterval": -5}, "timeInterval-negative"),
    _bad({"timeInterval": 10, "throttling": 5}, "timeInterval-with-throttling"),
    _bad({"timeInterval": 10, "watchedAttributes": ["speed"]}, "timeInterval-with-watched"),
    _bad({"throttling": 0}, "throttling-zero"),
    _bad({"throttling": -1}, "throttling-negative"),
    _bad({"throttling": "10"}, "throttling-string"),
    # filters
    _bad({"q": "(speed>1"}, "q-unbalanced"),
    _bad({"q": "speed>>1"}, "q-bad-operator"),
    _bad({"q": "speed=="}, "q-no-value"),
    _bad({"scopeQ": "Madrid"}, "scopeQ-no-slash"),
    _bad({"scopeQ": "/Madrid/"}, "scopeQ-trailing-slash"),
    _bad(_geo(georel=DROP), "geoQ-georel-missing"),
    _bad(_geo(geometry=DROP), "geoQ-geometry-missing"),
    _bad(_geo(coordinates=DROP), "geoQ-coordinates-missing"),
    _bad(_geo(georel="invalid"), "geoQ-georel-unknown"),
    _bad(_geo(georel="near"), "geoQ-near-without-distance"),
    _bad(_geo(geometry="Circle"), "geoQ-geometry-unknown"),
    _bad(_geo(coordinates=[200, 50]), "geoQ-longitude-out-of-range"),
    _bad(_geo(coordinates=[10]), "geoQ-one-coordinate"),
    _bad(_geo(coordinates="[10,"), "geoQ-coordinates-broken-string"),
    _bad(_geo(coordinates=["a", "b"]), "geoQ-coordinates-not-numbers"),
    _bad(_geo(geometry="Polygon", coordinates=[[[0, 0], [1, 0], [1, 1], [0, 1]]]), "geoQ-polygon-not-closed"),
    _bad({"geoQ": "near;maxDistance==10"}, "geoQ-not-object"),
    # lifetime and activity
    _bad({"expiresAt": "2000-01-01T00:00:00Z"}, "expiresAt-past"),
    _bad({"expiresAt": "tomorrow"}, "expiresAt-not-datetime"),
    _bad({"expiresAt": 4102444800}, "expiresAt-number"),
    _bad({"isActive": "true"}, "isActive-string"),
    _bad({"isActive": 1}, "isActive-number"),
    # others
    _bad({"jsonldContext": "not a uri"}, "jsonldContext-not-uri"),
    _bad({"foo": "bar"}, "unknown-member"),
    _bad({"subscriptionName": 5}, "subscriptionName-not-string"),
]


@pytest.mark.parametrize("members", BAD_CREATES)
def test_invalid_subscription_is_bad_request(client: httpx.Client, tenant: str, members: dict[str, Any]) -> None:
    """A subscription violating the data type (digest §2.1) gives 400 BadRequestData and stores nothing."""
    body = subscription(**members)
    problem(post(client, body, h(tenant)), 400, "BadRequestData")
    assert_nothing_stored(client, h(tenant), body.get("id"))


@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"csf": "p==1"}, id="csf"),
        pytest.param({"temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}}, id="temporalQ"),
        pytest.param({"notification": notification(join="flat")}, id="join-flat"),
        pytest.param({"notification": notification(join="inline")}, id="join-inline"),
        pytest.param({"splitEntities": True}, id="splitEntities"),
    ],
)
def test_unsupported_features_are_refused_openly(client: httpx.Client, tenant: str, members: dict[str, Any]) -> None:
    """A broker that lacks csf, temporalQ, join or splitEntities says so (422 OperationNotSupported, or the
    501 NotImplemented some brokers use) and stores nothing; it never ignores them silently."""
    body = subscription(**members)
    resp = post(client, body, h(tenant))
    if resp.status_code == 201:
        pytest.skip("this broker supports the feature")
    name = "NotImplemented" if resp.status_code == 501 else "OperationNotSupported"
    problem(resp, (422, 501), name)
    assert_nothing_stored(client, h(tenant), body["id"])


def test_jsonld_context_is_stored(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """A reachable jsonldContext is accepted and returned."""
    sid = create_sub(client, subscription(jsonldContext=user_context_url), h(tenant))
    assert get_sub(client, sid, h(tenant))["jsonldContext"] == user_context_url


def test_unreachable_jsonld_context_is_ld_context_not_available(
    client: httpx.Client, tenant: str, unreachable_context_url: str
) -> None:
    """A jsonldContext that cannot be fetched gives LdContextNotAvailable (504 per the spec and TP 028_07_02,
    503 in older test purposes) and stores nothing."""
    body = subscription(jsonldContext=unreachable_context_url)
    resp = post(client, body, h(tenant))
    problem(resp, (503, 504), "LdContextNotAvailable")
    assert resp.json()["type"] == ERRORS + "LdContextNotAvailable"
    assert_nothing_stored(client, h(tenant), body["id"])


def test_read_only_members_are_ignored(client: httpx.Client, tenant: str) -> None:
    """Client-supplied status and notification statistics are ignored, not stored (digest §2.1 item 11)."""
    notif = notification(timesSent=99, timesFailed=7, status="failed", lastNotification="2020-01-01T00:00:00Z")
    sid = create_sub(client, subscription(status="expired", notification=notif), h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["status"] == "active"
    assert got["notification"].get("timesSent", 0) == 0
    assert got["notification"].get("timesFailed", 0) == 0
    assert "status" not in got["notification"]
    assert "lastNotification" not in got["notification"]


# --------------------------------------------------------------------------------------------- content negotiation


def test_link_context_terms_are_stored_expanded(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """Terms given with a Link context are stored expanded: GET without Link shows full IRIs, with the same Link
    the short terms; jsonldContext defaults to the creation context."""
    body = subscription(
        entities=[{"type": "Vehicle"}],
        watchedAttributes=["speed"],
        notification=notification(attributes=["brand"]),
    )
    sid = create_sub(client, body, {**h(tenant), **link_header(user_context_url)})
    plain = get_sub(client, sid, h(tenant))
    assert plain["entities"] == [{"type": EX + "Vehicle"}]
    assert plain["watchedAttributes"] == [EX + "speed"]
    assert plain["notification"]["attributes"] == [EX + "brand"]
    assert plain["jsonldContext"] == user_context_url
    compacted = get_sub(client, sid, {**h(tenant), **link_header(user_context_url)})
    assert compacted["entities"] == [{"type": "Vehicle"}]
    assert compacted["watchedAttributes"] == ["speed"]
    assert compacted["notification"]["attributes"] == ["brand"]


def test_ld_json_body_with_context(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """An application/ld+json body with @context is expanded with it; @context is not stored as a member."""
    body = {**subscription(entities=[{"type": "Vehicle"}], watchedAttributes=["speed"]), "@context": user_context_url}
    sid = create_sub(client, body, h(tenant), ctype=LD)
    got = get_sub(client, sid, h(tenant))
    assert got["entities"] == [{"type": EX + "Vehicle"}]
    assert got["watchedAttributes"] == [EX + "speed"]
    assert "@context" not in got


def test_link_header_with_ld_json_is_bad_request(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """A JSON-LD Link header together with Content-Type application/ld+json gives 400 and stores nothing."""
    body = {**subscription(entities=[{"type": "Vehicle"}]), "@context": user_context_url}
    resp = post(client, body, {**h(tenant), **link_header(user_context_url)}, ctype=LD)
    problem(resp, 400, "BadRequestData")
    assert_nothing_stored(client, h(tenant), body["id"])


def test_context_in_json_body_is_bad_request(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """@context inside an application/json body gives 400 BadRequestData and stores nothing."""
    body = {**subscription(), "@context": user_context_url}
    problem(post(client, body, h(tenant)), 400, "BadRequestData")
    assert_nothing_stored(client, h(tenant), body["id"])


def test_accept_ld_json_puts_context_in_body(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """Accept application/ld+json gives an ld+json body with @context (the request's Link context when given)."""
    sid = create_sub(
        client, subscription(entities=[{"type": "Vehicle"}]), {**h(tenant), **link_header(user_context_url)}
    )
    resp = client.get(item(sid), headers={**h(tenant), "Accept": LD, **link_header(user_context_url)})
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == LD
    body = resp.json()
    assert body["@context"] in (user_context_url, [user_context_url])
    assert body["entities"] == [{"type": "Vehicle"}]
    resp = client.get(item(sid), headers={**h(tenant), "Accept": LD})
    assert resp.status_code == 200, resp.text
    assert "@context" in resp.json()


def test_accept_json_has_no_context_in_body(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """Accept application/json gives no @context member; the context travels in a Link header."""
    sid = create_sub(client, subscription(), h(tenant))
    resp = client.get(item(sid), headers={**h(tenant), "Accept": "application/json", **link_header(user_context_url)})
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == "application/json"
    assert "@context" not in resp.json()
    assert LD_CONTEXT_REL in page_links(resp)


# --------------------------------------------------------------------------------------------- 5.8.3 retrieve


def test_retrieve_unknown_is_not_found(client: httpx.Client, tenant: str) -> None:
    """GET of an unknown subscription id gives 404 ResourceNotFound (TS 030_02)."""
    create_sub(client, subscription(), h(tenant))
    problem(client.get(item(new_id("Subscription")), headers=h(tenant)), 404, "ResourceNotFound")


def test_retrieve_invalid_id_is_bad_request(client: httpx.Client, tenant: str) -> None:
    """GET with an id that is not a URI gives 400 BadRequestData (TS 030_01)."""
    problem(client.get(f"{SUBS}/thisisnotauri", headers=h(tenant)), 400, "BadRequestData")


def test_sys_attrs_option(client: httpx.Client, tenant: str) -> None:
    """options=sysAttrs adds createdAt and modifiedAt (DateTime) on retrieve and query; they are absent otherwise."""
    sid = create_sub(client, subscription(), h(tenant))
    assert "createdAt" not in get_sub(client, sid, h(tenant))
    got = get_sub(client, sid, h(tenant), options="sysAttrs")
    created, modified = parse_dt(got["createdAt"]), parse_dt(got["modifiedAt"])
    assert created <= modified
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    [listed_one] = listed(listing(client, h(tenant), options="sysAttrs"))
    assert DATETIME_RE.match(listed_one["createdAt"]) and DATETIME_RE.match(listed_one["modifiedAt"])


# --------------------------------------------------------------------------------------------- 5.8.4 query


def make_many(client: httpx.Client, tenant: str, n: int) -> list[str]:
    """Create ``n`` subscriptions in ``tenant`` and return their ids in creation order."""
    return [create_sub(client, subscription(description=f"#{i}"), h(tenant)) for i in range(n)]


def test_query_returns_tenant_subscriptions_in_creation_order(client: httpx.Client, tenant: str) -> None:
    """GET /subscriptions returns exactly the tenant's subscriptions, in creation order, as GET by id shows them."""
    sids = make_many(client, tenant, 4)
    create_sub(client, subscription(), h(tenant + "x"))
    resp = listing(client, h(tenant))
    assert media_type(resp) == "application/json"
    body = listed(resp)
    assert [s["id"] for s in body] == sids
    assert body[2] == get_sub(client, sids[2], h(tenant))


def test_query_in_unknown_tenant_is_empty(client: httpx.Client, tenant: str) -> None:
    """GET /subscriptions in a tenant nobody used gives 200 [] (contract)."""
    assert listed(listing(client, h(tenant))) == []


def test_query_limit_and_offset(client: httpx.Client, tenant: str) -> None:
    """limit and offset cut the creation-ordered list; an offset past the end gives []."""
    sids = make_many(client, tenant, 5)
    assert listed_ids(client, h(tenant), limit="2") == sids[:2]
    assert listed_ids(client, h(tenant), limit="2", offset="1") == sids[1:3]
    assert listed_ids(client, h(tenant), offset="3") == sids[3:]
    assert listed_ids(client, h(tenant), offset="10") == []


def test_query_count(client: httpx.Client, tenant: str) -> None:
    """count=true gives NGSILD-Results-Count with the total, ignoring limit/offset; limit=0 with count gives []."""
    make_many(client, tenant, 5)
    resp = listing(client, h(tenant), count="true", limit="2", offset="1")
    assert len(listed(resp)) == 2
    assert resp.headers.get("NGSILD-Results-Count") == "5"
    resp = listing(client, h(tenant), count="true", limit="0")
    assert listed(resp) == []
    assert resp.headers.get("NGSILD-Results-Count") == "5"
    assert "NGSILD-Results-Count" not in listing(client, h(tenant)).headers


def test_query_prev_next_links(client: httpx.Client, tenant: str, api_root: str) -> None:
    """Paging by rel="next" reaches every subscription once; prev is absent on page one and next on the last."""
    sids = make_many(client, tenant, 5)
    resp = listing(client, h(tenant), limit="2")
    links = page_links(resp)
    assert "prev" not in links
    seen = [s["id"] for s in listed(resp)]
    pages = 1
    while "next" in links:
        resp = client.get(urljoin(api_root + "/", links["next"]), headers=h(tenant))
        seen += [s["id"] for s in listed(resp)]
        links = page_links(resp)
        assert "prev" in links, "a page after the first must link to prev"
        pages += 1
        assert pages < 10
    assert pages == 3
    assert seen == sids
    back = client.get(urljoin(api_root + "/", links["prev"]), headers=h(tenant))
    assert [s["id"] for s in listed(back)] == sids[2:4]


def test_query_default_page_size(client: httpx.Client, tenant: str) -> None:
    """Without limit a page holds 20 subscriptions (contract) and links to the next page."""
    sids = make_many(client, tenant, 21)
    resp = listing(client, h(tenant))
    assert [s["id"] for s in listed(resp)] == sids[:20]
    assert "next" in page_links(resp)


def test_query_limit_at_maximum_is_accepted(client: httpx.Client, tenant: str) -> None:
    """limit equal to the maximum (1000) is accepted."""
    sids = make_many(client, tenant, 2)
    assert listed_ids(client, h(tenant), limit="1000") == sids


def test_query_limit_above_maximum_is_too_many_results(client: httpx.Client, tenant: str) -> None:
    """limit above the maximum gives 403 TooManyResults, as for /entities."""
    problem(listing(client, h(tenant), limit="1001"), 403, "TooManyResults")


@pytest.mark.parametrize(
    "params",
    BAD_PAGING,
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_query_bad_paging_values_are_bad_request(client: httpx.Client, tenant: str, params: dict[str, str]) -> None:
    """Negative or non-integer limit/offset, or limit=0 without count=true, gives 400 BadRequestData."""
    problem(listing(client, h(tenant), **params), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- 5.8.2 update


def test_update_returns_204_and_changes_only_given_members(client: httpx.Client, tenant: str) -> None:
    """PATCH gives 204 with no body; the given members change, the others stay."""
    body = subscription(description="old", throttling=5, watchedAttributes=["speed"])
    sid = create_sub(client, body, h(tenant))
    patched(client, sid, {"type": "Subscription", "description": "new", "throttling": 7}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["description"] == "new"
    assert got["throttling"] == 7
    assert got["watchedAttributes"] == ["speed"]
    assert got["entities"] == body["entities"]
    assert got["notification"]["endpoint"]["uri"] == ENDPOINT


def test_update_replaces_notification_wholesale(client: httpx.Client, tenant: str) -> None:
    """A new notification object replaces the old one entirely: format and pick not in it are gone."""
    body = subscription(notification=notification(format="keyValues", pick=["speed"]))
    sid = create_sub(client, body, h(tenant))
    patched(client, sid, {"notification": {"endpoint": {"uri": "http://127.0.0.1:9/other"}}}, h(tenant))
    notif = get_sub(client, sid, h(tenant))["notification"]
    assert notif["format"] == "normalized"
    assert "pick" not in notif
    assert notif["endpoint"]["uri"] == "http://127.0.0.1:9/other"
    assert notif["endpoint"]["accept"] == "application/json"


def test_update_replaces_entities_wholesale(client: httpx.Client, tenant: str) -> None:
    """A new entities array replaces the old one (no appending)."""
    sid = create_sub(client, subscription(), h(tenant))
    new = [{"type": uniq("Bus")}, {"type": uniq("Tram"), "idPattern": ".*"}]
    patched(client, sid, {"entities": new}, h(tenant))
    assert get_sub(client, sid, h(tenant))["entities"] == new


def test_update_expands_terms_with_its_own_context(client: httpx.Client, tenant: str, user_context_url: str) -> None:
    """Terms in an update are expanded with the update request's Link context."""
    sid = create_sub(client, subscription(), h(tenant))
    patched(client, sid, {"watchedAttributes": ["speed"]}, {**h(tenant), **link_header(user_context_url)})
    assert get_sub(client, sid, h(tenant))["watchedAttributes"] == [EX + "speed"]


def test_update_is_active_false_pauses_and_true_reactivates(client: httpx.Client, tenant: str) -> None:
    """isActive false gives status paused (TS 029_09); isActive true gives active again (TS 029_07)."""
    sid = create_sub(client, subscription(), h(tenant))
    patched(client, sid, {"isActive": False}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert (got["isActive"], got["status"]) == (False, "paused")
    patched(client, sid, {"isActive": True}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert (got["isActive"], got["status"]) == (True, "active")


def test_update_is_active_true_with_future_expiry(client: httpx.Client, tenant: str) -> None:
    """isActive true with a future expiresAt makes a paused subscription active (TS 029_08)."""
    sid = create_sub(client, subscription(isActive=False), h(tenant))
    expires = future()
    patched(client, sid, {"isActive": True, "expiresAt": expires}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["status"] == "active"
    assert parse_dt(got["expiresAt"]) == parse_dt(expires)


@pytest.mark.parametrize("null", [NULL, None], ids=["ngsi-ld-null", "json-null"])
@pytest.mark.parametrize("member", ["description", "throttling", "expiresAt", "watchedAttributes", "q", "lang"])
def test_update_null_removes_optional_member(client: httpx.Client, tenant: str, member: str, null: Any) -> None:
    """An optional member set to "urn:ngsi-ld:null" or JSON null is removed; the rest stays."""
    body = subscription(
        description="d", throttling=5, expiresAt=future(), watchedAttributes=["speed"], q="speed>1", lang="en"
    )
    sid = create_sub(client, body, h(tenant))
    patched(client, sid, {member: null}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert member not in got
    assert got["status"] == "active"
    for other in {"description", "throttling", "watchedAttributes", "q", "lang"} - {member}:
        assert got[other] == body[other], other


def _with_watched() -> dict[str, Any]:
    return subscription(watchedAttributes=["speed"])


BAD_FRAGMENTS = [
    pytest.param({"notification": {"format": "concise"}}, id="notification-without-endpoint"),
    pytest.param({"notification": {"endpoint": {"accept": LD}}}, id="endpoint-without-uri"),
    pytest.param({"notification": NULL}, id="notification-removed"),
    pytest.param({"notification": None}, id="notification-json-null"),
    pytest.param({"entities": NULL, "watchedAttributes": NULL}, id="nothing-watched"),
    pytest.param({"timeInterval": 10}, id="timeInterval-with-watched"),
    pytest.param({"expiresAt": "2000-01-01T00:00:00Z"}, id="expiresAt-past"),
    pytest.param({"expiresAt": "soon"}, id="expiresAt-not-datetime"),
    pytest.param({"throttling": -1}, id="throttling-negative"),
    pytest.param({"notificationTrigger": ["bogus"]}, id="trigger-unknown"),
    pytest.param({"q": "(speed>1"}, id="q-invalid"),
    pytest.param({"entities": []}, id="entities-empty"),
    pytest.param({"isActive": "no"}, id="isActive-string"),
    pytest.param({"type": "Entity"}, id="type-not-subscription"),
    pytest.param({"foo": 1}, id="unknown-member"),
]


@pytest.mark.parametrize("fragment", BAD_FRAGMENTS)
def test_update_making_subscription_invalid_is_bad_request(
    client: httpx.Client, tenant: str, fragment: dict[str, Any]
) -> None:
    """A fragment whose merged result violates the data type gives 400 BadRequestData; nothing changes."""
    sid = create_sub(client, _with_watched(), h(tenant))
    before = snapshot(client, sid, h(tenant))
    problem(patch(client, sid, fragment, h(tenant)), 400, "BadRequestData")
    assert snapshot(client, sid, h(tenant)) == before


def test_update_invalid_json_is_invalid_request(client: httpx.Client, tenant: str) -> None:
    """A PATCH body that is not JSON gives 400 InvalidRequest; nothing changes."""
    sid = create_sub(client, subscription(), h(tenant))
    before = snapshot(client, sid, h(tenant))
    problem(send(client, "PATCH", item(sid), raw="{oops", headers=h(tenant)), 400, "InvalidRequest")
    assert snapshot(client, sid, h(tenant)) == before


def test_update_unreachable_jsonld_context(client: httpx.Client, tenant: str, unreachable_context_url: str) -> None:
    """A jsonldContext that cannot be fetched gives LdContextNotAvailable (503/504) on update too; nothing changes."""
    sid = create_sub(client, subscription(), h(tenant))
    before = snapshot(client, sid, h(tenant))
    problem(
        patch(client, sid, {"jsonldContext": unreachable_context_url}, h(tenant)), (503, 504), "LdContextNotAvailable"
    )
    assert snapshot(client, sid, h(tenant)) == before


def test_update_unknown_is_not_found(client: httpx.Client, tenant: str) -> None:
    """PATCH of an unknown subscription gives 404 ResourceNotFound and creates nothing."""
    sid = create_sub(client, subscription(), h(tenant))
    unknown = new_id("Subscription")
    problem(patch(client, unknown, {"description": "x"}, h(tenant)), 404, "ResourceNotFound")
    assert listed_ids(client, h(tenant)) == [sid]


def test_update_invalid_id_is_bad_request(client: httpx.Client, tenant: str) -> None:
    """PATCH with an id that is not a URI gives 400 BadRequestData."""
    problem(send(client, "PATCH", f"{SUBS}/notauri", {"description": "x"}, headers=h(tenant)), 400, "BadRequestData")


def test_update_ignores_read_only_members(client: httpx.Client, tenant: str) -> None:
    """Client-supplied status and timesSent in an update are ignored."""
    sid = create_sub(client, subscription(), h(tenant))
    patched(client, sid, {"status": "paused", "description": "x"}, h(tenant))
    got = get_sub(client, sid, h(tenant))
    assert got["status"] == "active"
    assert got["isActive"] is True
    assert got["description"] == "x"
    patched(client, sid, {"notification": notification(timesSent=42)}, h(tenant))
    assert get_sub(client, sid, h(tenant))["notification"].get("timesSent", 0) == 0


def test_update_moves_modified_at(client: httpx.Client, tenant: str) -> None:
    """An update moves modifiedAt forward and keeps createdAt (options=sysAttrs)."""
    sid = create_sub(client, subscription(), h(tenant))
    before = snapshot(client, sid, h(tenant))
    patched(client, sid, {"description": "changed"}, h(tenant))
    after = snapshot(client, sid, h(tenant))
    assert after["createdAt"] == before["createdAt"]
    assert parse_dt(after["modifiedAt"]) > parse_dt(before["modifiedAt"])


def test_concurrent_updates_of_different_members_both_apply(client: httpx.Client, tenant: str) -> None:
    """Updates sent at the same time to different members both take effect (none is lost)."""
    sid = create_sub(client, subscription(), h(tenant))
    fragments = [{"description": f"d{i}"} if i % 2 else {"subscriptionName": f"n{i}"} for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda f: patch(client, sid, f, h(tenant)).status_code, fragments))
    assert statuses == [204] * 8
    body = get_sub(client, sid, h(tenant))
    assert body["description"] in {f["description"] for f in fragments if "description" in f}
    assert body["subscriptionName"] in {f["subscriptionName"] for f in fragments if "subscriptionName" in f}


# --------------------------------------------------------------------------------------------- 5.8.5 delete, 405


def test_delete_then_not_found(client: httpx.Client, tenant: str) -> None:
    """DELETE gives 204 with no body; GET and a second DELETE then give 404 (TS 032_03)."""
    sid = create_sub(client, subscription(), h(tenant))
    keep = create_sub(client, subscription(), h(tenant))
    resp = client.delete(item(sid), headers=h(tenant))
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    problem(client.get(item(sid), headers=h(tenant)), 404, "ResourceNotFound")
    problem(client.delete(item(sid), headers=h(tenant)), 404, "ResourceNotFound")
    assert listed_ids(client, h(tenant)) == [keep]


def test_delete_unknown_is_not_found(client: httpx.Client, tenant: str) -> None:
    """DELETE of an unknown subscription gives 404 ResourceNotFound."""
    create_sub(client, subscription(), h(tenant))
    problem(client.delete(item(new_id("Subscription")), headers=h(tenant)), 404, "ResourceNotFound")


def test_delete_invalid_id_is_bad_request(client: httpx.Client, tenant: str) -> None:
    """DELETE with an id that is not a URI gives 400 BadRequestData."""
    problem(client.delete(f"{SUBS}/notauri", headers=h(tenant)), 400, "BadRequestData")


def test_id_can_be_reused_after_delete(client: httpx.Client, tenant: str) -> None:
    """After deletion the same id can be created again, with none of the old members."""
    body = subscription(description="old")
    sid = create_sub(client, body, h(tenant))
    assert client.delete(item(sid), headers=h(tenant)).status_code == 204
    create_sub(client, subscription(id=sid), h(tenant))
    assert "description" not in get_sub(client, sid, h(tenant))


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_collection_path_without_id_is_405(client: httpx.Client, tenant: str, method: str) -> None:
    """PATCH and DELETE on /subscriptions (no id) give 405 (TS 029_01_01, 032_01_01); nothing changes."""
    sid = create_sub(client, subscription(), h(tenant))
    before = snapshot(client, sid, h(tenant))
    resp = send(client, method, SUBS, {"description": "x"} if method == "PATCH" else None, headers=h(tenant))
    assert resp.status_code == 405, resp.text
    allow = {m.strip().upper() for m in resp.headers.get("allow", "").split(",") if m.strip()}
    assert {"GET", "POST"} <= allow, resp.headers.get("allow")
    assert snapshot(client, sid, h(tenant)) == before


# --------------------------------------------------------------------------------------------- tenancy


def test_subscription_is_invisible_in_other_tenants(client: httpx.Client, tenant: str) -> None:
    """A subscription created in tenant T is not visible, updatable or deletable in the default or another tenant."""
    sid = create_sub(client, subscription(), h(tenant))
    other = h(tenant + "b")
    problem(client.get(item(sid)), 404, "ResourceNotFound")
    assert client.get(item(sid), headers=other).status_code == 404
    assert listed_ids(client, other) == []
    assert sid not in listed_ids(client, None, limit="1000")
    assert patch(client, sid, {"description": "x"}).status_code == 404
    assert client.delete(item(sid), headers=other).status_code == 404
    got = get_sub(client, sid, h(tenant))
    assert "description" not in got


def test_same_id_in_two_tenants(client: httpx.Client, tenant: str) -> None:
    """The same id can exist independently in two tenants; deleting it in one leaves the other."""
    body = subscription(description="A")
    create_sub(client, body, h(tenant))
    other = tenant + "b"
    create_sub(client, {**body, "description": "B"}, h(other))
    assert get_sub(client, body["id"], h(tenant))["description"] == "A"
    assert get_sub(client, body["id"], h(other))["description"] == "B"
    assert client.delete(item(body["id"]), headers=h(tenant)).status_code == 204
    assert get_sub(client, body["id"], h(other))["description"] == "B"


def test_response_echoes_tenant(client: httpx.Client, tenant: str) -> None:
    """Create and retrieve responses echo the NGSILD-Tenant header."""
    body = subscription()
    resp = post(client, body, h(tenant))
    assert resp.status_code == 201, resp.text
    assert resp.headers.get("ngsild-tenant") == tenant
    assert client.get(item(body["id"]), headers=h(tenant)).headers.get("ngsild-tenant") == tenant


# --------------------------------------------------------------------------------------------- expiry (§1.5)


def test_subscription_expires_and_can_be_renewed(client: httpx.Client, tenant: str) -> None:
    """With expiresAt ~2 s ahead the status is active, then expired once it passes (still retrievable);
    an update with a future expiresAt makes it active again (TS 029_10)."""
    expires_at = datetime.now(UTC) + timedelta(seconds=2)
    sid = create_sub(client, subscription(expiresAt=stamp(expires_at)), h(tenant))
    assert status_of(client, sid, h(tenant)) == "active"
    deadline = expires_at + timedelta(seconds=5)
    status = "active"
    while datetime.now(UTC) < deadline:
        status = status_of(client, sid, h(tenant))
        if status == "expired":
            break
        time.sleep(0.1)
    assert status == "expired"
    assert datetime.now(UTC) >= expires_at - timedelta(seconds=0.5), "expired too early"
    assert get_sub(client, sid, h(tenant))["isActive"] is True
    patched(client, sid, {"expiresAt": future()}, h(tenant))
    assert status_of(client, sid, h(tenant)) == "active"
