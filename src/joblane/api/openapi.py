"""The OpenAPI 3.1 document, built from one table of operations and the pydantic wire models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from joblane.api import schemas as s
from joblane.api.openapi_admin import ADMIN_OPERATIONS
from joblane.api.openapi_artifacts import ARTIFACT_MODELS, ARTIFACT_OPERATIONS, DOWNLOAD_PARAMS
from joblane.api.openapi_batches import BATCH_OPERATIONS
from joblane.api.openapi_observe import OBSERVE_MODELS, OBSERVE_OPERATIONS
from joblane.api.openapi_types import (
    FIELDS,
    PREFER,
    STATUSES,
    Operation,
    Param,
    id_schema,
    or_empty,
)
from joblane.api.openapi_usage import USAGE_MODELS, USAGE_OPERATIONS
from joblane.api.openapi_webhooks import WEBHOOK_MODELS, WEBHOOK_OPERATIONS
from joblane.api.schemas_admin import ADMIN_MODELS

PROBLEM = "application/problem+json"
IDEMPOTENCY_KEY = {"type": "string", "pattern": "^[^\\x00-\\x1f\\x7f]{1,255}$"}


JOB_ID = Param(
    "job_id", "path", "a job id: job_ + 26 Crockford base32 characters", id_schema("job"), True
)
INCLUDE = Param("include", "query", "include=input adds the input")
DATE_TIME = or_empty({"type": "string", "format": "date-time"})
NO_NUL = {"type": "string", "pattern": "^[^\\x00]*$"}  # the list refuses NUL in any value
LIST_PARAMS = (
    Param("status", "query", "comma-separated statuses", STATUSES),
    Param("type", "query", "comma-separated job types", NO_NUL),
    Param("batch_id", "query", "only jobs of this batch", or_empty(id_schema("bat"))),
    Param("created_after", "query", "RFC 3339", DATE_TIME),
    Param("created_before", "query", "RFC 3339", DATE_TIME),
    Param("limit", "query", "page size", {"type": "integer", "minimum": 1, "maximum": 1000}),
    Param("cursor", "query", "next_cursor of the previous page", or_empty(id_schema("job"))),
    Param(FIELDS.name, "query", FIELDS.description, NO_NUL),
    Param(INCLUDE.name, "query", INCLUDE.description, NO_NUL),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/jobs",
        "submitJob",
        "Submit a job",
        {202: s.JobOut, 200: s.JobOut},
        body=s.SubmitJobBody,
        errors=(401, 403, 413, 415, 422, 500, 501, 503),
        params=(
            PREFER,
            Param("Idempotency-Key", "header", "dedups retries for 24 h", IDEMPOTENCY_KEY),
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
        errors=(400, 401, 403, 404, 410, 422, 500, 503),
    ),
    Operation(
        "delete",
        "/v1/jobs/{job_id}",
        "deleteJob",
        "Delete a finished job",
        {204: None},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 410, 500, 503),
    ),
    Operation(
        "post",
        "/v1/jobs/{job_id}/cancel",
        "cancelJob",
        "Cancel a job",
        {200: s.JobOut, 202: s.JobOut},
        body=s.CancelBody,
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 410, 413, 415, 422, 500, 503),
    ),
    Operation(
        "post",
        "/v1/jobs/{job_id}/retry",
        "retryJob",
        "Retry a failed or cancelled job",
        {202: s.JobOut},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 409, 410, 500, 503),
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}/events",
        "jobEvents",
        "Server-Sent Events: one per version, id = version; resume with Last-Event-ID",
        {200: None},
        params=(JOB_ID, Param("Last-Event-ID", "header", "the last version received")),
        errors=(400, 401, 403, 404, 410, 500, 503),
        media_type="text/event-stream",
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}/result",
        "getJobResult",
        "The result of a completed job; a result file streams (Range: one range gets 206)",
        {200: None, 206: None, 304: None},
        params=(JOB_ID, *DOWNLOAD_PARAMS),
        errors=(400, 401, 403, 404, 409, 410, 416, 500, 501, 503),
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
        *ADMIN_MODELS,
        *USAGE_MODELS,
        *ARTIFACT_MODELS,
        *WEBHOOK_MODELS,
        *OBSERVE_MODELS,
    ]
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in (
        *OPERATIONS,
        *BATCH_OPERATIONS,
        *ADMIN_OPERATIONS,
        *USAGE_OPERATIONS,
        *ARTIFACT_OPERATIONS,
        *WEBHOOK_OPERATIONS,
        *OBSERVE_OPERATIONS,
    ):
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
    rate_limited = (429,) if op.auth else ()  # every authenticated request is rate limited
    for status in (*op.errors, *rate_limited):
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
            # an empty body reads as `{}`: enough unless the model has required fields
            "required": any(f.is_required() for f in op.body.model_fields.values()),
            "content": {"application/json": {"schema": _ref(op.body)}, **op.alt_bodies},
        }
    spec["security"] = [{"apiKey": []}, {"bearer": []}] if op.auth else []
    return spec
