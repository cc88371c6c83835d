"""The reference semantics of queries (§4.9, §4.17, §4.19, §4.10): which stored entities a query selects.
Every operator of the digest's §5.1 table is checked for every attribute kind."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ngsild.jsonld import CORE_TERM_MAP
from ngsild.model import Doc
from ngsild.query.ast import And, Compare, EntityQuery, Exists, Op, Or, Path, Pattern, Q, Segment
from ngsild.query.match import matches, q_matches, scope_matches, types_match
from ngsild.query.qlang import parse_q, parse_scope_query, parse_type_selector
from ngsild.query.regex import compile_regex
from tests.query.strategies import stored
from tests.strategies import entities, every_kind_entity, heavy, names

TM = CORE_TERM_MAP


def q(text: str) -> Q:
    return parse_q(text, TM.expand)


def selects(text: str, doc: Doc) -> bool:
    return q_matches(q(text), doc)


SHOP = stored(
    {
        **{k: v for k, v in every_kind_entity().items() if k not in ("id", "type")},
        "address": {"type": "Property", "value": {"city": "Berlin", "zip": 10115, "geo": {"floor": 3}}},
        "sensor": {
            "type": "Property",
            "value": 1,
            "rawdata": {"type": "Property", "value": {"airquality": {"particulate": 40}}},
        },
        "street": {
            "type": "LanguageProperty",
            "languageMap": {"fr": "Grand Place", "nl": ["Grote Markt", "Markt"]},
        },
        "tags": {"type": "Property", "value": ["organic", "local", 7]},
        "almostFull": {"type": "Property", "value": False},
        "ratio": {"type": "Property", "value": 0.5},
        "opened": {"type": "Property", "value": "2020-05-01T08:00:00Z"},
        "day": {"type": "Property", "value": "2020-05-01"},
        "at": {"type": "Property", "value": "08:30:00Z"},
        "styles": {"type": "VocabProperty", "vocab": ["modern", "retro"]},
        "blob": {"type": "JsonProperty", "json": {"x-y": {"deep": "yes"}, "list": [1, 2], "n": None}},
        "friends": {"type": "Relationship", "object": ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"]},
    },
    entity_id="urn:ngsi-ld:Shop:42",
    type_="Shop",
)
"""One stored entity with an attribute of every kind, sub-attributes, metadata and a multi-attribute."""


def table(rows: list[tuple[str, bool]]) -> Any:
    return pytest.mark.parametrize(("text", "expected"), rows, ids=[f"{t} -> {e}" for t, e in rows])


# ---- Property: numbers, strings, booleans, dates ---------------------------------------------------


@table(
    [
        ("footfall==311", True),
        ("footfall==311.0", True),
        ("footfall==312", False),
        ("footfall!=312", True),
        ("footfall!=311", False),
        ("footfall>300", True),
        ("footfall>311", False),
        ("footfall>=311", True),
        ("footfall<311", False),
        ("footfall<=311", True),
        ("footfall==300..400", True),
        ("footfall==311..311", True),
        ("footfall==312..400", False),
        ("footfall!=312..400", True),
        ("footfall!=300..400", False),
        ("footfall==1,311,5", True),
        ("footfall==1,2", False),
        ("footfall!=1,2", True),
        ("footfall!=1,311", False),
        ("ratio<1", True),
        ("ratio==0.5", True),
        ("ratio>-1e3", True),
    ]
)
def test_numbers(text: str, expected: bool) -> None:
    """Numbers compare numerically (ints equal floats); ranges are inclusive; lists match any item."""
    assert selects(text, SHOP) is expected


@table(
    [
        ('name=="Corner shop"', True),
        ('name=="corner shop"', False),
        ('name!="Mercedes"', True),
        ('name>"Corner"', True),
        ('name<"Corner"', False),
        ('name<="Corner shop"', True),
        ('name=="A".."D"', True),
        ('name=="D".."Z"', False),
        ('name=="x","Corner shop"', True),
    ]
)
def test_strings(text: str, expected: bool) -> None:
    """Strings compare by code points, for equality and for ordering."""
    assert selects(text, SHOP) is expected


@table(
    [
        ("almostFull==false", True),
        ("almostFull==true", False),
        ("almostFull!=true", True),
        ("almostFull!=false", False),
        ("almostFull==0", False),
        ("almostFull!=0", True),
        ('almostFull=="false"', False),
        ("footfall==true", False),
    ]
)
def test_booleans(text: str, expected: bool) -> None:
    """true/false equal only booleans: never 0/1 nor the string "false"."""
    assert selects(text, SHOP) is expected


@table(
    [
        ("opened==2020-05-01T08:00:00Z", True),
        ("opened==2020-05-01T08:00:00.000Z", True),
        ("opened>2020-01-01T00:00:00Z", True),
        ("opened<2020-01-01T00:00:00Z", False),
        ("opened==2020-05-01T00:00:00Z..2020-05-02T00:00:00Z", True),
        ("opened==2021-01-01T00:00:00Z..2022-01-01T00:00:00Z", False),
        ("day==2020-05-01", True),
        ("day>=2020-04-30", True),
        ("day<2020-05-01", False),
        ("at>08:00:00Z", True),
        ("at<=08:00:00Z", False),
        ("at==08:30:00.000Z", True),
        ("day>2020-01-01T00:00:00Z", False),
        ("opened>2020-01-01", False),
    ]
)
def test_dates_and_times(text: str, expected: bool) -> None:
    """DateTime, Date and Time literals compare as time with targets of the same kind, never across kinds."""
    assert selects(text, SHOP) is expected


def test_typed_datetime_values_compare_as_time() -> None:
    """A Property whose value is written {"@type": "DateTime", "@value": ...} compares as that DateTime."""
    value = {"@type": "DateTime", "@value": "2020-05-01T08:00:00Z"}
    doc = stored({"when": {"type": "Property", "value": value}})
    assert selects("when>2020-01-01T00:00:00Z", doc)


# ---- type mismatches and existence ------------------------------------------------------------------


@table(
    [
        ('footfall=="311"', False),
        ('footfall!="311"', True),
        ('footfall>"1"', False),
        ("name==1", False),
        ("name!=1", True),
        ("name>1", False),
        ("name<2020-01-01T00:00:00Z", False),
        ("footfall==2020-01-01", False),
        ("footfall!=2020-01-01", True),
    ]
)
def test_type_mismatch(text: str, expected: bool) -> None:
    """Different data types never satisfy == or an ordering; != treats them as unequal, so it matches."""
    assert selects(text, SHOP) is expected


@pytest.mark.parametrize(
    "text",
    ["missing==1", "missing!=1", "missing!=1,2", "missing!=1..2", "missing>0", 'missing~="."',
     'missing!~="x"', "missing", "name.missing", "name.unitCode", "address[nowhere]",
     "address[city.deeper]!=1", "blob[nope]!=1"],
)  # fmt: skip
def test_a_target_that_does_not_exist_matches_nothing(text: str) -> None:
    """A path that reaches nothing is false for every operator, including != and !~=."""
    assert not selects(text, SHOP)


@table(
    [
        ("name", True),
        ("!name", False),
        ("!missing", True),
        ("footfall.measuredBy", True),
        ("footfall.unitCode", True),
        ("!footfall.unitCode", False),
        ("address[city]", True),
        ("!address[nowhere]", True),
        ("motto[fr]", True),
        ("motto[de]", False),
    ]
)
def test_existence(text: str, expected: bool) -> None:
    """``attr`` holds when the path reaches something, ``!attr`` when it reaches nothing."""
    assert selects(text, SHOP) is expected


# ---- member paths: sub-attributes, observedAt, unitCode, value keys ---------------------------------


@table(
    [
        ('footfall.measuredBy=="urn:ngsi-ld:Sensor:7"', True),
        ("footfall.measuredBy==urn:ngsi-ld:Sensor:7", True),
        ("footfall.measuredBy==urn:ngsi-ld:Sensor:8", False),
        ('footfall.unitCode=="C62"', True),
        ('footfall.unitCode!="CEL"', True),
        ("name.observedAt>=2025-01-01T00:00:00Z", True),
        ("name.observedAt==2025-01-02T10:00:00Z", True),
        ("name.observedAt<2025-01-01T00:00:00Z", False),
        ("name.createdAt==2025-01-01T00:00:00Z", True),
        ('address[city]=="Berlin"', True),
        ('address[city]!="Paris"', True),
        ("address[zip]>10000", True),
        ("address[geo.floor]==3", True),
        ("sensor.rawdata[airquality.particulate]==40", True),
        ("sensor.rawdata[airquality.particulate]>40", False),
    ]
)
def test_member_paths(text: str, expected: bool) -> None:
    """Dotted paths reach sub-attributes and instance members; a [key.key] path descends into the value."""
    assert selects(text, SHOP) is expected


# ---- multi-instance attributes -----------------------------------------------------------------------


@table(
    [
        ("temperature==20", True),
        ("temperature==21", True),
        ("temperature==22", False),
        ("temperature>20", True),
        ("temperature<20", False),
        ("temperature==20..20", True),
        ('temperature.unitCode=="CEL"', True),
        ('temperature.datasetId=="urn:ngsi-ld:Dataset:b"', True),
        ("temperature!=20", True),
    ]
)
def test_multi_instance_attributes_match_when_any_instance_does(text: str, expected: bool) -> None:
    """With several instances (datasetIds) and no datasetId in the query, any instance may match."""
    assert selects(text, SHOP) is expected


def test_not_equal_on_multi_instance_needs_an_instance_that_differs() -> None:
    """!= holds when some instance exists and differs; instances all equal to the value fail it."""
    instances = [{"type": "Property", "value": 5}, {"type": "Property", "value": 5, "datasetId": "urn:d:1"}]
    same = stored({"t": instances})
    assert not selects("t!=5", same)
    assert selects("t!=6", same)


# ---- arrays: Property arrays, ListProperty -----------------------------------------------------------


@table(
    [
        ('tags=="organic"', True),
        ('tags=="organic","nope"', True),
        ('tags=="nope"', False),
        ('tags!="nope"', True),
        ('tags!="local"', False),
        ('tags!="nope","local"', False),
        ("tags==7", True),
        ("tags==5..10", True),
        ('openDays=="Tue"', True),
        ('openDays=="Sun"', False),
        ('openDays!="Sun"', True),
        ('openDays!="Mon"', False),
        ('openDays=="Sun","Sat"', True),
        ('openDays~="^S"', True),
        ('openDays!~="^S"', True),
    ]
)
def test_arrays_contain(text: str, expected: bool) -> None:
    """== on an array holds when it contains a value; != when it contains none of them."""
    assert selects(text, SHOP) is expected


# ---- LanguageProperty --------------------------------------------------------------------------------


@table(
    [
        ('street=="Grand Place"', True),
        ('street=="Markt"', True),
        ('street[fr]=="Grand Place"', True),
        ('street[FR]=="Grand Place"', True),
        ('street[nl]=="Grand Place"', False),
        ('street[nl]=="Grote Markt"', True),
        ('street[*]=="Grote Markt"', True),
        ('street[de]=="Grand Place"', False),
        ('street[de]!="Grand Place"', False),
        ('street[fr]!="Grote Markt"', True),
        ('street[fr]~="^Grand"', True),
        ('motto=="Fresh"', True),
        ('motto[en]=="Frais"', False),
    ]
)
def test_language_properties(text: str, expected: bool) -> None:
    """Any language's string matches; [lang] selects one language, [*] any; arrays match element-wise."""
    assert selects(text, SHOP) is expected


