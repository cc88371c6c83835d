"""The Smart Data Models scenario (issue 6): create throughput for WaterQualityObserved entities built
from the model's normalized example with randomised values, with validation enforced versus off.

The models come from ../shared/smart-data-models (beside the checkout); bodies are plain JSON with the
WaterQuality subject @context named by a Link header, which the broker knows from that directory.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from bench.entity import ID_PLACEHOLDER

MODELS = Path(__file__).resolve().parents[2] / "shared" / "smart-data-models"
EXAMPLE = MODELS / "WaterQuality" / "WaterQualityObserved" / "examples" / "example-normalized.jsonld"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterQuality/master/context.jsonld"
LINK = f'<{CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def available() -> bool:
    return EXAMPLE.is_file()


def make_body(example: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The example with every number scaled by a random factor in [0.8, 1.2] (pH stays in 0-14)."""
    body: dict[str, Any] = {k: v for k, v in example.items() if k != "@context"}
    body["id"] = ID_PLACEHOLDER
    for attribute in body.values():
        value = attribute.get("value") if isinstance(attribute, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            attribute["value"] = round(value * rng.uniform(0.8, 1.2), 4)
    return body


def write_templates(path: Path, count: int, seed: int = 17) -> None:
    """``count`` bodies, one a line, with the id placeholder that lua/create.lua replaces."""
    example = orjson.loads(EXAMPLE.read_bytes())
    rng = random.Random(seed)
    with path.open("wb") as out:
        for _ in range(count):
            out.write(orjson.dumps(make_body(orjson.loads(orjson.dumps(example)), rng)) + b"\n")
