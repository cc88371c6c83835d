"""The Subscription data type (§5.2.12, §5.2.14, §5.2.15): request bodies -> stored documents and
back. Pure: the caller passes the request's TermMap and the current time.

A stored subscription keeps every term expanded (entity types, watched and notified attributes,
the geoproperty), so it can be served compacted with any later request's @context. A ``q`` is kept
as written, with the expansions of the names it uses (``qTerms``), so it parses the same way after
a restart without fetching a context. ``context`` is the @context the subscription was created
with; notifications are compacted with the ``jsonldContext`` given, else with it (``notification_context``).

Stored form (internal members ``context`` and ``qTerms`` are never served)::

    {"id", "type": "Subscription", "subscriptionName"?, "description"?,
     "entities"?: [{"type": expanded type expression, "id"?, "idPattern"?}],
     "watchedAttributes"?: [iri], "notificationTrigger"?: [...], "timeInterval"?, "throttling"?,
     "q"?, "qTerms"?, "geoQ"?, "scopeQ"?, "lang"?, "datasetId"?, "isActive", "expiresAt"?,
     "localOnly"?, "jsonldContext"?, "context", "createdAt", "modifiedAt",
     "notification": {"attributes"?|"pick"?|"omit"?: [iri | id | type | scope], "format",
                      "showChanges", "sysAttrs", "endpoint": {"uri", "accept", "timeout"?,
                      "cooldown"?, "receiverInfo"?, "notifierInfo"?}}}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from ngsild import render
from ngsild.errors import BadRequestData, OperationNotSupported
from ngsild.jsonld import TermMap
from ngsild.model import NULL, is_datetime, is_name, is_uri
from ngsild.query.geoquery import parse_geo_query
from ngsild.query.qlang import parse_q, parse_scope_query, parse_type_selector
from ngsild.query.regex import RegexError, compile_regex

TRIGGERS: Final = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS: Final = ("attributeCreated", "attributeUpdated")
FORMATS: Final = ("normalized", "concise", "keyValues", "simplified")
ACCEPTS: Final = ("application/json", "application/ld+json", "application/geo+json")
SCHEMES: Final = ("http", "https", "mqtt", "mqtts")
MQTT_QOS: Final = ("0", "1", "2")
MQTT_VERSIONS: Final = ("mqtt3.1.1", "mqtt5.0")
INTERNAL: Final = frozenset({"context", "qTerms"})
STATISTICS: Final = ("timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure", "status")

_READ_ONLY: Final = frozenset({"status", "createdAt", "modifiedAt", "@context"})
_MEMBERS: Final = frozenset(
    {
        "id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger",
        "timeInterval", "q", "geoQ", "csf", "scopeQ", "lang", "isActive", "expiresAt", "throttling",
        "temporalQ", "notification", "jsonldContext", "datasetId", "localOnly", "splitEntities",
        "jsonKeys", "expandValues",
    }
)  # fmt: skip
_NOT_SUPPORTED: Final = {
    "csf": "context source filters (csf) on subscriptions",
    "temporalQ": "temporalQ on subscriptions",
    "splitEntities": "splitEntities",
    "jsonKeys": "jsonKeys on subscriptions",
    "expandValues": "expandValues on subscriptions",
}
_NOTIFICATION_MEMBERS: Final = frozenset(
    {"attributes", "pick", "omit", "format", "showChanges", "sysAttrs", "endpoint", "join", "joinLevel"}
    | set(STATISTICS)
)
_ENDPOINT_MEMBERS: Final = frozenset({"uri", "accept", "timeout", "cooldown", "receiverInfo", "notifierInfo"})
_OPTIONAL: Final = tuple(sorted(_MEMBERS - {"id", "type", "notification"}))  # checked in a fixed order

Doc = dict[str, Any]


def _bad(detail: str) -> BadRequestData:
    return BadRequestData(detail)


# ---- members ---------------------------------------------------------------------------------------


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(f"{name} must be a non-empty string")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(f"{name} must be true or false")
    return value


def _number(name: str, value: Any, *, minimum: float, inclusive: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{name} must be a number")
    if value < minimum or (not inclusive and value == minimum):
        raise _bad(f"{name} must be {'at least' if inclusive else 'greater than'} {minimum:g}, got {value}")
    return value


def _names(name: str, value: Any, tm: TermMap, *, members: bool = False) -> list[str]:
    """A non-empty array of attribute names, expanded (``members``: id, type, scope stay as they are)."""
    if not isinstance(value, list) or not value:
        raise _bad(f"{name} must be a non-empty array of attribute names")
    out = []
    for item in value:
        if not isinstance(item, str) or not is_name(item):
            raise _bad(f"{name}: {item!r} is not a valid attribute name")
        out.append(item if members and item in render.PROJECTED_MEMBERS else tm.expand(item))
    return out


def _type_expression(text: str, expand: Callable[[str], str]) -> str:
    """A type selection expression with every name mapped by ``expand`` (to IRIs, or back)."""
    selector = parse_type_selector(text, expand)
    return ",".join(
        next(iter(group)) if len(group) == 1 else "(" + ";".join(sorted(group)) + ")" for group in selector.groups
    )


def _entities(value: Any, tm: TermMap) -> list[Doc]:
    if not isinstance(value, list) or not value:
        raise _bad("entities must be a non-empty array of EntitySelectors")
    out = []
    for selector in value:
        if not isinstance(selector, dict):
            raise _bad("each EntitySelector must be an object with a type")
        unknown = selector.keys() - {"id", "idPattern", "type"}
        if unknown:
            raise _bad(f"an EntitySelector has unknown members: {', '.join(sorted(unknown))}")
        if "type" not in selector:
            raise _bad("each EntitySelector needs a type")
        raw_type = _string("EntitySelector type", selector["type"])
        one: Doc = {"type": "*" if raw_type == "*" else _type_expression(raw_type, tm.expand)}
        if "id" in selector:
            if not is_uri(selector["id"]):
                raise _bad(f"EntitySelector id {selector['id']!r} is not a URI")
            one["id"] = selector["id"]
        if "idPattern" in selector:
            pattern = _string("EntitySelector idPattern", selector["idPattern"])
            try:
                compile_regex(pattern)
            except RegexError as exc:
                raise _bad(f"idPattern {pattern!r} is not a valid regular expression: {exc}") from None
            one["idPattern"] = pattern
        out.append(one)
    return out


def _key_values(name: str, value: Any) -> list[dict[str, str]]:
    """KeyValuePair[] (§5.2.22): objects with exactly a non-empty string key and a string value."""
    if not isinstance(value, list):
        raise _bad(f"{name} must be an array of {{key, value}} objects")
    seen: set[str] = set()
    for pair in value:
        if not isinstance(pair, dict) or pair.keys() != {"key", "value"}:
            raise _bad(f"each {name} item must be an object with exactly a key and a value")
        key, item = pair["key"], pair["value"]
        if not isinstance(key, str) or not key or not isinstance(item, str):
            raise _bad(f"{name}: key and value must be strings (and the key not empty), got {pair!r}")
        if key.lower() in seen:
            raise _bad(f"{name}: the key {key!r} is given twice")
        seen.add(key.lower())
    return [{"key": p["key"], "value": p["value"]} for p in value]


def _endpoint(value: Any) -> Doc:
    if not isinstance(value, dict):
        raise _bad("notification.endpoint must be an object with a uri")
    unknown = value.keys() - _ENDPOINT_MEMBERS
    if unknown:
        raise _bad(f"notification.endpoint has unknown members: {', '.join(sorted(unknown))}")
    if "uri" not in value:
        raise _bad("notification.endpoint needs a uri")
    uri = value["uri"]
    if not is_uri(uri):
        raise _bad(f"notification.endpoint.uri {uri!r} is not an absolute URI")
    parts = urlsplit(uri)
    if parts.scheme.lower() not in SCHEMES:
        raise _bad(f"notification.endpoint.uri {uri!r}: the scheme must be one of {', '.join(SCHEMES)}")
    if not parts.hostname:
        raise _bad(f"notification.endpoint.uri {uri!r} names no host")
    mqtt = parts.scheme.lower().startswith("mqtt")
    if mqtt and not parts.path.strip("/"):
        raise _bad(f"notification.endpoint.uri {uri!r}: an MQTT endpoint needs a topic (mqtt://host:port/topic)")
    try:
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise _bad(f"notification.endpoint.uri {uri!r} has an invalid port") from None
    out: Doc = {"uri": uri, "accept": value.get("accept", "application/json")}
    if out["accept"] not in ACCEPTS:
        raise _bad(f"notification.endpoint.accept {out['accept']!r} must be one of {', '.join(ACCEPTS)}")
    for member in ("timeout", "cooldown"):
        if member in value:
            out[member] = _number(f"notification.endpoint.{member}", value[member], minimum=0, inclusive=False)
    if "receiverInfo" in value:
        out["receiverInfo"] = _key_values("receiverInfo", value["receiverInfo"])
        if not mqtt:
            for pair in out["receiverInfo"]:
                _check_header(pair["key"], pair["value"])
    if "notifierInfo" in value:
        info = _key_values("notifierInfo", value["notifierInfo"])
        for pair in info:
            _check_notifier_info(pair["key"], pair["value"], mqtt)
        out["notifierInfo"] = info
    return out


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP field name (RFC 9110 token)
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")  # visible ASCII, spaces and tabs: no CR or LF


def _check_header(key: str, value: str) -> None:
    """receiverInfo of an HTTP endpoint becomes headers, so it must be sendable as one."""
    if not _TOKEN.fullmatch(key):
        raise _bad(f"receiverInfo key {key!r} cannot be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)")
    if not _FIELD_VALUE.fullmatch(value):
        raise _bad(f"receiverInfo value for {key!r} cannot be an HTTP header value (printable ASCII only)")


def _check_notifier_info(key: str, value: str, mqtt: bool) -> None:
    if key == "MQTT-QoS":
        if value not in MQTT_QOS:
            raise _bad(f"notifierInfo MQTT-QoS must be 0, 1 or 2, got {value!r}")
    elif key == "MQTT-Version":
        if value not in MQTT_VERSIONS:
            raise _bad(f"notifierInfo MQTT-Version must be one of {', '.join(MQTT_VERSIONS)}, got {value!r}")
    else:
        raise _bad(f"notifierInfo key {key!r} is unknown; this broker knows MQTT-QoS and MQTT-Version")
    if not mqtt:
        raise _bad(f"notifierInfo {key} only applies to mqtt:// and mqtts:// endpoints")


def _notification(value: Any, tm: TermMap) -> Doc:
    if not isinstance(value, dict):
        raise _bad("notification must be an object with an endpoint")
    unknown = value.keys() - _NOTIFICATION_MEMBERS
    if unknown:
        raise _bad(f"notification has unknown members: {', '.join(sorted(unknown))}")
    if value.get("join", "@none") != "@none" or "joinLevel" in value:
        raise OperationNotSupported("linked entity retrieval (join) in notifications is not supported yet")
    out: Doc = {}
    for member in ("attributes", "pick", "omit"):
        if member in value:
            out[member] = _names(f"notification.{member}", value[member], tm, members=member != "attributes")
    if "attributes" in out and ("pick" in out or "omit" in out):
        raise _bad("notification.attributes cannot be combined with pick or omit; use pick")
    both = set(out.get("pick", ())) & set(out.get("omit", ()))
    if both:
        raise _bad(f"notification: {', '.join(sorted(tm.compact(n) for n in both))} is both picked and omitted")
    out["format"] = value.get("format", "normalized")
    if out["format"] not in FORMATS:
        raise _bad(f"notification.format {out['format']!r} must be one of normalized, concise, keyValues")
    out["showChanges"] = _boolean("notification.showChanges", value.get("showChanges", False))
    out["sysAttrs"] = _boolean("notification.sysAttrs", value.get("sysAttrs", False))
    if out["showChanges"] and out["format"] in ("keyValues", "simplified"):
        raise _bad("notification.showChanges cannot be used with the keyValues format (there is nowhere to show it)")
    if "endpoint" not in value:
        raise _bad("notification needs an endpoint")
    out["endpoint"] = _endpoint(value["endpoint"])
    return out


def _geo_q(value: Any, tm: TermMap) -> Doc:
    if not isinstance(value, dict):
        raise _bad("geoQ must be an object with geometry, coordinates and georel")
    unknown = value.keys() - {"geometry", "coordinates", "georel", "geoproperty"}
    if unknown:
        raise _bad(f"geoQ has unknown members: {', '.join(sorted(unknown))}")
    for member in ("georel", "geometry", "geoproperty"):
        if member in value and not isinstance(value[member], str):
            raise _bad(f"geoQ.{member} must be a string")
    parse_geo_query(
        value.get("georel"), value.get("geometry"), value.get("coordinates"), value.get("geoproperty"), tm.expand
    )
    out = {k: value[k] for k in ("geometry", "coordinates", "georel")}
    out["geoproperty"] = tm.expand(value.get("geoproperty", "location"))
    return out


def _q(text: Any, tm: TermMap) -> tuple[str, dict[str, str]]:
    """The q text and the expansion of every name it uses (recorded while parsing)."""
    text = _string("q", text)
    used: dict[str, str] = {}

    def expand(name: str) -> str:
        used[name] = tm.expand(name)
        return used[name]

    parse_q(text, expand)
    return text, used


def _datasets(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        raise _bad("datasetId must be a URI, @none, or a non-empty array of them")
    render.parse_datasets(items)
    return items


def _future(value: Any, now: datetime) -> str:
    if not is_datetime(value):
        raise _bad(f"expiresAt {value!r} must be a DateTime such as 2030-01-01T00:00:00Z")
    if datetime.fromisoformat(value.replace("Z", "+00:00")) <= now:
        raise _bad(f"expiresAt {value} is not in the future")
    return str(value)


def _member(name: str, value: Any, tm: TermMap, now: datetime) -> Any:
    """One top-level member in its stored form."""
    match name:
        case "subscriptionName" | "description" | "lang" | "scopeQ":
            text = _string(name, value)
            if name == "lang":
                render.parse_lang(text)
            elif name == "scopeQ":
                parse_scope_query(text)
            return text
        case "entities":
            return _entities(value, tm)
        case "watchedAttributes":
            return _names(name, value, tm)
        case "notificationTrigger":
            if not isinstance(value, list) or not value:
                raise _bad("notificationTrigger must be a non-empty array")
            for trigger in value:
                if trigger not in TRIGGERS:
                    raise _bad(f"notificationTrigger {trigger!r} is unknown; use {', '.join(TRIGGERS)}")
            return list(dict.fromkeys(value))
        case "timeInterval":
            return _number(name, value, minimum=1, inclusive=True)
        case "throttling":
            return _number(name, value, minimum=0, inclusive=False)
        case "isActive" | "localOnly":
            return _boolean(name, value)
        case "expiresAt":
            return _future(value, now)
        case "geoQ":
            return _geo_q(value, tm)
        case "notification":
            return _notification(value, tm)
        case "jsonldContext":
            if not is_uri(value):
                raise _bad(f"jsonldContext {value!r} is not a URI")
            return value
        case "datasetId":
            return _datasets(value)
    raise AssertionError(name)  # pragma: no cover - _MEMBERS and this match list the same names


def _check_members(body: Doc) -> None:
    unknown = body.keys() - _MEMBERS - _READ_ONLY
    if unknown:
        raise _bad(f"unknown Subscription members: {', '.join(sorted(unknown))}")
    for name, feature in _NOT_SUPPORTED.items():
        if name in body:
            raise OperationNotSupported(f"{feature} is not supported by this broker yet")


def _check_whole(doc: Doc) -> None:
    """The rules between members (§5.2.12), checked after a create and after every update."""
    if "entities" not in doc and "watchedAttributes" not in doc:
        raise _bad("a subscription needs entities or watchedAttributes (or both)")
    if "notification" not in doc:
        raise _bad("a subscription needs a notification with an endpoint")
    if "timeInterval" in doc:
        if "throttling" in doc:
            raise _bad("timeInterval and throttling cannot be used together")
        if "watchedAttributes" in doc:
            raise _bad("timeInterval (periodic notification) cannot be used with watchedAttributes")
        if "entities" not in doc:
            raise _bad("a periodic subscription (timeInterval) needs entities")


def create(body: Any, tm: TermMap, context: Any, now: datetime, stamp: str, new_id: str) -> Doc:
    """A new subscription from a create request body (its @context already taken out)."""
    if not isinstance(body, dict) or not body:
        raise _bad("the body must be a Subscription object")
    _check_members(body)
    if body.get("type") != "Subscription":
        raise _bad('a Subscription needs "type": "Subscription"')
    sub_id = body.get("id", new_id)
    if not is_uri(sub_id):
        raise _bad(f"the subscription id {sub_id!r} is not a URI")
    doc: Doc = {"id": sub_id, "type": "Subscription"}
    for name in _OPTIONAL:
        if name in body and body[name] is not None and body[name] != NULL:
            if name == "q":
                doc["q"], doc["qTerms"] = _q(body["q"], tm)
            else:
                doc[name] = _member(name, body[name], tm, now)
    if "notification" not in body:
        raise _bad("a subscription needs a notification with an endpoint")
    doc["notification"] = _notification(body["notification"], tm)
    doc.setdefault("isActive", True)
    doc["context"] = context
    doc["createdAt"] = doc["modifiedAt"] = stamp
    _check_whole(doc)
    return doc


def update(stored: Doc, fragment: Any, tm: TermMap, now: datetime, stamp: str) -> Doc:
    """The stored subscription with the fragment's members replacing its own (§5.8.2); JSON null or
    the NGSI-LD Null removes an optional member. The result is checked as a whole."""
    if not isinstance(fragment, dict) or not fragment:
        raise _bad("the body must be a non-empty Subscription fragment")
    _check_members(fragment)
    if "type" in fragment and fragment["type"] != "Subscription":
        raise _bad('a Subscription fragment may only carry "type": "Subscription"')
    if "id" in fragment and fragment["id"] != stored["id"]:
        raise _bad(f"the fragment's id {fragment['id']!r} is not the subscription's id {stored['id']}")
    doc = dict(stored)
    for name, value in fragment.items():
        if name in _READ_ONLY or name in ("id", "type"):
            continue
        if value is None or value == NULL:
            if name == "notification":
                raise _bad("notification is mandatory and cannot be removed")
            doc.pop(name, None)
            if name == "q":
                doc.pop("qTerms", None)
            continue
        if name == "q":
            doc["q"], doc["qTerms"] = _q(value, tm)
        else:
            doc[name] = _member(name, value, tm, now)
    doc["modifiedAt"] = stamp
    _check_whole(doc)
    return doc


# ---- serving -----------------------------------------------------------------------------------------


def notification_context(doc: Doc) -> Any:
    """The @context notifications are compacted with: ``jsonldContext``, else the creation context."""
    return doc.get("jsonldContext", doc["context"])


def status(doc: Doc, now: datetime) -> str:
    """active, paused or expired (§5.2.12): paused wins, as the subscriber chose it."""
    if not doc.get("isActive", True):
        return "paused"
    expires = doc.get("expiresAt")
    if expires is not None and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now:
        return "expired"
    return "active"


def served(doc: Doc, stats: Doc, tm: TermMap, now: datetime, *, sys_attrs: bool) -> Doc:
    """The subscription as a client sees it, compacted with the request's TermMap."""
    out: Doc = {}
    for name, value in doc.items():
        if name in INTERNAL or (name in ("createdAt", "modifiedAt") and not sys_attrs):
            continue
        if name == "entities":
            value = [
                {**s, "type": s["type"] if s["type"] == "*" else _type_expression(s["type"], tm.compact)} for s in value
            ]
        elif name == "watchedAttributes":
            value = [tm.compact(n) for n in value]
        elif name == "geoQ":
            value = {**value, "geoproperty": tm.compact(value["geoproperty"])}
        elif name == "notification":
            value = _served_notification(value, stats, tm)
        out[name] = value
    out.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    out["status"] = status(doc, now)
    if "jsonldContext" not in out and isinstance(doc.get("context"), str):
        out["jsonldContext"] = doc["context"]
    return out


def _served_notification(value: Doc, stats: Doc, tm: TermMap) -> Doc:
    out = dict(value)
    for member in ("attributes", "pick", "omit"):
        if member in out:
            out[member] = [
                n if n in render.PROJECTED_MEMBERS and member != "attributes" else tm.compact(n) for n in out[member]
            ]
    for member in STATISTICS:
        if member in stats:
            out[member] = stats[member]
    return out
