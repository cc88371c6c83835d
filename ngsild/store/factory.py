"""Store URL -> adapter: ``sqlite:///path``, ``sqlite://:memory:``, ``mongodb://...``."""

from __future__ import annotations

from ngsild.store.port import Store
from ngsild.store.sqlite import SqliteStore


class UnsupportedStore(ValueError):
    """The store URL names a backend this build cannot use."""


def open_store(url: str) -> Store:
    if url in ("sqlite://:memory:", "sqlite:///:memory:"):
        return SqliteStore(":memory:")
    if url.startswith("sqlite:///"):
        return SqliteStore(url[len("sqlite:///") :])  # sqlite:///rel/path or sqlite:////abs/path
    if url.startswith(("mongodb://", "mongodb+srv://")):
        raise UnsupportedStore("the MongoDB store is not available in this version yet; use sqlite:///path/to.db")
    raise UnsupportedStore(f"unknown store URL {url!r}; use sqlite:///path/to.db or sqlite://:memory:")
