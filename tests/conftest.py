"""Shared test configuration: hypothesis profiles (``HYPOTHESIS_PROFILE=deep`` for ``make test-deep``) and
the MongoDB that store tests run against (``mongo_standin``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from pymongo import MongoClient

from mongo_standin import mongo_uri, with_database

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[str]:
    """A MongoDB for the store tests: ``MONGO_URI``, or a SecantusDB stand-in for the session."""
    with mongo_uri() as uri:
        yield uri


@pytest.fixture
def mongo_url(mongo_server: str) -> Iterator[str]:
    """A store URL naming a database of this test's own, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield with_database(mongo_server, name)
    with MongoClient(mongo_server) as client:
        client.drop_database(name)
