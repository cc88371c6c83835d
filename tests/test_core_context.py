"""The bundled core @context says exactly what the published ETSI files say.

The published files are read from ``../shared/ngsi-ld`` at test time; they are never copied into
the repository.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyld import jsonld

from ngsild.core_context import (
    CORE_VOCAB,
    GEOJSON_PREFIX,
    NGSI_LD_PREFIX,
    core_context_document,
    core_terms,
    is_core_context_url,
)

SHARED = Path(__file__).parents[1].parent / "shared"
PUBLISHED = SHARED / "ngsi-ld"

# Term definition members that decide what a term expands to and how its values are read.
_COMPARED = ("@id", "@type", "@container")


@cache
def published(version: str) -> dict[str, Any]:
    """The ``@context`` member of the published core context file for ``version``."""
    path = PUBLISHED / f"ngsi-ld-core-context-v{version}.jsonld"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    context: dict[str, Any] = json.loads(path.read_text())["@context"]
    return context


def _resolve(value: str, context: dict[str, Any], defining: str | None = None) -> str:
    """IRI of ``value`` inside ``context`` (vocab-relative, as JSON-LD expands @id and @type there)."""
    if value.startswith("@"):
        return value
    prefix, colon, suffix = value.partition(":")
    if colon and not suffix.startswith("//") and isinstance(context.get(prefix), str):
        return _resolve(context[prefix], context, prefix) + suffix
    if colon:
        return value
    if value in context and value != defining:
        return _term_iri(value, context)
    # A term defined as itself ("attributeCount": "attributeCount" in v1.8) falls back to @vocab.
    return str(context["@vocab"]) + value


def _term_iri(term: str, context: dict[str, Any]) -> str:
    definition = context[term]
    raw = definition if isinstance(definition, str) else definition["@id"]
    return _resolve(raw, context, term)


def published_terms(version: str) -> dict[str, dict[str, str]]:
    """Every term of a published file, expanded like ``core_terms()``: @id, @type and @container."""
    context = published(version)
    terms: dict[str, dict[str, str]] = {}
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        expanded = {"@id": _term_iri(term, context)}
        if isinstance(definition, dict):
            if "@type" in definition:
                expanded["@type"] = _resolve(definition["@type"], context)
            if "@container" in definition:
                expanded["@container"] = definition["@container"]
        terms[term] = expanded
    return terms


def _ours(term: str) -> dict[str, str]:
    return {k: v for k, v in core_terms()[term].items() if k in _COMPARED}


def _offline_loader(url: str, options: Any = None) -> dict[str, Any]:
    # v1.9's ngsildproof scopes the W3C data-integrity context; its contents do not matter here.
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": {}}}


def _pyld_mappings(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    processor = jsonld.JsonLdProcessor()
    active = processor.process_context(processor._get_initial_context({}), context, {"documentLoader": _offline_loader})
    return dict(active["mappings"])


@pytest.mark.parametrize("version", ["1.8", "1.9"])
def test_reading_of_published_files_agrees_with_pyld(version: str) -> None:
    """This file's reading of a published core context gives the IRIs and coercions pyld gives."""
    mappings = _pyld_mappings(published(version))
    for term, expanded in published_terms(version).items():
        mapping = mappings[term]
        assert expanded["@id"] == mapping["@id"], term
        assert expanded.get("@type") == mapping.get("@type"), term
        containers = [expanded["@container"]] if "@container" in expanded else []
        assert containers == mapping.get("@container", []), term


def test_every_v19_term_expands_as_published() -> None:
    """Every term of the v1.9 file has the same IRI, @type and @container in core_terms()."""
    theirs = published_terms("1.9")
    mismatched = {t: (d, core_terms().get(t)) for t, d in theirs.items() if t not in core_terms() or _ours(t) != d}
    assert mismatched == {}


def test_core_terms_are_exactly_the_v19_terms() -> None:
    """core_terms() defines no term that the v1.9 file lacks, and lacks none that it defines."""
    assert set(core_terms()) == set(published_terms("1.9"))


def test_core_vocab_is_the_published_vocab() -> None:
    """Unknown terms fall back to the same @vocab as in both published files."""
    assert published("1.9")["@vocab"] == CORE_VOCAB
    assert published("1.8")["@vocab"] == CORE_VOCAB


def test_prefixes_are_the_published_prefixes() -> None:
    """The ngsi-ld: and geojson: prefixes are the published ones."""
    for version in ("1.8", "1.9"):
        assert published(version)["ngsi-ld"] == NGSI_LD_PREFIX
        assert published(version)["geojson"] == GEOJSON_PREFIX


