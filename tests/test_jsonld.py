"""TermMap expansion and compaction agree with a full JSON-LD processor (pyld) on NGSI-LD documents.

pyld processes ``[*user contexts, core context]`` with a document loader that serves our bundled
``core_context_document()`` for every ETSI core URL and refuses anything else, so no test touches
the network.

Generated user contexts use *untyped* term definitions only: jsonld.py deliberately ignores a
term's ``@type``/``@container`` when compacting attribute names (its docstring says why), while
pyld never picks a typed term for a node-object value. That simplification is tested on its own
below instead of being generated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from ngsild.core_context import (
    CORE_VOCAB,
    NGSI_LD_PREFIX,
    core_context_document,
    core_terms,
    is_core_context_url,
)
from ngsild.errors import BadRequestData
from ngsild.jsonld import CORE_TERM_MAP, TermMap, compile_term_map

CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
_CORE_DOCUMENT = core_context_document()
CORE = frozenset(core_terms())


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    if not is_core_context_url(url):
        raise AssertionError(f"pyld tried to load {url}")
    return {"contextUrl": None, "documentUrl": url, "document": _CORE_DOCUMENT}


_OPTIONS = {"documentLoader": _loader}


def pyld_expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    return jsonld.expand(document, dict(_OPTIONS))  # type: ignore[no-any-return]


def pyld_compact(expanded: Any, contexts: list[Any]) -> dict[str, Any]:
    return jsonld.compact(expanded, {"@context": [*contexts, CORE_URL]}, dict(_OPTIONS))  # type: ignore[no-any-return]


def pyld_expand_name(name: str, contexts: list[Any]) -> str | None:
    """The IRI pyld gives an attribute name (None when JSON-LD drops it)."""
    [node] = pyld_expand({"@context": [*contexts, CORE_URL], "@id": "urn:x", name: {"@id": "urn:y"}})
    keys = [k for k in node if not k.startswith("@")]
    return keys[0] if keys else None


def pyld_compact_iri(iri: str, contexts: list[Any]) -> str:
    """The key pyld gives a property IRI whose value is an attribute (a node object)."""
    compacted = pyld_compact([{"@id": "urn:x", iri: [{"@type": [NGSI_LD_PREFIX + "Property"]}]}], contexts)
    [key] = [k for k in compacted if k not in ("@context", "id")]
    return key


# ---- generators ------------------------------------------------------------------------------------------

_IDENT = st.builds(
    str.__add__,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=5),
)
names = _IDENT.filter(lambda n: n not in CORE)
# Untyped core terms a user context may try to redefine.
CORE_OVERRIDES = ("location", "description", "title", "status", "endpoint", "Property", "ngsi-ld")

_BASES = (
    "http://example.org/",
    "https://example.com/ns#",
    "https://ngsi-ld-test-suite/context#",
    "urn:example:",
    CORE_VOCAB,
    NGSI_LD_PREFIX,
)


@st.composite
def namespaces(draw: st.DrawFn) -> str:
    """An absolute IRI ending in / or # (usable as a prefix or @vocab)."""
    base = draw(st.sampled_from(_BASES))
    if base.endswith(":") or draw(st.booleans()):
        return base
    return f"{base}{draw(_IDENT)}{draw(st.sampled_from('/#'))}"


