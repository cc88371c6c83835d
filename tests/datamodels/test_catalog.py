"""catalog: upstream URLs by convention, bare type names for the catalogued models only."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamodels import ModelRef, lookup
from datamodels.catalog import CATALOG
from datamodels.errors import DataModelsError, InvalidModelName, UnknownModel

names = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=20).filter(lambda n: n[0] != "-")


def test_the_catalog_lists_the_34_types_of_the_test_data_pack() -> None:
    """34 types in 14 subjects, each keyed by its own type name."""
    assert len(CATALOG) == 34
    assert len({ref.domain for ref in CATALOG.values()}) == 14
    assert all(ref.type_name == name for name, ref in CATALOG.items())


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("ParkingSpot", "Parking"),
        ("WaterQualityObserved", "WaterQuality"),
        ("station_information", "GBFS"),
        ("KeyPerformanceIndicator", "KeyPerformanceIndicator"),
        ("StreetlightControlCabinet", "Streetlighting"),
    ],
)
def test_a_catalogued_type_name_finds_its_domain(name: str, domain: str) -> None:
    """A bare catalogued type names its model."""
    assert lookup(name) == ModelRef(domain, name)


def test_urls_follow_the_repository_convention() -> None:
    """Schema and context are in the subject's repository on raw.githubusercontent.com."""
    ref = lookup("ParkingSpot")
    assert ref.subject == "dataModel.Parking"
    assert ref.schema_url == (
        "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/ParkingSpot/schema.json"
    )
    assert ref.context_url == (
        "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
    )
    assert str(ref) == "Parking/ParkingSpot"


@given(names, names)
def test_domain_slash_type_names_any_model(domain: str, type_name: str) -> None:
    """Domain/Type (optionally dataModel.Domain/Type) needs no catalog entry, and its URLs embed both names."""
    ref = lookup(f"{domain}/{type_name}")
    assert ref == ModelRef(domain, type_name) == lookup(f"dataModel.{domain}/{type_name}")
    assert ref.schema_url.endswith(f"/dataModel.{domain}/master/{type_name}/schema.json")
    assert ref.context_url.endswith(f"/dataModel.{domain}/master/context.jsonld")


def test_an_unknown_bare_type_is_a_clear_error() -> None:
    """An uncatalogued bare type raises UnknownModel, which says how to name any model."""
    with pytest.raises(UnknownModel) as raised:
        lookup("Spaceship")
    assert isinstance(raised.value, DataModelsError)
    assert raised.value.name == "Spaceship"
    assert "Domain/Type" in str(raised.value)


@pytest.mark.parametrize("name", ["../ParkingSpot", "Parking/..", "Parking/", "/ParkingSpot", "a/b/c", "Park ing/X"])
def test_names_that_are_not_safe_path_segments_are_refused(name: str) -> None:
    """Domain and type become folder names and URL segments, so separators and dot-segments are refused."""
    with pytest.raises(InvalidModelName):
        lookup(name)
