"""POST /v1/batches refused: a bad item (422 naming its line or index), an empty batch, a body
that is not a batch, a malformed multipart form, a content type the API does not read. Each
leaves nothing behind."""

from __future__ import annotations

import orjson
import pytest

from api.batching import (
    NDJSON,
    assert_nothing_created,
    assert_validation_error,
    ndjson,
    ok,
)
from api.conftest import Api, Headers, assert_problem


async def test_empty_batches_are_422(api: Api, auth_a: Headers) -> None:
    for response in [
        await api.client.post("/v1/batches", json={"jobs": []}, headers=auth_a),
        await api.client.post("/v1/batches", content=b"", headers={**auth_a, **NDJSON}),
        await api.client.post("/v1/batches", content=b"\n \n", headers={**auth_a, **NDJSON}),
    ]:
        body = assert_problem(response, 422, "VALIDATION_ERROR")
        assert body["errors"][0]["type"] == "too_short"
    await assert_nothing_created(api, auth_a)


@pytest.mark.parametrize(
    "body",
    [{}, {"jobs": {"type": "noop"}}, {"jobs": None}, [ok(0)]],
    ids=["missing", "object", "null", "bare-list"],
)
async def test_json_body_needs_a_jobs_list(api: Api, auth_a: Headers, body: object) -> None:
    response = await api.client.post("/v1/batches", json=body, headers=auth_a)

    assert_problem(response, 422, "VALIDATION_ERROR")
    await assert_nothing_created(api, auth_a)


async def test_invalid_json_body_is_422(api: Api, auth_a: Headers) -> None:
    response = await api.client.post(
        "/v1/batches",
        content=b'{"jobs": [',
        headers={**auth_a, "Content-Type": "application/json"},
    )

    assert_validation_error(response, "JSON", ["body"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv"])
async def test_unsupported_content_type_is_415(
    api: Api, auth_a: Headers, content_type: str
) -> None:
    response = await api.client.post(
        "/v1/batches", content=ndjson([ok(0)]), headers={**auth_a, "Content-Type": content_type}
    )

    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE", detail=content_type)
    await assert_nothing_created(api, auth_a)


@pytest.mark.parametrize("case", ["two-files", "many-fields", "no-boundary", "garbage"])
async def test_a_malformed_multipart_body_is_422_not_500(
    api: Api, auth_a: Headers, case: str
) -> None:
    file = ("items.jsonl", ndjson([ok(0)]))
    if case == "two-files":
        response = await api.client.post(
            "/v1/batches", files=[("file", file), ("more", file)], headers=auth_a
        )
    elif case == "many-fields":
        response = await api.client.post(
            "/v1/batches",
            data={f"field{i}": "x" for i in range(30)},
            files={"file": file},
            headers=auth_a,
        )
    else:
        content_type = "multipart/form-data" + ("; boundary=xx" if case == "garbage" else "")
        response = await api.client.post(
            "/v1/batches", content=b"garbage", headers={**auth_a, "Content-Type": content_type}
        )

    assert_validation_error(response, "multipart", ["body"])
    await assert_nothing_created(api, auth_a)


# -- a bad item: 422 naming it, nothing created -------------------------------------------------
BAD_ITEMS: dict[str, tuple[object, list[object]]] = {
    # name: (the item, where its error is, after the item's own location)
    "not-an-object": ([1, 2], []),
    "unknown-type": ({"type": "nope", "input": {}}, ["type"]),
    "empty-type": ({"type": "", "input": {}}, ["type"]),
    "input-fails-the-model": ({"type": "batch_item", "input": {"index": "x"}}, ["input", "index"]),
    "input-missing-a-field": ({"type": "batch_item", "input": {}}, ["input", "index"]),
    "no-input": ({"type": "batch_item"}, ["input"]),
    "input-not-an-object": ({"type": "batch_item", "input": [1]}, ["input"]),
    "extra-field": ({**ok(2), "priority": 5}, ["priority"]),
    "metadata-not-strings": ({**ok(2), "metadata": {"k": 5}}, ["metadata", "k"]),
    "metadata-bad-key": ({**ok(2), "metadata": {"a key": "v"}}, ["metadata", "a key"]),
    "metadata-key-newline": ({**ok(2), "metadata": {"key\n": "v"}}, ["metadata", "key\n"]),
    "metadata-nul": ({**ok(2), "metadata": {"k": "a\x00b"}}, ["metadata", "k"]),
    "metadata-too-long": ({**ok(2), "metadata": {"k": "v" * 501}}, ["metadata", "k"]),
    "metadata-too-many": ({**ok(2), "metadata": {f"k{i}": "v" for i in range(51)}}, ["metadata"]),
    "metadata-not-an-object": ({**ok(2), "metadata": ["a"]}, ["metadata"]),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
async def test_a_bad_item_is_422_naming_it_in_every_form_and_nothing_is_created(
    api: Api, auth_a: Headers, case: str
) -> None:
    item, inside = BAD_ITEMS[case]
    items = [ok(0), ok(1), item, ok(3)]

    as_json = await api.client.post("/v1/batches", json={"jobs": items}, headers=auth_a)
    as_jsonl = await api.client.post(
        "/v1/batches", content=ndjson(items), headers={**auth_a, **NDJSON}
    )
    as_file = await api.client.post(
        "/v1/batches", files={"file": ("items.jsonl", ndjson(items))}, headers=auth_a
    )

    assert_validation_error(as_json, "jobs[2]", ["body", "jobs", 2, *inside])
    assert_validation_error(as_jsonl, "line 3", ["line", 3, *inside])
    assert_validation_error(as_file, "line 3", ["line", 3, *inside])
    await assert_nothing_created(api, auth_a)


@pytest.mark.parametrize("form", ["jsonl", "multipart"])
async def test_a_line_that_is_not_json_is_422_naming_it(
    api: Api, auth_a: Headers, form: str
) -> None:
    body = ndjson([ok(0), ok(1)]) + b'{"type": "batch_item", "input": \n' + ndjson([ok(3)])

    if form == "jsonl":
        response = await api.client.post("/v1/batches", content=body, headers={**auth_a, **NDJSON})
    else:
        response = await api.client.post(
            "/v1/batches", files={"file": ("items.jsonl", body)}, headers=auth_a
        )

    body_json = assert_validation_error(response, "line 3", ["line", 3])
    assert body_json["errors"][0]["type"] == "json_invalid"
    await assert_nothing_created(api, auth_a)


async def test_line_numbers_count_blank_lines(api: Api, auth_a: Headers) -> None:
    body = ndjson([ok(0)]) + b"\n\n" + orjson.dumps({"type": "nope", "input": {}}) + b"\n"

    response = await api.client.post("/v1/batches", content=body, headers={**auth_a, **NDJSON})

    assert_validation_error(response, "line 4", ["line", 4, "type"])


async def test_a_bad_item_after_chunks_were_written_leaves_nothing(
    api: Api, auth_a: Headers
) -> None:
    items: list[object] = [ok(i) for i in range(4500)]  # more than two of the service's chunks
    items[4200] = {"type": "batch_item", "input": {"index": "bad"}}

    response = await api.client.post(
        "/v1/batches", content=ndjson(items), headers={**auth_a, **NDJSON}
    )

    assert_validation_error(response, "line 4201", ["line", 4201, "input", "index"])
    await assert_nothing_created(api, auth_a)
    assert await api.run_worker() == 0
