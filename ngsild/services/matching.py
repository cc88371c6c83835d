"""Which subscriptions a Change concerns (§5.8.6): subscriptions compiled once, an index by entity
type and id so that subscriptions on other types cost nothing per write, and the attribute-level
diff that decides the triggers.

The entity filters (selectors, q, geoQ, scopeQ) are one ``EntityQuery`` checked with the query
package's ``matches``: the same semantics as Query Entities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import orjson

from ngsild import render, subscription
from ngsild.jsonld import TermMap
from ngsild.model import Change, Doc
from ngsild.query.ast import EntityQuery, EntitySelector, TypeSelector
from ngsild.query.match import matches
from ngsild.query.params import entity_query, query_body_params
from ngsild.query.qlang import parse_type_selector
from ngsild.query.regex import compile_regex
from ngsild.render import RenderOptions


@dataclass(frozen=True, slots=True)
class Diff:
    """What a write did to an entity's attributes (by IRI), instance by instance (datasetId): an
    attribute is created when it gains an instance, deleted when it loses one, updated when one of
    its instances changed. One attribute can be in several of these sets."""

    created: frozenset[str]
    updated: frozenset[str]
    deleted: frozenset[str]
    removed: dict[str, list[Doc]]  # the instances each deleted attribute lost

    @property
    def touched(self) -> frozenset[str]:
        return self.created | self.updated | self.deleted


def diff(change: Change) -> Diff:
    """The attribute-level effect of a change. A changed instance includes a new modifiedAt, so an
    update with the same value still counts as an update. A new entity creates all its attributes
    and a deleted one deletes them all (§5.8.6, trigger rules)."""
    before = change.before["attrs"] if change.before is not None else {}
    after = change.after["attrs"] if change.after is not None else {}
    created: set[str] = set()
    updated: set[str] = set()
    removed: dict[str, list[Doc]] = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, []), after.get(name, [])
        if old == new:
            continue
        old_by = {i.get("datasetId"): i for i in old}
        new_by = {i.get("datasetId"): i for i in new}
        if new_by.keys() - old_by.keys():
            created.add(name)
        gone = [i for i in old if i.get("datasetId") not in new_by]
        if gone:
            removed[name] = gone
        if any(old_by[d] != new_by[d] for d in old_by.keys() & new_by.keys()):
            updated.add(name)
    return Diff(frozenset(created), frozenset(updated), frozenset(removed), removed)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A subscription parsed once, ready to be matched."""

    tenant: str
    id: str
    doc: Doc
    query: EntityQuery
    watched: frozenset[str] | None
    triggers: frozenset[str]
    index_types: frozenset[str] | None  # the types any matching entity has one of; None: any type
    index_ids: frozenset[str] | None  # the ids any matching entity has one of; None: any id
    render_key: bytes  # subscriptions with equal keys (and term maps) tell a change the same way
    render: RenderOptions  # format, projection, sysAttrs, lang and datasetId of its notifications
    tm: TermMap | None = None  # notifications are compacted with it (None until resolved)

    @property
    def written_triggers(self) -> frozenset[str]:
        return frozenset(self.doc.get("notificationTrigger", subscription.DEFAULT_TRIGGERS))

    @property
    def periodic(self) -> bool:
        return "timeInterval" in self.doc

    def with_term_map(self, tm: TermMap) -> Compiled:
        return replace(self, tm=tm)

    def fires(self, change: Change, changed: Diff) -> bool:
        """Whether this change triggers this (active, change-driven) subscription, filters included."""
        if change.before is None:  # entityUpdated, though it covers attributeCreated, is not a creation
            wanted = "entityCreated" in self.triggers or "attributeCreated" in self.written_triggers
            attrs = changed.created
        elif change.after is None:
            wanted = "entityDeleted" in self.triggers or (
                "attributeDeleted" in self.triggers and self.watched is not None
            )
            attrs = changed.deleted
        else:
            attrs = frozenset().union(
                *(
                    names
                    for trigger, names in (
                        ("attributeCreated", changed.created),
                        ("attributeUpdated", changed.updated),
                        ("attributeDeleted", changed.deleted),
                    )
                    if trigger in self.triggers
                )
            )
            wanted = bool(attrs)
        if not wanted:
            return False
        if self.watched is not None and not (attrs & self.watched) and not self._entity_level(change):
            return False
        target = change.after if change.after is not None else change.before
        assert target is not None
        return matches(self.query, target)

    def _entity_level(self, change: Change) -> bool:
        """entityCreated/entityDeleted concern the entity, whichever attributes it has."""
        if change.before is None:
            return "entityCreated" in self.triggers
        if change.after is None:
            return "entityDeleted" in self.triggers
        return False


