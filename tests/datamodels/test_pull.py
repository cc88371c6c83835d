"""pull: upstream -> a cache directory that ``load`` then uses offline.

Upstream is an ``httpx.MockTransport`` serving the shared pack's files under their upstream URLs
(from refs.json, contexts.json and the repository convention), or synthetic documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamodels import ModelRef, PullFailure, PullLimits, load, pull, simplify
from datamodels.catalog import CATALOG
from datamodels.pull import document_path
from tests.datamodels.sdm import NEEDS_SHARED, SHARED, example

if not SHARED.is_dir():
    pytest.skip(NEEDS_SHARED, allow_module_level=True)

PARKING_SPOT, WEATHER_OBSERVED = CATALOG["ParkingSpot"], CATALOG["WeatherObserved"]
WEATHER_SCHEMA = "https://smart-data-models.github.io/dataModel.Weather/weather-schema.json"
COMMON_SCHEMA = "https://smart-data-models.github.io/data-models/common-schema.json"


def upstream_files() -> dict[str, Path]:
    """Every upstream URL the shared pack has a copy of."""
    files = {url: SHARED / path for url, path in json.loads((SHARED / "refs.json").read_text()).items()}
    for url, path in json.loads((SHARED / "contexts.json").read_text()).items():
        if not url.startswith("https://uri.etsi.org/"):
            files[url] = SHARED / path
    for ref in CATALOG.values():
        files[ref.schema_url] = SHARED / ref.domain / ref.type_name / "schema.json"
    return files


class Upstream:
    """Serves documents by URL (404 otherwise), with per-URL overrides, and records what was asked."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents
        self.overrides: dict[str, Callable[[], httpx.Response]] = {}
        self.requested: list[str] = []

    @classmethod
    def shared(cls) -> Upstream:
        return cls({url: path.read_bytes() for url, path in upstream_files().items()})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requested.append(url)
        if url in self.overrides:
            return self.overrides[url]()
        if url not in self.documents:
            return httpx.Response(404)
        return httpx.Response(200, content=self.documents[url])

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@pytest.fixture
def upstream() -> Upstream:
    return Upstream.shared()


def test_pulled_models_load_offline_and_validate_their_examples(upstream: Upstream, tmp_path: Path) -> None:
    """After a pull, the cache is a source: both models load without errors and their examples pass."""
    report = pull([PARKING_SPOT, WEATHER_OBSERVED], tmp_path, upstream.client())
    assert report.ok and report.pulled == [PARKING_SPOT, WEATHER_OBSERVED]
    library = load(tmp_path)
    assert library.errors == []
    assert set(library.models) == {"ParkingSpot", "WeatherObserved"}
    for type_name in library.models:
        for file in ("example.json", "example.jsonld", "example-normalized.jsonld"):
            assert library.models[type_name].validate(simplify(example(type_name, file))) == [], (type_name, file)
    assert {PARKING_SPOT.context_url, WEATHER_OBSERVED.context_url} <= set(library.contexts)


def test_the_cache_keeps_upstream_bytes_in_the_source_layout(upstream: Upstream, tmp_path: Path) -> None:
    """Schemas and contexts are stored as downloaded, where a source keeps them; the maps point to them."""
    pull([WEATHER_OBSERVED], tmp_path, upstream.client())
    schema = SHARED / "Weather" / "WeatherObserved" / "schema.json"
    assert (tmp_path / "Weather" / "WeatherObserved" / "schema.json").read_bytes() == schema.read_bytes()
    assert (tmp_path / "Weather" / "context.jsonld").read_bytes() == (
        SHARED / "Weather" / "context.jsonld"
    ).read_bytes()
    refs = json.loads((tmp_path / "refs.json").read_text())
    assert set(refs) == {
        COMMON_SCHEMA,
        WEATHER_SCHEMA,
        "https://smart-data-models.github.io/dataModel.Environment/Environment-schema.json",
    }
    assert all(path.startswith("common/") and (tmp_path / path).is_file() for path in refs.values())
    contexts = json.loads((tmp_path / "contexts.json").read_text())
    assert contexts == {WEATHER_OBSERVED.context_url: "Weather/context.jsonld"}


