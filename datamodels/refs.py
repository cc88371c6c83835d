"""Finding the ``$ref``s of a schema document, for the load-time resolution check and for pulling.

Only schema positions are searched: the members of ``enum``, ``const``, ``default`` and ``examples``
are data, and a ``$ref`` key inside them is not a reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

# Keywords whose value maps names to subschemas (a property called "enum" is still a schema).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"})
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


def iter_refs(schema: Any) -> Iterator[str]:
    """Every ``$ref`` string in ``schema``, in document order (duplicates included)."""
    if isinstance(schema, list):
        for item in schema:
            yield from iter_refs(item)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            yield value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            for subschema in value.values():
                yield from iter_refs(subschema)
        elif key not in _DATA_KEYWORDS:
            yield from iter_refs(value)


def remote_documents(schema: Any, base_url: str) -> list[str]:
    """The distinct http(s) documents ``schema`` refers to, fragments stripped, in first-use order.

    Relative references resolve against the document's own ``$id`` when it has one, else ``base_url``
    (where it was downloaded from); references into the document itself are not remote.
    """
    own_id = schema.get("$id") if isinstance(schema, dict) else None
    base = own_id if isinstance(own_id, str) and own_id else base_url
    here = {urldefrag(base).url, urldefrag(base_url).url}
    found: dict[str, None] = {}
    for ref in iter_refs(schema):
        url = urldefrag(urljoin(base, ref)).url
        if url not in here and urlsplit(url).scheme in ("http", "https"):
            found.setdefault(url, None)
    return list(found)
