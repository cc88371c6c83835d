"""Load an offline source directory (see ``layout``) into a ``Library`` of ready-to-use models.

Nothing here touches the network: every ``$ref`` is checked to resolve locally when the model is
loaded, so validation never needs to fetch. A model that cannot be loaded is left out and its
reason recorded in ``Library.errors``; the others load regardless.

Model schemas are keyed by their path (``<Domain>/<Type>``), never by ``$id``: upstream, two models
share one ``$id`` and others have ``$id``s whose case differs from their folder.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datamodels.catalog import ModelRef, subject_context_url
from datamodels.errors import SourceNotFound, UnknownModel
from datamodels.layout import COMMON_DIR, CONTEXT_FILE, CONTEXTS_FILE, SCHEMA_FILE, LoadError, read_json, read_map
from datamodels.registry import RefChecker, offline_registry, schema_problem
from datamodels.simplify import simplify
from datamodels.validator import Violation, compile_validator, violations

_CORE_CONTEXT_PREFIX = "https://uri.etsi.org/"  # the broker bundles the core context itself


@dataclass(frozen=True, eq=False)
class Model:
    """A loaded model: its schema and the validator compiled once for it."""

    ref: ModelRef
    schema: dict[str, Any]
    context_url: str
    _validator: Any = field(repr=False)

    def validate(self, key_values: Mapping[str, Any]) -> list[Violation]:
        """The violations of a keyValues instance (an empty list when it is valid)."""
        return violations(self._validator, key_values)

    def validate_entity(self, entity: Mapping[str, Any]) -> list[Violation]:
        """The violations of an NGSI-LD entity in any representation, once simplified."""
        return self.validate(simplify(entity))


@dataclass(frozen=True)
class Library:
    """What a source directory holds: models by type name, ``@context`` values by URL, load errors."""

    models: dict[str, Model]
    contexts: dict[str, Any]
    errors: list[LoadError]

    def model_for(self, entity_type: str) -> Model:
        """The model of an entity type given as ``Type``, ``Domain/Type`` or an IRI ending in the type."""
        model = self.models.get(type_name_of(entity_type))
        if model is None:
            raise UnknownModel(entity_type, f"no model for type {entity_type!r} in this source")
        return model


def type_name_of(entity_type: str) -> str:
    """The last segment of a type IRI (``https://.../dataModel.Parking/ParkingSpot`` -> ``ParkingSpot``)."""
    return entity_type.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def load(directory: Path, types: Collection[str] | None = None) -> Library:
    """Load every model of ``directory``, or only ``types`` (each ``Type`` or ``Domain/Type``).

    Raises SourceNotFound when ``directory`` is not a directory; everything else is a LoadError.
    """
    if not directory.is_dir():
        raise SourceNotFound(f"{directory} is not a directory")
    errors: list[LoadError] = []
    registry = offline_registry(directory, errors)
    refs = RefChecker(registry)
    wanted = None if types is None else set(types)
    matched: set[str] = set()
    models: dict[str, Model] = {}
    for path in sorted(directory.glob(f"*/*/{SCHEMA_FILE}")):
        domain, type_name = path.parent.parent.name, path.parent.name
        if domain == COMMON_DIR:
            continue
        if wanted is not None:
            names = {type_name, f"{domain}/{type_name}"} & wanted
            if not names:
                continue
            matched |= names
        if type_name in models:
            errors.append(LoadError(path, f"type {type_name} is already loaded from {models[type_name].ref}"))
            continue
        loaded = _load_model(path, domain, type_name, refs)
        if isinstance(loaded, LoadError):
            errors.append(loaded)
        else:
            models[type_name] = loaded
    for name in sorted((wanted or set()) - matched):
        errors.append(LoadError(directory, f"no <Domain>/<Type>/{SCHEMA_FILE} for {name}"))
    return Library(models, _contexts(directory, errors), errors)


def _load_model(path: Path, domain: str, type_name: str, refs: RefChecker) -> Model | LoadError:
    try:
        ref = ModelRef(domain, type_name)
    except ValueError as exc:
        return LoadError(path, str(exc))
    schema = read_json(path)
    if isinstance(schema, LoadError):
        return schema
    problem = schema_problem(schema) or refs.problem(schema)
    if problem is not None:
        return LoadError(path, problem)
    return Model(ref, schema, ref.context_url, compile_validator(schema, refs.registry))


def _contexts(directory: Path, errors: list[LoadError]) -> dict[str, Any]:
    """The ``@context`` value for every context URL that contexts.json maps (core context URLs
    excepted), and for each subject's conventional context URL."""
    files = {
        url: file
        for url, file in read_map(directory, CONTEXTS_FILE, errors).items()
        if not url.startswith(_CORE_CONTEXT_PREFIX)
    }
    for file in sorted(directory.glob(f"*/{CONTEXT_FILE}")):
        if file.parent.name != COMMON_DIR:
            files.setdefault(subject_context_url(file.parent.name), file)
    values: dict[Path, Any] = {}  # several URLs often name one file: read it once
    for file in sorted(set(files.values())):
        document = read_json(file)
        if isinstance(document, LoadError):
            errors.append(document)
        elif not isinstance(document, dict) or "@context" not in document:
            errors.append(LoadError(file, "the document has no top-level @context member"))
        else:
            values[file] = document["@context"]
    return {url: values[file] for url, file in sorted(files.items()) if file in values}
