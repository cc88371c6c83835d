"""An NGSI-LD context broker (ETSI GS CIM 009).

General layout (the import rule is enforced by ``tests/test_layers.py``)::

    http/       Starlette edge: negotiation, handlers, routes, ProblemDetails. Imports services.
    services/   use cases as plain async functions over a Broker record. No Starlette here.
                Subscriptions: matching.py (index, triggers), notifications.py (what is said),
                delivery.py (outbox, lanes, retries, periodic), channels.py (HTTP, MQTT).
    query/      the one query semantics (AST, parsers, matching, regex, geo). Pure.
    updates.py  pure write semantics (create/replace/merge/patch/append/delete).
    validate.py NGSI-LD payload rules -> expanded fragments.
    subscription.py the Subscription data type: request bodies <-> stored documents (pure).
    render.py   stored documents -> normalized / concise / keyValues / GeoJSON.
    jsonld.py   TermMap: expansion and compaction as dict walks; core_context.py is the bundled core.
    contexts.py remote @context fetch + caches; egress.py decides which hosts may be contacted.
    store/      the storage port and its adapters (SQLite, MongoDB); the only importers of sqlite3 and pymongo.
    model.py, errors.py, clock.py, settings.py, geojson.py: shared vocabulary and plumbing.
    ../datamodels  Smart Data Models (schemas, contexts, validators): a package of its own that
                imports nothing of ngsild; services.admission applies it at ingest.

    http -> services -> {query, updates, validate, render, jsonld, contexts, datamodels, store.port}
    store.* -> {query, model, errors};  query -> {model, errors, geojson};  nothing imports http.
"""

__version__ = "0.1.0"
