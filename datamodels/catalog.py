"""Where Smart Data Models live upstream, and the models this project knows by their type name alone.

Every subject (``dataModel.<Domain>``) is a GitHub repository holding one folder per entity type
with its ``schema.json``, and a ``context.jsonld`` at the repository root. The URLs below follow
that convention, so ``Domain/Type`` names any model, catalogued or not. The catalog only lets a
bare type name (``ParkingSpot``) stand for its ``Domain/Type``; it lists the 34 types of the
offline test-data pack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datamodels.errors import InvalidModelName, UnknownModel

_RAW_ROOT = "https://raw.githubusercontent.com/smart-data-models"
_SUBJECT_PREFIX = "dataModel."
# Domains and types become folder names and URL path segments: no separators, no dot-segments.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True, order=True)
class ModelRef:
    """One Smart Data Model: its subject (without the ``dataModel.`` prefix) and its entity type."""

    domain: str
    type_name: str

    def __post_init__(self) -> None:
        for name in (self.domain, self.type_name):
            if not _SAFE_NAME.fullmatch(name):
                raise InvalidModelName(f"{name!r} is not a valid Smart Data Models domain or type name")

    @property
    def subject(self) -> str:
        return _SUBJECT_PREFIX + self.domain

    @property
    def schema_url(self) -> str:
        return f"{_RAW_ROOT}/{self.subject}/master/{self.type_name}/schema.json"

    @property
    def context_url(self) -> str:
        return subject_context_url(self.domain)

    def __str__(self) -> str:
        return f"{self.domain}/{self.type_name}"


def subject_context_url(domain: str) -> str:
    """The upstream ``context.jsonld`` of a subject, in the raw.githubusercontent form."""
    return f"{_RAW_ROOT}/{_SUBJECT_PREFIX}{domain}/master/context.jsonld"


_DOMAIN_TYPES: dict[str, tuple[str, ...]] = {
    "Parking": ("OffStreetParking", "OnStreetParking", "ParkingSpot", "ParkingGroup"),
    "Streetlighting": ("Streetlight", "StreetlightModel", "StreetlightGroup", "StreetlightControlCabinet"),
    "WasteManagement": ("WasteContainer", "WasteContainerModel", "WasteContainerIsle"),
    "Environment": ("AirQualityObserved", "AirQualityForecast", "NoiseLevelObserved"),
    "Weather": ("WeatherObserved", "WeatherForecast", "WeatherAlert"),
    "Transportation": (
        "TrafficFlowObserved",
        "BikeHireDockingStation",
        "EVChargingStation",
        "Vehicle",
        "RoadSegment",
        "Road",
    ),
    "WaterQuality": ("WaterQualityObserved",),
    "PointOfInterest": ("PointOfInterest",),
    "Device": ("Device", "DeviceModel", "DeviceMeasurement"),
    "Alert": ("Alert",),
    "KeyPerformanceIndicator": ("KeyPerformanceIndicator",),
    "Building": ("Building",),
    "UrbanMobility": ("PublicTransportStop", "PublicTransportRoute"),
    "GBFS": ("station_information",),
}

CATALOG: dict[str, ModelRef] = {
    type_name: ModelRef(domain, type_name) for domain, types in _DOMAIN_TYPES.items() for type_name in types
}
"""The catalogued models by type name (type names are unique across the catalogued subjects)."""


def lookup(name: str) -> ModelRef:
    """The model named ``Type`` (catalogued types only) or ``Domain/Type`` (any model, by convention).

    ``dataModel.Domain/Type`` is accepted too, since that is how the repositories are named.
    """
    domain, slash, type_name = name.rpartition("/")
    if slash:
        return ModelRef(domain.removeprefix(_SUBJECT_PREFIX), type_name)
    ref = CATALOG.get(name)
    if ref is None:
        raise UnknownModel(
            name,
            f"{name!r} is not a catalogued Smart Data Model type; name it as Domain/Type "
            f"(for example Parking/ParkingSpot) to use any upstream model",
        )
    return ref
