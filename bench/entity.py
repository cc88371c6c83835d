"""The ~1.1 KB "water station" bench entity (BENCH.md, "The bench entity"), NGSI-LD normalized JSON.

Only the core context is used: bodies are plain ``application/json`` without ``@context``; the core
context is named by a Link header (or no Link header at all), and the broker must serve it from its
built-in copy.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ENTITY_TYPE = "Entity"
QUERY_TYPES = tuple(f"WaterStation{n}" for n in range(10))
DATASET_IDS = tuple(f"urn:ngsi-ld:Dataset:Series{n}" for n in range(10))
BOTTOM = "urn:ngsi-ld:Dataset:Bottom"
SURFACE = "urn:ngsi-ld:Dataset:Surface"
# Lower-left corner of the 0.5 x 0.5 degree box the station points fall in (lon, lat).
BOX_ORIGIN = (4.60, 52.10)
BOX_SIZE = 0.5
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
CORE_LINK = f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
ID_PLACEHOLDER = "__ENTITY_ID__"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def new_id() -> str:
    return f"urn:ngsi-ld:Entity:{uuid.uuid4()}"


def _timestamp(rng: random.Random) -> str:
    moment = EPOCH + timedelta(seconds=rng.randrange(0, 30 * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(rng: random.Random) -> float:
    return min(round(rng.uniform(0.0, 100.0), 3), 99.999)


def _text(value: str) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _instances(rng: random.Random, unit: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "Property",
            "value": _value(rng),
            "observedAt": _timestamp(rng),
            "unitCode": unit,
            "datasetId": dataset,
        }
        for dataset in (BOTTOM, SURFACE)
    ]


def make_entity(rng: random.Random, entity_id: str | None = None, entity_type: str = ENTITY_TYPE) -> dict[str, Any]:
    """One bench entity; numeric values uniform in [0, 100), location in the 0.5 x 0.5 degree box."""
    number = rng.randrange(100000)
    lon = BOX_ORIGIN[0] + rng.uniform(0.0, BOX_SIZE)
    lat = BOX_ORIGIN[1] + rng.uniform(0.0, BOX_SIZE)
    return {
        "id": entity_id or new_id(),
        "type": entity_type,
        "name": _text(f"Water station {number:05d}"),
        "description": _text("Water quality station, main channel"),
        "stationCode": _text(f"WS-{number:05d}"),
        "ammonium": _instances(rng, "M1"),
        "waterTemperature": _instances(rng, "CEL"),
        "dissolvedOxygen": {
            "type": "Property",
            "value": _value(rng),
            "observedAt": _timestamp(rng),
            "unitCode": "M1",
            "saturation": {"type": "Property", "value": _value(rng), "unitCode": "P1"},
        },
        "servesDataset": {"type": "Relationship", "object": rng.choice(DATASET_IDS)},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        },
    }


def entity_bytes(rng: random.Random, entity_id: str | None = None) -> bytes:
    return orjson.dumps(make_entity(rng, entity_id))


def write_templates(path: Path, count: int, seed: int = 1) -> Path:
    """Write ``count`` entity bodies, one a line, whose id is ``ID_PLACEHOLDER`` (for the wrk scripts)."""
    rng = random.Random(seed)
    lines = [entity_bytes(rng, ID_PLACEHOLDER) for _ in range(count)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def write_ids(path: Path, count: int) -> list[str]:
    """Write ``count`` fresh entity ids, one a line (the dataset the loader creates and B2 retrieves)."""
    ids = [new_id() for _ in range(count)]
    path.write_text("\n".join(ids) + "\n")
    return ids
