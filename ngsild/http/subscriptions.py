"""Handlers for /subscriptions and /subscriptions/{subscriptionId} (§6.10, §6.11): parse, call one
service, render."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from ngsild.errors import BadRequestData
from ngsild.http.entities import broker_of
from ngsild.http.negotiation import Query, body_with_context, check_params, context_for_read
from ngsild.http.queries import neighbours
from ngsild.http.representation import json_response, no_content, options_of
from ngsild.model import API_ROOT, is_uri
from ngsild.query.params import page_request
from ngsild.services import subscriptions

BASE = f"{API_ROOT}/subscriptions"
QUERY_PARAMS = frozenset({"limit", "offset", "count", "options", "local"})
RETRIEVE_PARAMS = frozenset({"options", "local"})


def _id_of(path: dict[str, str]) -> str:
    raw = path["subscriptionId"]
    if not is_uri(raw):
        raise BadRequestData(f"the subscription id {raw!r} in the path is not a URI", instance=raw)
    return raw


def _sys_attrs(query: Query) -> bool:
    return "sysAttrs" in options_of(query, frozenset({"sysAttrs"}))[1]


async def create(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    body, ctx = await body_with_context(request, broker)
    sub_id = await subscriptions.create_subscription(broker, ctx.tenant, body, ctx.tm, ctx.context)
    return Response(status_code=201, headers={"Location": f"{BASE}/{quote(sub_id, safe=':')}"})


async def query_all(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, QUERY_PARAMS)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker)
    page = page_request(query, default_limit=broker.settings.default_limit, max_limit=broker.settings.max_limit)
    bodies, total = subscriptions.query_subscriptions(broker, ctx.tenant, page, ctx.tm, sys_attrs=_sys_attrs(query))
    response = json_response(ctx, bodies)
    if page.count:
        response.headers["NGSILD-Results-Count"] = str(total)
    for rel, offset in neighbours(page, len(bodies), total):
        link = urlencode({**query, "offset": str(offset), "limit": str(page.limit)})
        response.headers.append("Link", f'<{BASE}?{link}>; rel="{rel}"; type="{ctx.media_type}"')
    return response


async def retrieve(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, RETRIEVE_PARAMS)
    broker = broker_of(request)
    sub_id = _id_of(path)
    ctx = await context_for_read(request, broker)
    body = subscriptions.retrieve_subscription(broker, ctx.tenant, sub_id, ctx.tm, sys_attrs=_sys_attrs(query))
    return json_response(ctx, body)


async def update(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    sub_id = _id_of(path)
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    await subscriptions.update_subscription(broker, ctx.tenant, sub_id, body, ctx.tm)
    return no_content()


async def delete(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    sub_id = _id_of(path)
    ctx = await context_for_read(request, broker, body=False)
    await subscriptions.delete_subscription(broker, ctx.tenant, sub_id)
    return no_content()