def test_each_document_is_downloaded_once_per_pull(upstream: Upstream, tmp_path: Path) -> None:
    """common-schema, used by every model, is fetched once; the report counts the requests made."""
    report = pull([PARKING_SPOT, CATALOG["OnStreetParking"], WEATHER_OBSERVED], tmp_path, upstream.client())
    assert upstream.requested.count(COMMON_SCHEMA) == 1
    assert upstream.requested.count(PARKING_SPOT.context_url) == 1
    assert report.downloads == len(upstream.requested) == len(set(upstream.requested))


def test_a_404_fails_that_model_only(upstream: Upstream, tmp_path: Path) -> None:
    """A missing schema is reported with its URL; the other model is pulled and nothing of the failed one
    is written."""
    del upstream.documents[PARKING_SPOT.schema_url]
    report = pull([PARKING_SPOT, WEATHER_OBSERVED], tmp_path, upstream.client())
    assert report.failures == [PullFailure(PARKING_SPOT, PARKING_SPOT.schema_url, "HTTP 404")]
    assert report.pulled == [WEATHER_OBSERVED] and not report.ok
    assert not (tmp_path / "Parking").exists()
    assert set(load(tmp_path).models) == {"WeatherObserved"}


def test_a_failing_shared_document_fails_the_models_that_need_it(upstream: Upstream, tmp_path: Path) -> None:
    """The failure names the $ref-ed document's URL, for each model that needs it."""
    upstream.overrides[WEATHER_SCHEMA] = lambda: httpx.Response(500)
    report = pull([PARKING_SPOT, WEATHER_OBSERVED, CATALOG["WeatherForecast"]], tmp_path, upstream.client())
    assert report.pulled == [PARKING_SPOT]
    assert [(f.ref.type_name, f.url, f.reason) for f in report.failures] == [
        ("WeatherObserved", WEATHER_SCHEMA, "HTTP 500"),
        ("WeatherForecast", WEATHER_SCHEMA, "HTTP 500"),
    ]
    assert upstream.requested.count(WEATHER_SCHEMA) == 1


def chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536 + 1):
        yield b" " * 65536


@pytest.mark.parametrize(
    "response",
    [
        lambda: httpx.Response(200, content=b" " * (6 * 1024 * 1024)),  # with Content-Length
        lambda: httpx.Response(200, content=chunks(6 * 1024 * 1024)),  # streamed, no length
    ],
    ids=["declared", "streamed"],
)
def test_a_document_over_the_size_cap_fails_clearly(
    upstream: Upstream, tmp_path: Path, response: Callable[[], httpx.Response]
) -> None:
    """Over 5 MiB, the download stops and the failure says the document is too large."""
    upstream.overrides[WEATHER_OBSERVED.schema_url] = response
    report = pull([WEATHER_OBSERVED, PARKING_SPOT], tmp_path, upstream.client())
    (failure,) = report.failures
    assert failure.url == WEATHER_OBSERVED.schema_url
    assert failure.reason.startswith(f"the document is larger than {5 * 1024 * 1024} bytes")
    assert report.pulled == [PARKING_SPOT]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{not json", "invalid JSON"), (b'{"no": "context member"}', "no top-level @context")],
)
def test_a_bad_context_document_fails_the_model(upstream: Upstream, tmp_path: Path, body: bytes, reason: str) -> None:
    """A subject context that is not JSON, or has no @context member, fails the model and names its URL."""
    upstream.documents[PARKING_SPOT.context_url] = body
    (failure,) = pull([PARKING_SPOT], tmp_path, upstream.client()).failures
    assert failure.url == PARKING_SPOT.context_url and reason in failure.reason


