"""Parsers for the NGSI-LD query languages (text -> AST), with positions in syntax errors."""

from __future__ import annotations

from collections.abc import Callable

from ngsild.errors import BadRequestData
from ngsild.model import is_name
from ngsild.query.ast import TypeSelector


def parse_type_selector(text: str, expand: Callable[[str], str]) -> TypeSelector:
    """Entity Type Selection Language (§4.17): ``A``, ``A,B``, ``A|B``, ``(A;B)``, ``(A;B),C``."""
    groups: list[frozenset[str]] = []
    position = 0
    length = len(text)
    while True:
        if position < length and text[position] == "(":
            close = text.find(")", position)
            if close < 0:
                raise BadRequestData(f"type expression {text!r}: '(' at position {position} is never closed")
            names = text[position + 1 : close].split(";")
            position = close + 1
        else:
            end = position
            while end < length and text[end] not in ",|":
                end += 1
            names = [text[position:end]]
            position = end
        for name in names:
            if not is_name(name):
                raise BadRequestData(f"type expression {text!r}: {name!r} is not a valid entity type name")
        groups.append(frozenset(expand(n) for n in names))
        if position == length:
            break
        if text[position] not in ",|":
            raise BadRequestData(f"type expression {text!r}: expected ',' or '|' at position {position}")
        position += 1
    return TypeSelector(tuple(groups))


def parse_projection(text: str, parameter: str) -> list[str]:
    """A pick/omit/attrs list (§4.21): names separated by ',' or '|'. Linked-entity terms
    (``rel{attr}``) need ``join``, which this broker does not offer yet, so they are refused."""
    if not text:
        raise BadRequestData(f"{parameter} is empty")
    if "{" in text or "}" in text:
        raise BadRequestData(
            f"{parameter}={text!r}: linked-entity projection needs join, which is not supported"
        )
    names = text.replace("|", ",").split(",")
    for index, name in enumerate(names):
        if not name:
            raise BadRequestData(f"{parameter}={text!r}: empty name at item {index + 1}")
        if not is_name(name):
            raise BadRequestData(f"{parameter}={text!r}: {name!r} is not a valid attribute name")
    return names
