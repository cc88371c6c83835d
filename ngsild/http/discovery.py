"""Handlers for /types, /types/{type}, /attributes, /attributes/{attrId} (§6.25-§6.28)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ngsild.errors import BadRequestData
from ngsild.http.entities import broker_of
from ngsild.http.negotiation import Query, check_params, context_for_read, flag
from ngsild.http.representation import json_response
from ngsild.model import is_name
from ngsild.services import discovery

_PARAMS = frozenset({"details", "local"})


def _name(raw: str, what: str) -> str:
    if not is_name(raw):
        raise BadRequestData(f"{raw!r} is not a valid {what} name or IRI")
    return raw


async def list_types(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _PARAMS)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker)
    body = await discovery.entity_types(broker, ctx.tenant, ctx.tm, details=flag(query, "details"))
    return json_response(ctx, body)


async def get_type(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    ctx = await context_for_read(request, broker)
    type_iri = ctx.tm.expand(_name(path["type"], "entity type"))
    return json_response(ctx, await discovery.entity_type(broker, ctx.tenant, ctx.tm, type_iri))


async def list_attributes(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _PARAMS)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker)
    body = await discovery.attributes(broker, ctx.tenant, ctx.tm, details=flag(query, "details"))
    return json_response(ctx, body)


async def get_attribute(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    ctx = await context_for_read(request, broker)
    attr_iri = ctx.tm.expand(_name(path["attrId"], "attribute"))
    return json_response(ctx, await discovery.attribute(broker, ctx.tenant, ctx.tm, attr_iri))
