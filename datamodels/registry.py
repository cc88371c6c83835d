"""The offline ``$ref`` registry of a source directory, and the load-time check that refs resolve.

Every document listed in refs.json is registered under its remote URL and under its own ``$id``:
the two differ for documents referred to by an alias URL, and a document's internal references
resolve against its ``$id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchAnchor, PointerToNowhere, Unresolvable
from referencing.jsonschema import DRAFT202012

from datamodels.layout import REFS_FILE, LoadError, read_json, read_map
from datamodels.refs import iter_refs


def offline_registry(directory: Path, errors: list[LoadError]) -> Registry[Any]:
    """The documents of ``directory``'s refs.json; unreadable ones are reported in ``errors`` and left out."""
    resources: list[tuple[str, Resource[Any]]] = []
    by_file: dict[Path, Resource[Any] | None] = {}  # aliases share a file: read it once
    for url, file in read_map(directory, REFS_FILE, errors).items():
        if file not in by_file:
            by_file[file] = _resource(file, errors)
        resource = by_file[file]
        if resource is None:
            continue
        resources.append((urldefrag(url).url, resource))
        own_id = resource.contents.get("$id")
        if isinstance(own_id, str) and own_id:
            resources.append((urldefrag(own_id).url, resource))
    return Registry().with_resources(resources)


def _resource(file: Path, errors: list[LoadError]) -> Resource[Any] | None:
    document = read_json(file)
    if isinstance(document, LoadError):
        errors.append(document)
        return None
    if not isinstance(document, dict):
        errors.append(LoadError(file, "the schema is not a JSON object"))
        return None
    # create_resource, not Resource.from_contents: a shared schema declares a non-specific $schema.
    return DRAFT202012.create_resource(document)


def schema_problem(document: Any) -> str | None:
    """Why ``document`` is not a usable JSON Schema document (None when it is)."""
    if not isinstance(document, dict):
        return "the schema is not a JSON object"
    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        where = "/".join(str(segment) for segment in exc.absolute_path)
        return f"not a valid JSON Schema: {exc.message} (at /{where})"
    return None


@dataclass
class RefChecker:
    """Checks that every ``$ref`` reachable from a schema resolves offline, JSON-pointer fragment
    included, into a document that is itself a valid JSON Schema.

    Shared documents are metaschema-checked when first reached, once per checker: loading a few
    types does not pay for the documents they never use, and many models share one document.
    """

    registry: Registry[Any]
    _document_problems: dict[int, str | None] = field(default_factory=dict)  # by id() of a registry document

    def problem(self, schema: dict[str, Any]) -> str | None:
        """Why the first failing ``$ref`` reachable from ``schema`` fails; None when all of them resolve.

        Refs resolve against their document's base URI; a nested ``$id`` that would move the base inside
        a document is not followed (no Smart Data Model has one)."""
        pending = [(schema, self.registry.resolver_with_root(DRAFT202012.create_resource(schema)))]
        seen = {id(schema)}
        while pending:
            node, resolver = pending.pop()
            for ref in iter_refs(node):
                try:
                    resolved = resolver.lookup(ref)
                    document = resolver.lookup(ref.partition("#")[0]).contents
                except Unresolvable as exc:
                    return f"cannot resolve $ref {ref!r} offline: {_why(exc)}"
                problem = self._document_problem(document, schema)
                if problem is not None:
                    return f"$ref {ref!r} leads to a document that is {problem}"
                # Identity is enough: the registry hands out the same parsed objects on every lookup.
                if id(resolved.contents) not in seen:
                    seen.add(id(resolved.contents))
                    pending.append((resolved.contents, resolved.resolver))
        return None

    def _document_problem(self, document: Any, root: dict[str, Any]) -> str | None:
        if document is root:
            return None  # the model schema itself, checked by the caller
        key = id(document)
        if key not in self._document_problems:
            self._document_problems[key] = schema_problem(document)
        return self._document_problems[key]


def _why(exc: Unresolvable) -> str:
    if isinstance(exc, PointerToNowhere):
        return f"the JSON pointer {exc.ref!r} does not exist in its document"
    if isinstance(exc, NoSuchAnchor):
        return f"the anchor {exc.anchor!r} does not exist in its document"
    # A plain Unresolvable is what a lookup raises for a document the registry does not hold.
    return f"the document is not available locally (absent from {REFS_FILE})"
