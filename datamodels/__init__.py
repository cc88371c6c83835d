"""Smart Data Models support: validate NGSI-LD entities against the upstream JSON Schemas, offline.

Usable on its own (``python -m datamodels pull|validate|list``) and by the broker; it imports
nothing from ``ngsild``. The pieces, in the order data flows through them:

- ``catalog``: where models live upstream (``ModelRef``: schema and @context URLs by convention)
  and the catalogued types a bare type name may stand for (``lookup``).
- ``pull``: download models, their transitive ``$ref`` documents and subject @contexts into a cache
  directory, bounded in time, size and number of documents.
- ``layout``: the source directory layout the cache shares with ``../shared/smart-data-models``.
- ``source`` (with ``registry``, ``refs``): ``load`` a source directory into a ``Library``: one
  ``Model`` per type with a validator compiled once, the @context documents by URL (so entities
  that cite them expand without the network), and the errors of files that could not be used.
- ``simplify``: any NGSI-LD representation -> the keyValues shape the schemas describe.
- ``validator`` (with ``formats``): violations as ``Violation(path, rule, message)``; formats are
  asserted (see ``formats`` for why).

Typical use::

    library = load(Path("var/datamodels"))
    problems = library.model_for(entity["type"]).validate(simplify(entity))
"""

from datamodels.catalog import ModelRef, lookup
from datamodels.errors import DataModelsError, InvalidModelName, SourceNotFound, UnknownModel
from datamodels.layout import LoadError
from datamodels.pull import PullFailure, PullLimits, PullReport, pull
from datamodels.simplify import simplify
from datamodels.source import Library, Model, load
from datamodels.validator import Violation

__all__ = [
    "DataModelsError",
    "InvalidModelName",
    "Library",
    "LoadError",
    "Model",
    "ModelRef",
    "PullFailure",
    "PullLimits",
    "PullReport",
    "SourceNotFound",
    "UnknownModel",
    "Violation",
    "load",
    "lookup",
    "pull",
    "simplify",
]
