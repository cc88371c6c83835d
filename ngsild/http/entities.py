"""Handlers for /entities and /entities/{entityId}[/attrs[/{attrId}]]: parse, call one service, render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ngsild import render
from ngsild.errors import BadRequestData, OperationNotSupported, ResourceNotFound
from ngsild.http.negotiation import (
    Query,
    RequestContext,
    body_with_context,
    check_params,
    context_for_read,
    flag,
)
from ngsild.http.representation import entity_response, multi_status, no_content, options_of, shape_of
from ngsild.model import API_ROOT, is_datetime, is_uri
from ngsild.query.ast import TypeSelector
from ngsild.query.qlang import parse_type_selector
from ngsild.services import entities
from ngsild.services.broker import Broker
from ngsild.updates import UpdateResult
from ngsild.validate import attribute_name

_COMMON = frozenset({"local", "type"})
RETRIEVE_PARAMS = _COMMON | {
    "attrs", "pick", "omit", "lang", "geometryProperty", "datasetId", "format", "options",
    "join", "joinLevel", "containedBy", "entityMap", "entityMapLifetime",
}  # fmt: skip


def broker_of(request: Request) -> Broker:
    broker: Broker = request.state.broker
    return broker


def entity_id_of(raw: str) -> str:
    if not is_uri(raw):
        raise BadRequestData(f"the entity id {raw!r} in the path is not a URI", instance=raw)
    return raw


def types_of(query: Query, ctx: RequestContext) -> TypeSelector | None:
    raw = query.get("type")
    return None if raw is None else parse_type_selector(raw, ctx.tm.expand)


def _refuse_unsupported(query: Query) -> None:
    if query.get("join", "@none") != "@none":
        raise OperationNotSupported("linked entity retrieval (join) is not supported by this broker yet")
    if "entityMap" in query:
        raise OperationNotSupported("EntityMaps are not supported by this broker yet")


def _update_result(result: UpdateResult) -> Response:
    return no_content() if not result.not_updated else multi_status(result.as_json())


async def create(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"local"}))
    broker = broker_of(request)
    body, ctx = await body_with_context(request, broker)
    entity_id = await entities.create_entity(broker, ctx.tenant, body, ctx.tm)
    return Response(status_code=201, headers={"Location": f"{API_ROOT}/entities/{entity_id}"})


async def retrieve(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, RETRIEVE_PARAMS)
    _refuse_unsupported(query)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker, geo=True)
    entity_id = entity_id_of(path["entityId"])
    shape = shape_of(query, ctx)
    doc = await entities.retrieve_entity(broker, ctx.tenant, entity_id, types_of(query, ctx))
    if shape.attrs is not None and not shape.attrs & doc["attrs"].keys():
        raise ResourceNotFound(f"the entity {entity_id} has none of the requested attributes", instance=entity_id)
    body = render.entity(doc, ctx.tm, shape.options)
    if not body:
        raise ResourceNotFound(f"nothing of the entity {entity_id} is left after pick/omit", instance=entity_id)
    return entity_response(request, ctx, doc, body, shape)


async def replace(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    body, ctx = await body_with_context(request, broker)
    await entities.replace_entity(broker, ctx.tenant, entity_id, body, ctx.tm, types_of(query, ctx))
    return no_content()


async def merge(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON | {"format", "options", "observedAt", "lang"})
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    form, _ = options_of(query, frozenset())
    observed_at = query.get("observedAt")
    if observed_at is not None and not is_datetime(observed_at):
        raise BadRequestData(f"observedAt={observed_at!r} is not a DateTime")
    observed_at = observed_at and observed_at.replace(",", ".")
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    await entities.merge_entity(
        broker, ctx.tenant, entity_id, body, ctx.tm, types_of(query, ctx),
        simplified=form is render.Form.SIMPLIFIED,
        observed_at=observed_at,
        lang=query.get("lang"),
    )  # fmt: skip
    return no_content()


async def delete(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    ctx = await context_for_read(request, broker, body=False)
    await entities.delete_entity(broker, ctx.tenant, entity_id, types_of(query, ctx))
    return no_content()


async def append_attrs(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON | {"options"})
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    _, chosen = options_of(query, frozenset({"noOverwrite"}))
    body, ctx = await body_with_context(request, broker)
    result = await entities.append_attrs(
        broker,
        ctx.tenant,
        entity_id,
        body,
        ctx.tm,
        types_of(query, ctx),
        no_overwrite="noOverwrite" in chosen,
    )
    return _update_result(result)


async def update_attrs(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    result = await entities.update_attrs(broker, ctx.tenant, entity_id, body, ctx.tm, types_of(query, ctx))
    return _update_result(result)


def _attr_path(path: dict[str, str]) -> tuple[str, str]:
    entity_id = entity_id_of(path["entityId"])
    attr = path["attrId"]
    if attr == "scope":
        raise BadRequestData("scope is not an attribute; change it through the entity (append, update or merge)")
    return entity_id, attr


async def partial_update_attr(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON)
    broker = broker_of(request)
    entity_id, attr = _attr_path(path)
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    await entities.partial_update_attr(broker, ctx.tenant, entity_id, attr, body, ctx.tm, types_of(query, ctx))
    return no_content()


async def replace_attr(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON)
    broker = broker_of(request)
    entity_id, attr = _attr_path(path)
    body, ctx = await body_with_context(request, broker)
    await entities.replace_attr(broker, ctx.tenant, entity_id, attr, body, ctx.tm, types_of(query, ctx))
    return no_content()


async def delete_attr(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _COMMON | {"datasetId", "deleteAll"})
    broker = broker_of(request)
    entity_id = entity_id_of(path["entityId"])
    ctx = await context_for_read(request, broker, body=False)
    attr = path["attrId"]
    iri = ctx.tm.expand("scope") if attr == "scope" else attribute_name(attr, ctx.tm)
    dataset = query.get("datasetId")
    if dataset is not None and dataset != "@none" and not is_uri(dataset):
        raise BadRequestData(f"datasetId={dataset!r} is not a URI")
    await entities.delete_attr(
        broker, ctx.tenant, entity_id, iri, types_of(query, ctx),
        dataset=None if dataset in (None, "@none") else dataset, delete_all=flag(query, "deleteAll"),
    )  # fmt: skip
    return no_content()
