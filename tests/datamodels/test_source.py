"""source: an offline directory -> models with compiled validators, @contexts by URL, load errors.

The shared pack is read in place; broken variants are built from partial copies in ``tmp_path``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from datamodels import LoadError, ModelRef, load
from datamodels.catalog import CATALOG
from datamodels.errors import SourceNotFound, UnknownModel
from tests.datamodels.sdm import NEEDS_SHARED, SHARED, example, shared_library

if not SHARED.is_dir():
    pytest.skip(NEEDS_SHARED, allow_module_level=True)

COMMON_SCHEMA = "https://smart-data-models.github.io/data-models/common-schema.json"


def partial_copy(tmp_path: Path, *domains: str) -> Path:
    """The common files and the named subject folders of the pack, copied into ``tmp_path`` with the
    maps (contexts.json only for the copied files)."""
    target = tmp_path / "source"
    target.mkdir()
    for folder in ("common", *domains):
        shutil.copytree(SHARED / folder, target / folder)
    shutil.copy(SHARED / "refs.json", target / "refs.json")
    contexts = json.loads((SHARED / "contexts.json").read_text())
    kept = {url: path for url, path in contexts.items() if (target / path).is_file()}
    (target / "contexts.json").write_text(json.dumps(kept))
    return target


def edit_json(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def reasons_for(errors: list[LoadError], path: Path) -> list[str]:
    return [error.reason for error in errors if error.file == path]


# ---- the shared pack -------------------------------------------------------------------------------------


def test_the_shared_pack_loads_all_34_models_without_errors() -> None:
    """Every model of the pack loads, keyed by type name, under the domain its folder names."""
    library = shared_library()
    assert library.errors == []
    assert {name: model.ref for name, model in library.models.items()} == CATALOG


def test_models_carry_their_schema_and_subject_context_url() -> None:
    """A model knows its schema (read from its folder) and its subject's conventional context URL."""
    model = shared_library().models["StreetlightModel"]
    assert model.ref == ModelRef("Streetlighting", "StreetlightModel")
    assert model.schema["required"] == ["id", "type", "name"]
    assert model.context_url == ModelRef("Streetlighting", "StreetlightModel").context_url


def test_models_with_the_same_id_are_kept_apart_by_path() -> None:
    """StreetlightModel declares Streetlight's $id; each still validates with its own schema."""
    library = shared_library()
    assert library.models["StreetlightModel"].schema["$id"] == library.models["Streetlight"].schema["$id"]
    assert library.models["StreetlightModel"].validate(example("StreetlightModel", "example.json")) == []
    assert [v.rule for v in library.models["Streetlight"].validate(example("StreetlightModel", "example.json"))]


def test_contexts_cover_the_mapped_urls_and_each_subject_but_not_the_core_context() -> None:
    """Every non-ETSI URL of contexts.json, and every subject's raw GitHub context URL, maps to that
    file's @context value."""
    contexts = shared_library().contexts
    mapped = json.loads((SHARED / "contexts.json").read_text())
    expected = {url for url in mapped if not url.startswith("https://uri.etsi.org/")}
    expected |= {ref.context_url for ref in CATALOG.values()}
    assert set(contexts) == expected
    parking = json.loads((SHARED / "Parking" / "context.jsonld").read_text())["@context"]
    assert contexts[CATALOG["ParkingSpot"].context_url] == parking
    assert contexts["https://smart-data-models.github.io/dataModel.Parking/context.jsonld"] == parking
    assert "ParkingSpot" in json.dumps(contexts["https://smartdatamodels.org/context.jsonld"])


@pytest.mark.parametrize(
    "name", ["ParkingSpot", "Parking/ParkingSpot", "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"]
)
def test_model_for_accepts_type_names_paths_and_iris(name: str) -> None:
    """A model is found by its type, its Domain/Type, or an IRI ending in the type."""
    assert shared_library().model_for(name).ref == CATALOG["ParkingSpot"]


def test_model_for_an_unknown_type_raises_unknown_model() -> None:
    """No model, no guess."""
    with pytest.raises(UnknownModel):
        shared_library().model_for("Spaceship")


def test_loading_only_some_types() -> None:
    """``types`` restricts what is loaded (Type or Domain/Type); a type not found is an error."""
    library = load(SHARED, types=["ParkingSpot", "Weather/WeatherObserved", "Spaceship"])
    assert set(library.models) == {"ParkingSpot", "WeatherObserved"}
    assert [error.reason for error in library.errors] == ["no <Domain>/<Type>/schema.json for Spaceship"]


def test_a_missing_directory_is_refused() -> None:
    """Not a directory: SourceNotFound, rather than an empty library."""
    with pytest.raises(SourceNotFound):
        load(SHARED / "no-such-folder")


# ---- broken sources --------------------------------------------------------------------------------------


def test_a_schema_that_is_not_json_is_an_error_and_the_others_load(tmp_path: Path) -> None:
    """Invalid JSON in one schema.json: a LoadError names the file; the other models load."""
    source = partial_copy(tmp_path, "Parking")
    broken = source / "Parking" / "ParkingSpot" / "schema.json"
    broken.write_text('{"type": "object",')
    library = load(source)
    assert set(library.models) == {"OffStreetParking", "OnStreetParking", "ParkingGroup"}
    assert [error.file for error in library.errors] == [broken]
    assert reasons_for(library.errors, broken)[0].startswith("invalid JSON")