def versions_differ() -> set[str]:
    """Terms of v1.8 that v1.9 dropped or defines differently."""
    v18, v19 = published_terms("1.8"), published_terms("1.9")
    return {term for term, definition in v18.items() if v19.get(term) != definition}


def test_v18_and_v19_differ_in_four_terms() -> None:
    """The published v1.8 and v1.9 differ in exactly four v1.8 terms, for known reasons.

    - ``attributeCount`` and ``attributeDetails`` are defined as themselves in v1.8, so they fall
      back to ``@vocab`` (``…/default-context/attributeCount``); v1.9 fixes them to ``ngsi-ld:``.
    - ``entityMap`` gains ``"@container": "@index"`` in v1.9.
    - ``objectsLists`` (v1.8) is renamed ``objectLists`` in v1.9.
    We follow v1.9 for all four.
    """
    assert versions_differ() == {"attributeCount", "attributeDetails", "entityMap", "objectsLists"}


def test_every_other_v18_term_expands_as_published() -> None:
    """Apart from the four terms that changed in v1.9, every v1.8 term expands as core_terms() does."""
    skip = versions_differ()
    theirs = {t: d for t, d in published_terms("1.8").items() if t not in skip}
    mismatched = {t: (d, core_terms().get(t)) for t, d in theirs.items() if t not in core_terms() or _ours(t) != d}
    assert mismatched == {}


def test_scoped_context_of_ngsildproof_is_not_bundled() -> None:
    """The only published member we leave out is ngsildproof's scoped @context (we never expand a proof)."""
    published_members = {
        (t, k) for t, d in published("1.9").items() if isinstance(d, dict) for k in d if k not in _COMPARED
    }
    assert published_members == {("ngsildproof", "@context")}


def test_core_context_document_processes_like_the_published_v19() -> None:
    """pyld reads the served core context document exactly as it reads the published v1.9 file."""
    ours = _pyld_mappings(core_context_document()["@context"])
    theirs = _pyld_mappings(published("1.9"))
    assert set(ours) == set(theirs)
    for term, mapping in theirs.items():
        assert {k: mapping.get(k) for k in (*_COMPARED, "_prefix", "protected")} == {
            k: ours[term].get(k) for k in (*_COMPARED, "_prefix", "protected")
        }, term


def test_core_context_document_is_protected_json_ld_11() -> None:
    """The served core context is JSON-LD 1.1, protected, with the default-context @vocab."""
    context = core_context_document()["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True
    assert context["@vocab"] == CORE_VOCAB


ETSI = "https://uri.etsi.org/ngsi-ld/v1/"


@pytest.mark.parametrize(
    "url",
    [
        ETSI + "ngsi-ld-core-context.jsonld",
        *(f"{ETSI}ngsi-ld-core-context-v1.{minor}.jsonld" for minor in range(10)),
        "http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
    ],
)
def test_core_context_urls_are_recognised(url: str) -> None:
    """The unversioned and every v1.x ETSI core context URL is the core context."""
    assert is_core_context_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ngsi-ld-core-context-v1.9.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.json",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v2.0.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.jsonld",
        "https://uri.etsi.org/ngsi-ld/v2/ngsi-ld-core-context-v1.9.jsonld",
        "https://uri.etsi.org/ngsi-ld/ngsi-ld-core-context-v1.9.jsonld",
        "https://uri.etsi.org.evil.example/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
        "https://evil.example/uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
        "https://uriXetsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld?x=1",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld#frag",
        "ftp://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
        " https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
    ],
)
def test_other_urls_are_not_the_core_context(url: str) -> None:
    """Other hosts, paths, versions, suffixes, schemes and stray characters are not the core context."""
    assert not is_core_context_url(url)


def test_core_url_with_trailing_newline_is_not_the_core_context() -> None:
    """A core context URL followed by a newline is not the core context."""
    assert not is_core_context_url(ETSI + "ngsi-ld-core-context-v1.9.jsonld\n")


@given(st.text(min_size=1, max_size=12).filter(lambda tail: tail != "\n"))
def test_anything_appended_to_a_core_url_makes_it_another_url(tail: str) -> None:
    """A core context URL followed by any characters is not the core context."""
    assert not is_core_context_url(ETSI + "ngsi-ld-core-context-v1.9.jsonld" + tail)
