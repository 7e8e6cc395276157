"""Operations endpoints: health, readiness, the OpenAPI document, the docs page and job types."""

from __future__ import annotations

import httpx
from starlette.routing import Route

import apps
from api.conftest import Api, Headers, assert_problem
from joblane.api.app import create_app
from joblane.api.batch_query import BatchJobsQuery, BatchListQuery, BatchReadQuery
from joblane.api.schemas import BatchOptionsBody

JOB_SECTION = {
    ("post", "/v1/jobs"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{job_id}"),
    ("delete", "/v1/jobs/{job_id}"),
    ("post", "/v1/jobs/{job_id}/cancel"),
    ("post", "/v1/jobs/{job_id}/retry"),
    ("get", "/v1/jobs/{job_id}/result"),
    ("get", "/v1/job-types"),
}


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_storage_is_reachable(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_when_storage_is_closed(api: Api) -> None:
    await api.storage.close()

    response = await api.client.get("/readyz")
    health = await api.client.get("/healthz")

    assert_problem(response, 503, "UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1
    assert health.status_code == 200


async def _spec(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    spec: dict[str, object] = response.json()
    return spec


def _operations(spec: dict[str, object]) -> set[tuple[str, str]]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    return {(method, path) for path, item in paths.items() for method in item}


async def test_openapi_is_3_1_and_lists_the_job_section(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)

    assert str(spec["openapi"]).startswith("3.1")
    assert _operations(spec) >= JOB_SECTION


async def test_openapi_lists_every_route_the_app_serves(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    served = {
        (method.lower(), route.path)
        for route in create_app(None).routes  # every route module the app mounts
        if isinstance(route, Route)
        and route.path not in ("/openapi.json", "/docs")
        and not route.path.startswith("/dashboard")  # HTML pages for people, not the API
        for method in route.methods or ()
        if method != "HEAD"
    }

    assert served == _operations(spec)


async def test_openapi_refs_resolve(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    components = spec["components"]
    assert isinstance(components, dict)
    schemas = components["schemas"]
    text = httpx.Response(200, json=spec).text

    refs = {part.split('"')[0] for part in text.split('"$ref":"#/components/schemas/')[1:]}
    assert refs and refs <= set(schemas)
    assert {"JobOut", "Problem", "SubmitJobBody"} <= set(schemas)


async def test_job_events_endpoint_is_documented(api: Api) -> None:
    spec = await _spec(api.client)

    assert ("get", "/v1/jobs/{job_id}/events") in _operations(spec)


async def test_docs_page_points_at_the_spec_and_its_assets_are_served(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    css = await client.get("/docs/static/swagger-ui.css")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    assert "/docs/static/swagger-ui-bundle.js" in page.text
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 100_000
    assert css.status_code == 200


async def test_job_types_lists_every_registered_type(
    client: httpx.AsyncClient, auth_read: Headers
) -> None:
    response = await client.get("/v1/job-types", headers=auth_read)

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    by_name = {item["name"]: item for item in body["data"]}
    assert set(by_name) == set(apps.app.names())
    echo = by_name["echo"]
    assert echo["enabled"] is True
    assert echo["input_schema"]["properties"]["value"]["type"] == "integer"
    assert echo["output_schema"]["properties"]["value"]["type"] == "integer"
    assert by_name["noop"]["output_schema"] is None
    assert by_name["nap"]["defaults"] == {"max_attempts": 3, "timeout": 600.0, "priority": 0}
    assert by_name["crash"]["defaults"]["max_attempts"] == 1


async def test_job_types_need_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/job-types")

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_openapi_documents_fields_and_include_wherever_a_job_is_returned(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    paths = spec["paths"]
    assert isinstance(paths, dict)

    for method, path in [("post", "/v1/jobs"), ("get", "/v1/jobs"), ("get", "/v1/jobs/{job_id}")]:
        names = {param["name"] for param in paths[path][method]["parameters"]}
        assert {"fields", "include"} <= names, (method, path)


async def test_openapi_documents_the_batch_section_as_the_api_reads_it(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    paths = spec["paths"]
    assert isinstance(paths, dict)

    def query_params(method: str, path: str) -> set[str]:
        params = paths[path][method].get("parameters", [])
        return {param["name"] for param in params if param["in"] == "query"}

    assert query_params("get", "/v1/batches/{batch_id}") == set(BatchReadQuery.model_fields)
    assert query_params("get", "/v1/batches/{batch_id}/jobs") == set(BatchJobsQuery.model_fields)
    assert query_params("get", "/v1/batches") == set(BatchListQuery.model_fields)
    assert query_params("post", "/v1/batches") == set(BatchOptionsBody.model_fields)
    submit = paths["/v1/batches"]["post"]
    assert set(submit["requestBody"]["content"]) == {
        "application/json",
        "application/x-ndjson",
        "multipart/form-data",
    }
    assert "202" in submit["responses"] and "413" in submit["responses"]
    assert "415" in submit["responses"]
    results = paths["/v1/batches/{batch_id}/results"]["get"]["responses"]["200"]
    events_ = paths["/v1/batches/{batch_id}/events"]["get"]["responses"]["200"]
    assert set(results["content"]) == {"application/x-ndjson"}
    assert set(events_["content"]) == {"text/event-stream"}
    retry = paths["/v1/batches/{batch_id}/retry-failed"]["post"]["responses"]
    assert "202" in retry and "409" in retry
    cancel = paths["/v1/batches/{batch_id}/cancel"]["post"]["responses"]
    assert {"200", "202", "409"} <= set(cancel)
