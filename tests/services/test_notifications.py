"""What a notification says (§5.3.1, §5.8.6): the notified entity in the subscription's format and
projection, compacted with its @context, with previous values (showChanges), the NGSI-LD Null for
what was deleted and the deletion shapes of the ETSI tests, and the Notification around it in each
accepted media type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ngsild import subscription, updates, validate
from ngsild.jsonld import compile_term_map
from ngsild.model import NULL, Change, Doc
from ngsild.services import notifications
from ngsild.services.matching import Compiled, compile_subscription, diff

EX = "https://example.org/ns/"
CONTEXT = "https://example.org/ctx.jsonld"
TM = compile_term_map(
    [{"Shop": EX + "Shop", "speed": EX + "speed", "owner": EX + "owner", "label": EX + "label", "where": EX + "where"}]
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
T0 = "2026-01-01T00:00:00.000000Z"
T1 = "2026-01-01T00:01:00.000000Z"
STAMP = "2026-01-01T00:02:00.000000Z"
SHOP = "urn:ngsi-ld:Shop:1"
URI = "http://receiver.example/notify"
OWNER = {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}
LABEL = {"type": "LanguageProperty", "languageMap": {"en": "Corner", "fr": "Coin"}}


# ---- builders --------------------------------------------------------------------------------------


def subscribed(accept: str = "application/json", sub_id: str = "urn:ngsi-ld:Subscription:1", **params: Any) -> Compiled:
    """A subscription on Shops whose notification has ``params`` (top-level members in ``top``)."""
    top = params.pop("top", {})
    body = {
        "type": "Subscription",
        "entities": [{"type": "Shop"}],
        "notification": {**params, "endpoint": {"uri": URI, "accept": accept}},
        **top,
    }
    return compile_subscription("", subscription.create(body, TM, CONTEXT, NOW, T0, sub_id), TM)


def attribute(value: Any) -> Any:
    """Instances as given; any other value is a Property's."""
    instances = value if isinstance(value, list) else [value]
    if instances and all(isinstance(i, dict) and "type" in i for i in instances):
        return value
    return {"type": "Property", "value": value}


def shop(entity_id: str = SHOP, stamp: str = T0, **attrs: Any) -> Doc:
    payload: Doc = {"id": entity_id, "type": "Shop", **{n: attribute(v) for n, v in attrs.items()}}
    return updates.create(validate.entity(payload, TM, validate.CREATE), stamp)


def changed(before: Doc, **attrs: Any) -> Change:
    """An update of ``before`` (append: attributes added or overwritten)."""
    payload = {n: attribute(v) for n, v in attrs.items()}
    fragment = validate.entity({"id": before["id"], **payload}, TM, validate.APPEND)
    after, _ = updates.append(before, fragment, T1, no_overwrite=False)
    return Change("", before["id"], before, after, "append")


def without(before: Doc, name: str) -> Change:
    after = updates.delete_attribute(before, TM.expand(name), dataset=None, delete_all=True, now=T1)
    return Change("", before["id"], before, after, "deleteAttribute")


def created(doc: Doc) -> Change:
    return Change("", doc["id"], None, doc, "create")


def deleted(doc: Doc) -> Change:
    return Change("", doc["id"], doc, None, "delete")


def notified(sub: Compiled, change: Change) -> Doc:
    return notifications.notified_entity(sub, change, diff(change), TM, STAMP)


BASE = shop(speed=5, owner=OWNER)


# ---- formats and projections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "normalized",
            {"id": SHOP, "type": "Shop", "speed": {"type": "Property", "value": 5}, "owner": OWNER},
        ),
        ("concise", {"id": SHOP, "type": "Shop", "speed": 5, "owner": {"object": "urn:ngsi-ld:Person:1"}}),
        ("keyValues", {"id": SHOP, "type": "Shop", "speed": 5, "owner": "urn:ngsi-ld:Person:1"}),
        ("simplified", {"id": SHOP, "type": "Shop", "speed": 5, "owner": "urn:ngsi-ld:Person:1"}),
    ],
)
def test_the_entity_is_rendered_in_the_subscription_format(fmt: str, expected: Doc) -> None:
    """normalized, concise and keyValues (simplified) as in a query, compacted with the subscription's
    @context."""
    assert notified(subscribed(format=fmt), created(BASE)) == expected


