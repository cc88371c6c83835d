"""Parsers for the NGSI-LD query languages (text -> AST), with positions in syntax errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time

from ngsild.errors import BadRequestData
from ngsild.model import is_name, is_uri
from ngsild.query.ast import (
    And,
    Compare,
    Direction,
    Exists,
    Literal,
    Op,
    Or,
    OrderKey,
    Path,
    Pattern,
    Q,
    Range,
    ScopePattern,
    ScopeQuery,
    Segment,
    Temporal,
    TypeSelector,
)
from ngsild.query.regex import Regex, RegexError, compile_regex

Expand = Callable[[str], str]
MAX_QUERY_LENGTH = 8192


def parse_type_selector(text: str, expand: Expand) -> TypeSelector:
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
        raise BadRequestData(f"{parameter}={text!r}: linked-entity projection needs join, which is not supported")
    names = text.replace("|", ",").split(",")
    for index, name in enumerate(names):
        if not name:
            raise BadRequestData(f"{parameter}={text!r}: empty name at item {index + 1}")
        if not is_name(name):
            raise BadRequestData(f"{parameter}={text!r}: {name!r} is not a valid attribute name")
    return names


# ---- literals --------------------------------------------------------------------------------------

NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?Z")


def temporal(text: str) -> Temporal | None:
    """A DateTime, Date or Time literal, or None when ``text`` is none of them."""
    try:
        if _DATETIME.fullmatch(text):
            return Temporal(text, datetime.fromisoformat(text.replace(",", ".")[:-1] + "+00:00"))
        if _DATE.fullmatch(text):
            return Temporal(text, date.fromisoformat(text))
        if _TIME.fullmatch(text):
            return Temporal(text, time.fromisoformat(text.replace(",", ".")[:-1]))
    except ValueError:
        return None
    return None


def _literal(text: str, where: int, query: str) -> Literal:
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise _syntax(query, where, f"{text} is not a valid quoted string") from None
        if not isinstance(value, str):
            raise _syntax(query, where, f"{text} is not a quoted string")
        return value
    if text in ("true", "false"):
        return text == "true"
    if NUMBER.fullmatch(text):
        number = float(text)
        return int(text) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    moment = temporal(text)
    if moment is not None:
        return moment
    if is_uri(text):
        return text
    raise _syntax(query, where, f"{text!r} is not a number, true/false, a date/time, a URI or a double-quoted string")


def _syntax(query: str, position: int, message: str) -> BadRequestData:
    return BadRequestData(f"q={query!r}: {message} (at position {position})")


# ---- q ---------------------------------------------------------------------------------------------

_OPERATORS = ("==", "!=", ">=", "<=", "!~=", "~=", ">", "<")
_NAME_CHARS = re.compile(r"[^\s.\[\]{}();|,=!<>~\"]+")


class _QParser:
    def __init__(
        self,
        text: str,
        expand: Expand,
        expand_values: frozenset[str] = frozenset(),
        json_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.text, self.expand, self.pos = text, expand, 0
        self.expand_values, self.json_keys = expand_values, json_keys

    def error(self, message: str, position: int | None = None) -> BadRequestData:
        return _syntax(self.text, self.pos if position is None else position, message)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Q:
        node = self.disjunction(0)
        if self.pos < len(self.text):
            raise self.error(f"unexpected {self.peek()!r}")
        return node

    def disjunction(self, depth: int) -> Q:
        terms = [self.conjunction(depth)]
        while self.peek() == "|":
            self.pos += 1
            terms.append(self.conjunction(depth))
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def conjunction(self, depth: int) -> Q:
        terms = [self.term(depth)]
        while self.peek() == ";":
            self.pos += 1
            terms.append(self.term(depth))
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def term(self, depth: int) -> Q:
        if self.peek() == "(":
            self.pos += 1
            node = self.disjunction(depth + 1)
            if self.peek() != ")":
                raise self.error("expected ')'")
            self.pos += 1
            return node
        if self.peek() == "!" and not self.text.startswith(("!=", "!~="), self.pos):
            self.pos += 1
            return Exists(self.path(), negated=True)
        path = self.path()
        operator = next((op for op in _OPERATORS if self.text.startswith(op, self.pos)), None)
        if operator is None:
            if self.peek() in ("", ";", "|", ")"):
                return Exists(path)
            raise self.error(f"expected an operator (==, !=, >, >=, <, <=, ~=, !~=) after {path}")
        self.pos += len(operator)
        start = self.pos
        if operator in ("~=", "!~="):
            return Pattern(path, self.regex(depth, start), negated=operator == "!~=")
        raw = self.value_text(depth)
        if not raw:
            raise self.error(f"{path}{operator} has no value", start)
        return self.comparison(path, Op(operator), raw, start)

    def path(self) -> Path:
        start = self.pos
        names = [self.name()]
        while self.peek() == ".":
            self.pos += 1
            names.append(self.name())
        keys = None
        if self.peek() == "[":
            self.pos += 1
            keys = [self.name(key=True)]
            while self.peek() == ".":
                self.pos += 1
                keys.append(self.name(key=True))
            if self.peek() != "]":
                raise self.error("expected ']'")
            self.pos += 1
        if self.peek() == "{":
            raise self.error("linked-entity queries (attr{...}) need join, which is not supported", start)
        attr, *members = names
        return Path(
            Segment(attr, self.expand(attr)),
            tuple(Segment(m, self.expand(m)) for m in members),
            None if keys is None else tuple(Segment(k, self.expand(k) if is_name(k) else k) for k in keys),
        )

    def name(self, *, key: bool = False) -> str:
        match = _NAME_CHARS.match(self.text, self.pos)
        if match is None:
            raise self.error("expected an attribute name")
        name = match.group()
        if not key and not is_name(name):
            raise self.error(f"{name!r} is not a valid attribute name")
        self.pos = match.end()
        return name

    def value_text(self, depth: int) -> str:
        """The raw value: up to an unquoted ';' or '|', or a ')' closing an open group."""
        start = self.pos
        try:
            self.pos = _scan(self.text, start, lambda t, i: t[i] in ";|" or (t[i] == ")" and depth > 0))
        except ValueError:
            raise self.error("a quoted string is never closed", start) from None
        return self.text[start : self.pos]

    def regex(self, depth: int, start: int) -> Regex:
        if self.peek() == '"':
            raw = self.value_text(depth)
            source = _literal(raw, start, self.text)
            assert isinstance(source, str)
        else:
            # An unquoted regex runs to ';' or '|' outside its own parentheses, or to a ')' closing
            # an enclosing group of the query.
            nesting, escaped = 0, False
            while self.pos < len(self.text):
                ch = self.text[self.pos]
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == "(":
                    nesting += 1
                elif ch == ")":
                    if nesting == 0 and depth > 0:
                        break
                    nesting -= 1
                elif ch in ";|" and nesting == 0:
                    break
                self.pos += 1
            source = self.text[start : self.pos]
        if not source:
            raise self.error("the pattern is empty", start)
        try:
            return compile_regex(source)
        except RegexError as exc:
            raise self.error(f"invalid regular expression: {exc}", start) from None

    def comparison(self, path: Path, op: Op, raw: str, start: int) -> Compare:
        # A DateTime or Time may use a decimal comma (§4.6.3): it is one value, not a list.
        items = [raw] if temporal(raw) is not None else _split_outside_quotes(raw, ",")
        if len(items) > 1:
            if op not in (Op.EQ, Op.NE):
                raise self.error(f"a value list needs == or !=, not {op}", start)
            values = tuple(_literal(item, start, self.text) for item in items)
            return Compare(path, op, values, self.vocab(values), self.expanded(path))
        bounds = _split_outside_quotes(raw, "..")
        if len(bounds) == 2 and all(bounds) and op in (Op.EQ, Op.NE):
            low, high = (_literal(b, start, self.text) for b in bounds)
            if not _comparable(low) or not _comparable(high):
                raise self.error("range bounds must be numbers, strings or dates/times", start)
            return Compare(path, op, Range(low, high))
        value = _literal(raw, start, self.text)
        if op not in (Op.EQ, Op.NE) and not _comparable(value):
            raise self.error(f"{op} needs a number, a quoted string or a date/time, not {raw!r}", start)
        return Compare(path, op, value, self.vocab((value,)), self.expanded(path))

    def vocab(self, values: tuple[Literal, ...]) -> tuple[str, ...]:
        return tuple(self.expand(v) for v in values if isinstance(v, str) and is_name(v))

    def expanded(self, path: Path) -> bool:
        # jsonKeys: the value is plain JSON, compared as written even when expandValues names it too.
        # (Keys inside values are matched as stored or as written in any case, see match._descend.)
        return path.attr.name in self.expand_values and path.attr.name not in self.json_keys


def _comparable(value: Literal) -> bool:
    return isinstance(value, str | Temporal) or (isinstance(value, int | float) and not isinstance(value, bool))


def _scan(text: str, start: int, stop: Callable[[str, int], bool]) -> int:
    """The index of the first position from ``start`` outside double-quoted strings (backslash
    escapes honoured) where ``stop`` holds, or ``len(text)``. ValueError if a string is left open."""
    quoted = escaped = False
    for index in range(start, len(text)):
        ch = text[index]
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif stop(text, index):
            return index
    if quoted:
        raise ValueError("unclosed string")
    return len(text)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    start = 0
    while True:
        end = _scan(text, start, lambda t, i: t.startswith(separator, i))
        parts.append(text[start:end])
        if end == len(text):
            return parts
        start = end + len(separator)


def parse_q(
    text: str, expand: Expand, *, expand_values: frozenset[str] = frozenset(), json_keys: frozenset[str] = frozenset()
) -> Q:
    """The NGSI-LD Query Language (§4.9); names expanded with ``expand``. String values compared
    with an attribute named in ``expand_values`` also match in their expanded form, unless
    ``json_keys`` names it as plain JSON (§4.9)."""
    if not text:
        raise BadRequestData("q is empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequestData(f"q is longer than {MAX_QUERY_LENGTH} characters")
    return _QParser(text, expand, expand_values, json_keys).parse()


def parse_path(text: str, expand: Expand, parameter: str) -> Path:
    """One attribute path as q writes it (``name.sub[key]``), standing alone."""
    parser = _QParser(text, expand)
    try:
        path = parser.path()
    except BadRequestData:
        raise BadRequestData(f"{parameter}: {text!r} is not an attribute path") from None
    if parser.pos != len(text):
        raise BadRequestData(f"{parameter}: {text!r} is not an attribute path (unexpected {parser.peek()!r})")
    return path


# ---- orderBy (§5.8) --------------------------------------------------------------------------------

_ENTITY_ORDER_MEMBERS = frozenset({"id", "type", "scope"})


def parse_order_by(text: str, expand: Expand) -> tuple[OrderKey, ...]:
    """``name,age;desc``, ``address[city]``, ``location;dist-asc``: terms applied in sequence."""
    if not text:
        raise BadRequestData("orderBy is empty")
    keys = []
    for term in _split_outside_brackets(text, ","):
        name, _, direction_text = term.partition(";")
        try:
            direction = Direction(direction_text or "asc")
        except ValueError:
            allowed = ", ".join(d.value for d in Direction)
            raise BadRequestData(f"orderBy={text!r}: unknown direction {direction_text!r}; use {allowed}") from None
        if name in _ENTITY_ORDER_MEMBERS:
            if direction in (Direction.DIST_ASC, Direction.DIST_DESC):
                raise BadRequestData(f"orderBy={text!r}: {direction} orders by a GeoProperty, not by {name}")
            keys.append(OrderKey(direction, member=name))
        else:
            keys.append(OrderKey(direction, path=parse_path(name, expand, f"orderBy={text!r}")))
    return tuple(keys)


def _split_outside_brackets(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


# ---- scopeQ ----------------------------------------------------------------------------------------


def _scope_pattern(text: str, query: str) -> ScopePattern:
    if text == "/#":
        return ScopePattern((), descendants=True)
    descendants = text.endswith("/#")
    body = text[:-2] if descendants else text
    if not body.startswith("/"):
        raise BadRequestData(f"scopeQ={query!r}: the scope {text!r} must start with '/'")
    levels = tuple(body[1:].split("/"))
    for level in levels:
        if level != "+" and not (level and level[0].isalpha() and all(c.isalnum() or c == "_" for c in level)):
            raise BadRequestData(f"scopeQ={query!r}: {level!r} is not a scope level (a name or '+')")
    return ScopePattern(levels, descendants)


def parse_scope_query(text: str) -> ScopeQuery:
    """scopeQ (§4.19): ``/a/b``, ``/a/+/c``, ``/a/#``, ``/#``, ``(/a;/b)``, ``/a,/b`` or ``/a|/b``."""
    if not text:
        raise BadRequestData("scopeQ is empty")
    groups: list[tuple[ScopePattern, ...]] = []
    position = 0
    while position <= len(text):
        if text.startswith("(", position):
            close = text.find(")", position)
            if close < 0:
                raise BadRequestData(f"scopeQ={text!r}: '(' at position {position} is never closed")
            groups.append(tuple(_scope_pattern(p, text) for p in text[position + 1 : close].split(";")))
            position = close + 1
        else:
            end = min((i for i in (text.find(",", position), text.find("|", position)) if i >= 0), default=len(text))
            groups.append((_scope_pattern(text[position:end], text),))
            position = end
        if position == len(text):
            break
        if text[position] not in ",|":
            raise BadRequestData(f"scopeQ={text!r}: expected ',' or '|' at position {position}")
        position += 1
    return ScopeQuery(tuple(groups))