@st.composite
def user_context_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One or two inline user contexts: prefixes, optional @vocab, simple term definitions.

    A prefix is a string ending in / or #, or {"@id": ..., "@prefix": true}. A term maps to an
    absolute IRI, a compact IRI through a prefix of this or an earlier context, another term, or
    (under a @vocab) a vocab-relative name; optionally wrapped as {"@id": ...}.
    """
    contexts: list[dict[str, Any]] = []
    prefixes: list[str] = []
    terms: list[str] = []
    vocab = False
    for _ in range(draw(st.integers(1, 2))):
        context: dict[str, Any] = {}
        for prefix in draw(st.lists(names, max_size=2, unique=True)):
            if prefix in terms:
                continue
            namespace = draw(namespaces())
            context[prefix] = {"@id": namespace, "@prefix": True} if draw(st.booleans()) else namespace
            prefixes.append(prefix)
        if draw(st.booleans()):
            context["@vocab"] = draw(namespaces())
            vocab = True
        overrides = st.sampled_from(CORE_OVERRIDES)
        referenced: set[str] = set()
        for term in draw(st.lists(st.one_of(names, overrides), max_size=5, unique=True)):
            if term in context or term in prefixes or term in referenced:
                continue
            # A term defined as itself is left to the explicit tests below.
            others = [t for t in terms if t != term]
            kinds = ["absolute", "compact"] + ["reference"] * bool(others) + ["relative"] * vocab
            kind = draw(st.sampled_from(kinds))
            local = draw(_IDENT)
            if kind == "compact" and prefixes:
                iri = f"{draw(st.sampled_from(prefixes))}:{local}"
            elif kind == "reference":
                iri = draw(st.sampled_from(others))
                referenced.add(iri)  # redefining it later in this context could close a cycle
            elif kind == "relative":
                iri = f"x-{local}"  # never a term name, so no reference cycle
            else:
                iri = draw(namespaces()) + local
            context[term] = {"@id": iri} if draw(st.booleans()) else iri
            terms.append(term)
        items = draw(st.permutations(list(context.items())))
        contexts.append(dict(items))
    return contexts


def defined_terms(contexts: list[dict[str, Any]]) -> list[str]:
    return sorted({t for c in contexts for t in c if not t.startswith("@") and t not in CORE})


def prefix_terms(contexts: list[dict[str, Any]]) -> list[str]:
    tm = compile_term_map(contexts)
    return sorted(t for t in defined_terms(contexts) if tm.terms[t].prefix)


@st.composite
def attribute_names(draw: st.DrawFn, contexts: list[dict[str, Any]]) -> str:
    """A defined term, a compact IRI through a user or core prefix, an undefined name, or an IRI."""
    options: list[st.SearchStrategy[str]] = [names, st.just("almostFull")]
    if terms := defined_terms(contexts):
        options.append(st.sampled_from(terms))
    prefixes = [*prefix_terms(contexts), "ngsi-ld", "geojson", "undefinedprefix"]
    options.append(st.builds(lambda p, local: f"{p}:{local}", st.sampled_from(prefixes), _IDENT))
    options.append(st.builds(lambda ns, local: ns + local, namespaces(), _IDENT))
    return draw(st.one_of(options))


_SCALARS = st.one_of(
    st.integers(-1000, 1000),
    st.booleans(),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=5),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)


def nested_values(keys: st.SearchStrategy[str], depth: int = 2) -> st.SearchStrategy[Any]:
    """Property values: scalars, arrays and JSON objects whose keys are names of the context."""
    if depth == 0:
        return _SCALARS
    children = nested_values(keys, depth - 1)
    return st.one_of(
        _SCALARS,
        st.lists(children, min_size=1, max_size=2),
        st.dictionaries(keys, children, min_size=1, max_size=3),
    )


@st.composite
def entities(draw: st.DrawFn, contexts: list[dict[str, Any]]) -> dict[str, Any]:
    """An NGSI-LD entity (normalized form) whose names are drawn from the contexts."""
    entity: dict[str, Any] = {
        "id": "urn:ngsi-ld:Thing:1",
        "type": draw(st.one_of(st.sampled_from(defined_terms(contexts) or ["Thing"]), names)),
    }
    keys = attribute_names(contexts)
    for name in draw(st.lists(keys, min_size=1, max_size=4, unique=True)):
        if draw(st.booleans()):
            entity[name] = {"type": "Property", "value": draw(nested_values(keys))}
        else:
            entity[name] = {"type": "Relationship", "object": "urn:ngsi-ld:Thing:2"}
    return entity


# ---- comparing documents ---------------------------------------------------------------------------------


def key_paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths of non-keyword keys through objects (array positions are ignored)."""
    if isinstance(value, list):
        for item in value:
            yield from key_paths(item, prefix)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("@"):
                continue
            yield (*prefix, key)
            yield from key_paths(item, (*prefix, key))


HAS_VALUE = NGSI_LD_PREFIX + "hasValue"


def distinct_keys(tm: TermMap, value: Any) -> bool:
    """No JSON object inside ``value`` has two keys expanding to one IRI."""
    if isinstance(value, list):
        return all(distinct_keys(tm, item) for item in value)
    if isinstance(value, dict):
        return len({tm.expand(k) for k in value}) == len(value) and all(
            distinct_keys(tm, item) for item in value.values()
        )
    return True


