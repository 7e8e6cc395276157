"""docurift (seed 002): every request the document shows (curl, Python, JavaScript, the polling
loop, the Authorization alternative) in every state it shows, its error table, and the submit and
document reads the document implies; the same job read through /v1/jobs/{id} agrees."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from compat.conftest import Compat, fixture
from compat.replay import replay_all
from compat.served import poll, purge_finished, serve_profile
from compat.shapes import assert_shape
from joblane.core.job import Progress

ROOT = "/compat/docurift"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
INVOICE = (
    "Acme Corp\n1 Main Street\n\nINVOICE\nInvoice Number: INV-2024-001\n"
    "Invoice Date: 2024-01-15\n\nBill To:\nGlobex Ltd\n\nConsulting  1,000.00\n"
    "Total Due: $1,250.00\n"
)
JSON = dict[str, Any]


def extraction_output() -> JSON:
    """What the `extraction` job type returns (the seed's invoice)."""
    return {
        "invoice_number": "INV-2024-001",
        "total_amount": 1250.0,
        "currency": "USD",
        "vendor": "Acme Corp",
        "date": "2024-01-15",
        "confidence": 0.97,
        "field_confidence": {
            "invoice_number": 0.95,
            "total_amount": 0.95,
            "currency": 0.8,
            "vendor": 0.9,
            "date": 0.95,
        },
    }


async def read_everywhere(compat: Compat, job_id: str, example: str) -> JSON:
    """Every GET of the document against the job; each answers the example's shape. The body."""
    bodies = []
    for source, response in await replay_all(
        compat.client, "docurift", ROOT, job_id=job_id, api_key=compat.key_a
    ):
        assert response.status_code == 200, (source, response.text)
        body = response.json()
        assert_shape(body, fixture("docurift", example))
        bodies.append(body)
    assert len(bodies) == 5
    assert all(body == bodies[0] for body in bodies)
    data: JSON = bodies[0]["data"]
    assert data["status"] in fixture("docurift", "statuses")
    assert ISO.match(data["createdAt"]) and ISO.match(data["updatedAt"])
    return data


async def agrees_with_canonical(compat: Compat, data: JSON) -> None:
    canonical = await compat.canonical(data["id"])
    status = {"queued": "pending", "running": "processing"}.get(canonical["status"])
    assert data["status"] == (status or canonical["status"])
    assert data["createdAt"] == canonical["created_at"][:19] + "Z"
    assert data["updatedAt"] == canonical["updated_at"][:19] + "Z"
    percentage = canonical["progress"]["percentage"]
    assert data["progress"] == (100 if data["status"] == "completed" else int(percentage or 0))
    if data["status"] == "completed":
        assert data["result"]["confidence"] == canonical["result"]["confidence"]
        assert data["completedAt"] == canonical["completed_at"][:19] + "Z"


async def test_pending_processing_completed(compat: Compat) -> None:
    job = await compat.submit("extraction", {"text": INVOICE})

    pending = await read_everywhere(compat, job["id"], "pending")
    assert (pending["status"], pending["progress"], pending["documentType"]) == (
        "pending",
        0,
        "invoice",
    )
    await agrees_with_canonical(compat, pending)

    await compat.drive.start(job["id"], processed=45, total=100)
    processing = await read_everywhere(compat, job["id"], "processing")
    assert (processing["status"], processing["progress"]) == ("processing", 45)
    await agrees_with_canonical(compat, processing)

    await compat.drive.complete(job["id"], extraction_output())
    completed = await read_everywhere(compat, job["id"], "completed")
    assert completed["result"] == fixture("docurift", "completed")["data"]["result"]
    assert completed["documentId"].startswith("doc_")
    assert completed["completedAt"] == completed["updatedAt"]
    await agrees_with_canonical(compat, completed)


async def test_failed_and_cancelled(compat: Compat) -> None:
    job = await compat.submit("extraction", {"text": INVOICE})
    await compat.drive.start(job["id"], processed=23, total=100)
    await compat.drive.fail(
        job["id"],
        "UNREADABLE_DOCUMENT",
        "cannot read the invoice: the document is empty",
        {"reason": "empty", "step": "text_extraction"},
        retryable=True,
        progress=Progress(processed=23, total=100),
    )
    failed = await read_everywhere(compat, job["id"], "failed")
    assert failed["progress"] == 23
    assert failed["error"]["details"] == {"step": "text_extraction", "retryable": True}
    assert failed["error"]["code"] == "UNREADABLE_DOCUMENT"
    assert failed["failedAt"] == failed["updatedAt"]
    await agrees_with_canonical(compat, failed)

    queued = await compat.submit("extraction", {"text": INVOICE})
    headers = {"X-API-Key": compat.key_a}
    cancel = await compat.client.post(f"/v1/jobs/{queued['id']}/cancel", headers=headers)
    assert cancel.status_code == 200
    cancelled = await read_everywhere(compat, queued["id"], "failed")
    assert cancelled["error"]["code"] == "CANCELLED"


async def test_submit_and_real_extraction(compat: Compat) -> None:
    """POST /v1/documents, a real worker runs `extraction`, then the job and its document."""
    headers = {"X-API-Key": compat.key_a}
    body = {"documentType": "invoice", "text": INVOICE}
    submitted = await compat.client.post(f"{ROOT}/v1/documents", json=body, headers=headers)
    assert submitted.status_code == 202, submitted.text
    assert_shape(submitted.json(), fixture("docurift", "pending"))
    job_id = submitted.json()["data"]["id"]
    assert submitted.headers["location"] == f"{ROOT}/v1/jobs/{job_id}"
    unreadable = {"documentType": "invoice", "text": "12 34 !!"}
    bad = await compat.client.post(f"{ROOT}/v1/documents", json=unreadable, headers=headers)
    assert await compat.api.run_worker() == 2

    data = await read_everywhere(compat, job_id, "completed")
    fields = data["result"]["extractedFields"]
    assert fields == {
        "invoiceNumber": "INV-2024-001",
        "amount": 1250.0,
        "currency": "USD",
        "vendor": "Acme Corp",
        "date": "2024-01-15",
    }
    assert 0.9 <= data["result"]["confidence"] <= 1
    document = await compat.client.get(f"{ROOT}/v1/documents/{data['documentId']}", headers=headers)
    assert document.status_code == 200
    assert document.json()["data"]["jobId"] == job_id
    assert document.json()["data"]["extractedFields"] == fields

    failed = await read_everywhere(compat, bad.json()["data"]["id"], "failed")
    assert failed["error"]["details"] == {"step": "text_extraction", "retryable": False}


async def test_error_table(compat: Compat) -> None:
    job = await compat.submit("extraction", {"text": INVOICE})
    missing = "job_01HZZZZZZZZZZZZZZZZZZZZZZZ"
    cases: list[tuple[str, dict[str, str], int, str]] = [
        (missing, {"X-API-Key": compat.key_a}, 404, "JOB_NOT_FOUND"),
        ("job_abc123def456", {"X-API-Key": compat.key_a}, 404, "JOB_NOT_FOUND"),
        (job["id"], {}, 401, "UNAUTHORIZED"),
        (job["id"], {"X-API-Key": "frc_your_api_key_here"}, 401, "INVALID_API_KEY"),
        (job["id"], {"Authorization": "Bearer jlk_nope"}, 401, "INVALID_API_KEY"),
        (job["id"], {"X-API-Key": compat.key_b}, 403, "FORBIDDEN"),
    ]
    for job_id, headers, status, code in cases:
        response = await compat.client.get(f"{ROOT}/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == status, (job_id, headers, response.text)
        assert_shape(response.json(), fixture("docurift", "error"))
        assert response.json()["error"]["code"] == code
        assert fixture("docurift", "error_codes")[code] == status
    response = await compat.client.get(
        f"{ROOT}/v1/jobs/job_abc123def456", headers={"X-API-Key": compat.key_a}
    )
    assert response.json() == fixture("docurift", "error")  # the document's own example


async def test_purged_by_retention_is_not_found(compat: Compat) -> None:
    """Job Retention: "After this period, the job status endpoint will return a 404 error"."""
    job = await compat.submit("extraction", {"text": INVOICE})
    await compat.drive.start(job["id"])
    await compat.drive.complete(job["id"], extraction_output())
    await purge_finished(compat)
    headers = {"X-API-Key": compat.key_a}
    canonical = await compat.client.get(f"/v1/jobs/{job['id']}", headers=headers)
    assert canonical.status_code == 410  # the canonical API says "expired"; docurift: 404
    response = await compat.client.get(f"{ROOT}/v1/jobs/{job['id']}", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "JOB_NOT_FOUND",
        "message": f"Job with ID '{job['id']}' not found",
    }


async def test_submit_errors(compat: Compat) -> None:
    headers = {"X-API-Key": compat.key_a}
    url = f"{ROOT}/v1/documents"
    for body in ({"documentType": "receipt", "text": "x"}, {"documentType": "invoice"}):
        response = await compat.client.post(url, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["success"] is False
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    read_only = await compat.api.headers_for("tenant-a", "jobs:read")
    body = {"documentType": "invoice", "text": INVOICE}
    response = await compat.client.post(url, json=body, headers=read_only)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "FORBIDDEN")
    unknown = await compat.client.get(f"{ROOT}/v1/documents/doc_nope", headers=headers)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "DOCUMENT_NOT_FOUND")


# -- a real `joblane serve --profile docurift` ----------------------------------------------------
@pytest.mark.acceptance
def test_document_requests_against_a_real_server(tmp_path: Path) -> None:
    """The document's URLs with only the host changed; the rate limit's 429 in its envelope."""
    limits = {"JOBLANE_RATE_READ": "5", "JOBLANE_RATE_READ_BURST": "40"}
    with serve_profile(tmp_path, "docurift", limits) as (url, key):
        headers = {"X-API-Key": key}
        body = {"documentType": "invoice", "text": INVOICE}
        submitted = httpx.post(f"{url}/v1/documents", json=body, headers=headers)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["data"]["id"]
        data = poll(
            lambda: httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers).json()["data"],
            lambda data: data["status"] in ("completed", "failed"),
            interval=0.25,  # under the read rate: the 429s come later, on purpose
        )
        assert_shape({"success": True, "data": data}, fixture("docurift", "completed"))
        assert data["result"]["extractedFields"]["invoiceNumber"] == "INV-2024-001"
        listed = httpx.get(f"{url}/v1/jobs", headers=headers).json()["data"]  # canonical
        assert [(job["id"], job["status"]) for job in listed] == [(job_id, "completed")]
        bearer = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{url}/v1/jobs/{job_id}", headers=bearer).json()["data"] == data
        with httpx.Client(headers=headers) as client:  # far faster than 5 reads a second
            limited = poll(
                lambda: client.get(f"{url}/v1/jobs/{job_id}"),
                lambda response: response.status_code != 200,
                interval=0,
            )
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert_shape(limited.json(), fixture("docurift", "error"))
        assert int(limited.headers["retry-after"]) >= 1
