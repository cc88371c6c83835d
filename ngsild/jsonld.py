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
_CONTEXT_KEYWORDS = frozenset(
    {"@version", "@protected", "@language", "@direction", "@propagate", "@base", "@vocab"}
)


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
            (
                (name, term.iri)
                for name, term in terms.items()
                if term.prefix and not term.iri.startswith("@")
            ),
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
            return prefix_term.iri + suffix if prefix_term is not None else term
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
                (key if key.startswith("@") or ":" not in key else self.compact(key)): self.compact_value(
                    item
                )
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.compact_value(item) for item in value]
        return value


# ---- compiling a context list ------------------------------------------------------------------


def _resolve(
    value: str, local: Mapping[str, Any], active: dict[str, Term], vocab: str | None, seen: set[str]
) -> str:
    """IRI of a term definition's ``@id`` (or of an undefined term) within the context being processed."""
    if value.startswith("@"):
        return value
    prefix, colon, suffix = value.partition(":")
    if colon:
        if suffix.startswith("//") or prefix == "_":
            return value
        if prefix in local and prefix not in seen:
            return _term_iri(prefix, local, active, vocab, seen) + suffix
        if prefix in active:
            return active[prefix].iri + suffix
        return value
    if value in local and value not in seen:
        return _term_iri(value, local, active, vocab, seen)
    if value in active:
        return active[value].iri
    if vocab is None:
        raise BadRequestData(
            f"the @context term {value!r} is not an IRI and there is no @vocab to resolve it"
        )
    return vocab + value


def _term_iri(
    name: str, local: Mapping[str, Any], active: dict[str, Term], vocab: str | None, seen: set[str]
) -> str:
    seen = seen | {name}
    definition = local[name]
    if isinstance(definition, str):
        return _resolve(definition, local, active, vocab, seen)
    raw_id = definition.get("@id") if isinstance(definition, dict) else None
    if isinstance(raw_id, str):
        return _resolve(raw_id, local, active, vocab, seen)
    if ":" in name:
        return _resolve(name, {k: v for k, v in local.items() if k != name}, active, vocab, seen)
    if vocab is None:
        raise BadRequestData(f"the @context term {name!r} has no @id and there is no @vocab to resolve it")
    return vocab + name


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
            new_vocab = _resolve(raw_vocab, context, active, vocab, {"@vocab"}) if raw_vocab else vocab
        else:
            raise BadRequestData("@vocab in a @context must be a string or null")
    result = dict(active)
    for name, definition in context.items():
        if name in _CONTEXT_KEYWORDS:
            continue
        if name.startswith("@"):
            raise BadRequestData(f"the @context keyword {name!r} is not supported")
        if definition is None:
            result.pop(name, None)
            continue
        if isinstance(definition, dict):
            if user and "@context" in definition:
                raise BadRequestData(
                    f"the @context term {name!r} has a scoped context, which NGSI-LD forbids"
                )
            if "@reverse" in definition:
                raise BadRequestData(
                    f"the @context term {name!r} is a reverse property, which NGSI-LD cannot use"
                )
            bad = [
                k
                for k in definition
                if k
                not in (
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
                )
            ]
            if bad:
                raise BadRequestData(f"the @context term {name!r} has unknown members {bad}")
        elif not isinstance(definition, str):
            raise BadRequestData(f"the @context term {name!r} must map to a string or an object")
        iri = _term_iri(name, context, active, new_vocab, set())
        if isinstance(definition, str):
            is_prefix = bool(iri) and iri[-1] in _GEN_DELIMS and ":" not in name
            result[name] = Term(iri, prefix=is_prefix)
        else:
            coerced = "@type" in definition or "@container" in definition
            explicit_prefix = definition.get("@prefix")
            result[name] = Term(iri, prefix=explicit_prefix is True, coerced=coerced)
    return result, new_vocab


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
