"""JSON-LD term handling as plain dict walks: a TermMap compiled once per distinct context list.

NGSI-LD needs only a slice of JSON-LD: expanding the names a client writes (entity types, attribute
names, keys inside structured values, vocabulary values) to IRIs, and compacting IRIs back with the
*request's* context on output. A full JSON-LD processor per request would cost milliseconds; a
TermMap answers each term from a memo after the first use. pyld is the oracle in the tests.

Rules followed (JSON-LD 1.1 "Context Processing", "IRI Expansion", "IRI Compaction"):
- contexts are processed in order and the core context is always processed last, so its protected
  terms and its ``@vocab`` win whatever the user sends;
- a term definition's IRI is resolved against the context active at the time it is defined;
- compaction tries an exact term (shortest, then lexicographically least), then a ``@vocab``-relative
  suffix that is not itself a term, then the shortest compact IRI through a prefix term, else the IRI.

Deliberate simplification: term selection ignores a term's ``@type``/``@container`` coercion when
compacting attribute names (NGSI-LD attribute values are always node objects, so a typed term would
otherwise never be chosen and a user would see full IRIs for names they defined).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ngsild.core_context import CORE_VOCAB, core_terms
from ngsild.errors import BadRequestData

_GEN_DELIMS = frozenset(":/?#[]@")
_CONTEXT_KEYWORDS = frozenset({"@version", "@protected", "@language", "@direction", "@propagate", "@base", "@vocab"})


@dataclass(frozen=True, slots=True)
class Term:
    iri: str
    prefix: bool = False
    coerced: bool = False  # has @type or @container: less preferred when compacting


class TermMap:
    """Expansion and compaction for one context list (user contexts followed by the core context)."""

    __slots__ = ("_compact_memo", "_exact", "_expand_memo", "_prefixes", "terms", "vocab")

    def __init__(self, terms: dict[str, Term], vocab: str | None) -> None:
        self.terms = terms
        self.vocab = vocab
        self._expand_memo: dict[str, str] = {}
        self._compact_memo: dict[str, str] = {}
        exact: dict[str, str] = {}
        for name, term in sorted(terms.items(), key=lambda kv: (kv[1].coerced, len(kv[0]), kv[0])):
            if not term.iri.startswith("@"):
                exact.setdefault(term.iri, name)
        self._exact = exact
        self._prefixes = sorted(
            ((name, term.iri) for name, term in terms.items() if term.prefix and not term.iri.startswith("@")),
            key=lambda kv: kv[0],
        )

    # ---- expansion -------------------------------------------------------------------------------

    def expand(self, term: str) -> str:
        """Expand a name, type or vocabulary value to an IRI (keywords stay keywords)."""
        iri = self._expand_memo.get(term)
        if iri is None:
            iri = self._expand(term)
            if len(self._expand_memo) < 100_000:
                self._expand_memo[term] = iri
        return iri

    def _expand(self, term: str) -> str:
        definition = self.terms.get(term)
        if definition is not None:
            return definition.iri
        if term.startswith("@"):
            return term
        prefix, colon, suffix = term.partition(":")
        if colon:
            if suffix.startswith("//") or prefix == "_":
                return term
            prefix_term = self.terms.get(prefix)
            return prefix_term.iri + suffix if prefix_term is not None and prefix_term.prefix else term
        return (self.vocab or CORE_VOCAB) + term

    # ---- compaction ------------------------------------------------------------------------------

    def compact(self, iri: str) -> str:
        """Compact an IRI to the shortest form this context allows."""
        term = self._compact_memo.get(iri)
        if term is None:
            term = self._compact(iri)
            if len(self._compact_memo) < 100_000:
                self._compact_memo[iri] = term
        return term

    def _compact(self, iri: str) -> str:
        exact = self._exact.get(iri)
        if exact is not None:
            return exact
        vocab = self.vocab
        if vocab and iri.startswith(vocab) and len(iri) > len(vocab):
            suffix = iri[len(vocab) :]
            if suffix not in self.terms:
                return suffix
        best: str | None = None
        for name, prefix_iri in self._prefixes:
            if len(iri) > len(prefix_iri) and iri.startswith(prefix_iri):
                candidate = f"{name}:{iri[len(prefix_iri) :]}"
                clash = self.terms.get(candidate)
                if clash is not None and clash.iri != iri:
                    continue
                if best is None or (len(candidate), candidate) < (len(best), best):
                    best = candidate
        return best if best is not None else iri

    # ---- structured values -----------------------------------------------------------------------

    def expand_value(self, value: Any) -> Any:
        """Expand the keys of JSON objects inside a Property value (recursively); scalars unchanged.

        Keys that are keywords (``@type``, ``@value``) or expand to one (``id``, ``type``) are kept
        as written, and so are their values.
        """
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                iri = self.expand(key)
                if iri.startswith("@"):
                    out[key] = item
                elif iri in out:
                    raise BadRequestData(f"two keys of one JSON value expand to the same IRI {iri}; rename one")
                else:
                    out[iri] = self.expand_value(item)
            return out
        if isinstance(value, list):
            return [self.expand_value(item) for item in value]
        return value

    def compact_value(self, value: Any) -> Any:
        """The inverse of ``expand_value`` under this context."""
        if isinstance(value, dict):
            return {
                (key if key.startswith("@") or ":" not in key else self.compact(key)): self.compact_value(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.compact_value(item) for item in value]
        return value


# ---- compiling a context list ------------------------------------------------------------------


class _Definer:
    """JSON-LD 1.1 "Create Term Definition" for one local context over the active one: terms are
    defined on first use (so a term may use a prefix defined later in the same object), cycles are
    an error, and only terms with the prefix flag expand compact IRIs."""

    def __init__(self, local: Mapping[str, Any], active: dict[str, Term], vocab: str | None) -> None:
        self.local, self.active, self.vocab = local, active, vocab
        self.defined: dict[str, Term | None] = {}
        self.defining: set[str] = set()

    def lookup(self, name: str) -> Term | None:
        if name in self.local and name not in _CONTEXT_KEYWORDS:
            return self.define(name)
        return self.active.get(name)

    def expand(self, value: str) -> str:
        """IRI expansion of an ``@id`` value (vocabulary-relative)."""
        if value.startswith("@"):
            return value
        prefix, colon, suffix = value.partition(":")
        if not colon:
            term = self.lookup(value)
            if term is not None:
                return term.iri
            if self.vocab is None:
                raise BadRequestData(f"the @context term {value!r} is not an IRI and there is no @vocab")
            return self.vocab + value
        if suffix.startswith("//") or prefix == "_":
            return value
        term = self.lookup(prefix)
        return term.iri + suffix if term is not None and term.prefix else value

    def define(self, name: str) -> Term | None:
        if name in self.defined:
            return self.defined[name]
        if name in self.defining:
            raise BadRequestData(f"the @context defines {name!r} through a cycle of term definitions")
        self.defining.add(name)
        definition = self.local[name]
        if definition is None:
            self.defined[name] = None  # an explicit null removes the term
            self.defining.discard(name)
            return None
        raw_id = definition if isinstance(definition, str) else definition.get("@id")
        if isinstance(raw_id, str) and raw_id != name:
            iri = self.expand(raw_id)
        elif ":" in name:
            iri = self.expand(name)
        elif self.vocab is not None:
            iri = self.vocab + name
        else:
            raise BadRequestData(f"the @context term {name!r} has no IRI and there is no @vocab to resolve it")
        if isinstance(definition, str):
            simple_prefix = ":" not in name and "/" not in name and bool(iri) and iri[-1] in _GEN_DELIMS
            term = Term(iri, prefix=simple_prefix and not iri.startswith("@"))
        else:
            coerced = "@type" in definition or "@container" in definition
            term = Term(iri, prefix=definition.get("@prefix") is True, coerced=coerced)
        self.defined[name] = term
        self.defining.discard(name)
        return term


def _process_one(
    context: Mapping[str, Any], active: dict[str, Term], vocab: str | None, *, user: bool
) -> tuple[dict[str, Term], str | None]:
    if "@import" in context:
        raise BadRequestData("@import in a user @context is not supported")
    new_vocab = vocab
    if "@vocab" in context:
        raw_vocab = context["@vocab"]
        if raw_vocab is None:
            new_vocab = None
        elif isinstance(raw_vocab, str):
            new_vocab = _Definer({}, active, vocab).expand(raw_vocab) if raw_vocab else vocab
        else:
            raise BadRequestData("@vocab in a @context must be a string or null")
    for name, definition in context.items():
        if name in _CONTEXT_KEYWORDS:
            continue
        if name.startswith("@"):
            raise BadRequestData(f"the @context keyword {name!r} is not supported")
        if isinstance(definition, dict):
            _check_expanded_definition(name, definition, user=user)
        elif definition is not None and not isinstance(definition, str):
            raise BadRequestData(f"the @context term {name!r} must map to a string or an object")
    definer = _Definer(context, active, new_vocab)
    result = dict(active)
    for name in context:
        if name in _CONTEXT_KEYWORDS:
            continue
        term = definer.define(name)
        if term is None:
            result.pop(name, None)
        else:
            result[name] = term
    return result, new_vocab


_DEFINITION_KEYS = frozenset(
    {
        "@id",
        "@type",
        "@container",
        "@prefix",
        "@protected",
        "@language",
        "@direction",
        "@nest",
        "@index",
        "@context",
    }
)


def _check_expanded_definition(name: str, definition: dict[str, Any], *, user: bool) -> None:
    if user and "@context" in definition:
        raise BadRequestData(f"the @context term {name!r} has a scoped context, which NGSI-LD forbids")
    if "@reverse" in definition:
        raise BadRequestData(f"the @context term {name!r} is a reverse property, which NGSI-LD cannot use")
    unknown = sorted(definition.keys() - _DEFINITION_KEYS)
    if unknown:
        raise BadRequestData(f"the @context term {name!r} has unknown members {unknown}")
    if "@id" in definition and not isinstance(definition["@id"], str | None):
        raise BadRequestData(f"the @id of the @context term {name!r} must be a string")


def _core_terms() -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for name, definition in core_terms().items():
        iri = definition["@id"]
        simple = len(definition) == 1
        terms[name] = Term(iri, prefix=simple and iri[-1] in _GEN_DELIMS, coerced=not simple)
    return terms


_CORE_TERMS = _core_terms()


def compile_term_map(user_contexts: list[Mapping[str, Any]]) -> TermMap:
    """Compile inline context objects (remote ones already fetched), then the core context last."""
    active: dict[str, Term] = {}
    vocab: str | None = None
    for context in user_contexts:
        active, vocab = _process_one(context, active, vocab, user=True)
    active.update(_CORE_TERMS)
    return TermMap(active, CORE_VOCAB)


CORE_TERM_MAP = compile_term_map([])