def test_transport_errors_are_failures(tmp_path: Path) -> None:
    """A timeout or connection error is reported like an HTTP error, with the URL."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    (failure,) = pull([PARKING_SPOT], tmp_path, client).failures
    assert failure.url == PARKING_SPOT.schema_url and failure.reason.startswith("ConnectTimeout")


# ---- synthetic upstreams: transitive, relative and cyclic references -------------------------------------

DEMO = ModelRef("Demo", "Thing")
BASE = "https://example.org/schemas/"


def demo_upstream(*extra: tuple[str, Any]) -> Upstream:
    """Thing -> a.json -> (relative) b.json -> a.json again: a chain with a cycle."""
    documents: dict[str, Any] = {
        DEMO.schema_url: {
            "$id": "https://example.org/Demo/Thing/schema.json",
            "type": "object",
            "allOf": [{"$ref": BASE + "a.json#/definitions/named"}],
            "required": ["id", "type"],
        },
        BASE + "a.json": {
            "$id": BASE + "a.json",
            "definitions": {"named": {"properties": {"name": {"$ref": "b.json#/definitions/text"}}}},
        },
        BASE + "b.json": {"definitions": {"text": {"type": "string"}, "loop": {"$ref": "a.json"}}},
        DEMO.context_url: {"@context": {"name": "https://schema.org/name"}},
        **dict(extra),
    }
    return Upstream({url: json.dumps(document).encode() for url, document in documents.items()})


def test_refs_are_followed_transitively_and_relative_refs_resolve(tmp_path: Path) -> None:
    """Documents reached only through other documents, by relative refs and in a cycle, are all stored once,
    and the model validates offline."""
    upstream = demo_upstream()
    assert pull([DEMO], tmp_path, upstream.client()).ok
    assert sorted(json.loads((tmp_path / "refs.json").read_text())) == [BASE + "a.json", BASE + "b.json"]
    model = load(tmp_path).models["Thing"]
    assert model.validate({"id": "x", "type": "Thing", "name": "ok"}) == []
    assert [(v.path, v.rule) for v in model.validate({"id": "x", "type": "Thing", "name": 1})] == [("$.name", "type")]
    assert sorted(upstream.requested) == sorted(set(upstream.requested))


def test_the_documents_a_model_needs_are_bounded(tmp_path: Path) -> None:
    """A reference chain longer than the limit fails the model instead of crawling on."""
    chain = [(f"{BASE}c{i}.json", {"$ref": f"c{i + 1}.json"}) for i in range(10)]
    upstream = demo_upstream(*chain)
    upstream.documents[BASE + "b.json"] = json.dumps({"$ref": "c0.json"}).encode()
    report = pull([DEMO], tmp_path, upstream.client(), PullLimits(max_documents_per_model=6))
    (failure,) = report.failures
    assert "more than 6 documents" in failure.reason
    assert len(upstream.requested) == 6


def test_pulls_add_to_the_cache(upstream: Upstream, tmp_path: Path) -> None:
    """A second pull keeps what the first one stored, in the maps too."""
    pull([PARKING_SPOT], tmp_path, upstream.client())
    pull([CATALOG["station_information"]], tmp_path, upstream.client())
    library = load(tmp_path)
    assert library.errors == [] and set(library.models) == {"ParkingSpot", "station_information"}


urls = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}" + (f"?{query}" if query else ""),
    st.sampled_from(["http", "https"]),
    st.text("abcxyz019.-:", min_size=1, max_size=12),
    st.text(st.characters(codec="ascii", exclude_characters="?#"), max_size=30),
    st.text("abc=&", max_size=6),
)


@given(urls)
def test_document_paths_are_stable_and_stay_in_common(url: str) -> None:
    """Any URL maps to the same relative path every time, under common/, with no empty or dot segments."""
    path = document_path(url)
    assert path == document_path(url)
    segments = path.split("/")
    assert segments[0] == "common" and len(segments) >= 3
    assert all(segment not in ("", ".", "..") for segment in segments)
    assert all(c.isalnum() or c in "._-/" for c in path)
