"""String collation for orderBy (§5.8): the root order's three levels, the implemented tailorings,
and the tags refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild.errors import BadRequestData
from ngsild.query.collation import check, collation

ROOT = collation("und")


def ordered(words: list[str], tag: str = "und") -> list[str]:
    return sorted(words, key=collation(tag))


def test_letters_first_ignore_case_and_accents() -> None:
    assert ordered(["cherry", "Banana", "apple", "Äpfel"]) == ["Äpfel", "apple", "Banana", "cherry"]


def test_accents_break_ties_before_case() -> None:
    """Secondary level (accents) before tertiary (case): a < A < á < Á."""
    assert ordered(["Á", "á", "A", "a"]) == ["a", "A", "á", "Á"]


def test_punctuation_before_digits_before_letters() -> None:
    assert ordered(["b", "7", "_", " ", "a", "-"]) == [" ", "-", "_", "7", "a", "b"]


def test_digits_compare_one_by_one() -> None:
    """Collation compares text, not numbers: "10" sorts before "9", as ICU's root order does."""
    assert ordered(["9", "10", "1"]) == ["1", "10", "9"]


def test_german_phonebook_spells_umlauts_out() -> None:
    assert ordered(["Muffler", "Müller", "Mueller", "Mukler"], "de-u-co-phonebk") == [
        "Mueller",
        "Müller",
        "Muffler",
        "Mukler",
    ]
    assert ordered(["Muffler", "Müller", "Mukler"], "de") == ["Muffler", "Mukler", "Müller"]


@pytest.mark.parametrize("tag", ["sv", "sv-SE", "fi"])
def test_swedish_and_finnish_put_a_ring_and_umlauts_after_z(tag: str) -> None:
    assert ordered(["öl", "zebra", "äpple", "år", "apa"], tag) == ["apa", "zebra", "år", "äpple", "öl"]


@pytest.mark.parametrize("tag", ["da", "nb", "no-NO"])
def test_danish_and_norwegian_put_ae_o_slash_and_a_ring_after_z(tag: str) -> None:
    assert ordered(["å", "ø", "æ", "z"], tag) == ["z", "æ", "ø", "å"]


def test_spanish_n_tilde_is_a_letter_after_n() -> None:
    assert ordered(["oso", "ñu", "nube", "nz"], "es") == ["nube", "nz", "ñu", "oso"]
    assert ordered(["nz", "ñu"]) == ["ñu", "nz"]  # root: ñ is n with a mark


@pytest.mark.parametrize("tag", ["und", "und-x-icu", "en", "en-US", "de-u-co-phonebk", "zh-Hant-TW"])
def test_well_formed_tags_are_accepted(tag: str) -> None:
    assert check(tag) == tag


@pytest.mark.parametrize("tag", ["", "_", "a", "not a tag", "de--u", "toolonglanguage", "de_DE"])
def test_malformed_tags_are_bad_request_data(tag: str) -> None:
    with pytest.raises(BadRequestData, match="BCP 47"):
        check(tag)


@given(st.lists(st.text(max_size=6), max_size=8))
def test_the_order_is_total_and_distinguishes_every_string(words: list[str]) -> None:
    """Equal keys only for equal strings, so a sort is deterministic whatever the input order."""
    assert ordered(words) == ordered(list(reversed(words)))
    keys = {ROOT(w): w for w in words}
    assert len(keys) == len(set(words))


@given(st.text(alphabet="abcxyz", max_size=6), st.text(alphabet="abcxyz", max_size=6))
def test_plain_lowercase_ascii_keeps_code_point_order(a: str, b: str) -> None:
    assert (ROOT(a) < ROOT(b)) == (a < b)
