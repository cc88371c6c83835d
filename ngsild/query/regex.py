"""A POSIX extended regular expression matcher that cannot backtrack catastrophically.

``idPattern`` and the ``~=`` operator take client-supplied regexes. Python's ``re`` backtracks, so
``(a+)+$`` against a long id can stall the event loop for minutes. This module compiles ERE syntax
to a Thompson NFA and simulates it breadth-first (Pike/Thompson), so matching costs at most
O(len(pattern) x len(text)) steps whatever the pattern. Patterns are capped in length.

Supported: literals, ``.``, bracket expressions (ranges, negation, POSIX classes such as
``[[:digit:]]``), anchors ``^`` and ``$``, groups, alternation ``|``, the quantifiers ``* + ?`` and
``{m}``, ``{m,}``, ``{m,n}`` (n <= 100), backslash escapes (``\\d \\w \\s`` and their negations as a
convenience), and a leading ``(?i)`` for case-insensitive matching. Matching is a search (unanchored
unless the pattern anchors itself), as implementations of idPattern commonly do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ngsild.errors import TooComplexQuery

MAX_PATTERN_LENGTH = 1024
_MAX_REPEAT = 100
_MAX_STATES = 2_000
# Simulation steps one search may take before it is refused (a few tens of milliseconds).
_MAX_STEPS = 2_000_000


class RegexTooComplex(TooComplexQuery):
    """A search would cost more than the budget: refused instead of stalling the broker."""


class RegexError(ValueError):
    """The pattern is not a valid (supported) POSIX ERE; ``position`` says where."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


# NFA state kinds
_CHAR, _SPLIT, _MATCH, _BOL, _EOL = range(5)

_CLASSES: dict[str, Callable[[str], bool]] = {
    "alpha": str.isalpha,
    "digit": str.isdigit,
    "alnum": str.isalnum,
    "upper": str.isupper,
    "lower": str.islower,
    "space": str.isspace,
    "punct": lambda c: c.isprintable() and not c.isalnum() and not c.isspace(),
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
    "print": str.isprintable,
    "blank": lambda c: c in " \t",
    "cntrl": lambda c: not c.isprintable(),
    "graph": lambda c: c.isprintable() and not c.isspace(),
}


@dataclass(frozen=True)
class CharSet:
    """What one input character must be: a set of characters, ranges and classes, maybe negated."""

    chars: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    classes: tuple[str, ...] = ()
    negated: bool = False
    any_char: bool = False

    def accepts(self, ch: str, fold: bool) -> bool:
        if self.any_char:
            return ch != "\n"
        hit = self._hit(ch) or (fold and (self._hit(ch.lower()) or self._hit(ch.upper())))
        return hit != self.negated

    def _hit(self, ch: str) -> bool:
        return (
            ch in self.chars
            or any(low <= ch <= high for low, high in self.ranges)
            or any(_CLASSES[name](ch) for name in self.classes)
        )


@dataclass
class _State:
    kind: int
    charset: CharSet | None = None
    out: int = -1
    out2: int = -1


@dataclass
class _Fragment:
    start: int
    ends: list[tuple[int, int]]  # (state index, which out: 1 or 2) still dangling


@dataclass(eq=False)
class Regex:
    """A compiled pattern; ``search(text)`` is linear in ``len(text)``. Equal when sources are equal."""

    source: str
    _states: list[_State] = field(repr=False)
    _start: int = field(repr=False)
    _fold: bool = field(repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regex) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def search(self, text: str) -> bool:
        states, fold = self._states, self._fold
        current: set[int] = set()
        self._add(current, self._start, 0, text)
        steps = 0
        for position, ch in enumerate(text):
            steps += len(current)
            if steps > _MAX_STEPS:
                raise RegexTooComplex(f"the regular expression {self.source!r} is too costly for a value this long")
            if any(states[s].kind == _MATCH for s in current):
                return True
            following: set[int] = set()
            for index in current:
                state = states[index]
                if state.kind == _CHAR and state.charset is not None and state.charset.accepts(ch, fold):
                    self._add(following, state.out, position + 1, text)
            self._add(following, self._start, position + 1, text)  # unanchored: a match may start anywhere
            current = following
        return any(states[s].kind == _MATCH for s in current)

    def _add(self, into: set[int], index: int, position: int, text: str) -> None:
        stack = [index]
        while stack:
            i = stack.pop()
            if i < 0 or i in into:
                continue
            state = self._states[i]
            if state.kind == _SPLIT:
                into.add(i)
                stack.extend((state.out2, state.out))
            elif state.kind == _BOL:
                into.add(i)
                if position == 0:
                    stack.append(state.out)
            elif state.kind == _EOL:
                into.add(i)
                if position == len(text):
                    stack.append(state.out)
            else:
                into.add(i)


