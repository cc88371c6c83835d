"""The lexical rules of ``ngsild.model``: URIs, names (Annex A), DateTimes, scopes and language tags."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild.model import NULL, is_date, is_datetime, is_language_tag, is_name, is_scope, is_uri
from tests.strategies import datetimes, names, scopes, uris


def _reference_name_part(text: str) -> bool:
    """Annex A, literally: a Unicode letter (category L), then letters (L), numbers (N) or '_'."""
    return (
        bool(text)
        and unicodedata.category(text[0]).startswith("L")
        and all(unicodedata.category(c)[0] in "LN" or c == "_" for c in text[1:])
    )


# ---- URIs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "urn:ngsi-ld:Shop:42",
        "http://a.b.c/entity/E1",
        "https://example.org/ä/ö",
        "urn:x",
        NULL,
        "mailto:a@b.c",
    ],
)
def test_absolute_uris_and_iris_are_uris(text: str) -> None:
    """An absolute URI or IRI (any scheme) is a URI."""
    assert is_uri(text)


@pytest.mark.parametrize(
    "text",
    [
        "thisisaninvaliduri",
        "",
        "urn:",
        ":abc",
        "1urn:x",
        "urn:a b",
        "urn:<x>",
        'urn:"x"',
        "urn:a{b}",
        42,
        None,
    ],
)
def test_relative_references_blanks_and_forbidden_characters_are_not_uris(text: object) -> None:
    """No scheme, an empty remainder, whitespace or <>"{}|\\^` characters, or a non-string: not a URI."""
    assert not is_uri(text)


@given(uris)
def test_generated_entity_ids_are_uris(text: str) -> None:
    """Every generated entity id is a URI."""
    assert is_uri(text)


# ---- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "temperature",
        "a",
        "a_1",
        "Température",
        "温度",
        "ταχύτητα",
        "x²",
        "ex:speed",
        "schema:name",
        "a\u0661\u0662",
    ],
)
def test_names_follow_annex_a(text: str) -> None:
    """Letters first, then letters, digits or '_'; Unicode letters and numbers count; prefix:name too."""
    assert is_name(text)


@pytest.mark.parametrize(
    "text",
    ["", "1abc", "_abc", "@invalid", "a-b", "a b", "a.b", "a$", "é\u0301x\u0301", "ex:", ":x", "a/b", 7],
)
def test_names_outside_annex_a_are_rejected(text: object) -> None:
    """A leading digit or '_', punctuation, spaces, combining marks, an empty part or a non-string."""
    assert not is_name(text)


@pytest.mark.parametrize("text", ["https://example.org/Building", "urn:ngsi-ld:attr:x", "http://x.org/a#b"])
def test_full_iris_are_accepted_as_names(text: str) -> None:
    """A full IRI is accepted wherever a name is (§1.2)."""
    assert is_name(text)


@given(st.text(max_size=6))
def test_simple_names_are_exactly_the_annex_a_grammar(text: str) -> None:
    """For colon-free text, is_name agrees with the Annex A grammar over Unicode categories L and N."""
    if ":" not in text:
        assert is_name(text) == _reference_name_part(text)


@given(st.text(st.characters(categories=["L", "N", "P"]), max_size=4), st.text(max_size=4))
def test_prefixed_names_are_accepted_when_both_parts_are_names(prefix: str, local: str) -> None:
    """prefix:name is a name when both parts follow the grammar."""
    if _reference_name_part(prefix) and _reference_name_part(local):
        assert is_name(f"{prefix}:{local}")


@given(names)
def test_generated_attribute_names_are_names(text: str) -> None:
    """Every generated attribute name follows the grammar."""
    assert is_name(text)


# ---- DateTimes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-02T10:00:00Z",
        "2025-01-02T10:00:00.5Z",
        "2025-01-02T10:00:00.123456Z",
        "2025-01-02T10:00:00,123Z",
        "2024-02-29T23:59:59Z",
    ],
)
def test_utc_datetimes_with_up_to_six_fraction_digits_are_valid(text: str) -> None:
    """YYYY-MM-DDThh:mm:ss[.ffffff]Z, with '.' or ',' before the fraction (§1.7)."""
    assert is_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-02T10:00:00",
        "2025-01-02T10:00:00+01:00",
        "2025-01-02 10:00:00Z",
        "2025-01-02T10:00Z",
        "2025-01-02",
        "2025-02-30T10:00:00Z",
        "2023-02-29T10:00:00Z",
        "2025-01-02T24:00:00Z",
        "2025-13-02T10:00:00Z",
        "2025-01-02T10:00:00.Z",
        "2025-01-02T10:00:00z",
        "",
        20250102,
        None,
    ],
)
def test_datetimes_without_zone_with_offsets_or_impossible_dates_are_invalid(text: object) -> None:
    """A missing or non-Z zone, a missing component, or a date that does not exist: not a DateTime."""
    assert not is_datetime(text)


def test_datetimes_with_more_than_six_fraction_digits_are_invalid() -> None:
    """More than six fractional digits: not an NGSI-LD DateTime (§1.7)."""
    assert not is_datetime("2025-01-02T10:00:00.1234567Z")


@given(datetimes)
def test_generated_datetimes_are_valid(text: str) -> None:
    """Every formatted UTC instant with microseconds is a DateTime."""
    assert is_datetime(text)


def test_dates_are_year_month_day() -> None:
    """A Date is YYYY-MM-DD."""
    assert is_date("2025-01-02")
    assert not is_date("2025-01-02T00:00:00Z")
    assert not is_date("25-1-2")


# ---- scopes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["/Madrid", "Madrid", "/Madrid/Gardens/ParqueNorte", "/a_1/Ü2", "a/b"])
def test_scopes_are_slash_separated_levels(text: str) -> None:
    """[/]level(/level)* with levels following the name grammar (§1.8)."""
    assert is_scope(text)


@pytest.mark.parametrize("text", ["", "/", "//a", "/a/", "/a//b", "/1a", "/a b", "/ex:a", "/a-b", "/#", ["/a"]])
def test_scopes_with_empty_or_invalid_levels_are_rejected(text: object) -> None:
    """Empty levels, trailing slashes, prefixes or punctuation: no scope."""
    assert not is_scope(text)


@given(scopes)
def test_generated_scopes_are_scopes(text: str) -> None:
    """Every generated scope follows the grammar, with and without the leading '/'."""
    assert is_scope(text)
    assert is_scope(text[1:])


# ---- language tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["en", "fr-CH", "zh-Hant-TW", "de-1996", "@none", "EN"])
def test_language_tags_and_none_are_accepted(text: str) -> None:
    """RFC 5646-shaped tags and '@none' are language tags."""
    assert is_language_tag(text)


@pytest.mark.parametrize("text", ["", "en_US", "fr-", "-fr", "toolongtag", "en-toolongsub", "@en", 1])
def test_malformed_language_tags_are_rejected(text: object) -> None:
    """Underscores, empty subtags, subtags over eight characters or other keywords: not a language tag."""
    assert not is_language_tag(text)
