"""Store URL -> adapter: ``sqlite:///path``, ``sqlite://:memory:``, ``mongodb://...``."""

from __future__ import annotations

from ngsild.store.port import Store
from ngsild.store.sqlite import SqliteStore


class UnsupportedStore(ValueError):
    """The store URL names a backend this build cannot use, or its options are invalid."""


def open_store(
    url: str, *, write_concern: str = "majority", read_preference: str = "primary", timeout_s: float = 5.0
) -> Store:
    """The adapter for ``url``; the keyword options apply to MongoDB only."""
    if url in ("sqlite://:memory:", "sqlite:///:memory:"):
        return SqliteStore(":memory:")
    if url.startswith("sqlite:///"):
        return SqliteStore(url[len("sqlite:///") :])  # sqlite:///rel/path or sqlite:////abs/path
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from ngsild.store.mongo import MongoStore  # pymongo loads only when MongoDB is used

        try:
            return MongoStore(url, write_concern=write_concern, read_preference=read_preference, timeout_s=timeout_s)
        except ValueError as exc:
            raise UnsupportedStore(str(exc)) from None
    raise UnsupportedStore(f"unknown store URL {url!r}; use sqlite:///path/to.db, sqlite://:memory: or mongodb://...")
