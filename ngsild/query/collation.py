"""String collation for ``orderBy`` (§5.8): an approximation of the Unicode Collation Algorithm's
root order, with the few language tailorings city data most often needs.

Why not ICU: PyICU needs a C++ build against libicu, which the stack does not carry. The root
order is reproduced in its three levels, which is what users see: first letters without accents
or case (punctuation and spaces before digits, digits by value before letters), then accents,
then case (lower before upper). Tailorings change the first level only: German phonebook
(``de-u-co-phonebk``: ä = ae), Swedish/Finnish (å ä ö after z), Danish/Norwegian (æ ø å after z)
and Spanish (ñ after n). Any other well-formed BCP 47 tag uses the root order, which is what ICU
does for the many languages without a tailoring (en, fr, it, nl, pt, ...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from ngsild.errors import BadRequestData

CollationKey = tuple[tuple[tuple[int, int], ...], tuple[str, ...], tuple[int, ...], str]

# language-subtags, then extensions such as -u-co-phonebk and private use such as -x-icu
_BCP47 = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
_Z = ord("z")
_AFTER_Z: dict[str, dict[str, int]] = {
    "sv": {"å": _Z + 1, "ä": _Z + 2, "æ": _Z + 2, "ö": _Z + 3, "ø": _Z + 3},
    "fi": {"å": _Z + 1, "ä": _Z + 2, "æ": _Z + 2, "ö": _Z + 3, "ø": _Z + 3},
    "da": {"æ": _Z + 1, "ä": _Z + 1, "ø": _Z + 2, "ö": _Z + 2, "å": _Z + 3},
    "nb": {"æ": _Z + 1, "ä": _Z + 1, "ø": _Z + 2, "ö": _Z + 2, "å": _Z + 3},
    "nn": {"æ": _Z + 1, "ä": _Z + 1, "ø": _Z + 2, "ö": _Z + 2, "å": _Z + 3},
    "no": {"æ": _Z + 1, "ä": _Z + 1, "ø": _Z + 2, "ö": _Z + 2, "å": _Z + 3},
}
_PHONEBOOK = {"ä": "ae", "ö": "oe", "ü": "ue"}
# Letters that the root order treats as a base letter plus a mark are whole letters in a tailoring.
_SPANISH = {"ñ": ord("n") * 2 + 1}

_PUNCTUATION, _DIGIT, _LETTER = 0, 1, 2


def check(tag: str) -> str:
    """The tag when it is a well-formed collation name, else BadRequestData."""
    if not _BCP47.fullmatch(tag):
        raise BadRequestData(f"collation={tag!r} is not a BCP 47 language tag (for example de-u-co-phonebk)")
    return tag


@lru_cache(maxsize=64)
def collation(tag: str) -> Callable[[str], CollationKey]:
    """The sort-key function for a collation tag (checked with ``check``)."""
    subtags = tag.lower().split("-")
    language = subtags[0]
    letters: dict[str, int] = {}
    expansions: dict[str, str] = {}
    if language == "de" and "phonebk" in subtags:
        expansions = _PHONEBOOK
    elif language == "es":
        letters = _SPANISH
    else:
        letters = {c: w * 2 + 1 for c, w in _AFTER_Z.get(language, {}).items()}
    return lambda text: _key(text, letters, expansions)


def _key(text: str, letters: dict[str, int], expansions: dict[str, str]) -> CollationKey:
    primary: list[tuple[int, int]] = []
    accents: list[str] = []  # one entry per primary weight: the marks on that letter
    cases: list[int] = []
    for ch in unicodedata.normalize("NFC", text):
        folded = ch.casefold()
        cases.append(1 if ch != folded else 0)
        if folded in letters:
            primary.append((_LETTER, letters[folded]))
            accents.append("")
            continue
        decomposed = unicodedata.normalize("NFD", folded)
        marks = "".join(c for c in decomposed if unicodedata.combining(c))
        base = expansions.get(folded) or "".join(c for c in decomposed if not unicodedata.combining(c))
        for index, b in enumerate(base):
            primary.append(_weight(b))
            accents.append(marks if index == 0 else "")
    return tuple(primary), tuple(accents), tuple(cases), text


def _weight(ch: str) -> tuple[int, int]:
    category = unicodedata.category(ch)
    if category == "Nd":
        return _DIGIT, unicodedata.digit(ch)
    if category[0] in "LM":
        return _LETTER, ord(ch) * 2  # even: tailored letters slot in between
    return _PUNCTUATION, ord(ch)