@pytest.mark.parametrize("text", ['street!="Grand Place"', 'street[*]!="Grand Place"', 'motto!="Fresh"'])
def test_not_equal_on_a_language_map_needs_every_string_to_differ(text: str) -> None:
    """Without [lang] the target is every string of the languageMap, so != holds only when none equals v
    (as for any array target)."""
    assert not selects(text, SHOP)


# ---- VocabProperty -----------------------------------------------------------------------------------


@table(
    [
        ('category=="grocery"', True),
        ('category=="bakery"', False),
        ('category!="bakery"', True),
        ('category!="grocery"', False),
        (f'category=="{TM.expand("grocery")}"', True),
        ('styles=="retro"', True),
        ('styles!="retro"', False),
        ('styles=="x","modern"', True),
    ]
)
def test_vocab_properties_compare_the_expanded_term(text: str, expected: bool) -> None:
    """A VocabProperty matches the literal after expansion with the context (or the IRI itself)."""
    assert selects(text, SHOP) is expected


@pytest.mark.parametrize("text", ['category>"a"', 'category<"zzz"', 'category>="grocery"'])
def test_ordering_never_matches_vocab_properties(text: str) -> None:
    """For VocabProperties only == and != can match: ordering operators never do."""
    assert not selects(text, SHOP)


