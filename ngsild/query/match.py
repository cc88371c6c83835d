"""The reference semantics: does an entity document satisfy a query value."""

from __future__ import annotations

from collections.abc import Iterable

from ngsild.query.ast import TypeSelector


def types_match(selector: TypeSelector, entity_types: Iterable[str]) -> bool:
    have = set(entity_types)
    return any(group <= have for group in selector.groups)
