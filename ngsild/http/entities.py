"""Handlers for /entities and /entities/{entityId}[/attrs[/{attrId}]]: parse, call one service, render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ngsild import render
from ngsild.errors import BadRequestData, OperationNotSupported, ResourceNotFound
from ngsild.http.negotiation import (
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


def types_of(request: Request, ctx: RequestContext) -> TypeSelector | None:
    raw = request.query_params.get("type")
    return None if raw is None else parse_type_selector(raw, ctx.tm.expand)


def _refuse_unsupported(request: Request) -> None:
    if request.query_params.get("join", "@none") != "@none":
        raise OperationNotSupported("linked entity retrieval (join) is not supported by this broker yet")
    if "entityMap" in request.query_params:
        raise OperationNotSupported("EntityMaps are not supported by this broker yet")


def _update_result(result: UpdateResult) -> Response:
    return no_content() if not result.not_updated else multi_status(result.as_json())


async def create(request: Request, params: dict[str, str]) -> Response:
    check_params(request, frozenset({"local"}))
    broker = broker_of(request)
    body, ctx = await body_with_context(request, broker)
    entity_id = await entities.create_entity(broker, ctx.tenant, body, ctx.tm)
    return Response(status_code=201, headers={"Location": f"{API_ROOT}/entities/{entity_id}"})


async def retrieve(request: Request, params: dict[str, str]) -> Response:
    check_params(request, RETRIEVE_PARAMS)
    _refuse_unsupported(request)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker, geo=True)
    entity_id = entity_id_of(params["entityId"])
    shape = shape_of(request, ctx)
    doc = await entities.retrieve_entity(broker, ctx.tenant, entity_id, types_of(request, ctx))
    if shape.attrs is not None and not shape.attrs & doc["attrs"].keys():
        raise ResourceNotFound(
            f"the entity {entity_id} has none of the requested attributes", instance=entity_id
        )
    body = render.entity(doc, ctx.tm, shape.options)
    if not body:
        raise ResourceNotFound(
            f"nothing of the entity {entity_id} is left after pick/omit", instance=entity_id
        )
    return entity_response(request, ctx, doc, body, shape)


async def replace(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    body, ctx = await body_with_context(request, broker)
    await entities.replace_entity(broker, ctx.tenant, entity_id, body, ctx.tm, types_of(request, ctx))
    return no_content()


async def merge(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON | {"format", "options", "observedAt", "lang"})
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    form, _ = options_of(request, frozenset())
    observed_at = request.query_params.get("observedAt")
    if observed_at is not None and not is_datetime(observed_at):
        raise BadRequestData(f"observedAt={observed_at!r} is not a DateTime")
    observed_at = observed_at and observed_at.replace(",", ".")
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    await entities.merge_entity(
        broker, ctx.tenant, entity_id, body, ctx.tm, types_of(request, ctx),
        simplified=form is render.Form.SIMPLIFIED,
        observed_at=observed_at,
        lang=request.query_params.get("lang"),
    )  # fmt: skip
    return no_content()


async def delete(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    ctx = await context_for_read(request, broker, body=False)
    await entities.delete_entity(broker, ctx.tenant, entity_id, types_of(request, ctx))
    return no_content()


async def append_attrs(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON | {"options"})
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    _, chosen = options_of(request, frozenset({"noOverwrite"}))
    body, ctx = await body_with_context(request, broker)
    result = await entities.append_attrs(
        broker,
        ctx.tenant,
        entity_id,
        body,
        ctx.tm,
        types_of(request, ctx),
        no_overwrite="noOverwrite" in chosen,
    )
    return _update_result(result)


async def update_attrs(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON)
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    result = await entities.update_attrs(broker, ctx.tenant, entity_id, body, ctx.tm, types_of(request, ctx))
    return _update_result(result)


def _attr_path(params: dict[str, str]) -> tuple[str, str]:
    entity_id = entity_id_of(params["entityId"])
    attr = params["attrId"]
    if attr == "scope":
        raise BadRequestData(
            "scope is not an attribute; change it through the entity (append, update or merge)"
        )
    return entity_id, attr


async def partial_update_attr(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON)
    broker = broker_of(request)
    entity_id, attr = _attr_path(params)
    body, ctx = await body_with_context(request, broker, merge_patch=True)
    await entities.partial_update_attr(
        broker, ctx.tenant, entity_id, attr, body, ctx.tm, types_of(request, ctx)
    )
    return no_content()


async def replace_attr(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON)
    broker = broker_of(request)
    entity_id, attr = _attr_path(params)
    body, ctx = await body_with_context(request, broker)
    await entities.replace_attr(broker, ctx.tenant, entity_id, attr, body, ctx.tm, types_of(request, ctx))
    return no_content()


async def delete_attr(request: Request, params: dict[str, str]) -> Response:
    check_params(request, _COMMON | {"datasetId", "deleteAll"})
    broker = broker_of(request)
    entity_id = entity_id_of(params["entityId"])
    ctx = await context_for_read(request, broker, body=False)
    attr = params["attrId"]
    iri = ctx.tm.expand("scope") if attr == "scope" else attribute_name(attr, ctx.tm)
    dataset = request.query_params.get("datasetId")
    if dataset is not None and dataset != "@none" and not is_uri(dataset):
        raise BadRequestData(f"datasetId={dataset!r} is not a URI")
    await entities.delete_attr(
        broker, ctx.tenant, entity_id, iri, types_of(request, ctx),
        dataset=None if dataset in (None, "@none") else dataset, delete_all=flag(request, "deleteAll"),
    )  # fmt: skip
    return no_content()
