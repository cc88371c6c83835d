"""HTTP parameters and Query bodies -> EntityQuery and paging (Query Entities, §5.7.2, §6.4.3.2,
§6.23). Pure: the request context's ``expand`` is passed in."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ngsild.errors import BadRequestData, TooComplexQuery, TooManyResults
from ngsild.model import NGSI_LD, is_name, is_uri
from ngsild.query import collation
from ngsild.query.ast import And, Direction, EntityQuery, EntitySelector, Or, Ordering, Q, TypeSelector
from ngsild.query.geoquery import parse_geo_query
from ngsild.query.qlang import (
    parse_order_by,
    parse_projection,
    parse_q,
    parse_scope_query,
    parse_type_selector,
)
from ngsild.query.regex import Regex, RegexError, compile_regex

Expand = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    count: bool


def _integer(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequestData(f"{name}={raw!r} must be a non-negative integer")
    return int(raw)


def page_request(params: Mapping[str, str], *, default_limit: int, max_limit: int) -> PageRequest:
    """limit/offset/count (§5.7): limit=0 only with count=true; past the maximum is TooManyResults."""
    count_raw = params.get("count")
    if count_raw not in (None, "true", "false"):
        raise BadRequestData(f"count={count_raw!r} must be true or false")
    count = count_raw == "true"
    limit = _integer(params, "limit")
    offset = _integer(params, "offset") or 0
    if limit is None:
        limit = default_limit
    if limit == 0 and not count:
        raise BadRequestData("limit=0 is only allowed together with count=true")
    if limit > max_limit:
        raise TooManyResults(f"limit={limit} is above this broker's maximum of {max_limit}")
    return PageRequest(offset, limit, count)


MAX_IDS = 10_000  # ids in one query; a store binds each as a parameter (SQLite allows 32,766)


def _ids(raw: str) -> frozenset[str]:
    ids = raw.split(",")
    if len(ids) > MAX_IDS:
        raise TooComplexQuery(f"the query names {len(ids)} entity ids; at most {MAX_IDS} are allowed in one query")
    for entity_id in ids:
        if not is_uri(entity_id):
            raise BadRequestData(f"id={raw!r}: {entity_id!r} is not a URI")
    return frozenset(ids)


def _id_pattern(raw: str) -> Regex:
    try:
        return compile_regex(raw)
    except RegexError as exc:
        raise BadRequestData(f"idPattern={raw!r} is not a valid regular expression: {exc}") from None


def _types(raw: str, expand: Expand) -> TypeSelector | None:
    """None means every type (``*``)."""
    return None if raw == "*" else parse_type_selector(raw, expand)


def entity_query(params: Mapping[str, str], expand: Expand, selectors: tuple[EntitySelector, ...] = ()) -> EntityQuery:
    """GET /entities (and DELETE /entities) parameters as one EntityQuery, with the minimum-filter
    rule: a query must name a type, attrs, q, a geo-query or local=true (§5.7.2.4). ``selectors``
    are the EntitySelectors of a Query object, which name types themselves."""
    raw_type = params.get("type")
    local = params.get("local")
    if local not in (None, "true", "false"):
        raise BadRequestData(f"local={local!r} must be true or false")
    if raw_type == "*" and local == "false":
        raise BadRequestData("type=* means local=true and cannot be combined with local=false")
    geo_given = any(n in params for n in ("georel", "geometry", "coordinates"))
    expand_values, json_keys = _name_set(params, "expandValues"), _name_set(params, "jsonKeys")
    q = parse_q(params["q"], expand, expand_values=expand_values, json_keys=json_keys) if "q" in params else None
    attrs = None
    if "attrs" in params:
        attrs = frozenset(expand(n) for n in parse_projection(params["attrs"], "attrs"))
    names_attribute = bool(attrs and attrs - _SYSTEM_IRIS) or bool(q and _q_names(q) - _SYSTEM_NAMES)
    if not (raw_type or selectors or names_attribute or geo_given or local == "true"):
        raise BadRequestData(
            "the query is too wide: give type, attrs, q, a geo-query (georel, geometry, coordinates) or local=true"
        )
    if "csf" in params:
        parse_q(params["csf"], expand)  # checked; it filters registrations, of which there are none here
    geo = None
    if geo_given:
        geo = parse_geo_query(
            params.get("georel"), params.get("geometry"), params.get("coordinates"), params.get("geoproperty"), expand
        )
    return EntityQuery(
        ids=_ids(params["id"]) if "id" in params else None,
        id_pattern=_id_pattern(params["idPattern"]) if "idPattern" in params else None,
        types=_types(raw_type, expand) if raw_type else None,
        attrs=attrs,
        q=q,
        scope=parse_scope_query(params["scopeQ"]) if "scopeQ" in params else None,
        geo=geo,
        selectors=selectors,
    )


def _name_set(params: Mapping[str, str], parameter: str) -> frozenset[str]:
    return frozenset(parse_projection(params[parameter], parameter)) if parameter in params else frozenset()


def ordering(params: Mapping[str, str], expand: Expand) -> Ordering | None:
    """orderBy with collation, orderFrom and orderGeometry (§5.8); None keeps creation order."""
    tag = collation.check(params.get("collation", "und"))
    if "orderBy" not in params:
        return None
    keys = parse_order_by(params["orderBy"], expand)
    if not any(k.direction in (Direction.DIST_ASC, Direction.DIST_DESC) for k in keys):
        return Ordering(keys, tag)
    if "orderFrom" not in params:
        raise BadRequestData("orderBy with dist-asc or dist-desc needs orderFrom, the coordinates to measure from")
    shape_name = params.get("orderGeometry", "Point")
    try:  # the same checks as a geo-query's geometry, with a relation that needs no distance
        origin = parse_geo_query("intersects", shape_name, params["orderFrom"], None, expand)
    except BadRequestData as exc:
        raise BadRequestData(f"orderFrom/orderGeometry: {exc.detail}") from None
    return Ordering(keys, tag, (origin.geometry_type, origin.coordinates))


_SYSTEM_NAMES = frozenset({"createdAt", "modifiedAt", "deletedAt", "observedAt", "expiresAt"})
_SYSTEM_IRIS = frozenset(NGSI_LD + n for n in _SYSTEM_NAMES) | _SYSTEM_NAMES


def _q_names(node: Q) -> set[str]:
    """The attribute names (as written) a q expression refers to."""
    if isinstance(node, And | Or):
        return set().union(*(_q_names(t) for t in node.terms))
    return {node.path.attr.name}


def query_from_body(
    body: Any, expand: Expand, url_params: Mapping[str, str] | None = None
) -> tuple[EntityQuery, dict[str, str]]:
    """A Query object (POST /entityOperations/query, §5.2.23): the EntityQuery, and the body's
    representation members (pick, omit, lang, datasetId, ...) as GET-style parameters.
    ``expandValues`` and ``jsonKeys`` come from the URL."""
    params = query_body_params(body)
    for name in ("expandValues", "jsonKeys"):
        if url_params and name in url_params:
            params[name] = url_params[name]
    selectors = tuple(
        EntitySelector(
            ids=_ids(s["id"]) if "id" in s else None,
            id_pattern=_id_pattern(s["idPattern"]) if "idPattern" in s else None,
            types=_types(s["type"], expand),
        )
        for s in selector_params(body)
    )
    return entity_query(params, expand, selectors), params


def _names(body: Mapping[str, Any], member: str) -> list[str] | None:
    value = body.get(member)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(n, str) and is_name(n) for n in value):
        raise BadRequestData(f"{member} must be a non-empty array of attribute names")
    return value


def query_body_params(body: Any) -> dict[str, str]:
    """A Query object (POST /entityOperations/query, §5.2.23) flattened into the GET parameters it
    stands for, so both paths share one parser. Several entity selectors become an OR over
    per-selector queries; they are read by ``selector_params``."""
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a Query object")
    if body.get("type") != "Query":
        raise BadRequestData('the Query object needs "type": "Query"')
    params: dict[str, str] = {}
    for member in ("q", "scopeQ", "csf", "lang"):
        if member in body:
            if not isinstance(body[member], str):
                raise BadRequestData(f"{member} must be a string")
            params[member] = body[member]
    for member in ("attrs", "pick", "omit"):
        names = _names(body, member)
        if names is not None:
            params[member] = ",".join(names)
    if "datasetId" in body:
        datasets = body["datasetId"]
        if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
            raise BadRequestData("datasetId must be an array of URIs")
        params["datasetId"] = ",".join(datasets)
    if "geoQ" in body:
        geo = body["geoQ"]
        if not isinstance(geo, dict):
            raise BadRequestData("geoQ must be an object with georel, geometry and coordinates")
        for member in ("georel", "geometry", "geoproperty"):
            if member in geo:
                params[member] = str(geo[member])
        if "coordinates" in geo:
            coordinates = geo["coordinates"]
            params["coordinates"] = coordinates if isinstance(coordinates, str) else _json(coordinates)
    for member in ("geometryProperty",):
        if member in body:
            params[member] = str(body[member])
    return params


def selector_params(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """The EntitySelectors of a Query object as id/idPattern/type parameter sets (ORed)."""
    entities = body.get("entities")
    if entities is None:
        return []
    if not isinstance(entities, list) or not entities:
        raise BadRequestData("entities must be a non-empty array of EntitySelectors")
    out = []
    for selector in entities:
        if not isinstance(selector, dict) or not isinstance(selector.get("type"), str):
            raise BadRequestData("each EntitySelector needs a type")
        one = {"type": selector["type"]}
        for member in ("id", "idPattern"):
            if member in selector:
                if not isinstance(selector[member], str):
                    raise BadRequestData(f"EntitySelector {member} must be a string")
                one[member] = selector[member]
        out.append(one)
    return out


def _json(value: Any) -> str:
    return json.dumps(value)
