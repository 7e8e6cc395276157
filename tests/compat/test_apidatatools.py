"""apidatatools (seed 003): every request the document shows (the endpoint section, curl,
Postman, Python, JavaScript) in every state it shows, its error table, and what it implies: a
formatter to submit to and the downloadable file with a preview; the same job read through
/v1/jobs/{id} agrees."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from compat.conftest import Compat, fixture
from compat.replay import replay_all
from compat.served import poll, purge_finished, serve_profile
from compat.shapes import assert_shape
from joblane.compat.profiles.apidatatools import JOB_ID
from joblane.core.job import Progress

ROOT = "/compat/apidatatools"
JSON = dict[str, Any]
DOCUMENT = '{"name": "John", "age": 30}'
BROKEN = '{\n  "name" "John"\n}'


async def read_everywhere(compat: Compat, job_uuid: str, example: str) -> JSON:
    bodies = []
    for source, response in await replay_all(
        compat.client, "apidatatools", ROOT, job_id=job_uuid, api_key=compat.key_a
    ):
        assert response.status_code == 200, (source, response.text)
        assert_shape(response.json(), fixture("apidatatools", example))
        bodies.append(response.json())
    assert len(bodies) == 5
    assert all(body == bodies[0] for body in bodies)
    body: JSON = bodies[0]
    assert body["status"] in fixture("apidatatools", "statuses")
    assert body["job_id"] == job_uuid
    assert isinstance(body["created_at"], int) and isinstance(body["updated_at"], int)
    return body


async def agrees_with_canonical(compat: Compat, job_id: str, body: JSON) -> None:
    canonical = await compat.canonical(job_id)
    words = {"running": "processing", "completed": "success"}
    assert body["status"] == words.get(canonical["status"], canonical["status"])
    assert JOB_ID.read(body["job_id"]) == canonical["id"]
    assert body.get("retry_after") == canonical["retry_after"]
    if body["status"] == "failed":
        assert body["error"]["code"] == canonical["error"]["code"]


async def test_queued_processing_success(compat: Compat) -> None:
    job = await compat.submit("json_format", {"document": DOCUMENT})
    job_uuid = JOB_ID.show(job["id"])
    uuid.UUID(job_uuid)  # a real UUID

    queued = await read_everywhere(compat, job_uuid, "queued")
    assert queued["message"] == "Your job is being processed."
    assert queued["retry_after"] >= 1
    await agrees_with_canonical(compat, job["id"], queued)

    await compat.drive.start(job["id"], processed=1, total=3)
    processing = await read_everywhere(compat, job_uuid, "queued")
    assert processing["status"] == "processing"
    await agrees_with_canonical(compat, job["id"], processing)

    formatted = '{\n  "name": "John",\n  "age": 30\n}'
    await compat.drive.complete(job["id"], {"formatted": formatted, "size_bytes": 33})
    success = await read_everywhere(compat, job_uuid, "success")
    assert success["result"]["preview"] == fixture("apidatatools", "success")["result"]["preview"]
    assert success["result"]["status"] == "success"
    uuid.UUID(success["result"]["request_id"])
    await agrees_with_canonical(compat, job["id"], success)

    download = await compat.client.get(
        success["result"]["file"], headers={"x-api-key": compat.key_a}
    )
    assert download.status_code == 200
    assert download.text == formatted
    assert "attachment" in download.headers["content-disposition"]


async def test_failed_with_line_and_column(compat: Compat) -> None:
    job = await compat.submit("json_format", {"document": BROKEN})
    await compat.drive.start(job["id"])
    details = {"line": 2, "column": 10, "position": 11}
    await compat.drive.fail(
        job["id"], "INVALID_JSON", "invalid JSON", details, progress=Progress(0, 3)
    )
    failed = await read_everywhere(compat, JOB_ID.show(job["id"]), "failed")
    assert failed["error"]["details"] == {"line": 2, "column": 10}
    await agrees_with_canonical(compat, job["id"], failed)


async def test_submit_run_and_download(compat: Compat) -> None:
    """POST /json-formatter, a real worker runs `json_format`: the file and its preview."""
    headers = {"x-api-key": compat.key_a}
    good = await compat.client.post(
        f"{ROOT}/json-formatter", json={"json": DOCUMENT}, headers=headers
    )
    assert good.status_code == 202, good.text
    assert_shape(good.json(), fixture("apidatatools", "queued"))
    assert good.headers["location"] == f"{ROOT}/status-api/{good.json()['job_id']}"
    bad = await compat.client.post(f"{ROOT}/json-formatter", json={"json": BROKEN}, headers=headers)
    assert await compat.api.run_worker() == 2

    success = await read_everywhere(compat, good.json()["job_id"], "success")
    assert success["result"]["preview"] == '{\n  "name": "John",\n  "age": 30\n}'
    assert success["result"]["file"].startswith(f"http://test{ROOT}/downloads/")
    file = await compat.client.get(success["result"]["file"], headers=headers)
    assert file.status_code == 200 and file.json() == {"name": "John", "age": 30}

    failed = await read_everywhere(compat, bad.json()["job_id"], "failed")
    assert failed["error"]["code"] == "INVALID_JSON"
    assert failed["error"]["details"] == {"line": 2, "column": 10}


async def test_error_table(compat: Compat) -> None:
    job = await compat.submit("json_format", {"document": DOCUMENT})
    shown = JOB_ID.show(job["id"])
    missing = JOB_ID.show("job_01HZZZZZZZZZZZZZZZZZZZZZZZ")
    errors = fixture("apidatatools", "errors")
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/status-api/not-a-uuid", {"x-api-key": compat.key_a}, "INVALID_JOB_ID"),
        ("/status-api/", {"x-api-key": compat.key_a}, "INVALID_JOB_ID"),
        (f"/status-api/{shown}", {}, "UNAUTHORIZED"),
        (f"/status-api/{shown}", {"x-api-key": "your_api_key"}, "UNAUTHORIZED"),
        (f"/jobs/{shown}", {"x-api-key": compat.key_b}, "FORBIDDEN"),
        (f"/status-api/{missing}", {"x-api-key": compat.key_a}, "JOB_NOT_FOUND"),
    ]
    for path, headers, code in cases:
        response = await compat.client.get(ROOT + path, headers=headers)
        assert response.status_code == errors[code]["http_status"], (path, response.text)
        assert_shape(response.json(), errors[code]["body"])
        assert response.json()["error"] == code
    required = await compat.client.get(f"{ROOT}/status-api/", headers={"x-api-key": compat.key_a})
    assert required.json() == errors["INVALID_JOB_ID"]["body"]


async def test_deleted_and_purged_jobs_are_not_found(compat: Compat) -> None:
    """The table's "JOB_NOT_FOUND 404: Job not found or deleted": by DELETE, and by retention."""
    headers = {"x-api-key": compat.key_a}
    deleted = await compat.submit("json_format", {"document": "1"})
    purged = await compat.submit("json_format", {"document": "2"})
    for job in (deleted, purged):
        await compat.drive.start(job["id"])
        await compat.drive.complete(job["id"], {"formatted": "1"})
    gone = await compat.client.delete(f"/v1/jobs/{deleted['id']}", headers=headers)
    assert gone.status_code == 204
    await purge_finished(compat)
    for job in (deleted, purged):
        response = await compat.client.get(
            f"{ROOT}/status-api/{JOB_ID.show(job['id'])}", headers=headers
        )
        assert response.status_code == 404, response.text
        assert_shape(response.json(), fixture("apidatatools", "errors")["JOB_NOT_FOUND"]["body"])
        assert response.json()["error"] == "JOB_NOT_FOUND"


