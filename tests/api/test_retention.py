"""Purged ids over HTTP: a job or batch of the caller's tenant that retention purged answers
410 (`JOB_EXPIRED` / `BATCH_EXPIRED`, with `purged_at`) on every route that takes its id;
another tenant's purged id answers 404, exactly like an id that never existed."""

from __future__ import annotations

from api.batching import UNKNOWN_BATCH, bad, batch_endpoints, ok, submit_batch
from api.conftest import JSON, UNKNOWN_ID, Api, Headers, assert_problem, job_endpoints
from joblane.core.clock import from_rfc3339
from joblane.core.retention import Cutoffs

Endpoint = tuple[str, str]


def every_job_route(job_id: str) -> list[Endpoint]:
    return [*job_endpoints(job_id), ("GET", f"/v1/jobs/{job_id}/events")]


async def purge_finished(api: Api) -> None:
    """What the leader does once the retention has passed for everything finished so far."""
    expired = Cutoffs(api.storage.now() + 1.0)
    await api.storage.jobs_expire(expired, 1000)
    await api.storage.batches_settle(100)
    await api.storage.batches_expire(expired, 100)
    await api.storage.batch_items_purge(1000)


async def finished_job(api: Api, headers: Headers) -> JSON:
    job = await api.submit(headers, "echo", input={"text": "hi"})
    assert await api.run_worker() == 1
    return job


async def answers(api: Api, headers: Headers, routes: list[Endpoint]) -> list[JSON]:
    bodies = []
    for method, url in routes:
        response = await api.client.request(method, url, headers=headers)
        bodies.append(
            {"route": f"{method} {url}", "status": response.status_code, **response.json()}
        )
    return bodies


def without_ids(body: JSON, *ids: str) -> JSON:
    """A problem body as a client compares two of them: the id and the request id aside."""
    text = str({k: v for k, v in body.items() if k not in ("request_id", "details")})
    for purged in ids:
        text = text.replace(purged, "<id>")
    return {"text": text, "details": sorted((body.get("details") or {}).keys())}


# -- jobs ------------------------------------------------------------------------------------
async def test_a_purged_job_answers_410_with_purged_at(api: Api, auth_a: Headers) -> None:
    job = await finished_job(api, auth_a)
    before = api.storage.now()
    await purge_finished(api)

    for method, url in every_job_route(job["id"]):
        response = await api.client.request(method, url, headers=auth_a)

        body = assert_problem(response, 410, "JOB_EXPIRED", detail=job["id"])
        assert body["title"] == "Job expired"
        assert body["details"] == {"job_id": job["id"]}
        assert body["purged_at"].endswith("Z"), url
        assert abs(from_rfc3339(body["purged_at"]) - before) < 5.0, url


async def test_another_tenants_purged_job_is_404_like_one_that_never_existed(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    job = await finished_job(api, auth_a)
    await purge_finished(api)

    purged = await answers(api, auth_b, every_job_route(job["id"]))
    never = await answers(api, auth_b, every_job_route(UNKNOWN_ID))

    for body in purged + never:
        assert body["status"] == 404, body
        assert body["code"] == "JOB_NOT_FOUND"
        assert "purged_at" not in body
    assert [without_ids(b, job["id"]) for b in purged] == [
        without_ids(b, UNKNOWN_ID) for b in never
    ]


async def test_an_admin_key_sees_any_tenants_purged_job(
    api: Api, auth_a: Headers, auth_admin: Headers
) -> None:
    job = await finished_job(api, auth_a)
    await purge_finished(api)

    response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_admin)

    assert_problem(response, 410, "JOB_EXPIRED")


async def test_only_jobs_finished_before_the_cutoff_go(api: Api, auth_a: Headers) -> None:
    finished = await finished_job(api, auth_a)
    queued = await api.submit(auth_a, "nap", input={"seconds": 0})

    await api.storage.jobs_expire(Cutoffs(api.storage.now() - 60.0), 1000)  # too recent
    for job in (finished, queued):
        response = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
        assert response.status_code == 200, response.text

    await api.storage.jobs_expire(Cutoffs(api.storage.now() + 1.0), 1000)
    response = await api.client.get(f"/v1/jobs/{finished['id']}", headers=auth_a)
    assert_problem(response, 410, "JOB_EXPIRED")
    response = await api.client.get(f"/v1/jobs/{queued['id']}", headers=auth_a)
    assert response.status_code == 200, response.text  # not finished: never expires


# -- batches ---------------------------------------------------------------------------------
async def finished_batch(api: Api, headers: Headers) -> tuple[str, list[str]]:
    batch = await submit_batch(api, headers, [ok(0), bad(1, "format_error"), ok(2)])
    assert await api.run_worker() == 3
    listed = await api.client.get(f"/v1/batches/{batch['id']}/jobs", headers=headers)
    return batch["id"], [item["id"] for item in listed.json()["data"]]


async def test_a_purged_batch_answers_410_and_so_do_its_items(api: Api, auth_a: Headers) -> None:
    batch_id, item_ids = await finished_batch(api, auth_a)
    assert len(item_ids) == 3
    await purge_finished(api)

    for method, url in batch_endpoints(batch_id):
        response = await api.client.request(method, url, headers=auth_a)

        body = assert_problem(response, 410, "BATCH_EXPIRED", detail=batch_id)
        assert body["details"] == {"batch_id": batch_id}
        assert body["purged_at"].endswith("Z"), url
    for item_id in item_ids:
        for method, url in every_job_route(item_id):
            response = await api.client.request(method, url, headers=auth_a)
            assert_problem(response, 410, "JOB_EXPIRED")
    listed = await api.client.get("/v1/jobs", params={"batch_id": batch_id}, headers=auth_a)
    assert listed.json()["data"] == []


async def test_another_tenants_purged_batch_is_404_like_one_that_never_existed(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    batch_id, item_ids = await finished_batch(api, auth_a)
    await purge_finished(api)

    purged = await answers(api, auth_b, batch_endpoints(batch_id))
    never = await answers(api, auth_b, batch_endpoints(UNKNOWN_BATCH))

    for body in purged + never:
        assert (body["status"], body["code"]) == (404, "BATCH_NOT_FOUND"), body
        assert "purged_at" not in body
    assert [without_ids(b, batch_id) for b in purged] == [
        without_ids(b, UNKNOWN_BATCH) for b in never
    ]
    response = await api.client.get(f"/v1/jobs/{item_ids[0]}", headers=auth_b)
    assert_problem(response, 404, "JOB_NOT_FOUND")


async def test_while_its_items_are_purged_a_batch_is_already_gone(
    api: Api, auth_a: Headers
) -> None:
    batch_id, item_ids = await finished_batch(api, auth_a)
    await api.storage.batches_settle(100)
    await api.storage.batches_expire(Cutoffs(api.storage.now() + 1.0), 100)  # items not yet

    response = await api.client.get(f"/v1/batches/{batch_id}", headers=auth_a)
    assert_problem(response, 410, "BATCH_EXPIRED")
    item = await api.client.get(f"/v1/jobs/{item_ids[1]}", headers=auth_a)
    assert item.status_code == 200  # still readable until its chunk goes
    retried = await api.client.post(f"/v1/jobs/{item_ids[1]}/retry", headers=auth_a)
    assert_problem(retried, 409, "CONFLICT", detail="expired")


async def test_openapi_documents_410_on_routes_that_take_an_id(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]

    for path, operations in paths.items():
        if "{job_id}" in path or "{batch_id}" in path:
            for method, operation in operations.items():
                assert "410" in operation["responses"], f"{method} {path}"