def test_a_schema_that_is_not_a_valid_json_schema_is_an_error(tmp_path: Path) -> None:
    """A schema failing the 2020-12 metaschema is left out, with the metaschema's reason."""
    source = partial_copy(tmp_path, "Parking")
    broken = source / "Parking" / "ParkingGroup" / "schema.json"
    edit_json(broken, lambda schema: schema.update(required="refParkingSite"))
    library = load(source)
    assert "ParkingGroup" not in library.models and "ParkingSpot" in library.models
    (reason,) = reasons_for(library.errors, broken)
    assert reason.startswith("not a valid JSON Schema") and "required" in reason


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        (COMMON_SCHEMA + "#/definitions/NoSuchCommons", "'/definitions/NoSuchCommons' does not exist"),
        ("https://example.org/not-mapped.json#/definitions/x", "not available locally"),
        ("#/definitions/local", "'/definitions/local' does not exist"),
    ],
)
def test_an_unresolvable_ref_is_an_error_found_at_load_time(tmp_path: Path, ref: str, why: str) -> None:
    """Every $ref is resolved when loading, JSON pointer included; a model with one that fails is left out."""
    source = partial_copy(tmp_path, "Parking")
    broken = source / "Parking" / "ParkingSpot" / "schema.json"
    edit_json(broken, lambda schema: schema["allOf"].append({"$ref": ref}))
    library = load(source)
    assert "ParkingSpot" not in library.models and "OffStreetParking" in library.models
    (reason,) = reasons_for(library.errors, broken)
    assert repr(ref) in reason and why in reason


def test_refs_inside_shared_documents_are_checked_too(tmp_path: Path) -> None:
    """A broken pointer inside common-schema fails the models that reach it, not the others."""
    source = partial_copy(tmp_path, "Parking", "GBFS")
    common = source / "common" / "common-schema.json"
    edit_json(common, lambda doc: doc["definitions"]["PhysicalObject-Commons"].update({"$ref": "#/definitions/Nope"}))
    library = load(source)
    assert "station_information" in library.models  # does not use PhysicalObject-Commons
    assert "ParkingSpot" not in library.models
    (reason,) = reasons_for(library.errors, source / "Parking" / "ParkingSpot" / "schema.json")
    assert "'#/definitions/Nope'" in reason


def test_an_unreadable_shared_document_fails_the_models_that_need_it(tmp_path: Path) -> None:
    """Invalid JSON in a mapped $ref document: an error for that file and for each model that needs it."""
    source = partial_copy(tmp_path, "Parking", "UrbanMobility")
    gtfs = source / "common" / "dataModel.UrbanMobility" / "gtfs-schema.json"
    gtfs.write_text("not json")
    library = load(source)
    assert "PublicTransportStop" not in library.models
    assert {"ParkingSpot", "PublicTransportRoute"} <= set(library.models)
    assert reasons_for(library.errors, gtfs)[0].startswith("invalid JSON")
    (reason,) = reasons_for(library.errors, source / "UrbanMobility" / "PublicTransportStop" / "schema.json")
    assert "gtfs-schema.json" in reason and "not available locally" in reason


def test_a_shared_document_that_is_not_a_valid_schema_fails_the_models_that_reach_it(tmp_path: Path) -> None:
    """Shared documents are metaschema-checked too (when a model first reaches them), so validation
    never meets a broken schema."""
    source = partial_copy(tmp_path, "Parking", "Weather")
    weather = source / "common" / "dataModel.Weather" / "weather-schema.json"
    edit_json(weather, lambda doc: doc.update(type=5))
    library = load(source)
    assert "ParkingSpot" in library.models and "WeatherObserved" not in library.models
    (reason,) = reasons_for(library.errors, source / "Weather" / "WeatherObserved" / "schema.json")
    assert "leads to a document that is not a valid JSON Schema" in reason


def test_without_refs_json_only_self_contained_models_load(tmp_path: Path) -> None:
    """No refs.json is allowed: nothing remote resolves, so models that $ref remote documents fail."""
    source = partial_copy(tmp_path, "Parking")
    (source / "refs.json").unlink()
    (source / "Parking" / "Mini").mkdir()
    (source / "Parking" / "Mini" / "schema.json").write_text(json.dumps({"type": "object", "required": ["id"]}))
    library = load(source)
    assert set(library.models) == {"Mini"}
    assert len(library.errors) == 4
    assert library.models["Mini"].validate({}) != []


def test_a_context_file_without_context_member_is_an_error(tmp_path: Path) -> None:
    """A mapped @context file must hold an @context member; its URLs are then left out."""
    source = partial_copy(tmp_path, "Parking")
    (source / "Parking" / "context.jsonld").write_text("{}")
    library = load(source)
    assert CATALOG["ParkingSpot"].context_url not in library.contexts
    assert [error.file for error in library.errors] == [source / "Parking" / "context.jsonld"]
    assert "ParkingSpot" in library.models
