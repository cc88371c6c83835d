"""B0, the baseline: bare Starlette + orjson, the framework's cost before any broker work.

GET returns a ~100-byte JSON entity; POST parses the ~1.1 KB bench entity with orjson and answers
201 with a Location header. Served like the broker::

    python -m uvicorn bench.baseline:app --http httptools --loop uvloop --no-access-log
"""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ENTITIES_PATH = "/ngsi-ld/v1/entities"
JSON = "application/json"


async def retrieve(request: Request) -> Response:
    entity_id = request.path_params["entity_id"]
    body = {"id": entity_id, "type": "Entity", "name": {"type": "Property", "value": "Water station"}}
    return Response(orjson.dumps(body), media_type=JSON)


async def create(request: Request) -> Response:
    entity = orjson.loads(await request.body())
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
        return Response(b'{"type":"BadRequestData"}', status_code=400, media_type=JSON)
    return Response(status_code=201, headers={"Location": f"{ENTITIES_PATH}/{entity['id']}"})


app = Starlette(
    routes=[
        Route(ENTITIES_PATH, create, methods=["POST"]),
        Route(ENTITIES_PATH + "/{entity_id}", retrieve, methods=["GET"]),
    ]
)