# ---- Relationship, ListRelationship ------------------------------------------------------------------


@table(
    [
        ("owner==urn:ngsi-ld:Person:9", True),
        ('owner=="urn:ngsi-ld:Person:9"', True),
        ("owner!=urn:ngsi-ld:Person:1", True),
        ("owner!=urn:ngsi-ld:Person:9", False),
        ("owner==urn:ngsi-ld:Person:1,urn:ngsi-ld:Person:9", True),
        ('owner>"urn:a"', False),
        ('owner<"urn:z"', False),
        ('owner>="urn:ngsi-ld:Person:9"', False),
        ("friends==urn:ngsi-ld:Person:2", True),
        ("friends!=urn:ngsi-ld:Person:2", False),
        ("friends!=urn:ngsi-ld:Person:3", True),
        ("suppliers==urn:ngsi-ld:Org:2", True),
        ("suppliers==urn:ngsi-ld:Org:3", False),
        ("suppliers!=urn:ngsi-ld:Org:3", True),
        ('suppliers<"urn:z"', False),
    ]
)
def test_relationships(text: str, expected: bool) -> None:
    """Relationships compare their object (one URI or several), ListRelationships their objectList;
    ordering operators never match them."""
    assert selects(text, SHOP) is expected


@pytest.mark.parametrize(
    "text", ['owner~="Person"', 'owner!~="x"', 'suppliers~="Org"', 'category~="grocery"', 'styles~="retro"']
)
def test_patterns_never_match_relationships_or_vocab_properties(text: str) -> None:
    """For Relationships, ListRelationships and VocabProperties only == and != can match: not ~= or !~=."""
    assert not selects(text, SHOP)


