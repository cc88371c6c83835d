"""The POSIX ERE engine behind ``idPattern`` and ``~=``: same answers as a backtracking engine on plain
patterns, linear time on hostile ones, and errors that say where."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ngsild.errors import TooComplexQuery
from ngsild.query.regex import MAX_PATTERN_LENGTH, RegexError, compile_regex
from tests.query.strategies import ere_patterns, ere_texts

half = settings(max_examples=max(10, (settings.default.max_examples or 100) // 2))


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def elapsed(call: Callable[[], object]) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


# ---- Python's re as the oracle ----------------------------------------------------------------------


@half
@given(ere_patterns, st.lists(ere_texts, min_size=1, max_size=8))
def test_search_agrees_with_python_re(pattern: str, texts: list[str]) -> None:
    """On patterns both dialects read alike, ``search`` finds a match exactly when ``re.search`` does."""
    compiled, oracle = compile_regex(pattern), re.compile(pattern)
    for text in texts:
        assert compiled.search(text) == (oracle.search(text) is not None), text


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("^urn:ngsi-ld:Building:", "urn:ngsi-ld:Building:A", True),
        ("^urn:ngsi-ld:Building:", "xurn:ngsi-ld:Building:A", False),
        ("Building:[0-9]+$", "urn:ngsi-ld:Building:42", True),
        ("Building:[0-9]+$", "urn:ngsi-ld:Building:42a", False),
        ("[[:digit:]]{3}", "ab123", True),
        ("[[:digit:]]{3}", "ab12c", False),
        ("^[[:alpha:]_]+$", "snake_case", True),
        ("[[:space:]]", "no-space", False),
        ("\\d+\\.\\d", "v1.2", True),
        ("\\.", "abc", False),
        ("(?i)^eiffel", "EIFFEL Tower", True),
        ("^eiffel", "EIFFEL Tower", False),
        ("(?i)[a-c]x", "BX", True),
        ("a{2,3}b", "aab", True),
        ("^a{2,3}b", "aaaab", False),
        ("a{2,}", "a", False),
        ("colou?r", "color", True),
        ("(ab)+c", "ababc", True),
        ("[]x]", "]", True),
        ("[^]x]", "]", False),
        ("[a-]", "-", True),
        ("", "anything", True),
        ("Tower|Ben", "Big Ben", True),
        ("b+c", "aaabbbcaaa", True),
        ("é+", "café", True),
    ],
)
def test_examples(pattern: str, text: str, found: bool) -> None:
    """POSIX classes, escapes, (?i), counted repetition, bracket edge cases, alternation and Unicode."""
    assert compile_regex(pattern).search(text) is found


def test_regexes_are_equal_when_their_sources_are() -> None:
    """Compiled patterns compare and hash by source, so ASTs holding them compare structurally."""
    assert compile_regex("a+b") == compile_regex("a+b")
    assert hash(compile_regex("a+b")) == hash(compile_regex("a+b"))
    assert compile_regex("a+b") != compile_regex("a+c")


# ---- hostile patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a+)+$", "a" * 30_000 + "!"),
        ("(a|a)*b", "a" * 30_000),
        ("(x*)*y", "x" * 30_000),
        ("^(a|aa)+$", "a" * 20_000 + "b"),
        ("(.*a){20}", "a" * 10_000),
    ],
)
def test_catastrophic_patterns_finish_quickly(pattern: str, text: str) -> None:
    """Patterns that make a backtracking engine run for ages answer in well under a second here."""
    compiled = compile_regex(pattern)
    with deadline(5):
        assert elapsed(lambda: compiled.search(text)) < 5


def test_nested_counted_repetition_is_no_denial_of_service() -> None:
    """A short pattern with nested {m,n} is refused as too complex rather than allowed to stall the broker."""
    with pytest.raises(RegexError):
        compile_regex("((a|b){100}){50}")


def test_a_search_over_budget_is_too_complex_not_slow() -> None:
    """A pattern within the state cap on a huge text stops at the step budget with TooComplexQuery."""
    compiled = compile_regex("(a|b){40}c")
    with deadline(5), pytest.raises(TooComplexQuery):
        compiled.search("ab" * 200_000)


# ---- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "position"),
    [
        ("*a", 0),
        ("a|+", 2),
        ("ab)", 2),
        ("(?i)*a", 4),
        ("a(?i)", 2),
    ],
)
def test_errors_give_the_position(pattern: str, position: int) -> None:
    """An invalid pattern raises RegexError whose position points at the offending character."""
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert info.value.position == position
    assert f"position {position}" in str(info.value)


@pytest.mark.parametrize(
    "pattern",
    ["(ab", "[abc", "a{2", "a{x}", "a{3,1}", "a{101}", "a{1,101}", "[z-a]", "a\\", "[[:nope:]]", "(", "?"],
)
def test_invalid_patterns(pattern: str) -> None:
    """Unclosed groups/brackets/braces, bad or huge repetitions, reversed ranges, unknown classes fail."""
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert 0 <= info.value.position <= len(pattern)


def test_pattern_length_is_capped() -> None:
    """Patterns up to MAX_PATTERN_LENGTH compile; a longer one is refused."""
    assert not compile_regex("a" * MAX_PATTERN_LENGTH).search("a" * 10)
    with pytest.raises(RegexError):
        compile_regex("a" * (MAX_PATTERN_LENGTH + 1))


def test_state_explosion_is_refused() -> None:
    """A repetition that would build an enormous automaton is refused as too complex, not built."""
    with pytest.raises(RegexError, match="too complex"):
        compile_regex("((a{100}){100}){100}")