def our_expansion(tm: TermMap, entity: Mapping[str, Any]) -> dict[str, Any]:
    """What the broker stores for ``entity``: expanded type, attribute names and value keys."""
    attributes = [name for name in entity if name not in ("id", "type")]
    # Two names for one IRI would be one multi-valued property in JSON-LD: not what is compared here.
    assume(len({tm.expand(name) for name in attributes}) == len(attributes))
    # Likewise two keys of one JSON object inside a value (rejected: see the test further down).
    assume(all(distinct_keys(tm, a.get("value")) for n, a in entity.items() if n not in ("id", "type")))
    out: dict[str, Any] = {"@type": [tm.expand(entity["type"])]}
    for name, attribute in entity.items():
        if name in ("id", "type"):
            continue
        value = tm.expand_value(attribute["value"]) if "value" in attribute else None
        out[tm.expand(name)] = value
    return out


def pyld_attributes(node: Mapping[str, Any]) -> dict[str, Any]:
    """Expanded attribute IRI -> the expanded hasValue (None for a Relationship)."""
    return {key: attribute[0].get(HAS_VALUE) for key, attribute in node.items() if not key.startswith("@")}


# Drawing a context list and an entity costs ~20 ms, so these run a third of the profile's examples.
heavy = settings(max_examples=max(10, settings.default.max_examples // 3))


# ---- properties against pyld -----------------------------------------------------------------------------


@heavy
@given(st.data())
def test_expansion_agrees_with_pyld(data: st.DataObject) -> None:
    """Entity type, attribute names and keys inside Property values expand to pyld's IRIs."""
    contexts = data.draw(user_context_lists())
    entity = data.draw(entities(contexts))
    [node] = pyld_expand({"@context": [*contexts, CORE_URL], **entity})
    ours = our_expansion(compile_term_map(contexts), entity)

    assert node["@type"] == ours.pop("@type")
    theirs = pyld_attributes(node)
    assert set(theirs) == set(ours)
    for iri, value in ours.items():
        assert set(key_paths(value)) == set(key_paths(theirs[iri])), iri


@heavy
@given(st.data())
def test_compaction_agrees_with_pyld(data: st.DataObject) -> None:
    """Compacting the expanded entity gives pyld's names, with the core context appended last."""
    contexts = data.draw(user_context_lists())
    entity = data.draw(entities(contexts))
    tm = compile_term_map(contexts)
    compacted = pyld_compact(pyld_expand({"@context": [*contexts, CORE_URL], **entity}), contexts)

    assert compacted["type"] == tm.compact(tm.expand(entity["type"]))
    ours = {
        tm.compact(iri): tm.compact_value(value) for iri, value in our_expansion(tm, entity).items() if iri != "@type"
    }
    theirs = {k: v.get("value") for k, v in compacted.items() if k not in ("@context", "id", "type")}
    assert set(theirs) == set(ours)
    for name, value in ours.items():
        assert set(key_paths(value)) == set(key_paths(theirs[name])), name


@heavy
@given(st.data())
def test_compacting_a_name_agrees_with_pyld(data: st.DataObject) -> None:
    """Any IRI compacts to the key pyld chooses for an attribute with that IRI."""
    contexts = data.draw(user_context_lists())
    iri = data.draw(
        st.one_of(
            st.builds(lambda ns, local: ns + local, namespaces(), _IDENT),
            st.sampled_from([f"{NGSI_LD_PREFIX}{t}" for t in ("location", "default-context/almostFull")]),
        )
    )
    assert compile_term_map(contexts).compact(iri) == pyld_compact_iri(iri, contexts)


# ---- round trips -----------------------------------------------------------------------------------------


@heavy
@given(user_context_lists())
def test_defined_terms_round_trip(contexts: list[dict[str, Any]]) -> None:
    """compact(expand(term)) is the term itself, unless a shorter term names the same IRI."""
    tm = compile_term_map(contexts)
    for term in defined_terms(contexts):
        iri = tm.expand(term)
        rivals = sorted((len(t), t) for t, d in tm.terms.items() if d.iri == iri and not d.coerced)
        assert tm.compact(iri) == rivals[0][1]
        if rivals[0][1] == term:
            assert tm.compact(iri) == term


@heavy
@given(st.data())
def test_compaction_is_a_right_inverse_of_expansion(data: st.DataObject) -> None:
    """expand(compact(expand(name))) == expand(name) for every name a client may write."""
    contexts = data.draw(user_context_lists())
    name = data.draw(attribute_names(contexts))
    tm = compile_term_map(contexts)
    iri = tm.expand(name)
    assert tm.expand(tm.compact(iri)) == iri


@heavy
@given(st.data())
def test_value_compaction_inverts_value_expansion(data: st.DataObject) -> None:
    """expand_value(compact_value(expand_value(v))) == expand_value(v)."""
    contexts = data.draw(user_context_lists())
    tm = compile_term_map(contexts)
    value = data.draw(nested_values(attribute_names(contexts)))
    expanded = tm.expand_value(value)
    assert tm.expand_value(tm.compact_value(expanded)) == expanded


@given(names)
def test_undefined_names_round_trip_through_the_core_vocab(name: str) -> None:
    """With no user context, an unknown name expands under default-context/ and compacts back."""
    assert CORE_TERM_MAP.expand(name) == CORE_VOCAB + name
    assert CORE_TERM_MAP.compact(CORE_VOCAB + name) == name


def test_core_terms_round_trip() -> None:
    """Every core term that is not a keyword alias compacts back to itself."""
    for term, definition in core_terms().items():
        if definition["@id"].startswith("@"):
            continue
        assert CORE_TERM_MAP.expand(term) == definition["@id"]
        assert CORE_TERM_MAP.compact(definition["@id"]) == term


# ---- the test-suite table of spec digest §3.3 ------------------------------------------------------------

TEST_SUITE_CONTEXTS = [
    {"almostFull": "https://ngsi-ld-test-suite/context#almostFull"},
    {
        "ngsi-ld-test-suite": "https://ngsi-ld-test-suite/context#",
        "almostFull": "ngsi-ld-test-suite:almostFull",
    },
]
ALMOST_FULL = "https://ngsi-ld-test-suite/context#almostFull"


@pytest.mark.parametrize("context", TEST_SUITE_CONTEXTS)
def test_ts_001_04_01_created_and_retrieved_with_the_test_context(context: dict[str, Any]) -> None:
    """Created and retrieved with the test context, the attribute key is almostFull."""
    tm = compile_term_map([context])
    assert tm.expand("almostFull") == ALMOST_FULL
    assert tm.compact(ALMOST_FULL) == "almostFull" == pyld_compact_iri(ALMOST_FULL, [context])


@pytest.mark.parametrize("context", TEST_SUITE_CONTEXTS)
def test_ts_001_04_02_created_with_the_test_context_retrieved_without(context: dict[str, Any]) -> None:
    """Created with the test context and retrieved with no Link, the attribute key is the FQN."""
    iri = compile_term_map([context]).expand("almostFull")
    assert CORE_TERM_MAP.compact(iri) == ALMOST_FULL == pyld_compact_iri(iri, [])


def test_ts_001_05_01_created_and_retrieved_without_context() -> None:
    """Created and retrieved with no context, the attribute key is almostFull (core @vocab)."""
    iri = CORE_TERM_MAP.expand("almostFull")
    assert iri == CORE_VOCAB + "almostFull" == pyld_expand_name("almostFull", [])
    assert CORE_TERM_MAP.compact(iri) == "almostFull" == pyld_compact_iri(iri, [])


@pytest.mark.parametrize("context", TEST_SUITE_CONTEXTS)
def test_ts_001_05_02_created_without_context_retrieved_with_the_test_context(
    context: dict[str, Any],
) -> None:
    """Created with no context and retrieved with one redefining almostFull, the key is a compact IRI."""
    iri = CORE_TERM_MAP.expand("almostFull")
    tm = compile_term_map([context])
    assert tm.compact(iri) == "ngsi-ld:default-context/almostFull" == pyld_compact_iri(iri, [context])
    assert tm.expand("ngsi-ld:default-context/almostFull") == iri


# ---- core context precedence and @vocab ------------------------------------------------------------------


def test_core_terms_cannot_be_overridden() -> None:
    """A user context redefining core terms and prefixes changes nothing: the core context comes last."""
    hostile = {
        "location": "http://evil.example/location",
        "value": "http://evil.example/value",
        "type": "http://evil.example/type",
        "ngsi-ld": "http://evil.example/",
        "Property": {"@id": "http://evil.example/Property"},
    }
    tm = compile_term_map([hostile])
    assert tm.expand("location") == NGSI_LD_PREFIX + "location" == pyld_expand_name("location", [hostile])
    assert tm.expand("value") == NGSI_LD_PREFIX + "hasValue"
    assert tm.expand("type") == "@type"
    assert tm.expand("Property") == NGSI_LD_PREFIX + "Property"
    assert tm.expand("ngsi-ld:foo") == NGSI_LD_PREFIX + "foo" == pyld_expand_name("ngsi-ld:foo", [hostile])
    assert tm.compact(NGSI_LD_PREFIX + "location") == "location"


def test_user_vocab_does_not_replace_the_core_vocab() -> None:
    """Undefined names fall back to the core @vocab even when the user context sets its own."""
    context = {"@vocab": "http://example.org/vocab#"}
    tm = compile_term_map([context])
    assert tm.expand("foo") == CORE_VOCAB + "foo" == pyld_expand_name("foo", [context])
    assert tm.compact(CORE_VOCAB + "foo") == "foo"


def test_user_vocab_resolves_the_user_terms() -> None:
    """Vocab-relative term definitions of a user context resolve against that context's @vocab."""
    context = {"@vocab": "http://example.org/vocab#", "speed": "velocity", "height": {}}
    tm = compile_term_map([context])
    assert tm.expand("speed") == "http://example.org/vocab#velocity" == pyld_expand_name("speed", [context])
    assert tm.expand("height") == "http://example.org/vocab#height" == pyld_expand_name("height", [context])


def test_later_user_context_overrides_an_earlier_one() -> None:
    """Of two user contexts, the later definition of a term wins."""
    contexts = [{"speed": "http://a.example/speed"}, {"speed": "http://b.example/speed"}]
    assert compile_term_map(contexts).expand("speed") == "http://b.example/speed" == pyld_expand_name("speed", contexts)


def test_later_user_context_uses_an_earlier_prefix() -> None:
    """A compact IRI in a later context resolves through a prefix of an earlier one."""
    contexts = [{"ex": "http://example.org/"}, {"speed": "ex:speed"}]
    assert compile_term_map(contexts).expand("speed") == "http://example.org/speed"


def test_null_term_definition_removes_an_earlier_one() -> None:
    """A term set to null in a later context is no longer a user term, so the core @vocab applies.

    (pyld would drop such an attribute altogether; a broker must not lose data silently.)
    """
    tm = compile_term_map([{"speed": "http://a.example/speed"}, {"speed": None}])
    assert "speed" not in tm.terms
    assert tm.expand("speed") == CORE_VOCAB + "speed"


def test_absolute_iris_and_unknown_prefixes_are_kept() -> None:
    """An absolute IRI, or a compact IRI whose prefix is not defined, expands to itself."""
    assert CORE_TERM_MAP.expand("http://example.org/speed") == "http://example.org/speed"
    assert CORE_TERM_MAP.expand("zz:speed") == "zz:speed" == pyld_expand_name("zz:speed", [])
    assert CORE_TERM_MAP.compact("http://example.org/speed") == "http://example.org/speed"


def test_value_keys_that_are_keywords_are_kept_as_written() -> None:
    """Inside a value, @-keywords and the id/type aliases stay as written, with their values untouched."""
    value = {"type": "Thing", "id": "urn:x", "@value": {"speed": 1}, "speed": {"type": "Inner"}}
    assert CORE_TERM_MAP.expand_value(value) == {
        "type": "Thing",
        "id": "urn:x",
        "@value": {"speed": 1},
        CORE_VOCAB + "speed": {"type": "Inner"},
    }


def test_compaction_prefers_the_shortest_then_least_term() -> None:
    """Of several untyped terms for one IRI, compaction picks the shortest, then the least."""
    context = {"speed": "http://example.org/s", "sp": "http://example.org/s", "aa": "http://example.org/s"}
    tm = compile_term_map([context])
    assert tm.compact("http://example.org/s") == "aa" == pyld_compact_iri("http://example.org/s", [context])


def test_compaction_prefers_the_shortest_compact_iri() -> None:
    """Of several prefixes, compaction uses the one giving the shortest compact IRI."""
    context = {"long": "http://example.org/", "s": "http://example.org/ns/"}
    tm = compile_term_map([context])
    iri = "http://example.org/ns/speed"
    assert tm.compact(iri) == "s:speed" == pyld_compact_iri(iri, [context])


def test_typed_terms_are_still_chosen_for_attribute_names() -> None:
    """Deliberate simplification: a typed user term compacts an attribute name, where pyld gives the FQN."""
    context = {"when": {"@id": "http://example.org/when", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}}
    tm = compile_term_map([context])
    assert tm.compact("http://example.org/when") == "when"
    assert pyld_compact_iri("http://example.org/when", [context]) == "http://example.org/when"


def test_an_untyped_term_is_preferred_to_a_typed_one() -> None:
    """When an untyped and a typed term name one IRI, the untyped one is chosen even if longer."""
    context = {
        "w": {"@id": "http://example.org/when", "@type": "@id"},
        "whenever": "http://example.org/when",
    }
    assert compile_term_map([context]).compact("http://example.org/when") == "whenever"


# ---- rejected contexts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"speed": {"@id": "http://example.org/speed", "@context": {}}}, id="scoped-context"),
        pytest.param({"@import": "http://example.org/ctx.jsonld"}, id="import"),
        pytest.param({"speed": 1}, id="number"),
        pytest.param({"speed": True}, id="boolean"),
        pytest.param({"speed": ["http://example.org/speed"]}, id="array"),
        pytest.param({"@vocab": 1}, id="vocab-number"),
        pytest.param({"@foo": "bar"}, id="unknown-keyword"),
        pytest.param({"speed": {"@reverse": "http://example.org/speed"}}, id="reverse"),
        pytest.param({"speed": {"@id": "http://example.org/speed", "@foo": 1}}, id="unknown-member"),
        pytest.param({"speed": "velocity"}, id="relative-without-vocab"),
        pytest.param({"speed": {"@type": "@id"}}, id="no-id-without-vocab"),
    ],
)
def test_unsupported_user_contexts_are_bad_request_data(context: dict[str, Any]) -> None:
    """Scoped contexts, @import, non-string term values and unresolvable terms are BadRequestData."""
    with pytest.raises(BadRequestData):
        compile_term_map([context])