# ---- JsonProperty ------------------------------------------------------------------------------------


@table(
    [
        ('rawConfig[id]=="not-an-iri"', True),
        ("rawConfig[value]==3", True),
        ("rawConfig[value]>2", True),
        ('blob[x-y.deep]=="yes"', True),
        ("blob[list]==2", True),
        ("blob[n]", True),
        ("blob[n]==1", False),
        ("blob", True),
        ("blob==1", False),
    ]
)
def test_json_properties_use_raw_keys(text: str, expected: bool) -> None:
    """Values inside a JsonProperty are reached with [key] paths whose keys are never expanded."""
    assert selects(text, SHOP) is expected


# ---- patterns ----------------------------------------------------------------------------------------


@table(
    [
        ('name~="^Corner"', True),
        ("name~=shop$", True),
        ("name~=(?i)CORNER", True),
        ("name~=^shop", False),
        ("name!~=^shop", True),
        ("name!~=Corner", False),
        ("footfall~=311", False),
        ("footfall!~=311", False),
        ("almostFull!~=x", False),
        ("temperature~=2", False),
    ]
)
def test_patterns_need_a_string_target(text: str, expected: bool) -> None:
    """~= holds when the target is a string matching the regex; !~= when it is a string that does not."""
    assert selects(text, SHOP) is expected