async def test_canonical_ids_and_unfinished_download(compat: Compat) -> None:
    """A Joblane id reads too; the file of an unfinished job is a conflict, not a 500."""
    headers = {"x-api-key": compat.key_a}
    job = await compat.submit("json_format", {"document": DOCUMENT})
    by_joblane_id = await compat.client.get(f"{ROOT}/status-api/{job['id']}", headers=headers)
    assert by_joblane_id.json()["job_id"] == JOB_ID.show(job["id"])
    file_id = JOB_ID.show(job["id"]).replace("-", "")
    early = await compat.client.get(
        f"{ROOT}/downloads/apidatatools_convert_{file_id}.json", headers=headers
    )
    assert early.status_code == 409
    assert early.json()["status"] == "error"


# -- a real `joblane serve --profile apidatatools` ------------------------------------------------
@pytest.mark.acceptance
def test_document_requests_against_a_real_server(tmp_path: Path) -> None:
    """The document's URLs with only the host changed, both paths, the file and its preview."""
    limits = {"JOBLANE_RATE_READ": "5", "JOBLANE_RATE_READ_BURST": "40"}
    with serve_profile(tmp_path, "apidatatools", limits) as (url, key):
        headers = {"x-api-key": key}
        submitted = httpx.post(f"{url}/json-formatter", json={"json": DOCUMENT}, headers=headers)
        assert submitted.status_code == 202, submitted.text
        job_uuid = submitted.json()["job_id"]
        body = poll(
            lambda: httpx.get(f"{url}/status-api/{job_uuid}", headers=headers).json(),
            lambda body: body["status"] in ("success", "failed"),
            interval=0.25,  # under the read rate: the 429s come later, on purpose
        )
        assert_shape(body, fixture("apidatatools", "success"))
        assert httpx.get(f"{url}/jobs/{job_uuid}", headers=headers).json() == body
        assert body["result"]["file"].startswith(f"{url}/downloads/apidatatools_convert_")
        file = httpx.get(body["result"]["file"], headers=headers)
        assert file.json() == {"name": "John", "age": 30}
        canonical = httpx.get(f"{url}/v1/jobs/{JOB_ID.read(job_uuid)}", headers=headers).json()
        assert canonical["result"]["formatted"].startswith(body["result"]["preview"])
        mounted = httpx.get(f"{url}/compat/apidatatools/jobs/{job_uuid}", headers=headers)
        assert mounted.json()["status"] == "success"
        with httpx.Client(headers=headers) as client:  # far faster than 5 reads a second
            limited = poll(
                lambda: client.get(f"{url}/status-api/{job_uuid}"),
                lambda response: response.status_code != 200,
                interval=0,
            )
        assert limited.status_code == 429, limited.text
        assert_shape(limited.json(), fixture("apidatatools", "errors")["RATE_LIMITED"]["body"])
        assert limited.json()["error"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
