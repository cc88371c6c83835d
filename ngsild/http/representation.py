"""Request parameters that shape a response (format, options, pick/omit/attrs, lang, datasetId,
geometryProperty) and the response builders that place the @context (§6.3.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ngsild import render
from ngsild.errors import BadRequestData, InvalidRequest
from ngsild.http.negotiation import GEO_JSON, JSON, LD_JSON, Query, RequestContext
from ngsild.model import Doc
from ngsild.query.qlang import parse_projection
from ngsild.render import Form, LangPreference, RenderOptions


def options_of(query: Query, flags: frozenset[str]) -> tuple[Form | None, set[str]]:
    """``format`` (one value, wins) and ``options`` (a list of representation keywords and flags)."""
    form: Form | None = None
    chosen: set[str] = set()
    raw_options = query.get("options")
    if raw_options is not None:
        for item in raw_options.split(","):
            if item in render.FORMS:
                form = render.FORMS[item]
            elif item in flags:
                chosen.add(item)
            else:
                allowed = ", ".join(sorted(set(render.FORMS) | flags))
                raise InvalidRequest(f"options={raw_options!r}: unknown value {item!r}; allowed: {allowed}")
    raw_format = query.get("format")
    if raw_format is not None:
        if raw_format not in render.FORMS:
            raise InvalidRequest(f"format={raw_format!r} is unknown; use one of {', '.join(render.FORMS)}")
        form = render.FORMS[raw_format]
    return form, chosen


@dataclass(frozen=True, slots=True)
class Shape:
    """How to render one entity or a list of them."""

    options: RenderOptions
    attrs: frozenset[str] | None  # the deprecated attrs= (a filter as well as a projection)
    geometry: str  # the GeoProperty IRI used as GeoJSON geometry


def _names(query: Query, parameter: str, ctx: RequestContext) -> frozenset[str] | None:
    raw = query.get(parameter)
    if raw is None:
        return None
    return frozenset(n if n in render.PROJECTED_MEMBERS else ctx.tm.expand(n) for n in parse_projection(raw, parameter))


def shape_of(query: Query, ctx: RequestContext, *, flags: frozenset[str] = frozenset({"sysAttrs"})) -> Shape:
    form, chosen = options_of(query, flags)
    pick, omit, attrs = (_names(query, p, ctx) for p in ("pick", "omit", "attrs"))
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestData("attrs cannot be combined with pick or omit; use pick")
    if attrs is not None:
        bad = attrs & render.PROJECTED_MEMBERS
        if bad:
            raise BadRequestData(f"attrs names attributes only; {', '.join(sorted(bad))} is not one")
        pick = attrs | {"id", "type", "scope"}
    if pick is not None and omit is not None and pick & omit:
        raise BadRequestData(f"{', '.join(sorted(pick & omit))} is both picked and omitted")
    geometry_name = query.get("geometryProperty")
    if geometry_name is not None and ctx.media_type != GEO_JSON:
        raise BadRequestData("geometryProperty is only allowed with Accept: application/geo+json")
    options = RenderOptions(
        form=form or Form.NORMALIZED,
        sys_attrs="sysAttrs" in chosen,
        pick=pick,
        omit=omit or frozenset(),
        lang=lang_of(query),
        dataset_ids=datasets_of(query),
    )
    geometry = ctx.tm.expand(geometry_name) if geometry_name else ctx.tm.expand("location")
    return Shape(options, attrs, geometry)


def lang_of(query: Query) -> LangPreference | None:
    raw = query.get("lang")
    return None if raw is None else render.parse_lang(raw)


def datasets_of(query: Query) -> frozenset[str | None] | None:
    raw = query.get("datasetId")
    return None if raw is None else render.parse_datasets(raw.split(","))


# ---- responses -------------------------------------------------------------------------------------


def json_response(
    ctx: RequestContext, body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A successful body: the @context goes in the body for ld+json, in a Link header for json."""
    headers = dict(headers or {})
    if ctx.media_type == LD_JSON:
        if isinstance(body, list):
            body = [{**item, "@context": ctx.context} for item in body]
        elif isinstance(body, dict):
            body = {**body, "@context": ctx.context}
    elif ctx.media_type == JSON:
        link = render.context_link(ctx.context)
        if link is not None:
            headers["Link"] = link
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=ctx.media_type)


def entity_response(request: Request, ctx: RequestContext, doc: Doc, body: dict[str, Any], shape: Shape) -> Response:
    if ctx.media_type != GEO_JSON:
        return json_response(ctx, body)
    return _geo_response(request, ctx, render.feature(doc, body, shape.geometry, shape.options.dataset_ids))


def entities_response(
    request: Request, ctx: RequestContext, docs: list[Doc], bodies: list[dict[str, Any]], shape: Shape
) -> Response:
    """A query result: a JSON array (each entity with its @context for ld+json), or a GeoJSON
    FeatureCollection whose features carry no @context of their own (§4.5.17)."""
    if ctx.media_type != GEO_JSON:
        return json_response(ctx, bodies)
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            render.feature(d, b, shape.geometry, shape.options.dataset_ids) for d, b in zip(docs, bodies, strict=True)
        ],
    }
    return _geo_response(request, ctx, collection)


def _geo_response(request: Request, ctx: RequestContext, body: dict[str, Any]) -> Response:
    """GeoJSON carries its @context in the body, or in a Link header with ``Prefer: body=json`` (§6.3.6)."""
    headers = {}
    if "body=json" in request.headers.get("prefer", ""):
        link = render.context_link(ctx.context)
        if link is not None:
            headers["Link"] = link
    else:
        body["@context"] = ctx.context
    return Response(orjson.dumps(body), headers=headers, media_type=GEO_JSON)


def no_content() -> Response:
    """204 carries no body and, per §6.3.6, no Content-Length."""
    return Response(status_code=204)


def multi_status(body: dict[str, Any]) -> Response:
    """207 bodies are always application/json with FQNs and no Link header."""
    return Response(orjson.dumps(body), status_code=207, media_type=JSON)
