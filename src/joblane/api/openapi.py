"""The OpenAPI 3.1 document, built from one table of operations and the pydantic wire models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from joblane.api import schemas as s
from joblane.api.openapi_batches import BATCH_OPERATIONS
from joblane.api.openapi_types import FIELDS, PREFER, Operation, Param

PROBLEM = "application/problem+json"


JOB_ID = Param("job_id", "path", "a job id: job_ + 26 Crockford base32 characters", required=True)
INCLUDE = Param("include", "query", "include=input adds the input")
LIST_PARAMS = (
    Param("status", "query", "comma-separated statuses"),
    Param("type", "query", "comma-separated job types"),
    Param("batch_id", "query", "only jobs of this batch"),
    Param("created_after", "query", "RFC 3339", {"type": "string", "format": "date-time"}),
    Param("created_before", "query", "RFC 3339", {"type": "string", "format": "date-time"}),
    Param("limit", "query", "page size", {"type": "integer", "minimum": 1, "maximum": 1000}),
    Param("cursor", "query", "next_cursor of the previous page"),
    FIELDS,
    INCLUDE,
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/jobs",
        "submitJob",
        "Submit a job",
        {202: s.JobOut, 200: s.JobOut},
        body=s.SubmitJobBody,
        errors=(401, 403, 413, 422, 500, 501, 503),
        params=(
            PREFER,
            Param("Idempotency-Key", "header", "dedups retries for 24 h"),
            FIELDS,
            INCLUDE,
        ),
    ),
    Operation(
        "get",
        "/v1/jobs",
        "listJobs",
        "List jobs, newest first",
        {200: s.JobList},
        params=LIST_PARAMS,
        errors=(401, 403, 422, 500, 503),
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}",
        "getJob",
        "Get a job",
        {200: s.JobOut, 304: None},
        params=(
            JOB_ID,
            PREFER,
            Param("If-None-Match", "header", "an ETag"),
            FIELDS,
            INCLUDE,
        ),
    ),
    Operation(
        "delete",
        "/v1/jobs/{job_id}",
        "deleteJob",
        "Delete a finished job",
        {204: None},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 500, 503),
    ),
    Operation(
        "post",
        "/v1/jobs/{job_id}/cancel",
        "cancelJob",
        "Cancel a job",
        {200: s.JobOut, 202: s.JobOut},
        body=s.CancelBody,
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 422, 500, 503),
    ),
    Operation(
        "post",
        "/v1/jobs/{job_id}/retry",
        "retryJob",
        "Retry a failed or cancelled job",
        {202: s.JobOut},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 500, 503),
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}/events",
        "jobEvents",
        "Server-Sent Events: one per version, id = version; resume with Last-Event-ID",
        {200: None},
        params=(JOB_ID, Param("Last-Event-ID", "header", "the last version received")),
        errors=(400, 401, 403, 404, 500, 503),
        media_type="text/event-stream",
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}/result",
        "getJobResult",
        "The result of a completed job",
        {200: None},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 500, 503),
    ),
    Operation(
        "get",
        "/v1/job-types",
        "listJobTypes",
        "Registered job types",
        {200: s.JobTypeList},
        errors=(401, 403, 500),
    ),
    Operation(
        "get", "/healthz", "health", "The process is up", {200: s.Health}, errors=(), auth=False
    ),
    Operation(
        "get",
        "/readyz",
        "ready",
        "Storage is reachable",
        {200: s.Health},
        errors=(503,),
        auth=False,
    ),
)


def build(title: str = "Joblane", version: str = "1.0.0") -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        s.Problem,
        s.SubmitJobBody,
        s.CancelBody,
        s.JobOut,
        s.JobList,
        s.JobTypeList,
        s.Health,
        s.SubmitBatchBody,
        s.BatchOut,
        s.BatchList,
    ]
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in (*OPERATIONS, *BATCH_OPERATIONS):
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        entry: dict[str, Any] = {"description": str(status)}
        if model is not None:
            entry["content"] = {"application/json": {"schema": _ref(model)}}
        elif status == 200:
            entry["content"] = {op.media_type: {"schema": {}}}
        responses[str(status)] = entry
    for status in op.errors:
        responses[str(status)] = {
            "description": "problem",
            "content": {PROBLEM: {"schema": _ref(s.Problem)}},
        }
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "parameters": [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.params
        ],
        "responses": responses,
    }
    if op.body is not None:
        spec["requestBody"] = {
            "required": op.body in (s.SubmitJobBody, s.SubmitBatchBody),
            "content": {"application/json": {"schema": _ref(op.body)}, **op.alt_bodies},
        }
    spec["security"] = [{"apiKey": []}, {"bearer": []}] if op.auth else []
    return spec
