"""Smart Data Models validation at ingest, through the HTTP edge: a broker started on the offline
models of ../shared validates entities of those types on every write path, with the policy of
each type (enforce rejects with every violation, warn accepts with a Warning header, off ignores),
and expands the models' @context URLs without a network fetch."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from ngsild.clock import FakeClock
from ngsild.http.app import create_app
from ngsild.settings import Settings

SHARED = Path(__file__).resolve().parents[3] / "shared" / "smart-data-models"
if not SHARED.is_dir():
    pytest.skip("needs ../shared/smart-data-models beside the checkout", allow_module_level=True)

API = "/ngsi-ld/v1"
LD = {"Content-Type": "application/ld+json"}
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class Offline:
    """The outside world: every request is recorded and refused."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        return httpx.Response(404)


def broker(offline: Offline, models: Path = SHARED, **settings: Any) -> TestClient:
    base = Settings(store="sqlite://:memory:", egress_allow="127.0.0.0/8,::1", datamodels=str(models), **settings)
    http = httpx.AsyncClient(transport=httpx.MockTransport(offline.handler))
    return TestClient(create_app(base, clock=FakeClock(), http=http))


@pytest.fixture
def offline() -> Offline:
    return Offline()


@pytest.fixture
def client(offline: Offline) -> Iterator[TestClient]:
    with broker(offline) as test_client:
        yield test_client


def spot(key: str = "1", **changes: Any) -> dict[str, Any]:
    """The ParkingSpot normalized example with its own @context, a fresh id and ``changes`` applied
    (None deletes an attribute)."""
    body = json.loads((SHARED / "Parking/ParkingSpot/examples/example-normalized.jsonld").read_text())
    body["id"] = f"urn:ngsi-ld:ParkingSpot:test:{key}"
    for name, value in changes.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return body


def violations(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == ERRORS + "BadRequestData"
    assert problem["dataModel"] == "ParkingSpot"
    return [(v["path"], v["rule"]) for v in problem["violations"]]


def test_a_valid_model_entity_is_stored_without_fetching_its_context(client: TestClient, offline: Offline) -> None:
    """The example with the Parking subject context URL expands from the local models directory."""
    assert client.post(f"{API}/entities", json=spot(), headers=LD).status_code == 201
    assert offline.requests == []
    got = client.get(f"{API}/entities/urn:ngsi-ld:ParkingSpot:test:1").json()
    assert got["type"] == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"


def test_enforce_rejects_with_every_violation_and_stores_nothing(client: TestClient) -> None:
    bad = spot(status={"type": "Property", "value": "half-full"}, refParkingSite=None)
    found = violations(client.post(f"{API}/entities", json=bad, headers=LD))
    assert ("$", "required") in found and ("$.status", "enum") in found
    assert client.get(f"{API}/entities/urn:ngsi-ld:ParkingSpot:test:1").status_code == 404


def test_every_write_is_checked_on_the_entity_as_it_would_be_stored(client: TestClient) -> None:
    """A merge, an attribute update or a replace that would break the model is refused; the entity
    stays as it was."""
    assert client.post(f"{API}/entities", json=spot(), headers=LD).status_code == 201
    url = f"{API}/entities/urn:ngsi-ld:ParkingSpot:test:1"
    context = spot()["@context"]
    bad_status = {"status": {"type": "Property", "value": "nope"}, "@context": context}
    assert violations(client.patch(url, json=bad_status, headers=LD)) == [("$.status", "enum")]
    assert violations(client.patch(f"{url}/attrs", json=bad_status, headers=LD)) == [("$.status", "enum")]
    partial = {"value": "nope", "@context": context}
    assert violations(client.patch(f"{url}/attrs/status", json=partial, headers=LD)) == [("$.status", "enum")]
    without_location = spot(location=None)
    del without_location["id"], without_location["type"]
    assert ("$", "required") in violations(client.put(url, json=without_location, headers=LD))
    link = f'<{context[1]}>; rel="http://www.w3.org/ns/json-ld#context"'
    assert client.get(url, headers={"Link": link}).json()["status"]["value"] == "free"


def test_batch_items_are_checked_one_by_one(client: TestClient) -> None:
    good, bad = spot("good"), spot("bad", status={"type": "Property", "value": "nope"})
    response = client.post(f"{API}/entityOperations/create", json=[good, bad], headers=LD)
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == [good["id"]]
    (error,) = body["errors"]
    assert error["entityId"] == bad["id"] and error["error"]["violations"][0]["path"] == "$.status"


def test_warn_accepts_and_says_so_in_a_warning_header(offline: Offline) -> None:
    with broker(offline, validation_types="ParkingSpot=warn") as client:
        response = client.post(f"{API}/entities", json=spot(status=None), headers=LD)
        assert response.status_code == 201
        assert "breaks ParkingSpot" in response.headers["Warning"]
        assert client.post(f"{API}/entities", json=spot("2"), headers=LD).headers.get("Warning") is None


def test_off_accepts_silently(offline: Offline) -> None:
    with broker(offline, validation="off") as client:
        response = client.post(f"{API}/entities", json=spot(status=None), headers=LD)
        assert response.status_code == 201 and "Warning" not in response.headers


def test_a_type_without_a_model_is_not_validated(client: TestClient) -> None:
    """Only the model's own type IRI is governed: the same name in another vocabulary is not."""
    plain = {"id": "urn:ngsi-ld:ParkingSpot:plain", "type": "ParkingSpot", "status": {"type": "Property", "value": 1}}
    assert client.post(f"{API}/entities", json=plain).status_code == 201


def test_the_models_and_their_policies_are_listed(offline: Offline) -> None:
    with broker(offline, validation_types="Vehicle=off,ParkingSpot=warn") as client:
        body = client.get("/ngsi-ld/ex/datamodels").json()
    policies = {m["type"]: m["policy"] for m in body["models"]}
    assert len(policies) == 34 and body["loadErrors"] == []
    assert policies["Vehicle"] == "off" and policies["ParkingSpot"] == "warn" and policies["Building"] == "enforce"
    parking = next(m for m in body["models"] if m["type"] == "ParkingSpot")
    assert parking["typeIri"] == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
    assert parking["domain"] == "Parking"


def test_a_model_that_cannot_load_is_reported_and_the_others_still_serve(offline: Offline, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(SHARED, models)
    (models / "Parking/ParkingGroup/schema.json").write_text("{ not json")
    with broker(offline, models) as client:
        body = client.get("/ngsi-ld/ex/datamodels").json()
        assert any("ParkingGroup" in error for error in body["loadErrors"])
        assert "ParkingGroup" not in {m["type"] for m in body["models"]}
        assert client.post(f"{API}/entities", json=spot(status=None), headers=LD).status_code == 400


def test_an_unknown_type_in_the_overrides_stops_the_start(offline: Offline) -> None:
    with pytest.raises(ValueError, match="NoSuchModel"), broker(offline, validation_types="NoSuchModel=warn"):
        pass


def test_model_contexts_are_listed_as_cached(client: TestClient) -> None:
    listed = client.get(f"{API}/jsonldContexts", params={"kind": "Cached"}).json()
    assert "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld" in listed


def test_validation_does_not_change_what_is_stored(client: TestClient) -> None:
    """The check works on a copy: the stored entity equals the one created without models."""
    body = spot()
    assert client.post(f"{API}/entities", json=copy.deepcopy(body), headers=LD).status_code == 201
    got = client.get(f"{API}/entities/{body['id']}", headers={"Accept": "application/ld+json"}).json()
    assert got["status"]["value"] == "free" and got["status"]["parkingPermit"]["value"] == "yes"
