"""Handlers for the batch operations: POST /entityOperations/{create,upsert,update,delete,merge}
(§6.14-§6.17, §6.31). Statuses follow the digest's §4.13 table: all items done gives 201 (create,
and upsert when it created something) or 204; any failed item gives 207 with a BatchOperationResult."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ngsild.errors import InvalidRequest
from ngsild.http.entities import broker_of
from ngsild.http.negotiation import JSON, Query, batch_items, check_params
from ngsild.http.representation import multi_status, no_content
from ngsild.services import batch
from ngsild.services.batch import BatchResult

_OPTIONS = frozenset({"options"})


def _option(query: Query, allowed: tuple[str, ...], default: str) -> str:
    raw = query.get("options", default)
    if raw not in allowed:
        raise InvalidRequest(f"options={raw!r} is not valid here; use one of {', '.join(allowed)}")
    return raw


def _ids(ids: list[str]) -> Response:
    return Response(orjson.dumps(ids), status_code=201, media_type=JSON)


def _done_or_partial(result: BatchResult) -> Response:
    return multi_status(result.as_json()) if result.errors else no_content()


async def create(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset())
    tenant, items = await batch_items(request, broker_of(request))
    result = await batch.create(broker_of(request), tenant, items)
    return multi_status(result.as_json()) if result.errors else _ids(result.success)


async def upsert(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _OPTIONS)
    replace = _option(query, ("replace", "update"), "replace") == "replace"
    tenant, items = await batch_items(request, broker_of(request))
    result = await batch.upsert(broker_of(request), tenant, items, replace=replace)
    if result.errors:
        return multi_status(result.as_json())
    return _ids(result.created) if result.created else no_content()


async def update(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, _OPTIONS)
    no_overwrite = "options" in query and _option(query, ("noOverwrite",), "") == "noOverwrite"
    tenant, items = await batch_items(request, broker_of(request))
    return _done_or_partial(await batch.update(broker_of(request), tenant, items, no_overwrite=no_overwrite))


async def merge(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset())
    tenant, items = await batch_items(request, broker_of(request))
    return _done_or_partial(await batch.merge(broker_of(request), tenant, items))


async def delete(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset())
    tenant, items = await batch_items(request, broker_of(request))
    return _done_or_partial(await batch.delete(broker_of(request), tenant, [item for item, _ in items]))
