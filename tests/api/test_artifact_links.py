"""Signed artifact links: the `url` of a result reference or a listed file works without an
API key until `expires_at`; a link that was altered (job, name, attempt, expiry or signature)
or has expired answers 403 with its own code; a file that is gone answers 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from api.artifact_fixtures import FilesApi, files_api, sha256
from api.conftest import UNKNOWN_ID, assert_problem
from joblane.core.artifact import RESULT_NAME
from joblane.storage.base import Storage


@pytest.fixture
async def files(storage: Storage, tmp_path: Path) -> AsyncIterator[FilesApi]:
    async with files_api(storage, tmp_path) as built:
        yield built


def altered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    if "path" in changes:
        path = changes.pop("path")
    return f"{path}?{urlencode({**query, **changes})}"


async def result_link(files: FilesApi) -> tuple[str, str, bytes]:
    job = await files.run(files.a, "big", size=40_000)
    response = await files.api.client.get(f"/v1/jobs/{job['id']}/result", headers=files.a)
    return job["id"], job["result"]["artifact"]["url"], response.content


async def test_a_result_link_works_without_a_key(files: FilesApi) -> None:
    _, url, data = await result_link(files)

    response = await files.api.client.get(url)
    ranged = await files.api.client.get(url, headers={"Range": "bytes=10-19"})

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["x-content-sha256"] == sha256(data)
    assert response.headers["content-length"] == str(len(data))
    assert ranged.status_code == 206 and ranged.content == data[10:20]


async def test_a_file_link_works_without_a_key(files: FilesApi) -> None:
    job = await files.run(files.a, "files_async", chunks=2, chunk_size=1000)
    listing = await files.api.client.get(f"/v1/jobs/{job['id']}/artifacts", headers=files.a)
    (report,) = [item for item in listing.json()["data"] if item["name"] == "report.txt"]

    response = await files.api.client.get(report["url"])

    assert response.status_code == 200
    assert sha256(response.content) == report["sha256"]
    assert response.headers["content-type"] == "application/x-test"
    assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'


async def test_every_read_of_the_job_gives_a_working_link(files: FilesApi) -> None:
    job_id, _, data = await result_link(files)
    again = await files.api.client.get(f"/v1/jobs/{job_id}", headers=files.b)  # not B's
    assert again.status_code == 404
    fresh = await files.api.client.get(f"/v1/jobs/{job_id}", headers=files.a)
    url = fresh.json()["result"]["artifact"]["url"]
    assert (await files.api.client.get(url)).content == data


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "A" * 43},
        {"expires": "9999999999"},
        {"attempt": "2"},
        {"signature": ""},
    ],
)
async def test_an_altered_link_is_refused(files: FilesApi, change: dict[str, str]) -> None:
    _, url, _ = await result_link(files)
    response = await files.api.client.get(altered(url, **change))
    body = assert_problem(response, 403, "ARTIFACT_LINK_INVALID")
    assert "signature" in body["detail"] or "not valid" in body["detail"]


async def test_a_link_to_another_job_or_name_is_refused(files: FilesApi) -> None:
    job_id, url, _ = await result_link(files)
    other_job = altered(url, path=f"/v1/artifacts/{UNKNOWN_ID}/{RESULT_NAME}")
    other_name = altered(url, path=f"/v1/artifacts/{job_id}/report.txt")
    no_query = urlsplit(url).path

    for link in (other_job, other_name, no_query):
        assert_problem(await files.api.client.get(link), 403, "ARTIFACT_LINK_INVALID")


async def test_an_expired_link_is_refused(files: FilesApi) -> None:
    job_id, _, _ = await result_link(files)
    signer = files.api.artifacts.signer if files.api.artifacts else None
    assert signer is not None
    old = signer.link(job_id, RESULT_NAME, 1, files.api.storage.now() - 2 * 86_400)

    response = await files.api.client.get(old.url)

    body = assert_problem(response, 403, "ARTIFACT_LINK_EXPIRED")
    assert body["details"] == {"expired_at": old.expires_at}


async def test_a_link_to_a_deleted_job_answers_404(files: FilesApi) -> None:
    job_id, url, _ = await result_link(files)
    assert (await files.api.client.delete(f"/v1/jobs/{job_id}", headers=files.a)).status_code == 204

    assert_problem(await files.api.client.get(url), 404, "ARTIFACT_NOT_FOUND")


async def test_a_link_to_a_replaced_file_answers_404(files: FilesApi) -> None:
    """A retried attempt wrote the file again: the old link does not serve the new bytes."""
    first = await files.run(files.a, "files_sync", chunks=1, chunk_size=10, fail_first_attempt=True)
    assert first["attempt"] == 2
    signer = files.api.artifacts.signer if files.api.artifacts else None
    assert signer is not None
    stale = signer.link(first["id"], "report.txt", 1, files.api.storage.now())
    current = signer.link(first["id"], "report.txt", 2, files.api.storage.now())

    assert_problem(await files.api.client.get(stale.url), 404, "ARTIFACT_NOT_FOUND")
    assert (await files.api.client.get(current.url)).status_code == 200
