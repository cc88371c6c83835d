"""Parsed query values: frozen, hashable, compiled once and reused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TypeSelector:
    """A type expression in disjunctive normal form: the entity matches when it has every type of
    at least one group. ``(A;B),C`` is ``groups=({A, B}, {C})``. Types are expanded IRIs."""

    groups: tuple[frozenset[str], ...]
