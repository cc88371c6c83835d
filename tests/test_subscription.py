"""The Subscription data type (§5.2.12-§5.2.15): request bodies become stored documents (create, and
update by fragment, both validated as a whole), and stored documents are served compacted with the
request's @context, with their status and delivery statistics."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild import subscription
from ngsild.errors import BadRequestData, OperationNotSupported
from ngsild.jsonld import CORE_TERM_MAP, compile_term_map
from ngsild.model import NGSI_LD, NULL, Doc
from tests.strategies import heavy

EX = "https://example.org/ns/"
TM = compile_term_map(
    [
        {
            "ex": EX,
            "Shop": EX + "Shop",
            "Car": EX + "Car",
            "speed": EX + "speed",
            "name": EX + "name",
            "where": EX + "where",
        }
    ]
)
DC = NGSI_LD + "default-context/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
T0 = "2026-01-01T00:00:00.000000Z"
T1 = "2026-02-01T00:00:00.000000Z"
SUB_ID = "urn:ngsi-ld:Subscription:s1"
CONTEXT = "https://example.org/ctx.jsonld"
FUTURE = "2030-01-01T00:00:00Z"
URI = "http://receiver.example/notify"


def body(**members: Any) -> Doc:
    """A valid minimal create body (one entity selector, an endpoint), with ``members`` added."""
    out: Doc = {"type": "Subscription", "entities": [{"type": "Shop"}], "notification": {"endpoint": {"uri": URI}}}
    out.update(members)
    return out


def notification(**members: Any) -> Doc:
    return {"endpoint": {"uri": URI}, **members}


def endpoint(**members: Any) -> Doc:
    return {"notification": {"endpoint": {"uri": URI, **members}}}


def create(payload: Any, tm: Any = TM, context: Any = CONTEXT, now: datetime = NOW) -> Doc:
    return subscription.create(payload, tm, context, now, T0, SUB_ID)


def update(stored: Doc, fragment: Any, tm: Any = TM) -> Doc:
    return subscription.update(stored, fragment, tm, NOW, T1)


def served(doc: Doc, stats: Doc | None = None, tm: Any = TM, *, sys_attrs: bool = False) -> Doc:
    return subscription.served(doc, stats or {}, tm, NOW, sys_attrs=sys_attrs)


def at(offset_s: float) -> str:
    return (NOW + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- create: defaults and what is stored ------------------------------------------------------------


def test_a_minimal_body_gets_the_defaults() -> None:
    """A minimal body is active, normalized, without showChanges or sysAttrs, accepts application/json,
    gets the generated id, remembers the creation @context and is stamped created = modified = now."""
    doc = create(body())
    assert doc == {
        "id": SUB_ID,
        "type": "Subscription",
        "entities": [{"type": EX + "Shop"}],
        "isActive": True,
        "notification": {
            "format": "normalized",
            "showChanges": False,
            "sysAttrs": False,
            "endpoint": {"uri": URI, "accept": "application/json"},
        },
        "context": CONTEXT,
        "createdAt": T0,
        "modifiedAt": T0,
    }


def test_a_given_id_is_kept() -> None:
    """The id in the body wins over the generated one."""
    assert create(body(id="urn:ngsi-ld:Subscription:mine"))["id"] == "urn:ngsi-ld:Subscription:mine"


def test_terms_are_stored_expanded() -> None:
    """Entity types, watched, notified and geo attributes are stored as IRIs; id/type in pick stay."""
    doc = create(
        body(
            entities=[
                {"type": "Shop", "idPattern": "^urn:ngsi-ld:Shop:.*"},
                {"type": "Car", "id": "urn:ngsi-ld:Car:1"},
            ],
            watchedAttributes=["speed", "colour"],
            geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": "near;maxDistance==10", "geoproperty": "where"},
            notification=notification(pick=["id", "type", "speed"], omit=["name"]),
        )
    )
    assert doc["entities"] == [
        {"type": EX + "Shop", "idPattern": "^urn:ngsi-ld:Shop:.*"},
        {"type": EX + "Car", "id": "urn:ngsi-ld:Car:1"},
    ]
    assert doc["watchedAttributes"] == [EX + "speed", DC + "colour"]
    assert doc["geoQ"]["geoproperty"] == EX + "where"
    assert doc["notification"]["pick"] == ["id", "type", EX + "speed"]
    assert doc["notification"]["omit"] == [EX + "name"]


def test_the_geoproperty_defaults_to_location() -> None:
    """A geoQ without geoproperty is about the NGSI-LD location."""
    doc = create(body(geoQ={"geometry": "Point", "coordinates": "[1,2]", "georel": "near;maxDistance==10"}))
    assert doc["geoQ"] == {
        "geometry": "Point",
        "coordinates": "[1,2]",
        "georel": "near;maxDistance==10",
        "geoproperty": NGSI_LD + "location",
    }


@pytest.mark.parametrize(
    ("expression", "stored"),
    [
        ("Shop", EX + "Shop"),
        ("Shop,Car", f"{EX}Shop,{EX}Car"),
        ("Shop|Car", f"{EX}Shop,{EX}Car"),
        ("(Shop;Car)", f"({EX}Car;{EX}Shop)"),
        ("(Shop;Car),ex:Van", f"({EX}Car;{EX}Shop),{EX}Van"),
        ("*", "*"),
    ],
)
def test_type_expressions_are_stored_with_every_name_expanded(expression: str, stored: str) -> None:
    """A type selection expression keeps its shape (``|`` read as ``,``), each name expanded."""
    assert create(body(entities=[{"type": expression}]))["entities"] == [{"type": stored}]


def test_q_is_kept_as_written_with_the_expansions_of_its_names() -> None:
    """q is stored as written; qTerms records what each name meant under the create @context."""
    doc = create(body(q="speed>3;ex:brand==1|colour"))
    assert doc["q"] == "speed>3;ex:brand==1|colour"
    assert doc["qTerms"] == {"speed": EX + "speed", "ex:brand": EX + "brand", "colour": DC + "colour"}


def test_jsonld_context_is_the_context_notifications_use() -> None:
    """With jsonldContext, notifications are compacted with it rather than the create @context."""
    doc = create(body(jsonldContext="https://example.org/other.jsonld"), context=CONTEXT)
    assert subscription.notification_context(doc) == doc["jsonldContext"] == "https://example.org/other.jsonld"
    assert doc["context"] == CONTEXT  # kept, for when jsonldContext is removed


def test_read_only_members_are_ignored() -> None:
    """status, createdAt, modifiedAt, @context and the notification statistics are not stored."""
    doc = create(
        body(
            status="paused",
            createdAt="2000-01-01T00:00:00Z",
            modifiedAt="2000-01-01T00:00:00Z",
            notification=notification(status="failed", timesSent=9, timesFailed=9, lastSuccess=T0),
        )
        | {"@context": CONTEXT}
    )
    assert "status" not in doc and "@context" not in doc
    assert (doc["createdAt"], doc["modifiedAt"]) == (T0, T0)
    assert not set(doc["notification"]) & set(subscription.STATISTICS)


@pytest.mark.parametrize("absent", [None, NULL])
def test_null_members_on_create_are_absent(absent: Any) -> None:
    """An optional member given as JSON null or the NGSI-LD Null is as if not given."""
    doc = create(body(q=absent, throttling=absent, description=absent))
    assert not {"q", "qTerms", "throttling", "description"} & set(doc)


def test_triggers_are_kept_once_each_in_order() -> None:
    """notificationTrigger keeps its order and drops repetitions."""
    triggers = ["entityDeleted", "attributeUpdated", "entityDeleted"]
    assert create(body(notificationTrigger=triggers))["notificationTrigger"] == ["entityDeleted", "attributeUpdated"]


def test_every_valid_endpoint_member_is_kept() -> None:
    """accept, timeout, cooldown, receiverInfo and (for MQTT) notifierInfo are stored as given."""
    mqtt = {
        "uri": "mqtt://user:pw@broker.example:1883/some/topic",
        "accept": "application/ld+json",
        "timeout": 500,
        "cooldown": 1000,
        "receiverInfo": [{"key": "X-Api-Key", "value": "k"}],
        "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}, {"key": "MQTT-Version", "value": "mqtt3.1.1"}],
    }
    assert create(body(notification={"endpoint": mqtt}))["notification"]["endpoint"] == mqtt


def test_a_periodic_subscription_with_entities_is_valid() -> None:
    """timeInterval >= 1 with entities and neither throttling nor watchedAttributes is accepted."""
    assert create(body(timeInterval=1))["timeInterval"] == 1


def test_expires_at_in_the_future_is_accepted() -> None:
    """expiresAt one second ahead is fine; at or before now it is not (see the table below)."""
    assert create(body(expiresAt=at(1)))["expiresAt"] == at(1)


# ---- create: validation (§2.1 of the digest) --------------------------------------------------------

BAD_BODIES: list[tuple[str, Any, str]] = [
    ("not an object", ["Subscription"], "Subscription"),
    ("empty object", {}, "Subscription"),
    ("no type", {k: v for k, v in body().items() if k != "type"}, "type"),
    ("wrong type", body(type="Registration"), "type"),
    ("id not a URI", body(id="not a uri"), "id"),
    ("unknown member", body(color="red"), "color"),
    ("neither entities nor watchedAttributes", {k: v for k, v in body().items() if k != "entities"}, "entities"),
    ("empty entities", body(entities=[]), "entities"),
    ("entities not an array", body(entities={"type": "Shop"}), "entities"),
    ("selector not an object", body(entities=["Shop"]), "EntitySelector"),
    ("selector without type", body(entities=[{"id": "urn:ngsi-ld:Shop:1"}]), "type"),
    ("selector with unknown member", body(entities=[{"type": "Shop", "attrs": "x"}]), "attrs"),
    ("selector type empty", body(entities=[{"type": ""}]), "type"),
    ("selector type not a name", body(entities=[{"type": "Sh op"}]), "type"),
    ("selector type expression unclosed", body(entities=[{"type": "(Shop;Car"}]), "type"),
    ("selector id not a URI", body(entities=[{"type": "Shop", "id": "shop 1"}]), "id"),
    ("selector idPattern invalid", body(entities=[{"type": "Shop", "idPattern": "(unclosed"}]), "idPattern"),
    ("empty watchedAttributes", body(watchedAttributes=[]), "watchedAttributes"),
    ("watchedAttributes not names", body(watchedAttributes=["spe ed"]), "watchedAttributes"),
    ("empty notificationTrigger", body(notificationTrigger=[]), "notificationTrigger"),
    ("unknown trigger", body(notificationTrigger=["entityChanged"]), "notificationTrigger"),
    ("timeInterval below 1", body(timeInterval=0.5), "timeInterval"),
    ("timeInterval a string", body(timeInterval="10"), "timeInterval"),
    ("throttling zero", body(throttling=0), "throttling"),
    ("throttling negative", body(throttling=-1), "throttling"),
    ("throttling a boolean", body(throttling=True), "throttling"),
    ("timeInterval with throttling", body(timeInterval=10, throttling=5), "throttling"),
    ("timeInterval with watchedAttributes", body(timeInterval=10, watchedAttributes=["speed"]), "watchedAttributes"),
    ("isActive not boolean", body(isActive="yes"), "isActive"),
    ("localOnly not boolean", body(localOnly=1), "localOnly"),
    ("expiresAt not a DateTime", body(expiresAt="tomorrow"), "expiresAt"),
    ("expiresAt in the past", body(expiresAt=at(-1)), "expiresAt"),
    ("expiresAt now", body(expiresAt=at(0)), "expiresAt"),
    ("q syntax", body(q="speed>"), "q"),
    ("q not a string", body(q=5), "q"),
    ("scopeQ syntax", body(scopeQ="no slash"), "scopeQ"),
    ("geoQ not an object", body(geoQ="near"), "geoQ"),
    (
        "geoQ unknown member",
        body(geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": "within", "radius": 1}),
        "radius",
    ),
    ("geoQ incomplete", body(geoQ={"geometry": "Point", "georel": "near;maxDistance==1"}), "coordinates"),
    ("geoQ georel unknown", body(geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": "inside"}), "georel"),
    ("geoQ georel not a string", body(geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": 3}), "georel"),
    ("geoQ geometry unknown", body(geoQ={"geometry": "Circle", "coordinates": [1, 2], "georel": "within"}), "geometry"),
    ("lang not a tag", body(lang="e n"), "lang"),
    ("subscriptionName empty", body(subscriptionName=""), "subscriptionName"),
    ("description not a string", body(description=5), "description"),
    ("jsonldContext not a URI", body(jsonldContext="ctx.jsonld"), "jsonldContext"),
    ("datasetId not a URI", body(datasetId=["dataset a"]), "datasetId"),
    ("datasetId empty", body(datasetId=[]), "datasetId"),
    ("no notification", {k: v for k, v in body().items() if k != "notification"}, "notification"),
    ("notification not an object", body(notification=URI), "notification"),
    ("notification unknown member", body(notification=notification(style="x")), "style"),
    ("notification without endpoint", body(notification={"format": "normalized"}), "endpoint"),
    ("endpoint not an object", body(notification={"endpoint": URI}), "endpoint"),
    ("endpoint without uri", body(notification={"endpoint": {"accept": "application/json"}}), "uri"),
    ("endpoint unknown member", body(**endpoint(method="PUT")), "method"),
    ("uri not absolute", body(notification={"endpoint": {"uri": "/notify"}}), "uri"),
    ("uri scheme", body(notification={"endpoint": {"uri": "ftp://receiver.example/x"}}), "scheme"),
    ("uri without host", body(notification={"endpoint": {"uri": "http:///notify"}}), "host"),
    ("uri bad port", body(notification={"endpoint": {"uri": "http://receiver.example:99999/x"}}), "port"),
    ("mqtt without topic", body(notification={"endpoint": {"uri": "mqtt://broker.example:1883"}}), "topic"),
    ("accept unknown", body(**endpoint(accept="text/plain")), "accept"),
    ("timeout zero", body(**endpoint(timeout=0)), "timeout"),
    ("cooldown negative", body(**endpoint(cooldown=-5)), "cooldown"),
    ("receiverInfo not an array", body(**endpoint(receiverInfo={"key": "a", "value": "b"})), "receiverInfo"),
    ("receiverInfo item without value", body(**endpoint(receiverInfo=[{"key": "a"}])), "receiverInfo"),
    ("receiverInfo empty key", body(**endpoint(receiverInfo=[{"key": "", "value": "b"}])), "receiverInfo"),
    ("receiverInfo value not a string", body(**endpoint(receiverInfo=[{"key": "a", "value": 1}])), "receiverInfo"),
    (
        "receiverInfo key twice (any case)",
        body(**endpoint(receiverInfo=[{"key": "X-A", "value": "1"}, {"key": "x-a", "value": "2"}])),
        "receiverInfo",
    ),
    (
        "notifierInfo on an HTTP endpoint",
        body(**endpoint(notifierInfo=[{"key": "MQTT-QoS", "value": "1"}])),
        "notifierInfo",
    ),
    (
        "notifierInfo unknown key",
        body(notification={"endpoint": {"uri": "mqtt://b.example/t", "notifierInfo": [{"key": "K", "value": "1"}]}}),
        "notifierInfo",
    ),
    (
        "MQTT-QoS out of range",
        body(
            notification={
                "endpoint": {"uri": "mqtt://b.example/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]}
            }
        ),
        "MQTT-QoS",
    ),
    (
        "MQTT-Version unknown",
        body(
            notification={
                "endpoint": {"uri": "mqtt://b.example/t", "notifierInfo": [{"key": "MQTT-Version", "value": "4"}]}
            }
        ),
        "MQTT-Version",
    ),
    ("attributes empty", body(notification=notification(attributes=[])), "attributes"),
    ("pick empty", body(notification=notification(pick=[])), "pick"),
    ("omit empty", body(notification=notification(omit=[])), "omit"),
    ("pick not names", body(notification=notification(pick=["a b"])), "pick"),
    ("attributes with pick", body(notification=notification(attributes=["speed"], pick=["speed"])), "attributes"),
    ("attributes with omit", body(notification=notification(attributes=["speed"], omit=["name"])), "attributes"),
    ("picked and omitted", body(notification=notification(pick=["speed", "name"], omit=["name"])), "name"),
    ("format unknown", body(notification=notification(format="compact")), "format"),
    ("showChanges not boolean", body(notification=notification(showChanges="yes")), "showChanges"),
    ("sysAttrs not boolean", body(notification=notification(sysAttrs=1)), "sysAttrs"),
    (
        "showChanges with keyValues",
        body(notification=notification(format="keyValues", showChanges=True)),
        "showChanges",
    ),
    (
        "showChanges with simplified",
        body(notification=notification(format="simplified", showChanges=True)),
        "showChanges",
    ),
]


@pytest.mark.parametrize(("payload", "named"), [pytest.param(p, n, id=label) for label, p, n in BAD_BODIES])
def test_an_invalid_body_is_bad_request_data_naming_the_member(payload: Any, named: str) -> None:
    """Each violation of §5.2.12-§5.2.15 is BadRequestData whose detail names what is wrong."""
    with pytest.raises(BadRequestData) as caught:
        create(payload)
    assert named in caught.value.detail


@pytest.mark.parametrize(
    "pair",
    [
        {"key": "X Api Key", "value": "1"},
        {"key": "X-Clé", "value": "1"},
        {"key": "X-Api-Key", "value": "a\r\nInjected: yes"},
        {"key": "X-Shop", "value": "Café"},
    ],
    ids=["space in name", "non-ASCII name", "line break in value", "non-ASCII value"],
)
def test_receiver_info_for_http_must_be_sendable_as_headers(pair: Doc) -> None:
    """receiverInfo pairs become HTTP headers (§6.3.7), so a pair that cannot be a header is refused
    when the subscription is made rather than failing every delivery."""
    with pytest.raises(BadRequestData, match="receiverInfo"):
        create(body(**endpoint(receiverInfo=[pair])))


UNSUPPORTED: list[tuple[str, Doc]] = [
    ("csf", body(csf="a==1")),
    ("temporalQ", body(temporalQ={"timerel": "after", "timeAt": T0})),
    ("splitEntities", body(splitEntities=True)),
    ("jsonKeys", body(jsonKeys=["a"])),
    ("expandValues", body(expandValues=["a"])),
    ("join", body(notification=notification(join="flat"))),
    ("join", body(notification=notification(joinLevel=2))),
]


@pytest.mark.parametrize(("payload", "named"), [pytest.param(p, n, id=n) for n, p in UNSUPPORTED])
def test_a_feature_the_broker_lacks_is_operation_not_supported(payload: Doc, named: str) -> None:
    """csf, temporalQ, splitEntities, jsonKeys, expandValues and join are refused as not supported."""
    with pytest.raises(OperationNotSupported) as caught:
        create(payload)
    assert named in caught.value.detail


def test_join_none_is_the_default_and_accepted() -> None:
    """join=@none asks for nothing this broker lacks."""
    assert "join" not in create(body(notification=notification(join="@none")))["notification"]


def test_create_leaves_its_body_alone() -> None:
    """The request body is not modified."""
    payload = body(q="speed>1", notification=notification(pick=["speed"]))
    before = copy.deepcopy(payload)
    create(payload)
    assert payload == before


# ---- update ----------------------------------------------------------------------------------------


@pytest.fixture
def stored() -> Doc:
    return create(
        body(
            watchedAttributes=["speed"],
            q="speed>3",
            throttling=5,
            description="old",
            notification={
                "attributes": ["speed"],
                "format": "concise",
                "endpoint": {"uri": URI, "receiverInfo": [{"key": "X-A", "value": "1"}]},
            },
        )
    )


def test_update_replaces_each_given_member_wholesale(stored: Doc) -> None:
    """A fragment's notification replaces the stored one entirely: nothing of the old one is merged in."""
    new = update(stored, {"notification": {"endpoint": {"uri": "http://other.example/n"}}})
    assert new["notification"] == {
        "format": "normalized",
        "showChanges": False,
        "sysAttrs": False,
        "endpoint": {"uri": "http://other.example/n", "accept": "application/json"},
    }
    assert {k: v for k, v in new.items() if k not in ("notification", "modifiedAt")} == {
        k: v for k, v in stored.items() if k not in ("notification", "modifiedAt")
    }