_EXPANDED_ENTITY_UPDATED = ("attributeCreated", "attributeUpdated", "attributeDeleted")
_ENTITY_TRIGGERS = frozenset({"entityCreated", "entityDeleted"})


def compile_subscription(tenant: str, doc: Doc, core: TermMap) -> Compiled:
    """Parse a stored subscription's filters once. Every term is stored expanded, and q carries the
    expansions of its names, so no @context is needed (``core`` expands only what q left out)."""
    q_terms: dict[str, str] = doc.get("qTerms", {})

    def expand(name: str) -> str:
        return q_terms.get(name) or core.expand(name)

    params: dict[str, str] = query_body_params(
        {"type": "Query", **{k: doc[k] for k in ("q", "scopeQ", "geoQ") if k in doc}}
    )
    params["local"] = "true"  # the minimum-filter rule of Query Entities does not apply here
    selectors = tuple(_selector(s) for s in doc.get("entities", ()))
    query = entity_query(params, expand, selectors)
    triggers = set(doc.get("notificationTrigger", subscription.DEFAULT_TRIGGERS))
    if "entityUpdated" in triggers:
        triggers.update(_EXPANDED_ENTITY_UPDATED)
    watched = frozenset(doc["watchedAttributes"]) if "watchedAttributes" in doc else None
    index_types, index_ids = _index_keys(selectors)
    shape = {k: v for k, v in doc["notification"].items() if k != "endpoint"}
    render_key = orjson.dumps(
        [shape, doc.get("lang"), doc.get("datasetId"), sorted(watched or ()), "entityDeleted" in triggers],
        option=orjson.OPT_SORT_KEYS,
    )
    return Compiled(
        tenant, doc["id"], doc, query, watched, frozenset(triggers), index_types, index_ids, render_key,
        _render_options(doc),
    )  # fmt: skip


def _render_options(doc: Doc) -> RenderOptions:
    params = doc["notification"]
    pick: frozenset[str] | None = None
    if "attributes" in params:
        pick = frozenset(params["attributes"]) | render.PROJECTED_MEMBERS
    elif "pick" in params:
        pick = frozenset(params["pick"])
    return RenderOptions(
        form=render.FORMS[params.get("format", "normalized")],
        sys_attrs=params.get("sysAttrs", False),
        pick=pick,
        omit=frozenset(params.get("omit", ())),
        lang=render.parse_lang(doc["lang"]) if "lang" in doc else None,
        dataset_ids=render.parse_datasets(doc["datasetId"]) if "datasetId" in doc else None,
    )


def _selector(stored: Doc) -> EntitySelector:
    types: TypeSelector | None = None
    if stored["type"] != "*":
        types = parse_type_selector(stored["type"], lambda iri: iri)
    return EntitySelector(
        ids=frozenset([stored["id"]]) if "id" in stored else None,
        id_pattern=compile_regex(stored["idPattern"]) if "idPattern" in stored and "id" not in stored else None,
        types=types,
    )