@pytest.mark.parametrize(
    ("params", "members"),
    [
        ({"attributes": ["speed"]}, {"id", "type", "speed"}),
        ({"pick": ["speed"]}, {"speed"}),
        ({"pick": ["id", "owner"]}, {"id", "owner"}),
        ({"omit": ["type", "owner"]}, {"id", "speed"}),
        ({"pick": ["id", "speed", "owner"], "omit": ["type"]}, {"id", "speed", "owner"}),
    ],
    ids=["attributes keeps id and type", "pick", "pick id", "omit", "pick and omit"],
)
def test_projections_choose_the_members(params: Doc, members: set[str]) -> None:
    """attributes keeps id and type and the named attributes; pick keeps only what it names; omit drops."""
    assert set(notified(subscribed(**params), created(BASE))) == members


def test_sys_attrs_adds_system_times_to_the_entity_and_its_attributes() -> None:
    """With sysAttrs the entity and every attribute carry createdAt and modifiedAt."""
    out = notified(subscribed(sysAttrs=True), changed(BASE, speed=6))
    assert (out["createdAt"], out["modifiedAt"]) == (T0, T1)
    assert (out["speed"]["createdAt"], out["speed"]["modifiedAt"]) == (T0, T1)
    assert (out["owner"]["createdAt"], out["owner"]["modifiedAt"]) == (T0, T0)


def test_without_sys_attrs_there_are_no_system_times() -> None:
    """System times appear only when asked for."""
    out = notified(subscribed(), changed(BASE, speed=6))
    assert "createdAt" not in out and "createdAt" not in out["speed"]


def test_lang_picks_one_language() -> None:
    """A subscription's lang turns LanguageProperties into Properties in the chosen language."""
    out = notified(subscribed(top={"lang": "fr"}), created(shop(label=LABEL)))
    assert out["label"] == {"type": "Property", "value": "Coin", "lang": "fr"}


