"""Query scenarios B5-B7 (BENCH.md): the typed dataset, the pre-generated request paths, result-count samples.

The query dataset holds N distinct bench entities, type ``WaterStation{i % 10}`` for the i-th, written
one body a line with the id placeholder so that the existing loader (``lua/load.lua``) sends each body
exactly once. Each query kind is a file of request paths, one a line, each with its own random type,
threshold, name, dataset id, point or square; ``lua/query.lua`` picks a random line per request.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from bench import entity

ENTITIES = "/ngsi-ld/v1/entities"
LIMIT = 20
PATHS_PER_QUERY = 4096
NEAR_METRES = 2000
SQUARE_METRES = 5000
METRES_PER_DEGREE_LAT = 111_320.0
# Characters left as they are in query values; everything else (";", '"', "[", "]", " ", ...) is %-encoded.
SAFE = "=>:,"


@dataclass(frozen=True)
class QueryKind:
    scenario: str
    name: str
    count: bool = False  # with count=true

    @property
    def key(self) -> str:
        return f"{self.scenario}-{self.name.replace(' ', '_').replace('+', '_').replace('=', '_')}"


B5 = QueryKind("B5", "type+property")
B5_COUNT = QueryKind("B5", "type+property count=true", count=True)
B6 = QueryKind("B6", "type+relationship")
B7_NEAR = QueryKind("B7", "geo near 2 km")
B7_WITHIN = QueryKind("B7", "geo within 5 km square")
KINDS = (B5, B5_COUNT, B6, B7_NEAR, B7_WITHIN)


def write_dataset(path: Path, count: int, seed: int = 11) -> list[tuple[str, str]]:
    """Write ``count`` distinct typed bodies (id placeholder), one a line; return each one's (type, name)."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    with path.open("wb") as out:
        for i in range(count):
            entity_type = entity.QUERY_TYPES[i % len(entity.QUERY_TYPES)]
            body = entity.make_entity(rng, entity.ID_PLACEHOLDER, entity_type)
            pairs.append((entity_type, body["name"]["value"]))
            out.write(orjson.dumps(body) + b"\n")
    return pairs


def _param(name: str, value: str) -> str:
    return f"{name}={quote(value, safe=SAFE)}"


def _path(params: list[str], count: bool) -> str:
    tail = [f"limit={LIMIT}"] + (["count=true"] if count else [])
    return ENTITIES + "?" + "&".join(params + tail)


def _threshold(rng: random.Random) -> str:
    return f"{rng.uniform(0.0, 100.0):.3f}"


def _point(rng: random.Random, margin_lon: float = 0.0, margin_lat: float = 0.0) -> tuple[float, float]:
    lon = entity.BOX_ORIGIN[0] + rng.uniform(0.0, entity.BOX_SIZE - margin_lon)
    lat = entity.BOX_ORIGIN[1] + rng.uniform(0.0, entity.BOX_SIZE - margin_lat)
    return (round(lon, 6), round(lat, 6))


def _square_degrees() -> tuple[float, float]:
    """The 5 km square's width and height in degrees, at the box's middle latitude."""
    middle = entity.BOX_ORIGIN[1] + entity.BOX_SIZE / 2
    height = SQUARE_METRES / METRES_PER_DEGREE_LAT
    width = SQUARE_METRES / (METRES_PER_DEGREE_LAT * math.cos(math.radians(middle)))
    return (width, height)


def make_path(kind: QueryKind, rng: random.Random, pairs: list[tuple[str, str]]) -> str:
    """One request path of this kind; B5 takes the type and name of a random loaded entity."""
    if kind.scenario == "B5":
        entity_type, name = rng.choice(pairs)
        q = f'ammonium>{_threshold(rng)};name=="{name}"'
        return _path([_param("type", entity_type), _param("q", q)], kind.count)
    if kind.scenario == "B6":
        q = f'ammonium>{_threshold(rng)};servesDataset=="{rng.choice(entity.DATASET_IDS)}"'
        return _path([_param("type", rng.choice(entity.QUERY_TYPES)), _param("q", q)], kind.count)
    if kind is B7_NEAR:
        lon, lat = _point(rng)
        geo = [_param("georel", f"near;maxDistance=={NEAR_METRES}"), "geometry=Point"]
        return _path([*geo, _param("coordinates", f"[{lon},{lat}]")], kind.count)
    width, height = _square_degrees()
    x0, y0 = _point(rng, width, height)
    x1, y1 = round(x0 + width, 6), round(y0 + height, 6)
    ring = f"[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]"
    return _path(["georel=within", "geometry=Polygon", _param("coordinates", ring)], kind.count)


def write_paths(path: Path, kind: QueryKind, pairs: list[tuple[str, str]], seed: int) -> list[str]:
    rng = random.Random(seed)
    paths = [make_path(kind, rng, pairs) for _ in range(PATHS_PER_QUERY)]
    path.write_text("\n".join(paths) + "\n")
    return paths


def sample_counts(url: str, paths: list[str], link: str | None, size: int = 10, seed: int = 5) -> dict[str, Any]:
    """A handful of the kind's GETs with count=true: the mean total (NGSILD-Results-Count) and page size."""
    headers = {"Accept": "application/json"}
    if link:
        headers["Link"] = link
    totals: list[int] = []
    returned: list[int] = []
    failed = 0
    status: list[str] = []
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for path in random.Random(seed).sample(paths, min(size, len(paths))):
            if "count=true" not in path:
                path += "&count=true"
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                failed += 1
                status.append(f"{response.status_code}: {response.text[:200]}")
                continue
            totals.append(int(response.headers.get("NGSILD-Results-Count", "-1")))
            returned.append(len(response.json()))
    return {
        "samples": len(totals) + failed,
        "failed": failed,
        "mean_count": round(statistics.mean(totals), 1) if totals else None,
        "min_count": min(totals, default=None),
        "max_count": max(totals, default=None),
        "mean_returned": round(statistics.mean(returned), 1) if returned else None,
        "first_error": status[0] if status else None,
    }