def _index_keys(selectors: tuple[EntitySelector, ...]) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Keys under which a subscription is filed. An entity matching a selector has one of the types
    its expression names (every alternative needs at least one type), and its id when one is given."""
    if not selectors:
        return None, None
    types: set[str] = set()
    ids: set[str] = set()
    any_type = any_id = False
    for s in selectors:
        if s.types is None:
            any_type = True
        else:
            types.update(*s.types.groups)
        if s.ids is None:
            any_id = True
        else:
            ids.update(s.ids)
    return (None if any_type else frozenset(types)), (None if any_id else frozenset(ids))


Key = tuple[str, str]  # (tenant, subscription id)


@dataclass
class SubscriptionIndex:
    """The subscriptions filed by entity id, else by type, else (with no entities, only
    watchedAttributes) by watched attribute, else as wildcards: a write looks at the subscriptions
    that may concern it and no others. One per broker process."""

    by_key: dict[Key, Compiled] = field(default_factory=dict)
    _by_id: dict[tuple[str, str], set[Key]] = field(default_factory=dict)
    _by_type: dict[tuple[str, str], set[Key]] = field(default_factory=dict)
    _by_attr: dict[tuple[str, str], set[Key]] = field(default_factory=dict)
    _wild: dict[str, set[Key]] = field(default_factory=dict)
    _per_tenant: dict[str, int] = field(default_factory=dict)

    def put(self, compiled: Compiled) -> Compiled | None:
        """File a subscription (replacing one with its key); returns the one replaced."""
        old = self.remove(compiled.tenant, compiled.id)
        key = (compiled.tenant, compiled.id)
        self.by_key[key] = compiled
        self._per_tenant[compiled.tenant] = self._per_tenant.get(compiled.tenant, 0) + 1
        for bucket in self._buckets(compiled):
            bucket.add(key)
        return old

    def remove(self, tenant: str, sub_id: str) -> Compiled | None:
        old = self.by_key.pop((tenant, sub_id), None)
        if old is not None:
            self._per_tenant[tenant] -= 1
            for bucket in self._buckets(old):
                bucket.discard((tenant, sub_id))
            for table in (self._by_id, self._by_type, self._by_attr):  # no empty buckets left behind
                for key in [k for k, bucket in table.items() if k[0] == tenant and not bucket]:
                    del table[key]
        return old

    def get(self, tenant: str, sub_id: str) -> Compiled | None:
        return self.by_key.get((tenant, sub_id))

    def serves(self, tenant: str) -> bool:
        """Whether the tenant has any subscription (a write in one without costs nothing more)."""
        return self._per_tenant.get(tenant, 0) > 0

    def _buckets(self, c: Compiled) -> Iterator[set[Key]]:
        if c.index_ids is not None:
            for entity_id in c.index_ids:
                yield self._by_id.setdefault((c.tenant, entity_id), set())
        elif c.index_types is not None:
            for type_iri in c.index_types:
                yield self._by_type.setdefault((c.tenant, type_iri), set())
        elif c.watched is not None and not c.triggers & _ENTITY_TRIGGERS:
            # Only a change to a watched attribute can fire it (entity triggers ignore watching).
            for attr in c.watched:
                yield self._by_attr.setdefault((c.tenant, attr), set())
        else:
            yield self._wild.setdefault(c.tenant, set())

    def candidates(self, change: Change, changed: Callable[[], Diff]) -> list[Compiled]:
        """The subscriptions filed under this change's entity id, its types (before or after the
        write) or the attributes it changed (``changed`` is asked only when some subscription is
        filed by attribute), in a stable order (by id) so notifications come out deterministically."""
        tenant = change.tenant
        keys: set[Key] = set(self._wild.get(tenant, ()))
        keys |= self._by_id.get((tenant, change.entity_id), set())
        for doc in (change.before, change.after):
            if doc is not None:
                for type_iri in doc["type"]:
                    keys |= self._by_type.get((tenant, type_iri), set())
        if self._by_attr:
            for attr in changed().touched:
                keys |= self._by_attr.get((tenant, attr), set())
        return [self.by_key[k] for k in sorted(keys)]

    def of_tenant(self, tenant: str) -> list[Compiled]:
        return [c for (t, _), c in self.by_key.items() if t == tenant]

    def __len__(self) -> int:
        return len(self.by_key)
