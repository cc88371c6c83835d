"""Ingest validation against Smart Data Models: which entity types have a model, the policy for each
(off, warn, enforce), and the check of an entity as it will be stored.

The check sees what the store would hold: the entity document after the write, compacted with the
model's own @context and simplified to keyValues, which is the shape the model's JSON Schema
describes. Every write path (create, replace, merge, attribute writes, each batch item) passes
through ``Admission.check`` in ``services.entities``, so there is one rule and one place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ngsild import render
from ngsild.contexts import ContextResolver
from ngsild.errors import BadRequestData
from ngsild.jsonld import TermMap
from ngsild.model import Doc

if TYPE_CHECKING:  # imported when models are loaded: jsonschema costs ~90 ms of every cold start
    import datamodels

POLICIES = ("off", "warn", "enforce")
log = logging.getLogger("ngsild.datamodels")

# The warnings of the current request (warn policy), which the HTTP edge turns into a header. A
# list is set per request; batch items running in child tasks append to the same list.
WARNINGS: ContextVar[list[str] | None] = ContextVar("datamodel_warnings", default=None)


@dataclass(frozen=True, slots=True)
class Governed:
    """An entity type with a data model, and what happens to entities that break it."""

    name: str  # the model's type name, e.g. ParkingSpot
    type_iri: str  # the type as expanded by the model's @context
    model: datamodels.Model
    term_map: TermMap
    policy: str


@dataclass(frozen=True, slots=True)
class Admission:
    governed: Mapping[str, Governed] = field(default_factory=dict)  # by type IRI
    load_errors: tuple[str, ...] = ()

    def check(self, doc: Doc) -> None:
        """Reject (enforce) or report (warn) an entity that breaks the model of one of its types."""
        for type_iri in doc["type"]:
            governed = self.governed.get(type_iri)
            if governed is None or governed.policy == "off":
                continue
            violations = governed.model.validate(_key_values(doc, governed.term_map))
            if not violations:
                continue
            listed = "; ".join(f"{v.path} ({v.rule}): {v.message}" for v in violations)
            detail = f"the entity {doc['id']} breaks the Smart Data Model {governed.name}: {listed}"
            if governed.policy == "enforce":
                members: dict[str, object] = {
                    "dataModel": governed.name,
                    "violations": [{"path": v.path, "rule": v.rule, "message": v.message} for v in violations],
                }
                raise BadRequestData(detail, instance=doc["id"], members=members)
            log.warning("%s", detail)
            warnings = WARNINGS.get()
            if warnings is not None:
                warnings.append(f"{doc['id']} breaks {governed.name} ({len(violations)} violations)")


def _key_values(doc: Doc, term_map: TermMap) -> dict[str, Any]:
    """The stored entity as the model's schema sees it: compacted with the model's context, simplified."""
    from datamodels import simplify

    return simplify(render.entity(doc, term_map, render.RenderOptions()))


def parse_policies(default: str, overrides: str | None) -> tuple[str, dict[str, str]]:
    """The default policy and the per-type overrides (``ParkingSpot=warn,Vehicle=off``); ValueError if malformed."""
    if default not in POLICIES:
        raise ValueError(f"--validation {default!r} must be one of {', '.join(POLICIES)}")
    per_type: dict[str, str] = {}
    for item in (overrides or "").split(","):
        if not item.strip():
            continue
        name, _, policy = item.partition("=")
        if policy not in POLICIES or not name.strip():
            raise ValueError(f"--validation-types item {item!r} must be TYPE=off|warn|enforce")
        per_type[name.strip()] = policy
    return default, per_type


async def load(directory: str | None, default: str, overrides: str | None, contexts: ContextResolver) -> Admission:
    """The models found in ``directory`` with their policies; their @contexts become known to
    ``contexts`` so entities posted with a model's context URL expand without a network fetch.
    A model that cannot be loaded is reported (and its type left unvalidated); the others serve."""
    default, per_type = parse_policies(default, overrides)
    if directory is None:
        return Admission()
    import datamodels

    library = datamodels.load(Path(directory))
    unknown = sorted(set(per_type) - set(library.models))
    if unknown:
        raise ValueError(f"--validation-types names types with no model in {directory}: {', '.join(unknown)}")
    for url, document in library.contexts.items():
        contexts.preload(url, document)
    governed: dict[str, Governed] = {}
    for name, model in sorted(library.models.items()):
        term_map = await contexts.term_map(model.context_url)
        type_iri = term_map.expand(name)
        governed[type_iri] = Governed(name, type_iri, model, term_map, per_type.get(name, default))
    errors = tuple(str(error) for error in library.errors)
    for error in errors:
        log.error("data model not loaded: %s", error)
    return Admission(governed, errors)
