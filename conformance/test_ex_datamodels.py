"""This broker's extension (not NGSI-LD): Smart Data Models validation at ingest. Runs when the broker
under test serves GET /ngsi-ld/ex/datamodels with ParkingSpot enforced (the suite's own broker is
started with ../shared/smart-data-models); skipped for any other broker."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.conftest import SMART_DATA_MODELS
from conformance.helpers import assert_problem

EXAMPLE = Path(SMART_DATA_MODELS) / "Parking/ParkingSpot/examples/example-normalized.jsonld"
LD = {"Content-Type": "application/ld+json"}


@pytest.fixture(scope="module")
def enforced(client: httpx.Client, broker_url: str) -> None:
    listing = httpx.get(f"{broker_url}/ngsi-ld/ex/datamodels", timeout=10)
    if listing.status_code != 200 or not EXAMPLE.is_file():
        pytest.skip("the broker under test does not validate Smart Data Models")
    policies = {m["type"]: m["policy"] for m in listing.json()["models"]}
    if policies.get("ParkingSpot") != "enforce":
        pytest.skip("ParkingSpot is not enforced by the broker under test")


def spot(**changes: Any) -> dict[str, Any]:
    body = json.loads(EXAMPLE.read_text())
    body["id"] = f"urn:ngsi-ld:ParkingSpot:conformance:{uuid.uuid4().hex[:12]}"
    for name, value in changes.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return body


def test_a_valid_entity_of_an_enforced_model_is_created(client: httpx.Client, enforced: None) -> None:
    assert client.post("/entities", json=spot(), headers=LD).status_code == 201


def test_an_invalid_one_is_400_with_each_violation_and_not_stored(client: httpx.Client, enforced: None) -> None:
    bad = spot(status={"type": "Property", "value": "half-full"}, category=None)
    response = client.post("/entities", json=bad, headers=LD)
    problem = assert_problem(response, 400, "BadRequestData")
    found = {(v["path"], v["rule"]) for v in problem["violations"]}
    assert found == {("$", "required"), ("$.status", "enum")}
    assert client.get(f"/entities/{bad['id']}").status_code == 404


def test_an_update_that_breaks_the_model_changes_nothing(client: httpx.Client, enforced: None) -> None:
    body = spot()
    assert client.post("/entities", json=body, headers=LD).status_code == 201
    patch = {"status": {"type": "Property", "value": "nope"}, "@context": body["@context"]}
    assert_problem(client.patch(f"/entities/{body['id']}/attrs", json=patch, headers=LD), 400, "BadRequestData")
    stored = client.get(f"/entities/{body['id']}", headers={"Accept": "application/ld+json"}).json()
    assert stored["status"]["value"] == "free"


def test_batch_reports_the_invalid_item_and_creates_the_valid_one(client: httpx.Client, enforced: None) -> None:
    good, bad = spot(), spot(location=None)
    response = client.post("/entityOperations/create", json=[good, bad], headers=LD)
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == [good["id"]]
    assert [e["entityId"] for e in body["errors"]] == [bad["id"]]
    assert body["errors"][0]["error"]["violations"] == [
        {"path": "$", "rule": "required", "message": "'location' is a required property"}
    ]