@given(
    names,
    st.one_of(
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
    ),
)
def test_non_string_term_values_are_bad_request_data(term: str, value: Any) -> None:
    """A term mapped to anything but a string, an object or null is BadRequestData."""
    with pytest.raises(BadRequestData):
        compile_term_map([{term: value}])


@given(names, st.dictionaries(names, st.just("http://example.org/x"), max_size=2))
def test_scoped_contexts_are_bad_request_data(term: str, scoped: dict[str, str]) -> None:
    """Any term carrying its own @context is BadRequestData, whatever that context holds."""
    with pytest.raises(BadRequestData):
        compile_term_map([{term: {"@id": "http://example.org/t", "@context": scoped}}])


# ---- known disagreements with JSON-LD 1.1 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"ex": {"@id": "http://example.org/"}}, id="expanded-definition"),
        pytest.param({"ex": "http://example.org/x"}, id="no-gen-delim"),
    ],
)
def test_only_prefix_terms_expand_compact_iris(context: dict[str, Any]) -> None:
    """A compact IRI expands through a term only if that term is a prefix (as pyld does)."""
    contexts = [context]
    assert compile_term_map(contexts).expand("ex:speed") == pyld_expand_name("ex:speed", contexts) == "ex:speed"


def test_only_prefix_terms_resolve_term_definitions() -> None:
    """A term definition's compact IRI resolves through a term only if that term is a prefix."""
    contexts = [{"ex": {"@id": "http://example.org/"}, "speed": "ex:speed"}]
    assert compile_term_map(contexts).expand("speed") == pyld_expand_name("speed", contexts) == "ex:speed"


