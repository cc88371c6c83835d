"""The query-language parsers: q (§4.9), scopeQ (§4.19), type selection (§4.17), geo-queries (§4.10)
and projections, text -> AST, with positions in syntax errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ngsild.errors import BadRequestData
from ngsild.model import NGSI_LD, is_name
from ngsild.query.ast import (
    And,
    Compare,
    Exists,
    GeoRel,
    Op,
    Or,
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
from ngsild.query.geoquery import parse_geo_query, parse_georel
from ngsild.query.qlang import (
    MAX_QUERY_LENGTH,
    parse_projection,
    parse_q,
    parse_scope_query,
    parse_type_selector,
)
from ngsild.query.regex import compile_regex
from tests.query.strategies import expand, key_segment, q_asts, render, segment, strings


def q(text: str) -> Q:
    return parse_q(text, expand)


def path(text: str) -> Path:
    """A Path built by hand from ``a.b[c.d]`` (the expected side of a parse)."""
    dotted, _, keys = text.partition("[")
    attr, *members = dotted.split(".")
    return Path(
        segment(attr),
        tuple(segment(m) for m in members),
        tuple(key_segment(k) for k in keys.rstrip("]").split(".")) if keys else None,
    )


def cmp(target: str, op: str, value: object, vocab: tuple[str, ...] = ()) -> Compare:
    return Compare(path(target), Op(op), value, vocab)


def error_of(call: object) -> str:
    with pytest.raises(BadRequestData) as info:
        call()  # type: ignore[operator]
    return info.value.detail


# ---- round trip ------------------------------------------------------------------------------------


@given(q_asts, st.booleans())
def test_parse_inverts_render(ast: Q, parens: bool) -> None:
    """Any q AST, rendered to text (with or without redundant parentheses), parses back to itself."""
    parsed = q(render(ast, parens))
    assert parsed == ast
    assert repr(parsed) == repr(ast)  # 1 == 1.0 == True in Python; the literal types must survive too


@given(st.text(min_size=1, max_size=5).map(lambda s: s + '"'), st.sampled_from([",", ".."]))
@example('"', ",")
def test_escaped_quotes_survive_value_lists_and_ranges(text: str, separator: str) -> None:
    """A quoted string may contain an escaped quote followed by ',' or '..', in a list or a range too."""
    literal = json.dumps(text + separator + "x")
    node = q(f"a=={literal},{literal}")
    assert isinstance(node, Compare)
    assert node.value == (text + separator + "x",) * 2


@given(strings)
def test_quoted_strings_are_json_strings(text: str) -> None:
    """A quoted literal is a JSON string, escapes included, and is never mistaken for a list or range."""
    assert q(f"a=={json.dumps(text)}") == cmp("a", "==", text, (expand(text),) if is_name(text) else ())


# ---- structure -------------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    """';' binds tighter than '|': a;b|c is (a;b)|c and a|b;c is a|(b;c)."""
    a, b, c = (Exists(path(n)) for n in "abc")
    assert q("a;b|c") == Or((And((a, b)), c))
    assert q("a|b;c") == Or((a, And((b, c))))


def test_parentheses_group_first_and_nest() -> None:
    """Parentheses override precedence and nest, as in spec example 6 (TS 019_09_05)."""
    node = q('((speed>50|rpm>3000);brandName=="Mercedes")')
    speed_or_rpm = Or((cmp("speed", ">", 50), cmp("rpm", ">", 3000)))
    assert node == And((speed_or_rpm, cmp("brandName", "==", "Mercedes", (expand("Mercedes"),))))


def test_a_chain_of_one_operator_is_one_flat_node() -> None:
    """a;b;c is one And of three terms, a|b|c one Or of three."""
    assert q("a;b;c") == And(tuple(Exists(path(n)) for n in "abc"))
    assert q("a|b|c") == Or(tuple(Exists(path(n)) for n in "abc"))


def test_existence_and_its_negation() -> None:
    """``attr`` asks that the target exists, ``!attr`` that it does not (an ecosystem extension)."""
    assert q("a") == Exists(path("a"))
    assert q("!a") == Exists(path("a"), negated=True)
    assert q("!a.b[c]") == Exists(path("a.b[c]"), negated=True)
    assert q("(!a|b)") == Or((Exists(path("a"), negated=True), Exists(path("b"))))


# ---- paths -----------------------------------------------------------------------------------------


def test_dotted_and_bracketed_paths() -> None:
    """Dotted segments are sub-attributes or members; a bracketed tail descends into the value."""
    node = q("sensor.rawdata[airquality.particulate]==40")
    assert node == Compare(
        Path(segment("sensor"), (segment("rawdata"),), (segment("airquality"), segment("particulate"))),
        Op.EQ,
        40,
    )
    assert q('address[city]=="Berlin"') == cmp("address[city]", "==", "Berlin", (expand("Berlin"),))
    observed = q("temperature.observedAt>=2017-12-24T12:00:00Z")
    assert observed == cmp(
        "temperature.observedAt",
        ">=",
        Temporal("2017-12-24T12:00:00Z", datetime(2017, 12, 24, 12, tzinfo=UTC)),
    )


def test_bracket_keys_that_are_not_names_stay_as_written() -> None:
    """A bracket key that is not a name (``*``, ``x-y``) is kept as written; names are expanded."""
    assert q("street[*]").path.keys == (Segment("*", "*"),)  # type: ignore[union-attr]
    assert q("raw[x-y]==1").path.keys == (Segment("x-y", "x-y"),)  # type: ignore[union-attr]
    assert q("street[fr]").path.keys == (segment("fr"),)  # type: ignore[union-attr]


def test_names_are_expanded_with_the_given_expansion() -> None:
    """Every attribute, sub-attribute and member name goes through ``expand``; undefined terms are fine."""
    node = parse_q("a.b==1", lambda n: "urn:t:" + n)
    assert node == Compare(Path(Segment("a", "urn:t:a"), (Segment("b", "urn:t:b"),)), Op.EQ, 1)


# ---- literals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-17", -17),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("-0.5E-2", -0.005),
        ("true", True),
        ("false", False),
        ('"Eiffel Tower"', "Eiffel Tower"),
        ('"a\\u00e9\\n"', "a\u00e9\n"),
        ("urn:ngsi-ld:City:Pisa", "urn:ngsi-ld:City:Pisa"),
        ("https://example.org/a/b?c=d", "https://example.org/a/b?c=d"),
        ("2017-12-24T12:00:00Z", Temporal("2017-12-24T12:00:00Z", datetime(2017, 12, 24, 12, tzinfo=UTC))),
        pytest.param(
            "2017-12-24T12:00:00,25Z",
            Temporal("2017-12-24T12:00:00,25Z", datetime(2017, 12, 24, 12, 0, 0, 250000, tzinfo=UTC)),
        ),
        ("2017-12-24", Temporal("2017-12-24", date(2017, 12, 24))),
        ("12:30:00Z", Temporal("12:30:00Z", time(12, 30))),
    ],
)
def test_literals(text: str, value: object) -> None:
    """Numbers, true/false, quoted strings, unquoted URIs and DateTime/Date/Time are the literal kinds."""
    node = q(f"a=={text}")
    assert isinstance(node, Compare)
    assert node.value == value and type(node.value) is type(value)


def test_value_lists_and_ranges() -> None:
    """``v1,v2`` is a value list and ``a..b`` an inclusive range, both with == and !=."""
    assert q('color=="black","red"') == cmp("color", "==", ("black", "red"), (expand("black"), expand("red")))
    assert q("a!=1,true,urn:x:y") == cmp("a", "!=", (1, True, "urn:x:y"), (expand("urn:x:y"),))
    assert q("temperature==10..20") == cmp("temperature", "==", Range(10, 20))
    assert q("t!=1.5..2.5") == cmp("t", "!=", Range(1.5, 2.5))
    day = q("d==2020-01-01..2020-12-31")
    assert day == cmp(
        "d", "==", Range(Temporal("2020-01-01", date(2020, 1, 1)), Temporal("2020-12-31", date(2020, 12, 31)))
    )


def test_string_literals_carry_their_vocab_expansion() -> None:
    """String literals that are names also appear expanded, for comparing with VocabProperties."""
    assert q('category=="grocery"').vocab == (expand("grocery"),)  # type: ignore[union-attr]
    assert q('category=="not a name"').vocab == ()  # type: ignore[union-attr]
    assert q("category==1").vocab == ()  # type: ignore[union-attr]


# ---- regexes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("name~=^Eif", "^Eif"),
        ('name~="a|b;c"', "a|b;c"),
        ("name~=(a|b)c", "(a|b)c"),
        ("name~=x{1,2}", "x{1,2}"),
        ("name~=(?i)tower", "(?i)tower"),
    ],
)
def test_patterns_quoted_or_unquoted(text: str, source: str) -> None:
    """``~=`` takes a regex, unquoted (running to a top-level ';' or '|') or as a JSON string."""
    assert q(text) == Pattern(path("name"), compile_regex(source))


def test_unquoted_patterns_end_at_logical_operators_and_group_ends() -> None:
    """An unquoted regex ends at ';' or '|' outside its own parentheses, or at a ')' closing a group."""
    assert q("name~=(a|b)c;x==1") == And((Pattern(path("name"), compile_regex("(a|b)c")), cmp("x", "==", 1)))
    not_ab = Pattern(path("name"), compile_regex("ab"), negated=True)
    assert q("(name!~=ab)|x") == Or((not_ab, Exists(path("x"))))


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a==1;", 5),  # a term is missing after ';'
        ("(a==1", 5),  # the group is never closed
        ("a=1", 1),  # '=' is not an operator
        ("a==", 3),  # no value
        ("a>true", 2),  # ordering needs a comparable value
        ("a==1;b.==2", 7),  # an empty dotted segment
        ('x==1|a=="open', 8),  # the quoted string is never closed
        ("a~=(b", 3),  # invalid regex: reported where the regex starts
        ("a==foo", 3),  # neither a literal nor a URI
        ("a>1,2", 2),  # a value list needs == or !=
        ("a[b==1", 3),  # the bracket is never closed
        ("1a==1", 0),  # not an attribute name
    ],
)
def test_syntax_errors_say_where(text: str, position: int) -> None:
    """A syntax error is BadRequestData whose detail names the position of the problem."""
    assert re.search(rf"\bposition {position}\b", error_of(lambda: q(text)))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a{b}==1",
        "sensor{Device:humidity}==40",
        "a==01",
        "a~=",
        "a~=[z-a]",
        "a==1)",
        "a b",
        "a==1..",
        "()",
        ";a",
    ],
)
def test_malformed_queries_are_bad_request_data(text: str) -> None:
    """Empty queries, linked-entity paths (no join), bad literals and bad regexes are BadRequestData."""
    error_of(lambda: q(text))


def test_query_length_is_capped() -> None:
    """A q longer than MAX_QUERY_LENGTH is refused before parsing."""
    text = "a;" * (MAX_QUERY_LENGTH // 2) + "a"
    assert "longer" in error_of(lambda: q(text))


# ---- type selection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Building", [{"Building"}]),
        ("(Building;TouristDestination)", [{"Building", "TouristDestination"}]),
        ("Building,Parking", [{"Building"}, {"Parking"}]),
        ("Building|Parking", [{"Building"}, {"Parking"}]),
        ("(Building;Parking),TouristDestination", [{"Building", "Parking"}, {"TouristDestination"}]),
        ("A|(B;C)|D", [{"A"}, {"B", "C"}, {"D"}]),
        ("ex:Shop", [{"ex:Shop"}]),
    ],
)
def test_type_selectors_are_disjunctive_normal_form(text: str, groups: list[set[str]]) -> None:
    """Each ','/'|' alternative is a group; a parenthesised ';' group needs every type in it (TS 019_08)."""
    expected = TypeSelector(tuple(frozenset(expand(n) for n in g) for g in groups))
    assert parse_type_selector(text, expand) == expected


@pytest.mark.parametrize("text", ["", "A,", "(A;B", "A;B", "(A;B)C", "1A", "A,,B"])
def test_malformed_type_selectors(text: str) -> None:
    """Unclosed groups, a bare ';', empty alternatives and invalid names are BadRequestData."""
    error_of(lambda: parse_type_selector(text, expand))


# ---- scopeQ ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("/Madrid/Gardens/ParqueNorte", [[ScopePattern(("Madrid", "Gardens", "ParqueNorte"))]]),
        ("/Madrid/+/ParqueNorte", [[ScopePattern(("Madrid", "+", "ParqueNorte"))]]),
        ("/CompanyA/#", [[ScopePattern(("CompanyA",), descendants=True)]]),
        ("/#", [[ScopePattern((), descendants=True)]]),
        ("(/A;/B/#)", [[ScopePattern(("A",)), ScopePattern(("B",), descendants=True)]]),
        ("/A,/B|/C", [[ScopePattern(("A",))], [ScopePattern(("B",))], [ScopePattern(("C",))]]),
        ("(/A;/B),/C", [[ScopePattern(("A",)), ScopePattern(("B",))], [ScopePattern(("C",))]]),
    ],
)
def test_scope_queries(text: str, groups: list[list[ScopePattern]]) -> None:
    """scopeQ parses into groups of patterns: '+' is one level, '/#' this scope and below (TS 019_01_06)."""
    assert parse_scope_query(text) == ScopeQuery(tuple(tuple(g) for g in groups))


@pytest.mark.parametrize("text", ["", "A", "/A/", "//A", "/A/#/B", "/1A", "(/A;/B", "/A,", "/A;/B", "/A b"])
def test_malformed_scope_queries(text: str) -> None:
    """A scope that does not start with '/', has empty or invalid levels, or a bad group is refused."""
    error_of(lambda: parse_scope_query(text))


# ---- geo-queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near;maxDistance==2000", (GeoRel.NEAR, 2000.0, None)),
        ("near;minDistance==10.5", (GeoRel.NEAR, None, 10.5)),
        *[(r.value, (r, None, None)) for r in GeoRel if r is not GeoRel.NEAR],
    ],
)
def test_georels(text: str, expected: tuple[GeoRel, float | None, float | None]) -> None:
    """Every georel of §4.10 parses; near carries maxDistance or minDistance in metres."""
    assert parse_georel(text) == expected


@pytest.mark.parametrize(
    "text",
    ["invalid", "near", "near;maxDistance", "near;maxDistance==", "near;maxDistance==-1", "near;distance==5",
     "near;maxDistance==nan", "near;maxDistance==inf", "within;maxDistance==5", "Near;maxDistance==5"],
)  # fmt: skip
def test_invalid_georels(text: str) -> None:
    """An unknown relation, a near without a valid distance, or a distance on another relation is refused."""
    error_of(lambda: parse_georel(text))


@pytest.mark.parametrize("number", ["0", "1_000", " 5", "+5"])
def test_near_distance_is_a_positive_json_number(number: str) -> None:
    """The distance of near is a JSON number > 0 (PositiveNumber): 0, '1_000', ' 5', '+5' are refused."""
    error_of(lambda: parse_georel(f"near;maxDistance=={number}"))


def test_geo_query_from_parts() -> None:
    """georel, geometry and coordinates (JSON text or parsed) make a GeoQuery, on ``location`` by default."""
    query = parse_geo_query("near;maxDistance==15000", "Point", "[13.38893, 52.534473]", None, expand)
    assert (query.georel, query.max_distance, query.geoproperty) == (GeoRel.NEAR, 15000.0, expand("location"))
    assert query.geometry() == {"type": "Point", "coordinates": [13.38893, 52.534473]}
    ring = [[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]]
    polygon = parse_geo_query("within", "Polygon", [ring], "area", expand)
    assert polygon.geometry() == {"type": "Polygon", "coordinates": [ring]}
    assert polygon.geoproperty == expand("area")


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "geoproperty"),
    [
        (None, "Point", "[1,2]", None),
        ("within", None, "[1,2]", None),
        ("within", "Point", None, None),
        ("invalid", "Point", "[1,2]", None),
        ("within", "GeometryCollection", "[1,2]", None),
        ("within", "Circle", "[1,2]", None),
        ("within", "Point", "[1,", None),
        ("within", "Point", "[[1,2]]", None),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1]]]", None),
        ("within", "Point", '["a","b"]', None),
        ("within", "Point", "[1,2]", "not a name"),
    ],
)
def test_invalid_geo_queries(
    georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None
) -> None:
    """A missing part, an unknown georel or geometry type, invalid coordinates or geoproperty are refused."""
    error_of(lambda: parse_geo_query(georel, geometry, coordinates, geoproperty, expand))


# ---- projections -----------------------------------------------------------------------------------


def test_projection_lists() -> None:
    """pick/omit/attrs take names separated by ',' or '|'."""
    assert parse_projection("a,b|c", "pick") == ["a", "b", "c"]
    assert parse_projection("ex:a", "attrs") == ["ex:a"]


@pytest.mark.parametrize("text", ["", "a,,b", "a,", "1a", "rel{attr}", "a b"])
def test_malformed_projections(text: str) -> None:
    """Empty lists or items, invalid names and linked-entity terms (no join) are refused, by parameter."""
    assert "pick" in error_of(lambda: parse_projection(text, "pick"))


def test_core_terms_in_q_expand_like_any_other_name() -> None:
    """Members such as observedAt are expanded too (the matcher recognises them by their written name)."""
    node = parse_q("a.observedAt", lambda n: NGSI_LD + n)
    assert node == Exists(Path(Segment("a", NGSI_LD + "a"), (Segment("observedAt", NGSI_LD + "observedAt"),)))