# ---- logic -------------------------------------------------------------------------------------------


BUILDINGS = [
    stored(
        {
            "name": {"type": "Property", "value": name},
            "almostFull": {"type": "Property", "value": False},
            "airQualityLevel": {"type": "Property", "value": level},
            "locatedIn": {"type": "Relationship", "object": f"urn:ngsi-ld:City:{city}"},
        },
        entity_id=f"urn:ngsi-ld:Building:{city}",
        type_="Building",
    )
    for name, level, city in [
        ("Eiffel Tower", 4, "Paris"),
        ("Pisa Tower", 6, "Pisa"),
        ("Big Ben", 9, "London"),
    ]
]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ('name=="Eiffel Tower"', 1),
        ('name=="Pisa Tower";almostFull==false', 1),
        ('name=="Pisa Tower"|almostFull==false', 3),
        ('(name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false', 2),
        ("airQualityLevel>=4;airQualityLevel<7", 2),
        ("locatedIn==urn:ngsi-ld:City:Pisa", 1),
    ],
)
def test_ts_019_09(text: str, count: int) -> None:
    """The test suite's q table (TS 019_09) over three Buildings gives its counts."""
    assert sum(selects(text, b) for b in BUILDINGS) == count


def test_and_binds_tighter_than_or_when_matching() -> None:
    """(a;b)|c and a;(b|c) select differently, and a;b|c is the first."""
    doc = stored({"c": {"type": "Property", "value": 1}})
    assert selects("a;b|c", doc)
    assert selects("(a;b)|c", doc)
    assert not selects("a;(b|c)", doc)


# ---- properties over generated entities ---------------------------------------------------------------


@st.composite
def entity_and_terms(draw: st.DrawFn, count: int) -> tuple[Doc, list[Q]]:
    """A stored generated entity and q terms over its attributes (or absent ones)."""
    payload = draw(entities(depth=0))
    doc = stored({k: v for k, v in payload.items() if k not in ("id", "type")})
    attrs = [k for k in payload if k not in ("id", "type", "scope")]
    terms = [draw(terms_over(attrs)) for _ in range(count)]
    return doc, terms


_literals = st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=3), st.floats(allow_nan=False))


@st.composite
def terms_over(draw: st.DrawFn, attrs: list[str]) -> Q:
    name = draw(st.sampled_from(attrs) if attrs and draw(st.integers(0, 4)) else names)
    path = Path(Segment(name, TM.expand(name)))
    literal = draw(_literals)
    kind = draw(st.sampled_from(["exists", "compare", "pattern"]))
    if kind == "exists":
        return Exists(path, draw(st.booleans()))
    if kind == "pattern":
        regex = compile_regex(draw(st.sampled_from(["a", "^$", ".", "[0-9]"])))
        return Pattern(path, regex, draw(st.booleans()))
    op = draw(st.sampled_from(Op))
    if isinstance(literal, bool) and op not in (Op.EQ, Op.NE):
        literal = 0
    return Compare(path, op, literal)


@heavy
@given(entity_and_terms(2))
def test_and_is_conjunction(case: tuple[Doc, list[Q]]) -> None:
    """An And matches exactly when both of its terms match."""
    doc, (a, b) = case
    assert q_matches(And((a, b)), doc) == (q_matches(a, doc) and q_matches(b, doc))


@heavy
@given(entity_and_terms(2))
def test_or_is_disjunction(case: tuple[Doc, list[Q]]) -> None:
    """An Or matches exactly when either of its terms matches."""
    doc, (a, b) = case
    assert q_matches(Or((a, b)), doc) == (q_matches(a, doc) or q_matches(b, doc))