def test_update_expands_with_the_update_context(stored: Doc) -> None:
    """Terms in the fragment are expanded with the update request's @context."""
    new = update(stored, {"watchedAttributes": ["speed"], "q": "speed>1"}, tm=CORE_TERM_MAP)
    assert new["watchedAttributes"] == [DC + "speed"]
    assert new["qTerms"] == {"speed": DC + "speed"}


@pytest.mark.parametrize("removal", [None, NULL], ids=["json null", "ngsi-ld null"])
@pytest.mark.parametrize("member", ["throttling", "description", "watchedAttributes"])
def test_update_removes_a_member_set_to_null(stored: Doc, member: str, removal: Any) -> None:
    """JSON null and the NGSI-LD Null both remove an optional member."""
    assert member not in update(stored, {member: removal})


@pytest.mark.parametrize("removal", [None, NULL], ids=["json null", "ngsi-ld null"])
def test_removing_q_removes_its_terms(stored: Doc, removal: Any) -> None:
    """q goes with the expansions recorded for it."""
    new = update(stored, {"q": removal})
    assert "q" not in new and "qTerms" not in new


@pytest.mark.parametrize("removal", [None, NULL], ids=["json null", "ngsi-ld null"])
def test_notification_cannot_be_removed(stored: Doc, removal: Any) -> None:
    """notification is mandatory (TP 029_04)."""
    with pytest.raises(BadRequestData, match="notification"):
        update(stored, {"notification": removal})


