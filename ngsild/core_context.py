"""The NGSI-LD core @context (ETSI GS CIM 009 V1.9.1, Annex B), bundled so it is never fetched.

Written from the spec's term list in grouped form: most terms map to ``ngsi-ld:<term>``; the rest
are listed with their IRI and any type coercion or container. ``tests/test_core_context.py``
proves that every term expands exactly as the published v1.8 and v1.9 files do.
"""

from __future__ import annotations

import re
from typing import Any, Final

NGSI_LD_PREFIX: Final = "https://uri.etsi.org/ngsi-ld/"
GEOJSON_PREFIX: Final = "https://purl.org/geojson/vocab#"

# Terms whose IRI is ngsi-ld:<the term itself>.
_SAME_NAME = """
Attribute AttributeList ContextSourceIdentity ContextSourceNotification ContextSourceRegistration Date
DateTime EntityMap EntityType EntityTypeInfo EntityTypeList ExecutionResultDetails GeoProperty
JsonProperty LanguageProperty ListProperty ListRelationship Notification Property Relationship Snapshot
SnapshotNotification Subscription TemporalProperty Time VocabProperty accept aggrParams aggrMethods
aggrPeriodDuration attributeCount attributeDetails attrs cacheDuration collation contextSourceAlias
contextSourceInfo contextSourceUptime cooldown csf data detail endpoint entities entity entityCount
error errors expandValues format geoQ geoproperty georel idPattern information isActive join jsonKeys
jsonldContext lang lastN linkedMaps localOnly location management managementInterval mode
ngsildConformance notification notificationTrigger notifierInfo notUpdated observationInterval
observationSpace omit operations operationSpace ordering pick q reason receiverInfo refreshRate
registrationId registrationName resultStatus scope scopeQ showChanges snapshotId snapshotLifetime
snapshotPriority snapshotStatus status subscriptionName sysAttrs temporalQ throttling timeInterval
timeout timeproperty timerel timesFailed timesSent triggerReason unchanged unitCode updated uri
""".split()

_GEOJSON_TERMS = """
Feature FeatureCollection GeometryCollection LineString MultiLineString MultiPoint MultiPolygon Point
Polygon geometry properties
""".split()

# Terms typed as vocabulary IRIs ("@type": "@vocab"), mapping to ngsi-ld:<term>.
_VOCAB_TYPED = """
attributeList attributeName attributeNames attributeTypes attributes propertyNames relationshipNames
typeList typeName typeNames watchedAttributes
""".split()

# DateTime-typed terms, mapping to ngsi-ld:<term>.
_DATETIME_TYPED = """
contextSourceTimeAt createdAt deletedAt endAt endTimeAt expiresAt lastFailure lastNotification
lastSuccess lastUsedAt modifiedAt notifiedAt observedAt startAt timeAt
""".split()

# List-container terms, mapping to ngsi-ld:<term>.
_LIST_SAME_NAME = """
avg distinctCount entityList jsons max min snapshotQueries snapshotQueriesDetails
snapshotTemporalQueries snapshotTemporalQueriesDetails stddev sum sumsq totalCount
""".split()