@heavy
@given(entity_and_terms(1))
def test_negated_existence_is_the_negation_of_existence(case: tuple[Doc, list[Q]]) -> None:
    """!attr matches exactly when attr does not."""
    doc, (term,) = case
    path = term.path  # type: ignore[union-attr]
    assert q_matches(Exists(path, negated=True), doc) != q_matches(Exists(path), doc)


scalars = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=6),
)


@given(scalars, st.one_of(scalars, st.just(None)))
def test_eq_and_ne_are_complementary_on_a_single_scalar(stored_value: Any, literal: Any) -> None:
    """On an existing single-instance scalar Property exactly one of == v and != v matches (== for itself)."""
    assume(stored_value != "urn:ngsi-ld:null")
    itself = literal is None
    literal = stored_value if itself else literal
    doc = stored({"p": {"type": "Property", "value": stored_value}})
    path = Path(Segment("p", TM.expand("p")))
    eq, ne = (q_matches(Compare(path, op, literal), doc) for op in (Op.EQ, Op.NE))
    assert eq != ne
    if itself:
        assert eq


# ---- scopes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scopes", "expected"),
    [
        ("/Madrid/Gardens/ParqueNorte", ["/Madrid/Gardens/ParqueNorte"], True),
        ("/Madrid/Gardens/ParqueNorte", ["Madrid/Gardens/ParqueNorte"], True),
        ("/Madrid/Gardens", ["/Madrid/Gardens/ParqueNorte"], False),
        ("/Madrid/Gardens/ParqueNorte", ["/Madrid/Gardens"], False),
        ("/Madrid/+/ParqueNorte", ["/Madrid/Gardens/ParqueNorte"], True),
        ("/Madrid/+/ParqueNorte", ["/Madrid/ParqueNorte"], False),
        ("/Madrid/+/ParqueNorte", ["/Madrid/a/b/ParqueNorte"], False),
        ("/+/b", ["/a/b"], True),
        ("/+/b", ["/a/b/c"], False),
        ("/a/#", ["/a"], True),
        ("/a/#", ["/a/b/c"], True),
        ("/a/#", ["a/b"], True),
        ("/a/#", ["/ab"], False),
        ("/a/#", ["/b/a"], False),
        ("/#", ["/x"], True),
        ("/#", ["x/y/z"], True),
        ("/#", [], False),
        ("/a", [], False),
        ("/CompanyA/#", ["/CompanyB", "/CompanyA/Dept"], True),
        ("(/A;/B)", ["/A", "/B"], True),
        ("(/A;/B)", ["/A"], False),
        ("(/A;/B/#)", ["/B/c", "A"], True),
        ("/A,/B", ["/B"], True),
        ("/A|/B", ["/C"], False),
        ("(/A;/B)|/C", ["/C"], True),
    ],
)
def test_scope_queries(text: str, scopes: list[str], expected: bool) -> None:
    """A scopeQ matches when any entity scope (with or without its leading '/') satisfies a whole group."""
    assert scope_matches(parse_scope_query(text), scopes) is expected


def test_scope_query_of_a_stored_entity() -> None:
    """matches() reads the scopes of the stored document; an entity without scopes matches no scopeQ."""
    scoped = stored({"scope": ["/Madrid/Gardens"]})
    assert matches(EntityQuery(scope=parse_scope_query("/Madrid/#")), scoped)
    assert not matches(EntityQuery(scope=parse_scope_query("/#")), stored({}))


