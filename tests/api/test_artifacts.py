"""Artifacts over HTTP: a result over the inline limit is a reference in the job and streams
from `GET /v1/jobs/{id}/result` with its length, sha256, ETag and ranges; a job's files are
listed and downloaded; another tenant's job answers like an unknown one; deleting a job (or
retention purging it) removes its files from the store."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

import artifact_apps
from api.artifact_fixtures import FilesApi, files_api, sha256
from api.conftest import UNKNOWN_ID, assert_problem, serve
from joblane.core import ids
from joblane.core.clock import from_rfc3339
from joblane.core.principal import READ, WRITE
from joblane.maintenance.retention import Retention, RetentionSettings
from joblane.service.artifact_store import ArtifactStore
from joblane.storage.base import Storage

DAY = 86_400.0


@pytest.fixture
async def files(storage: Storage, tmp_path: Path) -> AsyncIterator[FilesApi]:
    async with files_api(storage, tmp_path) as built:
        yield built


def expected_result(size: int, seed: str = "x", attempt: int = 1) -> bytes:
    return orjson.dumps({"blob": artifact_apps.blob(size, f"{seed}-{attempt}"), "attempt": attempt})


async def big_job(files: FilesApi, size: int = 50_000) -> tuple[str, bytes]:
    job = await files.run(files.a, "big", size=size)
    return job["id"], expected_result(size)


async def test_the_job_carries_a_reference_with_a_signed_link(files: FilesApi) -> None:
    job = await files.run(files.a, "big", size=50_000)
    data = expected_result(50_000)

    result = job["result"]
    assert set(result) == {"artifact", "preview"}
    artifact = result["artifact"]
    assert set(artifact) == {"url", "size", "sha256", "content_type", "expires_at"}
    assert (artifact["size"], artifact["sha256"]) == (len(data), sha256(data))
    assert artifact["content_type"] == "application/json"
    assert artifact["url"].startswith(f"/v1/artifacts/{job['id']}/_result?")
    expires = from_rfc3339(artifact["expires_at"])
    now = files.api.storage.now()
    assert now + 3600 - 1 < expires <= now + 3600 + 900 + 1
    assert result["preview"] == data[:1024].decode()


async def test_the_result_streams_with_length_digest_and_etag(files: FilesApi) -> None:
    job_id, data = await big_job(files)

    response = await files.api.client.get(f"/v1/jobs/{job_id}/result", headers=files.a)

    assert response.status_code == 200
    assert response.content == data
    headers = response.headers
    assert headers["content-length"] == str(len(data))
    assert headers["content-type"] == "application/json"
    assert headers["x-content-sha256"] == sha256(data)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert headers["repr-digest"] == f"sha-256=:{digest}:"
    assert headers["etag"] == f'"{sha256(data)}"'
    assert headers["accept-ranges"] == "bytes"
    assert orjson.loads(response.content)["attempt"] == 1


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=-50", -50, None), ("bytes=1000-", 1000, None)],
)
async def test_one_range_gets_206(
    files: FilesApi, header: str, first: int, last: int | None
) -> None:
    job_id, data = await big_job(files)
    start = first % len(data)
    end = len(data) - 1 if last is None else last

    response = await files.api.client.get(
        f"/v1/jobs/{job_id}/result", headers={**files.a, "Range": header}
    )

    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["x-content-sha256"] == sha256(data)  # of the whole representation


async def test_several_ranges_get_the_whole_file(files: FilesApi) -> None:
    job_id, data = await big_job(files)
    response = await files.api.client.get(
        f"/v1/jobs/{job_id}/result", headers={**files.a, "Range": "bytes=0-1,5-6"}
    )
    assert response.status_code == 200
    assert response.content == data
    assert "content-range" not in response.headers


async def test_a_range_past_the_end_is_416(files: FilesApi) -> None:
    job_id, data = await big_job(files)
    response = await files.api.client.get(
        f"/v1/jobs/{job_id}/result", headers={**files.a, "Range": f"bytes={len(data)}-"}
    )
    assert_problem(response, 416, "RANGE_NOT_SATISFIABLE")
    assert response.headers["content-range"] == f"bytes */{len(data)}"


async def test_if_range_sends_the_range_only_for_the_same_bytes(files: FilesApi) -> None:
    job_id, data = await big_job(files)
    url = f"/v1/jobs/{job_id}/result"
    same = {**files.a, "Range": "bytes=0-9", "If-Range": f'"{sha256(data)}"'}
    other = {**files.a, "Range": "bytes=0-9", "If-Range": '"something-else"'}

    assert (await files.api.client.get(url, headers=same)).status_code == 206
    whole = await files.api.client.get(url, headers=other)
    assert whole.status_code == 200 and whole.content == data


async def test_head_and_conditional_get(files: FilesApi) -> None:
    job_id, data = await big_job(files)
    url = f"/v1/jobs/{job_id}/result"

    head = await files.api.client.head(url, headers=files.a)
    again = await files.api.client.get(
        url, headers={**files.a, "If-None-Match": head.headers["etag"]}
    )

    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert again.status_code == 304 and again.content == b""


async def test_an_inline_result_is_served_as_before(files: FilesApi) -> None:
    job = await files.run(files.a, "big", size=10)
    response = await files.api.client.get(f"/v1/jobs/{job['id']}/result", headers=files.a)
    assert response.status_code == 200
    assert response.json() == orjson.loads(expected_result(10))
    assert response.headers["etag"] == f'"{job["version"]}"'


async def test_files_are_listed_and_downloaded(files: FilesApi) -> None:
    job = await files.run(files.a, "files_sync", chunks=3, chunk_size=20_000)
    report = b"".join(artifact_apps.chunk_bytes(i, 20_000, 1) for i in range(3))

    listing = await files.api.client.get(f"/v1/jobs/{job['id']}/artifacts", headers=files.a)
    download = await files.api.client.get(
        f"/v1/jobs/{job['id']}/artifacts/report.txt", headers={**files.a, "Range": "bytes=-10"}
    )

    assert listing.status_code == 200
    body = listing.json()
    assert body["object"] == "list"
    by_name = {item["name"]: item for item in body["data"]}
    assert list(by_name) == ["note.txt", "report.txt"]
    assert by_name["report.txt"]["size"] == len(report)
    assert by_name["report.txt"]["sha256"] == sha256(report)
    assert by_name["report.txt"]["attempt"] == 1
    assert by_name["report.txt"]["url"].startswith(f"/v1/artifacts/{job['id']}/report.txt?")
    assert download.status_code == 206 and download.content == report[-10:]
    assert download.headers["content-disposition"] == 'attachment; filename="report.txt"'
    assert download.headers["content-type"] == "application/octet-stream"


async def test_unknown_and_invalid_names(files: FilesApi) -> None:
    job = await files.run(files.a, "files_sync", chunks=1, chunk_size=10)
    base = f"/v1/jobs/{job['id']}/artifacts"

    missing = await files.api.client.get(f"{base}/nope.txt", headers=files.a)
    hidden = await files.api.client.get(f"{base}/.hidden", headers=files.a)
    result = await files.api.client.get(f"{base}/_result", headers=files.a)

    assert_problem(missing, 404, "ARTIFACT_NOT_FOUND", detail="nope.txt")
    assert_problem(hidden, 400, "INVALID_ARTIFACT_NAME")
    assert_problem(result, 400, "INVALID_ARTIFACT_NAME")


def masked(response: httpx.Response, sent: str) -> object:
    body = response.json()
    body.pop("request_id")
    return orjson.loads(orjson.dumps(body).replace(sent.encode(), b"<id>"))


async def test_another_tenants_files_answer_like_an_unknown_job(files: FilesApi) -> None:
    theirs = await files.run(files.b, "files_sync", chunks=1, chunk_size=10)
    big = await files.run(files.b, "big", size=50_000)
    client = files.api.client

    for job_id in (theirs["id"], big["id"]):
        for suffix in ("artifacts", "artifacts/report.txt", "result"):
            mine = await client.get(f"/v1/jobs/{job_id}/{suffix}", headers=files.a)
            unknown = await client.get(f"/v1/jobs/{UNKNOWN_ID}/{suffix}", headers=files.a)
            assert_problem(mine, 404, "JOB_NOT_FOUND")
            assert masked(mine, job_id) == masked(unknown, UNKNOWN_ID)
            assert sorted(mine.headers) == sorted(unknown.headers)


async def test_reading_files_needs_the_read_scope(files: FilesApi) -> None:
    job = await files.run(files.a, "files_sync", chunks=1, chunk_size=10)
    read_only = await files.api.headers_for("tenant-a", READ)
    write_only = await files.api.headers_for("tenant-a", WRITE)
    url = f"/v1/jobs/{job['id']}/artifacts/report.txt"

    assert (await files.api.client.get(url, headers=read_only)).status_code == 200
    assert_problem(await files.api.client.get(url, headers=write_only), 403, "FORBIDDEN")


async def test_deleting_a_job_removes_its_files(files: FilesApi) -> None:
    job = await files.run(files.a, "files_sync", chunks=2, chunk_size=100)
    big_id, _ = await big_job(files)
    assert len(files.files()) == 3

    for job_id in (job["id"], big_id):
        deleted = await files.api.client.delete(f"/v1/jobs/{job_id}", headers=files.a)
        assert deleted.status_code == 204
    assert len(files.files()) == 3  # the leader's sweep removes them
    assert await files.sweep() == 3

    assert files.files() == []
    assert list(Path(files.store.root).iterdir()) == []  # no empty directories either
    gone = await files.api.client.get(f"/v1/jobs/{big_id}/result", headers=files.a)
    assert_problem(gone, 404, "JOB_NOT_FOUND")


async def test_retention_removes_the_files_of_what_it_purges(files: FilesApi) -> None:
    job = await files.run(files.a, "files_sync", chunks=1, chunk_size=100)
    big_id, _ = await big_job(files)
    read = await files.api.client.get(f"/v1/jobs/{big_id}", headers=files.a)
    link_of_result = read.json()["result"]["artifact"]["url"]
    storage = files.api.storage
    later = storage.now() + 2 * DAY

    purged = await Retention(storage, RetentionSettings(days=1), clock=lambda: later).run()
    assert purged.jobs == 2
    await files.sweep()

    assert files.files() == []
    for job_id in (job["id"], big_id):
        response = await files.api.client.get(f"/v1/jobs/{job_id}/artifacts", headers=files.a)
        assert_problem(response, 410, "JOB_EXPIRED")
    link = await files.api.client.get(link_of_result)  # genuine, and its job purged
    assert_problem(link, 410, "JOB_EXPIRED")


async def test_a_job_etag_holds_while_its_link_does(files: FilesApi) -> None:
    """The body of a job with a result file carries a link that changes once per link step:
    its ETag names the version and the step, and a revalidation within the step gets 304."""
    job_id, _ = await big_job(files)
    url = f"/v1/jobs/{job_id}"
    for _ in range(3):  # a step boundary between two reads: read again
        first = await files.api.client.get(url, headers=files.a)
        second = await files.api.client.get(url, headers=files.a)
        if first.headers["etag"] == second.headers["etag"]:
            break
    tag = first.headers["etag"]
    version = first.json()["version"]

    assert tag.startswith(f'"{version}.')
    assert first.json()["result"] == second.json()["result"]
    revalidated = await files.api.client.get(url, headers={**files.a, "If-None-Match": tag})
    stale = await files.api.client.get(url, headers={**files.a, "If-None-Match": f'"{version}"'})
    assert revalidated.status_code == 304
    assert revalidated.headers["etag"] == tag
    assert stale.status_code == 200  # a body from another step: its link may be older


async def test_lists_and_batch_results_carry_the_reference_too(files: FilesApi) -> None:
    big_id, data = await big_job(files)
    listed = await files.api.client.get("/v1/jobs", headers=files.a)
    (mine,) = [job for job in listed.json()["data"] if job["id"] == big_id]
    assert mine["result"]["artifact"]["sha256"] == sha256(data)

    batch = await files.api.client.post(
        "/v1/batches",
        json={"jobs": [{"type": "big", "input": {"size": 5000}}]},
        headers=files.a,
    )
    assert batch.status_code == 202, batch.text
    await files.run(files.a, "big", size=1)
    results = await files.api.client.get(
        f"/v1/batches/{batch.json()['id']}/results", headers=files.a
    )
    (line,) = [orjson.loads(raw) for raw in results.content.splitlines()]
    assert line["result"]["artifact"]["url"].startswith(f"/v1/artifacts/{line['id']}/_result?")


async def test_a_store_given_by_an_fsspec_url_works_the_same(storage: Storage) -> None:
    """The whole path (worker, API, signed link, delete, sweep) over memory://: what an
    s3:// store goes through, minus the network."""
    store = ArtifactStore.from_url(f"memory://artifact-tests/{ids.ulid()}")
    async with serve(storage, artifact_apps.app, store=store) as api:
        key = await api.headers_for("tenant-a")
        files = FilesApi(api, store, key, key)
        job = await files.run(key, "big", size=30_000)
        data = expected_result(30_000)

        whole = await api.client.get(f"/v1/jobs/{job['id']}/result", headers=key)
        ranged = await api.client.get(
            job["result"]["artifact"]["url"], headers={"Range": "bytes=5-9"}
        )
        stored = store.fs.find(store.root)

        assert whole.content == data and ranged.content == data[5:10]
        assert len(stored) == 1 and store.fs.cat_file(stored[0]) == data
        assert (await api.client.delete(f"/v1/jobs/{job['id']}", headers=key)).status_code == 204
        assert await files.sweep() == 1
        assert store.fs.find(store.root) == []
