"""`wickson` (seed 001): its query parameters and its error responses (the document's 400, 404
and 500, and the ones every API has: 401, another tenant's batch, invalid bodies)."""

from __future__ import annotations

import pytest

from compat.conftest import Compat, fixture
from compat.wickson_helpers import BASE, FILES, create, curl
from joblane.core.errors import Unavailable


async def test_query_parameters(compat: Compat) -> None:
    batch = await create(compat, files=FILES[:2])
    shown = batch["batch_id"]
    plain = (await curl(compat, shown, "")).json()["data"]
    assert "job_details" not in plain and "error_summary" in plain
    metrics = (await curl(compat, shown, "?metrics_only=true")).json()["data"]
    assert set(metrics) == {"batch_id", "batch_name", "status", "progress", "timing"}
    no_errors = (await curl(compat, shown, "?include_errors=false")).json()["data"]
    assert "error_summary" not in no_errors
    some = (await curl(compat, shown, "?fields=progress,status")).json()["data"]
    assert set(some) == {"batch_id", "progress", "status"}
    limited = (await curl(compat, shown, "?include_job_details=true&job_details_limit=1")).json()
    assert len(limited["data"]["job_details"]) == 1
    bad = await curl(compat, shown, "?include_job_details=maybe")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("shown", "name"), [("batch@123", "invalid_id"), ("batch-xyz789", "not_found")]
)
async def test_document_error_responses(compat: Compat, shown: str, name: str) -> None:
    response = await curl(compat, shown)
    expected = fixture("wickson", name)
    assert response.status_code == expected["status_code"]
    assert response.json() == expected


async def test_another_tenants_batch_is_not_found(compat: Compat) -> None:
    batch = await create(compat, files=FILES[:1])
    response = await compat.client.get(
        f"{BASE}/v1/batches/{batch['batch_id']}", headers={"X-Api-Key": compat.key_b}
    )
    assert response.status_code == 404
    assert response.json()["details"] == {
        "resource_type": "batch",
        "resource_id": batch["batch_id"],
    }


async def test_processing_error(compat: Compat, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = await create(compat, files=FILES[:1])

    async def down(*args: object) -> None:
        raise Unavailable("Database connection error")

    monkeypatch.setattr(compat.api.batches, "get", down)
    response = await curl(compat, batch["batch_id"])
    expected = fixture("wickson", "processing_error")
    expected["details"]["batch_id"] = batch["batch_id"]
    assert response.status_code == 500
    assert response.json() == expected


async def test_unauthenticated_and_bad_bodies(compat: Compat) -> None:
    response = await compat.client.get(f"{BASE}/v1/batches/batch-abc123")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized" and response.json()["success"] is False
    bad = await compat.client.post(
        f"{BASE}/v1/batches", json={"job_type": "batch_item", "files": []}, headers=compat.headers_a
    )
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    unknown = await compat.client.post(
        f"{BASE}/v1/batches",
        json={"job_type": "nope", "files": [{"file_path": "a.pdf"}]},
        headers=compat.headers_a,
    )
    assert unknown.status_code == 400, unknown.text