# term -> (local name under ngsi-ld:, type coercion, container)
_RENAMED: Final[dict[str, tuple[str, str | None, str | None]]] = {
    "containedBy": ("isContainedBy", None, None),
    "dataset": ("hasDataset", None, "@index"),
    "datasetId": ("datasetId", "@id", None),
    "entityId": ("entityId", "@id", None),
    "entityMap": ("hasEntityMap", None, "@index"),
    "entityMapLifetime": ("hasEntityMapLifetime", None, None),
    "instanceId": ("instanceId", "@id", None),
    "joinLevel": ("hasJoinLevel", None, None),
    "json": ("hasJSON", "@json", None),
    "key": ("hasKey", None, None),
    "languageMap": ("hasLanguageMap", None, "@language"),
    "languageMaps": ("hasLanguageMaps", None, "@list"),
    "object": ("hasObject", "@id", None),
    "objectList": ("hasObjectList", None, "@list"),
    "objectLists": ("hasObjectLists", None, "@list"),
    "objects": ("hasObjects", None, "@list"),
    "objectType": ("hasObjectType", "@vocab", None),
    "orderBy": ("orderBy", None, "@list"),
    "previousJson": ("hasPreviousJson", "@json", None),
    "previousLanguageMap": ("hasPreviousLanguageMap", None, "@language"),
    "previousObject": ("hasPreviousObject", "@id", None),
    "previousObjectList": ("hasPreviousObjectList", None, "@list"),
    "previousValue": ("hasPreviousValue", None, None),
    "previousValueList": ("hasPreviousValueList", None, "@list"),
    "previousVocab": ("hasPreviousVocab", "@vocab", None),
    "problemDetails": ("problemDetails", "@json", None),
    "splitEntities": ("hasSplitEntities", None, None),
    "subscriptionId": ("subscriptionId", "@id", None),
    "success": ("success", "@id", None),
    "tenant": ("tenant", "@id", None),
    "value": ("hasValue", None, None),
    "valueList": ("hasValueList", None, "@list"),
    "valueLists": ("hasValueLists", None, "@list"),
    "values": ("hasValues", None, "@list"),
    "valueType": ("hasValueType", "@vocab", None),
    "vocab": ("hasVocab", "@vocab", None),
    "vocabs": ("hasVocabs", None, "@list"),
    "contextSourceExtras": ("contextSourceExtras", "@json", None),
    "ngsildproof": ("ngsildproof", None, None),
}

_OTHER: Final[dict[str, dict[str, str]]] = {
    "bbox": {"@id": GEOJSON_PREFIX + "bbox", "@container": "@list"},
    "coordinates": {"@id": GEOJSON_PREFIX + "coordinates", "@container": "@list"},
    "features": {"@id": GEOJSON_PREFIX + "features", "@container": "@set"},
    "description": {"@id": "http://purl.org/dc/terms/description"},
    "title": {"@id": "http://purl.org/dc/terms/title"},
    "langString": {"@id": "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"},
}


def _definition(iri: str, type_: str | None = None, container: str | None = None) -> dict[str, str]:
    term: dict[str, str] = {"@id": iri}
    if type_ is not None:
        term["@type"] = type_ if type_.startswith("@") else NGSI_LD_PREFIX + type_
    if container is not None:
        term["@container"] = container
    return term


def core_terms() -> dict[str, dict[str, str]]:
    """Every core term, fully expanded: term -> {"@id": iri, "@type"?: ..., "@container"?: ...}."""
    terms: dict[str, dict[str, str]] = {
        "ngsi-ld": {"@id": NGSI_LD_PREFIX},
        "geojson": {"@id": GEOJSON_PREFIX},
        "id": {"@id": "@id"},
        "type": {"@id": "@type"},
    }
    terms.update({t: _definition(NGSI_LD_PREFIX + t) for t in _SAME_NAME})
    terms.update({t: _definition(GEOJSON_PREFIX + t) for t in _GEOJSON_TERMS})
    terms.update({t: _definition(NGSI_LD_PREFIX + t, "@vocab") for t in _VOCAB_TYPED})
    terms.update({t: _definition(NGSI_LD_PREFIX + t, "DateTime") for t in _DATETIME_TYPED})
    terms.update({t: _definition(NGSI_LD_PREFIX + t, None, "@list") for t in _LIST_SAME_NAME})
    terms.update({t: _definition(NGSI_LD_PREFIX + n, ty, c) for t, (n, ty, c) in _RENAMED.items()})
    terms.update({t: dict(d) for t, d in _OTHER.items()})
    return terms


CORE_VOCAB: Final = NGSI_LD_PREFIX + "default-context/"

# The unversioned URL and every published version are all "the core context" (TS accepts any).
_CORE_URL = re.compile(r"^https?://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(?:-v1\.\d+)?\.jsonld$")


def is_core_context_url(url: str) -> bool:
    return _CORE_URL.fullmatch(url) is not None


def core_context_document() -> dict[str, Any]:
    """The bundled core context as a JSON-LD document (served by the broker; used as pyld's copy)."""
    context: dict[str, Any] = {"@version": 1.1, "@protected": True}
    for term, definition in core_terms().items():
        context[term] = definition["@id"] if len(definition) == 1 else dict(definition)
    context["@vocab"] = CORE_VOCAB
    return {"@context": context}
