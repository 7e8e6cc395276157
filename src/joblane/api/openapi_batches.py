"""The Batch section of the OpenAPI document (see `openapi.py` for the table's shape)."""

from __future__ import annotations

from typing import Any

from joblane.api import schemas as s
from joblane.api.openapi_types import FIELDS, PREFER, STATUSES, Operation, Param, id_schema

BATCH_ID = Param(
    "batch_id", "path", "a batch id: bat_ + 26 Crockford base32 characters", id_schema("bat")
)
JOB_CURSOR = id_schema("job")  # the last item of the previous page
BOOL = {"type": "boolean"}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}
OPTION_PARAMS = (
    Param("name", "query", "batch name (JSONL bodies: options go in the query)"),
    Param("max_concurrent", "query", "items running at once", {"type": "integer", "minimum": 1}),
    Param("priority", "query", "priority of every item", {"type": "integer"}),
    Param("timeout", "query", "seconds; unfinished items are then cancelled", {"type": "number"}),
    Param("callback_url", "query", "URL notified when the batch finishes"),
    Param("notification_enabled", "query", "send notifications", BOOL),
)
JSONL_BODIES: dict[str, dict[str, Any]] = {
    "application/x-ndjson": {
        "schema": {"type": "string", "description": "one {type, input, metadata?} per line"}
    },
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    },
}
ACTION_ERRORS = (400, 401, 403, 404, 409, 410, 500, 503)
BODY_ERRORS = (413, 415, 422)  # an action that reads a body (cancel's reason)


def _action(path: str, op_id: str, summary: str, *statuses: int) -> Operation:
    return Operation(
        "post",
        f"/v1/batches/{{batch_id}}/{path}",
        op_id,
        summary,
        {status: s.BatchOut for status in statuses or (200,)},
        params=(BATCH_ID,),
        errors=(*ACTION_ERRORS, *BODY_ERRORS) if path == "cancel" else ACTION_ERRORS,
        body=s.CancelBody if path == "cancel" else None,
    )


BATCH_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/batches",
        "submitBatch",
        "Submit a batch: items inline (JSON) or as JSONL (x-ndjson body or multipart file)",
        {202: s.BatchOut},
        body=s.SubmitBatchBody,
        alt_bodies=JSONL_BODIES,
        params=OPTION_PARAMS,
        errors=(401, 403, 413, 415, 422, 500, 501, 503),
    ),
    Operation(
        "get",
        "/v1/batches",
        "listBatches",
        "List batches, newest first",
        {200: s.BatchList},
        params=(
            Param("limit", "query", "page size", LIMIT),
            Param("cursor", "query", "next_cursor of the previous page", id_schema("bat")),
        ),
        errors=(401, 403, 422, 500, 503),
    ),
    Operation(
        "get",
        "/v1/batches/{batch_id}",
        "getBatch",
        "Get a batch: counts, timing, error summary",
        {200: s.BatchOut, 304: None},
        params=(
            BATCH_ID,
            PREFER,
            Param("If-None-Match", "header", "an ETag"),
            Param("include_job_details", "query", "add job_details (paged)", BOOL),
            Param("job_details_limit", "query", "job_details page size", LIMIT),
            Param(
                "job_details_cursor",
                "query",
                "job_details_next_cursor of the last page",
                JOB_CURSOR,
            ),
            Param("metrics_only", "query", "only status, progress and timing", BOOL),
            Param("include_errors", "query", "add error_summary (default true)", BOOL),
            FIELDS,
        ),
        errors=(400, 401, 403, 404, 410, 422, 500, 503),
    ),
    _action("pause", "pauseBatch", "Pause: no new item starts; running ones finish"),
    _action("resume", "resumeBatch", "Resume a paused batch"),
    _action(
        "cancel",
        "cancelBatch",
        "Cancel: queued items at once, running ones cooperatively (202 until they stopped)",
        200,
        202,
    ),
    _action("retry-failed", "retryFailedBatchItems", "Re-queue the failed items", 202),
    Operation(
        "get",
        "/v1/batches/{batch_id}/jobs",
        "listBatchJobs",
        "The batch's jobs in item order",
        {200: s.JobList},
        params=(
            BATCH_ID,
            Param("status", "query", "comma-separated statuses", STATUSES),
            Param("limit", "query", "page size", LIMIT),
            Param("cursor", "query", "next_cursor of the previous page", JOB_CURSOR),
        ),
        errors=(400, 401, 403, 404, 410, 422, 500, 503),
    ),
    Operation(
        "get",
        "/v1/batches/{batch_id}/results",
        "getBatchResults",
        "JSONL: one line per item in item order (id, status, result or error)",
        {200: None},
        params=(BATCH_ID,),
        errors=(400, 401, 403, 404, 410, 500, 503),
        media_type="application/x-ndjson",
    ),
    Operation(
        "get",
        "/v1/batches/{batch_id}/events",
        "batchEvents",
        "Server-Sent Events: one per observed version; resume with Last-Event-ID",
        {200: None},
        params=(BATCH_ID, Param("Last-Event-ID", "header", "the last version received")),
        errors=(400, 401, 403, 404, 410, 500, 503),
        media_type="text/event-stream",
    ),
)
