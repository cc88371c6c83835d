"""The route table: every endpoint in one list, and the dispatcher that serves it.

Routing works on the raw path, segment by segment, percent-decoding each segment only after the
split, so entity ids and attribute IRIs that contain '/' (sent as %2F) stay one segment. A known
path with an unknown method is a 405 that lists the path's methods in ``Allow``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ngsild.errors import MethodNotAllowed, NgsiLdError, ResourceNotFound
from ngsild.http import batch, data_models, discovery, entities, jsonld_contexts, queries, subscriptions
from ngsild.http.negotiation import Query
from ngsild.http.problems import problem_response
from ngsild.model import API_ROOT
from ngsild.services import admission

Handler = Callable[[Request, dict[str, str], Query], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    segments: tuple[str, ...]  # literals, or "{name}" for a parameter
    methods: dict[str, Handler]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, part in zip(self.segments, parts, strict=True):
            if pattern[0] == "{":
                params[pattern[1:-1]] = part
            elif pattern != part:
                return None
        return params


def route(path: str, **methods: Handler) -> Route:
    return Route(tuple(path.strip("/").split("/")), methods)


EXTENSION_ROOT = "/ngsi-ld/ex"
EXTENSIONS: list[Route] = [
    route("/datamodels", GET=data_models.list_models),
]

ROUTES: list[Route] = [
    route("/entities", GET=queries.query_entities, POST=entities.create),
    route("/entityOperations/query", POST=queries.post_query),
    route("/entityOperations/create", POST=batch.create),
    route("/entityOperations/upsert", POST=batch.upsert),
    route("/entityOperations/update", POST=batch.update),
    route("/entityOperations/delete", POST=batch.delete),
    route("/entityOperations/merge", POST=batch.merge),
    route("/jsonldContexts", GET=jsonld_contexts.list_contexts, POST=jsonld_contexts.add),
    route("/jsonldContexts/{contextId}", GET=jsonld_contexts.get_context, DELETE=jsonld_contexts.delete_context),
    route("/subscriptions", GET=subscriptions.query_all, POST=subscriptions.create),
    route("/subscriptions/{subscriptionId}", GET=subscriptions.retrieve, PATCH=subscriptions.update,
          DELETE=subscriptions.delete),
    route("/types", GET=discovery.list_types),
    route("/types/{type}", GET=discovery.get_type),
    route("/attributes", GET=discovery.list_attributes),
    route("/attributes/{attrId}", GET=discovery.get_attribute),
    route("/entities/{entityId}", GET=entities.retrieve, PUT=entities.replace, PATCH=entities.merge,
          DELETE=entities.delete),
    route("/entities/{entityId}/attrs", POST=entities.append_attrs, PATCH=entities.update_attrs),
    route("/entities/{entityId}/attrs/{attrId}",
          PATCH=entities.partial_update_attr, PUT=entities.replace_attr, DELETE=entities.delete_attr),
]  # fmt: skip


def split_path(raw_path: bytes, root: str = API_ROOT) -> list[str] | None:
    """The decoded segments below ``root``, or None for a path outside it."""
    path = raw_path.decode("latin-1")
    if not path.startswith(root + "/"):
        return None
    rest = path[len(root) + 1 :]
    if rest.endswith("/attrs/"):
        rest = rest[:-1]  # '/attrs/' names the attrs collection, not an attribute with an empty name
    return [unquote(part, errors="strict") for part in rest.split("/")]


class Dispatcher:
    """The ASGI app behind every NGSI-LD path (and this broker's extensions under /ngsi-ld/ex)."""

    def __init__(self, routes: list[Route], extensions: list[Route] | None = None) -> None:
        self.tables = [(API_ROOT, routes), (EXTENSION_ROOT, extensions or [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        warnings: list[str] = []
        token = admission.WARNINGS.set(warnings)
        try:
            response = await self.dispatch(request, scope)
        except NgsiLdError as exc:
            response = problem_response(exc)
        except Exception as exc:
            response = problem_response(exc)
        finally:
            admission.WARNINGS.reset(token)
        tenant = request.headers.get("ngsild-tenant")
        if tenant:
            response.headers["NGSILD-Tenant"] = tenant  # §5.5.10: the tenant is echoed in the response
        for warning in warnings:  # the warn policy of Smart Data Models validation (RFC 7234 code 199)
            response.headers.append("Warning", f'199 ngsild "{_quoted(warning)}"')
        await response(scope, receive, send)

    async def dispatch(self, request: Request, scope: Scope) -> Response:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0]
        for root, routes in self.tables:
            parts = split_path(raw_path, root)
            if parts is None:
                continue
            for candidate in routes:
                params = candidate.match(parts)
                if params is None:
                    continue
                handler = candidate.methods.get(request.method)
                if handler is None:
                    allow = sorted(candidate.methods)
                    raise MethodNotAllowed(f"{request.method} is not allowed here; use {', '.join(allow)}", allow=allow)
                query_string = scope.get("query_string", b"")
                query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {}
                return await handler(request, params, query)
        raise ResourceNotFound(f"there is no resource at {scope['path']}")


def _quoted(text: str) -> str:
    """``text`` as the quoted-string of a header value (printable ASCII, quotes escaped)."""
    printable = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return printable.replace("\\", "\\\\").replace('"', '\\"')