def test_dataset_id_keeps_only_the_chosen_instances() -> None:
    """A subscription's datasetId filters the attribute instances notified."""
    doc = shop(speed=[{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:ds:b"}])
    out = notified(subscribed(top={"datasetId": ["urn:ds:b"]}), created(doc))
    assert out["speed"] == {"type": "Property", "value": 2, "datasetId": "urn:ds:b"}


# ---- showChanges ---------------------------------------------------------------------------------------


def test_show_changes_adds_the_previous_value_of_what_changed() -> None:
    """previousValue for a Property, previousObject for a Relationship; untouched and new attributes
    get none."""
    change = changed(BASE, owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:2"}, speed=7, extra=1)
    out = notified(subscribed(showChanges=True), change)
    assert out["speed"] == {"type": "Property", "value": 7, "previousValue": 5}
    assert out["owner"] == {"type": "Relationship", "object": "urn:ngsi-ld:Person:2", "previousObject": OWNER["object"]}
    assert out["extra"] == {"type": "Property", "value": 1}


def test_show_changes_leaves_untouched_attributes_alone() -> None:
    """An attribute the write did not touch has no previous value."""
    out = notified(subscribed(showChanges=True), changed(BASE, speed=7))
    assert out["owner"] == OWNER


def test_show_changes_for_a_language_property() -> None:
    """A LanguageProperty's previous value is previousLanguageMap."""
    change = changed(shop(label=LABEL), label={"type": "LanguageProperty", "languageMap": {"en": "Shop"}})
    out = notified(subscribed(showChanges=True), change)
    assert out["label"] == {
        "type": "LanguageProperty",
        "languageMap": {"en": "Shop"},
        "previousLanguageMap": LABEL["languageMap"],
    }


def test_show_changes_in_concise_format_wraps_the_bare_value() -> None:
    """In concise form a bare value becomes {value, previousValue}."""
    out = notified(subscribed(format="concise", showChanges=True), changed(BASE, speed=7))
    assert out["speed"] == {"value": 7, "previousValue": 5}


def test_show_changes_in_concise_format_keeps_an_array_of_objects_whole() -> None:
    """A Property whose value is an array of objects has its previous value beside it, not inside it."""
    out = notified(subscribed(format="concise", showChanges=True), changed(shop(v=[{"a": 1}]), v=[{"a": 2}]))
    assert out["v"] == {"value": [{"a": 2}], "previousValue": [{"a": 1}]}


def test_show_changes_for_multi_attributes_pairs_instances_by_dataset_id() -> None:
    """Each instance of a multi-attribute gets the previous value of the instance with its datasetId."""
    before = shop(t=[{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:ds:b"}])
    fragment = [{"type": "Property", "value": 10}, {"type": "Property", "value": 20, "datasetId": "urn:ds:b"}]
    payload = validate.entity({"id": SHOP, "t": fragment}, TM, validate.APPEND)
    after, _ = updates.append(before, payload, T1, no_overwrite=False)
    out = notified(subscribed(showChanges=True), Change("", SHOP, before, after, "append"))
    assert out["t"] == [
        {"type": "Property", "value": 10, "previousValue": 1},
        {"type": "Property", "value": 20, "datasetId": "urn:ds:b", "previousValue": 2},
    ]


def test_show_changes_never_applies_to_a_creation() -> None:
    """A new entity has no previous values (TP 046_40)."""
    out = notified(subscribed(showChanges=True), created(BASE))
    assert out == {"id": SHOP, "type": "Shop", "speed": {"type": "Property", "value": 5}, "owner": OWNER}


# ---- deletions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["normalized", "concise", "keyValues"])
def test_a_deleted_entity_is_only_its_id_type_and_deletion_time(fmt: str) -> None:
    """entityDeleted: exactly id, type and deletedAt, in every format (TP 046_21_01)."""
    out = notified(subscribed(format=fmt), deleted(BASE))
    assert out == {"id": SHOP, "type": "Shop", "deletedAt": STAMP}


def test_a_deleted_entity_with_sys_attrs_also_has_its_system_times() -> None:
    """With sysAttrs, createdAt and modifiedAt join: five members (TP 046_21_02)."""
    doc = shop(stamp=T0, speed=5)
    doc["modifiedAt"] = T1
    assert notified(subscribed(sysAttrs=True), deleted(doc)) == {
        "id": SHOP,
        "type": "Shop",
        "deletedAt": STAMP,
        "createdAt": T0,
        "modifiedAt": T1,
    }


def test_a_deleted_entity_with_show_changes_nulls_every_attribute_with_its_previous_value() -> None:
    """entityDeleted + showChanges: each attribute set to the null marker beside its previous value (TP 046_37)."""
    out = notified(subscribed(showChanges=True), deleted(shop(speed=5, owner=OWNER, label=LABEL)))
    assert out == {
        "id": SHOP,
        "type": "Shop",
        "deletedAt": STAMP,
        "speed": {"type": "Property", "value": NULL, "previousValue": 5},
        "owner": {"type": "Relationship", "object": NULL, "previousObject": OWNER["object"]},
        "label": {
            "type": "LanguageProperty",
            "languageMap": {"@none": NULL},
            "previousLanguageMap": LABEL["languageMap"],
        },
    }


def test_a_deleted_entity_with_show_changes_respects_the_projection() -> None:
    """Attributes the projection leaves out stay out of the deletion too."""
    out = notified(subscribed(showChanges=True, pick=["id", "speed"]), deleted(BASE))
    assert set(out) == {"id", "type", "deletedAt", "speed"}


@pytest.mark.parametrize(
    ("fmt", "nulled"),
    [("normalized", {"type": "Property", "value": NULL}), ("keyValues", NULL)],
)
def test_a_deleted_entity_notified_as_attribute_deleted_nulls_the_watched_attributes(fmt: str, nulled: Any) -> None:
    """Fired by attributeDeleted on a watched attribute, an entity deletion carries those attributes
    (only those it had) as the null marker beside id, type and deletedAt (TP 046_22_12)."""
    sub = subscribed(format=fmt, top={"notificationTrigger": ["attributeDeleted"], "watchedAttributes": ["speed", "x"]})
    assert notified(sub, deleted(BASE)) == {"id": SHOP, "type": "Shop", "deletedAt": STAMP, "speed": nulled}


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("speed", "normalized", {"type": "Property", "value": NULL}),
        ("owner", "normalized", {"type": "Relationship", "object": NULL}),
        ("label", "normalized", {"type": "LanguageProperty", "languageMap": {"@none": NULL}}),
        ("speed", "concise", {"type": "Property", "value": NULL}),
        ("speed", "keyValues", NULL),
        ("owner", "keyValues", NULL),
    ],
)
def test_a_deleted_attribute_is_notified_as_the_ngsi_ld_null(name: str, fmt: str, expected: Any) -> None:
    """attributeDeleted: the remaining entity plus the deleted attribute holding the null marker in its
    value member (TP 046_22_04); in keyValues the bare null marker (TP 046_22_01)."""
    sub = subscribed(format=fmt, top={"notificationTrigger": ["attributeDeleted"]})
    out = notified(sub, without(shop(speed=5, owner=OWNER, label=LABEL), name))
    assert out[name] == expected
    assert {"id", "type"} < set(out)


def test_a_deleted_attribute_with_sys_attrs_carries_its_deletion_time() -> None:
    """With sysAttrs the null-marked attribute has deletedAt (TP 046_22_05)."""
    out = notified(subscribed(sysAttrs=True), without(BASE, "owner"))
    assert out["owner"] == {"type": "Relationship", "object": NULL, "deletedAt": STAMP}


def test_a_deleted_attribute_with_show_changes_has_its_previous_value() -> None:
    """showChanges on an attribute deletion shows what was there (digest §3.3 example)."""
    out = notified(subscribed(showChanges=True), without(BASE, "speed"))
    assert out["speed"] == {"type": "Property", "value": NULL, "previousValue": 5}


def test_a_deleted_attribute_outside_the_projection_is_not_notified() -> None:
    """The null marker is only sent for attributes the subscription notifies."""
    out = notified(subscribed(pick=["id", "speed"]), without(BASE, "owner"))
    assert out == {"id": SHOP, "speed": {"type": "Property", "value": 5}}


# ---- the Notification ----------------------------------------------------------------------------------


def test_the_notification_wraps_the_entities() -> None:
    """id (a fresh notification URN, also the outbox key), type, subscriptionId, notifiedAt and data."""
    sub = subscribed()
    entity = notified(sub, created(BASE))
    outgoing = notifications.notification(sub, [BASE], [entity], STAMP)
    assert outgoing.body == {
        "id": outgoing.key,
        "type": "Notification",
        "subscriptionId": sub.id,
        "notifiedAt": STAMP,
        "data": [entity],
    }
    assert outgoing.key.startswith("urn:ngsi-ld:Notification:")
    assert (outgoing.tenant, outgoing.subscription_id) == ("", sub.id)
    assert notifications.notification(sub, [BASE], [entity], STAMP).key != outgoing.key


def test_plain_json_carries_no_context() -> None:
    """application/json: entities without @context (the Link header carries it, TP 046_10)."""
    sub = subscribed()
    body = notifications.notification(sub, [BASE], [notified(sub, created(BASE))], STAMP).body
    assert all("@context" not in e for e in body["data"])


def test_json_ld_puts_the_context_in_every_entity() -> None:
    """application/ld+json: each entity of data has the subscription's @context (TP 046_14)."""
    sub = subscribed("application/ld+json", top={"jsonldContext": "https://example.org/notify.jsonld"})
    other = shop("urn:ngsi-ld:Shop:2", speed=1)
    entities = [notified(sub, created(BASE)), notified(sub, created(other))]
    body = notifications.notification(sub, [BASE, other], entities, STAMP).body
    assert [e["@context"] for e in body["data"]] == ["https://example.org/notify.jsonld"] * 2
    assert [{k: v for k, v in e.items() if k != "@context"} for e in body["data"]] == entities


def test_geo_json_is_a_feature_collection_on_the_location() -> None:
    """application/geo+json: data is a FeatureCollection whose geometry is the location."""
    point = {"type": "Point", "coordinates": [2.35, 48.85]}
    doc = shop(speed=5, location={"type": "GeoProperty", "value": point})
    sub = subscribed("application/geo+json")
    body = notifications.notification(sub, [doc], [notified(sub, created(doc))], STAMP).body
    assert {k: v for k, v in body["data"].items() if k != "@context"} == {
        "type": "FeatureCollection",
        "features": [
            {
                "id": SHOP,
                "type": "Feature",
                "geometry": point,
                "properties": {
                    "type": "Shop",
                    "speed": {"type": "Property", "value": 5},
                    "location": {"type": "GeoProperty", "value": point},
                },
            }
        ],
    }


def test_geo_json_carries_the_context_in_the_collection() -> None:
    """A GeoJSON notification has no Link header, so the FeatureCollection carries the @context
    (unless receiverInfo asks ``Prefer: body=json``; digest §3.6 from the OAS Notification.data text,
    as Query Entities does for geo+json, §4.5.17)."""
    sub = subscribed("application/geo+json")
    body = notifications.notification(sub, [BASE], [notified(sub, created(BASE))], STAMP).body
    assert body["data"]["@context"] == CONTEXT


def test_geo_json_uses_the_geo_q_geoproperty() -> None:
    """With a geoQ on another GeoProperty, that one is the Feature geometry."""
    here, there = {"type": "Point", "coordinates": [1, 1]}, {"type": "Point", "coordinates": [2, 2]}
    doc = shop(location={"type": "GeoProperty", "value": here}, where={"type": "GeoProperty", "value": there})
    geo_q = {"geometry": "Point", "coordinates": [2, 2], "georel": "near;maxDistance==10", "geoproperty": "where"}
    sub = subscribed("application/geo+json", top={"geoQ": geo_q})
    body = notifications.notification(sub, [doc], [notified(sub, created(doc))], STAMP).body
    assert [f["geometry"] for f in body["data"]["features"]] == [there]


def test_render_options_follow_the_notification_parameters() -> None:
    """attributes becomes a pick that keeps id, type and scope."""
    opts = notifications.render_options(subscribed(attributes=["speed"], sysAttrs=True, format="concise"))
    assert opts.pick == {EX + "speed", "id", "type", "scope"}
    assert opts.sys_attrs and opts.form == "concise"
