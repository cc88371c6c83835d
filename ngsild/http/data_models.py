"""GET /ngsi-ld/ex/datamodels: the Smart Data Models this broker validates against, and their
policies (an extension, outside the NGSI-LD paths)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ngsild.http.entities import broker_of
from ngsild.http.negotiation import JSON, Query, check_params


async def list_models(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset())
    admission = broker_of(request).admission
    body = {
        "models": [
            {
                "type": g.name,
                "typeIri": g.type_iri,
                "domain": g.model.ref.domain,
                "policy": g.policy,
                "schema": g.model.ref.schema_url,
                "context": g.model.context_url,
            }
            for g in sorted(admission.governed.values(), key=lambda g: g.name)
        ],
        "loadErrors": list(admission.load_errors),
    }
    return Response(orjson.dumps(body), media_type=JSON)