def test_cyclic_term_definitions_are_bad_request_data() -> None:
    """Terms defined through each other are invalid JSON-LD, hence BadRequestData."""
    contexts = [{"@vocab": "http://v.example/", "a": "b", "b": "a"}]
    with pytest.raises(jsonld.JsonLdError):
        pyld_expand_name("a", contexts)
    with pytest.raises(BadRequestData):
        compile_term_map(contexts)


def test_term_defined_as_itself_ignores_its_earlier_definition() -> None:
    """A later context defining a term as itself resolves it against @vocab, not the earlier definition."""
    contexts = [{"speed": "http://a.example/speed"}, {"@vocab": "http://v.example/", "speed": "speed"}]
    assert pyld_expand_name("speed", contexts) == "http://v.example/speed"
    assert compile_term_map(contexts).expand("speed") == "http://v.example/speed"


def test_user_terms_may_not_be_protected_against_the_core() -> None:
    """A @protected user context cannot keep a core term: the core wins (pyld would raise instead)."""
    context = {"@protected": True, "location": "http://example.org/location"}
    with pytest.raises(jsonld.JsonLdError):
        pyld_expand_name("location", [context])
    assert compile_term_map([context]).expand("location") == NGSI_LD_PREFIX + "location"


def test_value_keys_expanding_to_one_iri_lose_nothing() -> None:
    """Two keys of a value naming one IRI are rejected with BadRequestData, never silently merged."""
    tm = compile_term_map([{"a": "http://example.org/a", "b": "http://example.org/a"}])
    with pytest.raises(BadRequestData):
        tm.expand_value({"a": 1, "b": 2})
