"""The shared Smart Data Models test-data pack (``../shared/smart-data-models``), read in place.

The README of the pack says which examples are trustworthy; the lists below are copied from it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from datamodels import Library, load
from datamodels.catalog import CATALOG

SHARED = Path(__file__).resolve().parents[3] / "shared" / "smart-data-models"
NEEDS_SHARED = "needs ../shared/smart-data-models"

# Types whose examples fail some schema check (README "Which examples to trust as test vectors").
FAILING = frozenset(
    {
        "ParkingGroup",
        "AirQualityObserved",
        "Vehicle",
        "PointOfInterest",
        "Device",
        "KeyPerformanceIndicator",
        "PublicTransportStop",
    }
)
TRUSTWORTHY = tuple(sorted(set(CATALOG) - FAILING))  # the 27 that pass every schema check


@cache
def shared_library() -> Library:
    """The whole pack, loaded once per test session (checking 40 schemas takes about a second)."""
    return load(SHARED)


def example_path(type_name: str, file: str) -> Path:
    ref = CATALOG[type_name]
    return SHARED / ref.domain / ref.type_name / "examples" / file


def example(type_name: str, file: str) -> dict[str, Any]:
    """An example document, without its ``@context`` (the schemas do not describe it)."""
    document: dict[str, Any] = json.loads(example_path(type_name, file).read_text())
    document.pop("@context", None)
    return document
