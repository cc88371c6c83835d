"""Hypothesis strategies for the query tests: q ASTs with a renderer (for parse(render(q)) == q), simple
POSIX EREs that Python's ``re`` reads the same way (the oracle), and stored entity documents."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from hypothesis import strategies as st

from ngsild import updates, validate
from ngsild.jsonld import CORE_TERM_MAP
from ngsild.model import Doc, is_name
from ngsild.query.ast import (
    And,
    Compare,
    Exists,
    Literal,
    Op,
    Or,
    Path,
    Pattern,
    Q,
    Range,
    Segment,
    Temporal,
)
from ngsild.query.regex import compile_regex

NOW = "2025-01-01T00:00:00Z"


def expand(name: str) -> str:
    """The identity-like expansion the q tests use: every name lands in one made-up vocabulary."""
    return "http://ex/" + name


def stored(payload: dict[str, Any], entity_id: str = "urn:ngsi-ld:Thing:1", type_: str = "Thing") -> Doc:
    """A normalized entity payload as the store holds it (validated with the core context, created)."""
    body = {"id": entity_id, "type": type_, **payload}
    return updates.create(validate.entity(body, CORE_TERM_MAP, validate.CREATE), NOW)


# ---- q ASTs ----------------------------------------------------------------------------------------

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ALNUM = _LOWER + _LOWER.upper() + "0123456789"

identifiers = st.builds(lambda a, b: a + b, st.sampled_from(_LOWER), st.text(_ALNUM + "_", max_size=5))


def segment(name: str) -> Segment:
    return Segment(name, expand(name))


def key_segment(name: str) -> Segment:
    return Segment(name, expand(name) if is_name(name) else name)


paths = st.builds(
    Path,
    identifiers.map(segment),
    st.lists(identifiers.map(segment), max_size=2).map(tuple),
    st.one_of(
        st.none(),
        st.lists(st.one_of(identifiers, st.just("*")).map(key_segment), min_size=1, max_size=2).map(tuple),
    ),
)

_datetime_values = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1))


def _datetime_literal(moment: datetime, fraction: bool) -> Temporal:
    if not fraction:
        moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")
    return Temporal(text, moment.replace(tzinfo=UTC, fold=0))


def _time_literal(moment: time) -> Temporal:
    return Temporal(moment.strftime("%H:%M:%SZ"), moment.replace(microsecond=0, fold=0))


temporals = st.one_of(
    st.builds(_datetime_literal, _datetime_values, st.booleans()),
    st.dates(min_value=date(1970, 1, 1)).map(lambda d: Temporal(d.isoformat(), d)),
    st.times().map(_time_literal),
)
"""DateTime (with or without fraction), Date and Time literals with the values they denote."""

numbers = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False))
strings = st.text(st.characters(blacklist_characters='"', blacklist_categories=["Cs"]), max_size=8)
"""Quoted-string contents. '"' is left out here: escaped quotes have their own test (a known bug)."""
unquoted_uris = st.one_of(
    st.builds(
        lambda a, b: f"urn:{a}:{b}",
        st.text(_LOWER, min_size=1, max_size=4),
        st.text(_ALNUM, min_size=1, max_size=6),
    ),
    st.builds(lambda a: f"https://ex.org/{a}", st.text(_LOWER + "/", min_size=1, max_size=6)),
)
comparables: st.SearchStrategy[Literal] = st.one_of(numbers, strings, temporals)
values: st.SearchStrategy[Literal] = st.one_of(comparables, st.booleans(), unquoted_uris)


def vocab_of(items: tuple[Literal, ...]) -> tuple[str, ...]:
    return tuple(expand(v) for v in items if isinstance(v, str) and is_name(v))


@st.composite
def compares(draw: st.DrawFn) -> Compare:
    path = draw(paths)
    op = draw(st.sampled_from(Op))
    if op not in (Op.EQ, Op.NE):
        value = draw(comparables)
        return Compare(path, op, value, vocab_of((value,)))
    shape = draw(st.sampled_from(["one", "list", "range"]))
    if shape == "range":
        return Compare(path, op, Range(draw(comparables), draw(comparables)))
    if shape == "list":
        items = tuple(draw(st.lists(values, min_size=2, max_size=3)))
        return Compare(path, op, items, vocab_of(items))
    value = draw(values)
    return Compare(path, op, value, vocab_of((value,)))


_regex_atoms = st.sampled_from(["a", "b", "x", ".", "[a-c]", "[^x]", "(a|b)", "(ab|x)"])
regex_sources = st.lists(
    st.tuples(_regex_atoms, st.sampled_from(["", "", "*", "+", "?", "{1,2}"])), min_size=1, max_size=4
).map(lambda parts: "".join(a + q for a, q in parts))
"""Regexes that may be written unquoted in q: no ';', '|' or ')' outside their own parentheses."""

patterns = st.builds(
    lambda path, source, negated: Pattern(path, compile_regex(source), negated),
    paths,
    st.one_of(regex_sources, st.builds(lambda a, b: f"^{a}|{b}$", regex_sources, regex_sources)),
    st.booleans(),
)
leaves: st.SearchStrategy[Q] = st.one_of(compares(), patterns, st.builds(Exists, paths, st.booleans()))
q_asts: st.SearchStrategy[Q] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: And(tuple(ts))),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: Or(tuple(ts))),
    ),
    max_leaves=6,
)


def render_literal(value: Literal, *, unquoted_uris: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Temporal):
        return value.text
    if unquoted_uris and value.startswith(("urn:", "https://ex.org/")):
        return value
    return json.dumps(value)


def render_value(node: Compare) -> str:
    value, eq = node.value, node.op in (Op.EQ, Op.NE)
    if isinstance(value, Range):
        low, high = (render_literal(v, unquoted_uris=False) for v in (value.low, value.high))
        return f"{low}..{high}"
    if isinstance(value, tuple):
        return ",".join(render_literal(v, unquoted_uris=eq) for v in value)
    return render_literal(value, unquoted_uris=eq)


def render(node: Q, parens: bool = False) -> str:
    """q text for an AST. ``parens`` wraps every leaf in redundant parentheses."""
    match node:
        case And(terms):
            return ";".join(_operand(t, parens, grouped=(And, Or)) for t in terms)
        case Or(terms):
            return "|".join(_operand(t, parens, grouped=(Or,)) for t in terms)
        case Exists(path, negated):
            text = ("!" if negated else "") + str(path)
        case Compare(path, op):
            text = f"{path}{op}{render_value(node)}"
        case Pattern(path, regex, negated):
            # Only the top-level alternations (they start with '^') need quotes.
            source = regex.source
            written = json.dumps(source) if source.startswith("^") else source
            text = f"{path}{'!~=' if negated else '~='}{written}"
    return f"({text})" if parens else text


def _operand(term: Q, parens: bool, grouped: tuple[type, ...]) -> str:
    """An operand of ';' or '|': parenthesised when it is itself a chain that would otherwise merge in."""
    text = render(term, parens)
    return f"({text})" if isinstance(term, grouped) else text


# ---- regexes understood alike by POSIX ERE and Python's re -----------------------------------------

_ere_atoms = st.sampled_from(["a", "b", "c", "x", ".", "[a-c]", "[^x]", "[bx]", "[^a-b]"])
_quantifiers = st.sampled_from(["", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}"])


def _ere(depth: int) -> st.SearchStrategy[str]:
    groups = _ere(depth - 1).map(lambda r: f"({r})") if depth else _ere_atoms
    atom = st.one_of(_ere_atoms, _ere_atoms, groups)
    piece = st.tuples(atom, _quantifiers).map("".join)
    anchors = st.sampled_from(["", "", "^"]), st.sampled_from(["", "", "$"])
    body = st.lists(piece, min_size=1, max_size=3).map("".join)
    branch = st.tuples(anchors[0], body, anchors[1]).map("".join)
    return st.lists(branch, min_size=1, max_size=2).map("|".join)


ere_patterns = _ere(2)
"""Literals, '.', bracket expressions, groups, alternation, anchors and every quantifier."""
ere_texts = st.text("abcx", max_size=12)