# ---- types, ids, attrs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "types", "expected"),
    [
        ("Building", ["Building"], True),
        ("Building", ["Building", "TouristDestination"], True),
        ("Building", ["Parking"], False),
        ("(Building;TouristDestination)", ["Building", "TouristDestination"], True),
        ("(Building;TouristDestination)", ["Building"], False),
        ("Building,Parking", ["Parking"], True),
        ("Building|Parking", ["Shop"], False),
        ("(Building;Parking),TouristDestination", ["TouristDestination"], True),
        ("(Building;Parking),TouristDestination", ["Parking"], False),
    ],
)
def test_type_selection(text: str, types: list[str], expected: bool) -> None:
    """An entity matches a type expression when it has every type of one of its groups (TS 019_08)."""
    selector = parse_type_selector(text, TM.expand)
    assert types_match(selector, [TM.expand(t) for t in types]) is expected


def test_entity_query_filters_are_anded() -> None:
    """ids, idPattern (only without ids), type, attrs and q must all hold."""
    shop = SHOP
    assert matches(EntityQuery(), shop)
    assert matches(EntityQuery(ids=frozenset({"urn:ngsi-ld:Shop:42", "urn:x:1"})), shop)
    assert not matches(EntityQuery(ids=frozenset({"urn:ngsi-ld:Shop:4"})), shop)
    assert matches(EntityQuery(id_pattern=compile_regex("Shop:4")), shop)
    assert not matches(EntityQuery(id_pattern=compile_regex("^Shop")), shop)
    both = EntityQuery(ids=frozenset({"urn:ngsi-ld:Shop:42"}), id_pattern=compile_regex("^nothing$"))
    assert matches(both, shop)
    assert matches(EntityQuery(types=parse_type_selector("Shop", TM.expand)), shop)
    assert not matches(EntityQuery(types=parse_type_selector("Building", TM.expand)), shop)
    assert matches(EntityQuery(attrs=frozenset({TM.expand("name"), TM.expand("nope")})), shop)
    assert not matches(EntityQuery(attrs=frozenset({TM.expand("nope")})), shop)
    assert matches(EntityQuery(q=q("footfall>300"), types=parse_type_selector("Shop", TM.expand)), shop)
    assert not matches(EntityQuery(q=q("footfall>300"), types=parse_type_selector("Bar", TM.expand)), shop)


# ---- expandValues and jsonKeys (§4.9) ---------------------------------------------------------------

CATALOGUED = stored(
    {
        "category": {"type": "Property", "value": TM.expand("shop")},
        "config": {"type": "Property", "value": {"mode": "eco"}},
    }
)
EXPAND_CATEGORY = frozenset({"category"})


def test_expand_values_also_matches_the_expanded_literal() -> None:
    """A Property holding an IRI matches the short name only when expandValues names the attribute."""
    assert not selects('category=="shop"', CATALOGUED)
    assert q_matches(parse_q('category=="shop"', TM.expand, expand_values=EXPAND_CATEGORY), CATALOGUED)
    assert q_matches(parse_q('category=="other","shop"', TM.expand, expand_values=EXPAND_CATEGORY), CATALOGUED)
    assert not q_matches(parse_q('category!="shop"', TM.expand, expand_values=EXPAND_CATEGORY), CATALOGUED)


def test_expand_values_keeps_the_data_types_apart() -> None:
    """expandValues adds expanded strings, nothing more: a number still never equals a boolean."""
    flags = stored({"flag": {"type": "Property", "value": True}, "level": {"type": "Property", "value": 1}})
    expand = frozenset({"flag", "level"})
    assert not q_matches(parse_q("flag==1", TM.expand, expand_values=expand), flags)
    assert not q_matches(parse_q("level==true", TM.expand, expand_values=expand), flags)
    assert q_matches(parse_q("level==1", TM.expand, expand_values=expand), flags)


def test_json_keys_compare_values_as_written() -> None:
    """jsonKeys wins over expandValues; compound keys still reach into the value."""
    node = parse_q('category=="shop"', TM.expand, expand_values=EXPAND_CATEGORY, json_keys=EXPAND_CATEGORY)
    assert not q_matches(node, CATALOGUED)
    assert q_matches(parse_q('config[mode]=="eco"', TM.expand, json_keys=frozenset({"config"})), CATALOGUED)