def compile_regex(pattern: str) -> Regex:
    """Compile a POSIX ERE; raise RegexError with the position of the problem."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH)
    fold = pattern.startswith("(?i)")
    parser = _Parser(pattern[4:] if fold else pattern, 4 if fold else 0)
    fragment = parser.alternation()
    if parser.pos < len(parser.text):
        raise RegexError(f"unexpected {parser.text[parser.pos]!r}", parser.pos + parser.offset)
    match = parser.state(_MATCH)
    parser.patch(fragment, match)
    return Regex(pattern, parser.states, fragment.start, fold)


class _Parser:
    def __init__(self, text: str, offset: int) -> None:
        self.text, self.offset, self.pos = text, offset, 0
        self.states: list[_State] = []

    def error(self, message: str) -> RegexError:
        return RegexError(message, self.pos + self.offset)

    def state(self, kind: int, charset: CharSet | None = None, out: int = -1, out2: int = -1) -> int:
        if len(self.states) >= _MAX_STATES:
            raise self.error("the pattern is too complex")
        self.states.append(_State(kind, charset, out, out2))
        return len(self.states) - 1

    def patch(self, fragment: _Fragment, target: int) -> None:
        for index, which in fragment.ends:
            if which == 1:
                self.states[index].out = target
            else:
                self.states[index].out2 = target

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def alternation(self) -> _Fragment:
        left = self.concatenation()
        while self.peek() == "|":
            self.pos += 1
            right = self.concatenation()
            split = self.state(_SPLIT, out=left.start, out2=right.start)
            left = _Fragment(split, left.ends + right.ends)
        return left

    def concatenation(self) -> _Fragment:
        pieces: list[_Fragment] = []
        while (ch := self.peek()) is not None and ch not in "|)":
            pieces.append(self.repetition())
        return self.chain(pieces)

    def chain(self, pieces: list[_Fragment]) -> _Fragment:
        """The fragments one after the other; no fragment at all matches the empty string."""
        if not pieces:
            empty = self.state(_SPLIT)
            return _Fragment(empty, [(empty, 1), (empty, 2)])
        result = pieces[0]
        for piece in pieces[1:]:
            self.patch(result, piece.start)
            result = _Fragment(result.start, piece.ends)
        return result

    def repetition(self) -> _Fragment:
        start = self.pos
        fragment = self.atom()
        while (self.peek() or "") in ("*", "+", "?", "{"):
            low, high = self.quantifier()
            fragment = self.repeat(fragment, low, high, start)
        return fragment

    def quantifier(self) -> tuple[int, int | None]:
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "*":
            return 0, None
        if ch == "+":
            return 1, None
        if ch == "?":
            return 0, 1
        close = self.text.find("}", self.pos)
        if close < 0:
            raise self.error("'{' is never closed")
        body = self.text[self.pos : close]
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            raise self.error(f"bad repetition {{{body}}}")
        low = int(low_text)
        high = (int(high_text) if high_text else None) if comma else low
        if low > _MAX_REPEAT or (high is not None and (high > _MAX_REPEAT or high < low)):
            raise self.error(f"repetition {{{body}}} is out of range (at most {_MAX_REPEAT})")
        self.pos = close + 1
        return low, high

    def repeat(self, fragment: _Fragment, low: int, high: int | None, start: int) -> _Fragment:
        """Copies of the atom for the mandatory part, then optional copies or a loop."""

        def copy() -> _Fragment:
            saved = self.pos
            self.pos = start
            clone = self.atom()
            self.pos = saved
            return clone

        pieces: list[_Fragment] = []
        first = True
        for _ in range(low):
            pieces.append(fragment if first else copy())
            first = False
        if high is None:
            body = fragment if first else copy()
            split = self.state(_SPLIT, out=body.start)
            self.patch(body, split)
            pieces.append(_Fragment(split, [(split, 2)]))
        else:
            for _ in range(high - low):
                body = fragment if first else copy()
                first = False
                split = self.state(_SPLIT, out=body.start)
                pieces.append(_Fragment(split, [(split, 2), *body.ends]))
        return self.chain(pieces)

    def atom(self) -> _Fragment:
        ch = self.peek()
        if ch is None:
            raise self.error("the pattern ends where an expression was expected")
        if ch in "*+?{":
            raise self.error(f"{ch!r} has nothing to repeat")
        self.pos += 1
        if ch == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            inner = self.alternation()
            if self.peek() != ")":
                raise self.error("'(' is never closed")
            self.pos += 1
            return inner
        if ch == "^":
            index = self.state(_BOL)
            return _Fragment(index, [(index, 1)])
        if ch == "$":
            index = self.state(_EOL)
            return _Fragment(index, [(index, 1)])
        if ch == ".":
            charset = CharSet(any_char=True)
        elif ch == "[":
            charset = self.bracket()
        elif ch == "\\":
            charset = self.escape()
        else:
            charset = CharSet(frozenset(ch))
        index = self.state(_CHAR, charset)
        return _Fragment(index, [(index, 1)])

    def escape(self) -> CharSet:
        ch = self.peek()
        if ch is None:
            raise self.error("the pattern ends with a lone backslash")
        self.pos += 1
        shorthand = {"d": ("digit", False), "D": ("digit", True), "w": ("alnum", False), "W": ("alnum", True),
                     "s": ("space", False), "S": ("space", True)}  # fmt: skip
        if ch in shorthand:
            name, negated = shorthand[ch]
            extra = frozenset("_") if ch in "wW" else frozenset()
            return CharSet(extra, (), (name,), negated)
        return CharSet(frozenset({"n": "\n", "t": "\t", "r": "\r"}.get(ch, ch)))

    def bracket(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        classes: list[str] = []
        first = True
        while True:
            ch = self.peek()
            if ch is None:
                raise self.error("'[' is never closed")
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if self.text.startswith("[:", self.pos):
                close = self.text.find(":]", self.pos + 2)
                name = self.text[self.pos + 2 : close] if close > 0 else ""
                if name not in _CLASSES:
                    raise self.error(f"unknown character class [:{name}:]")
                classes.append(name)
                self.pos = close + 2
                continue
            self.pos += 1
            if ch == "\\" and self.peek() is not None:
                ch = self.text[self.pos]
                self.pos += 1
            if self.peek() == "-" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] != "]":
                high = self.text[self.pos + 1]
                if high < ch:
                    raise self.error(f"the range {ch}-{high} is reversed")
                ranges.append((ch, high))
                self.pos += 2
            else:
                chars.add(ch)
        return CharSet(frozenset(chars), tuple(ranges), tuple(classes), negated)
