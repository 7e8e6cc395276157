"""Hostile input on every backend, part 2: text. NUL, lone surrogates, invalid UTF-8,
right-to-left overrides and other invisible characters in every field a client controls: a 4xx
problem where the value cannot be kept (NUL where it would be stored as text), otherwise an
exact round trip; never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from api.batching import NDJSON, ndjson
from api.conftest import JSON, Api, Headers, assert_problem
from api.limit_apps import RTL, hostile_api, inputs, item
from joblane.storage.base import Storage


@pytest.fixture
async def api(storage: Storage) -> AsyncIterator[Api]:
    async with hostile_api(storage) as built:
        yield built


TRICKY = {
    "nul": "a\u0000b",
    "rtl": f"invoice{RTL}txt.exe",
    "bidi-mix": "\u2067\u05e9\u05dc\u05d5\u05dd\u2069 \u200d\ufeff\U0001f600",
    "controls": "\t\r\n\u0001\u001f\u007f\u0085\u2028\u2029",
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
async def test_strings_in_input_and_results_round_trip_exactly(
    api: Api, auth_a: Headers, text: str
) -> None:
    """`input` is stored as JSON text on both backends, so even NUL survives (PostgreSQL `json`,
    unlike `jsonb` or `text`, keeps the `\\u0000` escape)."""
    data = {"s": text, text: [text, {"k": text}]}
    single = await api.submit(auth_a, "store", input=data)
    batch = await api.client.post(
        "/v1/batches", content=ndjson([item(0, **data)]), headers={**auth_a, **NDJSON}
    )
    assert batch.status_code == 202, batch.text

    assert await inputs(api, auth_a) == [{"index": 0, **data}, data]
    await api.run_worker()
    result = await api.client.get(f"/v1/jobs/{single['id']}/result", headers=auth_a)
    assert result.json() == data


@pytest.mark.parametrize("text", [TRICKY["rtl"], TRICKY["bidi-mix"]], ids=["rtl", "bidi-mix"])
async def test_metadata_and_names_with_bidi_controls_round_trip_and_filter_exactly(
    api: Api, auth_a: Headers, text: str
) -> None:
    job = await api.submit(auth_a, "store", metadata={"file": text})
    lines = ndjson([{**item(1), "metadata": {"file": text}}])
    response = await api.client.post(
        "/v1/batches", params={"name": text}, content=lines, headers={**auth_a, **NDJSON}
    )
    assert response.status_code == 202, response.text
    batch = response.json()

    got = await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    found = await api.client.get("/v1/jobs", params={"metadata.file": text}, headers=auth_a)
    items = await api.client.get(f"/v1/batches/{batch['id']}/jobs", headers=auth_a)
    read = await api.client.get(f"/v1/batches/{batch['id']}", headers=auth_a)

    assert got.json()["metadata"] == {"file": text}
    assert len(found.json()["data"]) == 2
    assert all(j["metadata"] == {"file": text} for j in found.json()["data"])
    assert items.json()["data"][0]["metadata"] == {"file": text}
    assert read.json()["name"] == text


NUL = "a\u0000b"


def _nul_requests(job_id: str, batch_id: str) -> dict[str, Callable[[Api, Headers], Any]]:
    """Places that are stored as text (or filtered on): NUL is refused there, on every backend."""

    def post(url: str, body: JSON, **kw: Any) -> Callable[[Api, Headers], Any]:
        return lambda api, h: api.client.post(url, json=body, headers={**h, **kw})

    def get(url: str, params: dict[str, str]) -> Callable[[Api, Headers], Any]:
        return lambda api, h: api.client.get(url, params=params, headers=h)

    return {
        "metadata-value": post("/v1/jobs", {"type": "store", "input": {}, "metadata": {"k": NUL}}),
        "metadata-key": post("/v1/jobs", {"type": "store", "input": {}, "metadata": {NUL: "v"}}),
        "type": post("/v1/jobs", {"type": NUL, "input": {}}),
        "batch-item-metadata": post("/v1/batches", {"jobs": [{**item(0), "metadata": {"k": NUL}}]}),
        "batch-name": post("/v1/batches", {"name": NUL, "jobs": [item(0)]}),
        "job-cancel-reason": post(f"/v1/jobs/{job_id}/cancel", {"reason": NUL}),
        "batch-cancel-reason": post(f"/v1/batches/{batch_id}/cancel", {"reason": NUL}),
        "filter-type": get("/v1/jobs", {"type": NUL}),
        "filter-metadata": get("/v1/jobs", {"metadata.k": NUL}),
        "filter-batch": get("/v1/jobs", {"batch_id": NUL}),
        "filter-status": get(f"/v1/batches/{batch_id}/jobs", {"status": NUL}),
    }


NUL_PLACES = list(_nul_requests("", ""))


@pytest.mark.parametrize("place", NUL_PLACES)
async def test_nul_where_it_would_be_stored_as_text_is_422(
    api: Api, auth_a: Headers, place: str
) -> None:
    job = await api.submit(auth_a, "store", input={})
    batch = await api.client.post("/v1/batches", json={"jobs": [item(0)]}, headers=auth_a)

    response = await _nul_requests(job["id"], batch.json()["id"])[place](api, auth_a)

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert len(await inputs(api, auth_a)) == 2  # nothing more was created
    assert (await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)).json()[
        "status"
    ] == "queued"


async def test_nul_in_an_idempotency_key_is_422(api: Api, auth_a: Headers) -> None:
    for key in ("a\x00b", "x" * 256, "line\nbreak"):
        response = await api.client.post(
            "/v1/jobs",
            json={"type": "store", "input": {}},
            headers={**auth_a, "Idempotency-Key": key},
        )

        problem = assert_problem(response, 422, "VALIDATION_ERROR", detail="Idempotency-Key")
        assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    ok = await api.client.post(
        "/v1/jobs",
        json={"type": "store", "input": {}},
        headers={**auth_a, "Idempotency-Key": "k" * 255},
    )
    assert ok.status_code == 202, ok.text


LONE = b'"\\ud800"'  # a lone surrogate, escaped as JSON allows it to be written
SURROGATE_BODIES = {
    "input-value": (b'{"type": "store", "input": {"s": ' + LONE + b"}}", "/v1/jobs", None),
    "input-key": (b'{"type": "store", "input": {' + LONE + b": 1}}", "/v1/jobs", None),
    "metadata": (
        b'{"type": "store", "input": {}, "metadata": {"k": ' + LONE + b"}}",
        "/v1/jobs",
        None,
    ),
    "type": (b'{"type": ' + LONE + b', "input": {}}', "/v1/jobs", None),
    "batch-json": (
        b'{"jobs": [{"type": "store", "input": {"s": ' + LONE + b"}}]}",
        "/v1/batches",
        None,
    ),
    "batch-name": (
        b'{"name": ' + LONE + b', "jobs": [{"type": "store", "input": {}}]}',
        "/v1/batches",
        None,
    ),
    "batch-jsonl": (b'{"type": "store", "input": {"s": ' + LONE + b"}}\n", "/v1/batches", NDJSON),
    "raw-surrogate-bytes": (b'{"type": "store", "input": {"s": "\xed\xa0\x80"}}', "/v1/jobs", None),
    "invalid-utf8": (b'{"type": "store", "input": {"s": "\xc3\x28"}}', "/v1/jobs", None),
}


@pytest.mark.parametrize("case", SURROGATE_BODIES)
async def test_lone_surrogates_and_invalid_utf8_are_422(
    api: Api, auth_a: Headers, case: str
) -> None:
    body, url, extra = SURROGATE_BODIES[case]
    headers = {**auth_a, "Content-Type": "application/json", **(extra or {})}

    response = await api.client.post(url, content=body, headers=headers)

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert await inputs(api, auth_a) == []


async def test_a_lone_surrogate_in_a_multipart_file_is_422(api: Api, auth_a: Headers) -> None:
    line = b'{"type": "store", "input": {"s": ' + LONE + b"}}\n"
    response = await api.client.post(
        "/v1/batches", files={"file": ("a.jsonl", line)}, headers=auth_a
    )

    problem = assert_problem(response, 422, "VALIDATION_ERROR", detail="line 1")
    assert problem["errors"][0]["loc"] == ["line", 1]


SWEEP = [
    "\x00",
    RTL,
    "\ufeff",
    "\uffff",
    "\U0010ffff",
    "x" * 10_000,
    "'; DROP TABLE jobs; --",
    "\n",
    "",
]


def _sweep_requests(s: str, job_id: str, batch_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every field a client controls, set to `s`: (method, url, httpx arguments)."""
    job = {"type": "store", "input": {}}
    return [
        ("POST", "/v1/jobs", {"json": {**job, "type": s}}),
        ("POST", "/v1/jobs", {"json": {**job, "input": {"v": s}}}),
        ("POST", "/v1/jobs", {"json": {**job, "input": {s: 1}}}),
        ("POST", "/v1/jobs", {"json": {**job, "metadata": {s: "v"}}}),
        ("POST", "/v1/jobs", {"json": {**job, "metadata": {"k": s}}}),
        ("POST", "/v1/jobs", {"json": {**job, "callback_url": f"https://example.com/{s}"}}),
        ("POST", "/v1/batches", {"json": {"name": s, "jobs": [item(0)]}}),
        ("POST", "/v1/batches", {"json": {"jobs": [{**item(0), "type": s}]}}),
        ("POST", "/v1/batches", {"json": {"jobs": [{**item(0), "metadata": {"k": s}}]}}),
        (
            "POST",
            "/v1/batches",
            {"params": {"name": s}, "content": ndjson([item(0)]), "headers": NDJSON},
        ),
        ("POST", f"/v1/jobs/{job_id}/cancel", {"json": {"reason": s}}),
        ("POST", f"/v1/batches/{batch_id}/cancel", {"json": {"reason": s}}),
        *[
            ("GET", "/v1/jobs", {"params": {name: s}})
            for name in (
                "type",
                "metadata.k",
                "batch_id",
                "status",
                "cursor",
                "fields",
                "created_after",
                "limit",
            )
        ],
        ("GET", f"/v1/batches/{batch_id}/jobs", {"params": {"status": s}}),
        ("GET", f"/v1/batches/{batch_id}", {"params": {"fields": s}}),
        ("GET", "/v1/batches", {"params": {"cursor": s}}),
    ]


async def test_no_hostile_string_in_any_field_gets_a_5xx(api: Api, auth_a: Headers) -> None:
    job = await api.submit(auth_a, "store", input={})
    batch = (await api.client.post("/v1/batches", json={"jobs": [item(0)]}, headers=auth_a)).json()

    failures = []
    for s in SWEEP:
        for method, url, kwargs in _sweep_requests(s, job["id"], batch["id"]):
            headers = {**auth_a, **kwargs.pop("headers", {})}
            response = await api.client.request(method, url, headers=headers, **kwargs)
            if response.status_code >= 500:
                failures.append((method, url, kwargs, s[:20], response.text[:200]))

    assert failures == []