@pytest.mark.parametrize(
    ("fragment", "named"),
    [
        ({"timeInterval": 10, "throttling": None}, "watchedAttributes"),  # the stored one watches speed
        ({"watchedAttributes": None, "entities": None}, "entities"),
        ({"notification": {"format": "normalized"}}, "endpoint"),
        ({"notification": {"endpoint": {"uri": URI}, "format": "keyValues", "showChanges": True}}, "showChanges"),
        ({"expiresAt": at(-60)}, "expiresAt"),
        ({"throttling": -1}, "throttling"),
        ({"id": "urn:ngsi-ld:Subscription:other"}, "id"),
        ({"type": "Registration"}, "type"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_update_rechecks_the_whole_subscription(stored: Doc, fragment: Doc, named: str) -> None:
    """The merged subscription is validated as if created: invalid results are BadRequestData and the
    stored document is left as it was."""
    before = copy.deepcopy(stored)
    with pytest.raises(BadRequestData) as caught:
        update(stored, fragment)
    assert named in caught.value.detail
    assert stored == before


def test_adding_timeinterval_to_a_subscription_with_throttling_fails() -> None:
    """A throttled subscription cannot become periodic without dropping throttling first."""
    throttled = create(body(throttling=5))
    with pytest.raises(BadRequestData, match="throttling"):
        update(throttled, {"timeInterval": 10})
    assert update(throttled, {"timeInterval": 10, "throttling": None})["timeInterval"] == 10


@pytest.mark.parametrize("fragment", [{}, [], "x"])
def test_update_needs_a_non_empty_fragment(stored: Doc, fragment: Any) -> None:
    """An empty or non-object fragment is BadRequestData."""
    with pytest.raises(BadRequestData):
        update(stored, fragment)


def test_update_of_an_unsupported_feature_is_operation_not_supported(stored: Doc) -> None:
    """The same features as on create are refused on update."""
    with pytest.raises(OperationNotSupported):
        update(stored, {"csf": "a==1"})


def test_update_keeps_created_at_and_moves_modified_at(stored: Doc) -> None:
    """createdAt stays; modifiedAt becomes now; read-only members in the fragment are ignored."""
    new = update(stored, {"description": "new", "createdAt": "2000-01-01T00:00:00Z", "status": "paused"})
    assert (new["createdAt"], new["modifiedAt"]) == (T0, T1)
    assert new["description"] == "new" and "status" not in new


def test_update_may_name_the_subscription_id_and_type(stored: Doc) -> None:
    """A fragment may repeat the subscription's own id and type (ETSI fixtures do)."""
    new = update(stored, {"id": SUB_ID, "type": "Subscription", "description": "new"})
    assert new["id"] == SUB_ID and new["description"] == "new"


def test_update_leaves_the_stored_document_alone(stored: Doc) -> None:
    """update returns a new document; the stored one (the registry's copy) is not modified."""
    before = copy.deepcopy(stored)
    update(stored, {"q": None, "notification": {"endpoint": {"uri": URI}}, "throttling": 9})
    assert stored == before


def test_update_with_jsonld_context_changes_the_notification_context(stored: Doc) -> None:
    """A new jsonldContext is the context notifications are compacted with from now on."""
    new = update(stored, {"jsonldContext": "https://example.org/v2.jsonld"})
    assert subscription.notification_context(new) == "https://example.org/v2.jsonld"


@pytest.mark.parametrize("removal", [None, NULL], ids=["json null", "ngsi-ld null"])
def test_removing_jsonld_context_falls_back_to_the_creation_context(removal: Any) -> None:
    """Without jsonldContext, notifications use the @context the subscription was created with (§5.2.12)."""
    doc = create(body(jsonldContext="https://example.org/other.jsonld"), context=CONTEXT)
    new = update(doc, {"jsonldContext": removal})
    assert "jsonldContext" not in new
    assert subscription.notification_context(new) == CONTEXT
    assert served(new)["jsonldContext"] == CONTEXT


# ---- status ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({}, "active"),
        ({"isActive": True, "expiresAt": at(1)}, "active"),
        ({"isActive": False}, "paused"),
        ({"isActive": False, "expiresAt": at(-1)}, "paused"),
        ({"expiresAt": at(-1)}, "expired"),
        ({"expiresAt": at(0)}, "expired"),
    ],
)
def test_status_is_paused_expired_or_active(members: Doc, expected: str) -> None:
    """isActive=false is paused (even once expired: the subscriber chose it); expiresAt reached is
    expired; otherwise active."""
    doc = {"id": SUB_ID, **members}
    assert subscription.status(doc, NOW) == expected


def test_a_subscription_expires_as_time_passes() -> None:
    """A subscription created active becomes expired when the clock passes expiresAt, and an update
    with a later expiresAt activates it again (TP 029_10)."""
    doc = create(body(expiresAt=at(60)))
    assert subscription.status(doc, NOW) == "active"
    later = NOW + timedelta(seconds=61)
    assert subscription.status(doc, later) == "expired"
    renewed = subscription.update(doc, {"expiresAt": at(3600)}, TM, later, T1)
    assert subscription.status(renewed, later) == "active"


# ---- served ------------------------------------------------------------------------------------------


def test_served_compacts_every_term_with_the_request_context() -> None:
    """Types (also inside expressions), watched and notified attributes and the geoproperty come
    back as the request's terms; id/type in pick stay as they are."""
    doc = create(
        body(
            entities=[{"type": "(Shop;Car),ex:Van"}, {"type": "*", "idPattern": "^urn:x"}],
            watchedAttributes=["speed", "ex:brand"],
            geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": "near;maxDistance==10", "geoproperty": "where"},
            notification=notification(pick=["id", "speed"], omit=["type", "name"]),
        )
    )
    out = served(doc)
    assert out["entities"] == [{"type": "(Car;Shop),ex:Van"}, {"type": "*", "idPattern": "^urn:x"}]
    assert out["watchedAttributes"] == ["speed", "ex:brand"]
    assert out["geoQ"]["geoproperty"] == "where"
    assert out["notification"]["pick"] == ["id", "speed"]
    assert out["notification"]["omit"] == ["type", "name"]


def test_served_without_the_context_shows_iris() -> None:
    """Retrieved with the core context only, user terms come back as IRIs (TP 029_05)."""
    doc = create(body(watchedAttributes=["speed"], notification=notification(attributes=["speed"])))
    out = served(doc, tm=CORE_TERM_MAP)
    assert out["entities"] == [{"type": EX + "Shop"}]
    assert out["watchedAttributes"] == [EX + "speed"]
    assert out["notification"]["attributes"] == [EX + "speed"]


def test_served_hides_internal_members_and_shows_computed_ones() -> None:
    """context and qTerms never leave; status, the default triggers and jsonldContext are added."""
    out = served(create(body(q="speed>1")))
    assert not {"context", "qTerms", "createdAt", "modifiedAt"} & set(out)
    assert out["q"] == "speed>1"
    assert out["status"] == "active"
    assert out["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]
    assert out["jsonldContext"] == CONTEXT


def test_served_shows_no_jsonld_context_when_created_with_several_contexts() -> None:
    """A context that is not one URL (an inline or several contexts) is not a jsonldContext."""
    out = served(create(body(), context=[CONTEXT, {"speed": EX + "speed"}]))
    assert "jsonldContext" not in out


def test_served_shows_system_times_only_when_asked() -> None:
    """createdAt and modifiedAt appear with sysAttrs."""
    out = served(create(body()), sys_attrs=True)
    assert (out["createdAt"], out["modifiedAt"]) == (T0, T0)


def test_served_shows_delivery_statistics_in_the_notification() -> None:
    """The statistics are notification members (§5.2.14); other keys in the stats are not shown."""
    stats = {
        "timesSent": 3,
        "timesFailed": 1,
        "lastNotification": T1,
        "lastSuccess": T1,
        "lastFailure": T0,
        "status": "ok",
        "internal": "x",
    }
    out = served(create(body()), stats)
    assert {k: out["notification"][k] for k in subscription.STATISTICS} == {
        k: v for k, v in stats.items() if k != "internal"
    }
    assert "internal" not in out["notification"]
    assert out["status"] == "active"  # the subscription's status, not the notification's


@pytest.mark.parametrize(("members", "status"), [({"isActive": False}, "paused"), ({"expiresAt": at(1)}, "expired")])
def test_served_status_is_computed_when_served(members: Doc, status: str) -> None:
    """The served status is computed at serving time."""
    doc = create(body(**members))
    assert subscription.served(doc, {}, TM, NOW + timedelta(seconds=2), sys_attrs=False)["status"] == status


# ---- properties ----------------------------------------------------------------------------------------

_type_names = st.sampled_from(["Shop", "Car", "ex:Van", "Kiosk"])
_attr_names = st.sampled_from(["speed", "name", "ex:brand", "colour"])
_members = st.sampled_from(["id", "type", "speed", "name", "ex:brand"])


@st.composite
def type_expressions(draw: st.DrawFn) -> str:
    """A type expression in the canonical form the broker serves: groups sorted, no repetitions."""
    names = draw(st.lists(_type_names, min_size=1, max_size=3, unique=True))
    groups, rest = [], names
    while rest:
        size = draw(st.integers(1, len(rest)))
        group, rest = sorted(rest[:size]), rest[size:]
        groups.append(group[0] if len(group) == 1 else "(" + ";".join(group) + ")")
    return ",".join(groups)


@st.composite
def selectors(draw: st.DrawFn) -> Doc:
    out: Doc = {"type": draw(st.one_of(type_expressions(), st.just("*")))}
    if draw(st.booleans()):
        out["id"] = draw(st.sampled_from(["urn:ngsi-ld:Shop:1", "urn:ngsi-ld:Car:2"]))
    if draw(st.booleans()):
        out["idPattern"] = draw(st.sampled_from(["^urn:ngsi-ld:Shop:.*", ".*"]))
    return out


@st.composite
def notifications(draw: st.DrawFn) -> Doc:
    out: Doc = {}
    fmt = draw(st.sampled_from(["normalized", "concise", "keyValues", None]))
    if fmt is not None:
        out["format"] = fmt
    if fmt not in ("keyValues",) and draw(st.booleans()):
        out["showChanges"] = draw(st.booleans())
    if draw(st.booleans()):
        out["sysAttrs"] = draw(st.booleans())
    projection = draw(st.sampled_from(["none", "attributes", "pick", "omit", "both"]))
    if projection == "attributes":
        out["attributes"] = draw(st.lists(_attr_names, min_size=1, unique=True))
    elif projection != "none":
        chosen = draw(st.lists(_members, min_size=2 if projection == "both" else 1, unique=True))
        if projection == "both":
            cut = draw(st.integers(1, len(chosen) - 1))
            out["pick"], out["omit"] = chosen[:cut], chosen[cut:]
        else:
            out[projection] = chosen
    ep: Doc = {"uri": draw(st.sampled_from([URI, "https://r.example:8443/a?b=c", "mqtt://b.example/t/1"]))}
    if draw(st.booleans()):
        ep["accept"] = draw(st.sampled_from(subscription.ACCEPTS))
    for member in ("timeout", "cooldown"):
        if draw(st.booleans()):
            ep[member] = draw(st.integers(1, 10_000))
    if draw(st.booleans()):
        ep["receiverInfo"] = [
            {
                "key": "X-Api-Key",
                "value": draw(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=5)),
            }
        ]
    out["endpoint"] = ep
    return out


@st.composite
def members(draw: st.DrawFn, *, periodic: bool = True) -> Doc:
    """Valid optional members of a Subscription (any combination the rules between members allow)."""
    out: Doc = {}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "subscriptionName": st.text(min_size=1, max_size=5),
        "description": st.text(min_size=1, max_size=5),
        "entities": st.lists(selectors(), min_size=1, max_size=2),
        "watchedAttributes": st.lists(_attr_names, min_size=1, unique=True),
        "notificationTrigger": st.lists(st.sampled_from(subscription.TRIGGERS), min_size=1, unique=True),
        "q": st.sampled_from(["speed>3", 'name=="x"', "ex:brand", "speed<2|colour==1"]),
        "scopeQ": st.sampled_from(["/a/b", "/a/#"]),
        "geoQ": st.sampled_from(
            [
                {"geometry": "Point", "coordinates": [1, 2], "georel": "near;maxDistance==10"},
                {"geometry": "Point", "coordinates": [1, 2], "georel": "near;minDistance==1", "geoproperty": "where"},
            ]
        ),
        "lang": st.sampled_from(["fr", "fr,en;q=0.5", "*"]),
        "isActive": st.booleans(),
        "expiresAt": st.just(FUTURE),
        "localOnly": st.booleans(),
        "jsonldContext": st.just("https://example.org/other.jsonld"),
        "datasetId": st.sampled_from([["urn:ngsi-ld:Dataset:a"], ["@none", "urn:ngsi-ld:Dataset:b"]]),
        "notification": notifications(),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            out[name] = draw(strategy)
    timing = draw(st.sampled_from(["none", "throttling", "timeInterval"] if periodic else ["none", "throttling"]))
    if timing == "throttling":
        out["throttling"] = draw(st.one_of(st.integers(1, 100), st.floats(0.1, 100)))
    elif timing == "timeInterval":
        out.pop("watchedAttributes", None)
        out["timeInterval"] = draw(st.integers(1, 100))
    if "entities" not in out and ("watchedAttributes" not in out or "timeInterval" in out):
        out["entities"] = [{"type": "Shop"}]
    return out


def assert_served_as_given(out: Doc, given: Doc) -> None:
    """Every given member comes back the same (the broker adds defaults to objects, nothing else)."""
    for name, value in given.items():
        if name == "notification":
            got = dict(out["notification"])
            assert {k: v for k, v in got.pop("endpoint").items() if k in value["endpoint"]} == value["endpoint"]
            assert {k: v for k, v in got.items() if k in value} == {k: v for k, v in value.items() if k != "endpoint"}
        elif name == "geoQ":
            assert {k: v for k, v in out["geoQ"].items() if k in value} == value
        else:
            assert out[name] == value, name


@heavy
@given(members())
def test_create_then_served_gives_back_every_member(given_members: Doc) -> None:
    """Served with the create @context, a subscription shows every member as it was written."""
    payload = body(**given_members)
    assert_served_as_given(served(create(payload)), payload)


@st.composite
def fragments(draw: st.DrawFn) -> Doc:
    """Replacements and removals of members that keep any stored subscription (of ``stored_bodies``) valid."""
    out = draw(members(periodic=False))
    out.pop("watchedAttributes", None)  # the stored ones may be periodic
    removable = ["subscriptionName", "description", "q", "scopeQ", "geoQ", "lang", "expiresAt", "datasetId"]
    for name in draw(st.lists(st.sampled_from(removable), unique=True, max_size=3)):
        out[name] = draw(st.sampled_from([None, NULL]))
    if "throttling" in out:
        out["timeInterval"] = None
    return out or {"description": "an empty fragment is refused"}


@heavy
@given(members(), fragments())
def test_update_replaces_exactly_the_members_of_the_fragment(base: Doc, fragment: Doc) -> None:
    """After an update, fragment members read back as given (or are gone when nulled) and every
    other member reads back as before."""
    stored = create(body(**base))
    new = update(stored, fragment)
    before, after = served(stored, sys_attrs=True), served(new, sys_attrs=True)
    removed = {k for k, v in fragment.items() if v is None or v == NULL}
    assert_served_as_given(after, {k: v for k, v in fragment.items() if k not in removed})
    assert not removed & set(after)
    for name in before.keys() - fragment.keys() - {"modifiedAt", "status"}:
        assert after[name] == before[name], name
    assert (after["createdAt"], after["modifiedAt"]) == (T0, T1)
