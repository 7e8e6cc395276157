"""`wickson`: batch document processing (seed 001).

    GET  /v1/batches/{batch_id}            the document's endpoint; query include_job_details,
                                           metrics_only, include_errors, fields (and
                                           job_details_limit, default 100, at most 1000)
    POST /v1/batches                       create a batch (implied by the document's fields):
                                           {"batch_name", "job_type", "files": [{"file_path",
                                           "media_type"?, "input"?}], "batch_configuration"?}
    POST /v1/batches/{batch_id}/pause      the document's paused / cancelled states, by the user
    POST /v1/batches/{batch_id}/resume
    POST /v1/batches/{batch_id}/cancel

Auth: `X-Api-Key` (any casing) or `Authorization: Bearer`, Joblane API keys. Envelope
`{"success", "message", "data", "metadata"}`; errors `{"success": false, "message", "code",
"status_code", "details"}` with lowercase codes (validation_error 400, not_found 404,
processing_error 500, …). Ids: `bat_<ULID>` is shown as `batch-<ULID>` and item `job_<ULID>` as
`job-<ULID>` (the document's rule: letters, digits and hyphens), read back losslessly. Status:
queued -> created; items queued -> pending, running -> processing. Error codes of items are shown
in lowercase (`FORMAT_ERROR` -> `format_error`). A file's `file_path` / `media_type` come from
the item's metadata (set by the submit above; else `file_path` of its input, else its id; the
media type else from the extension). `estimated_completion` is left out while unknown.
`include_errors=false` leaves out `error_summary` and the items' `error`; `metrics_only=true`
leaves only the id, name, status, progress and timing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from joblane.api.batch_query import parse_query
from joblane.api.errors import request_id_of
from joblane.api.http import parse_json_body
from joblane.compat.access import find_batch
from joblane.compat.profile import JSON, Call, Endpoint, ErrorInfo, Profile
from joblane.compat.profiles.wickson_view import (
    BATCH_ID,
    PRIORITIES,
    View,
    data_body,
    file_path,
    metadata,
    success,
)
from joblane.compat.wire import json_response
from joblane.core.batch import Batch, ErrorGroup
from joblane.core.errors import BatchNotFound, InvalidBatchId, InvalidId, JoblaneError
from joblane.core.job import Job
from joblane.service.batch_submit import BatchItem, BatchOptions

_ID_RULE = re.compile(r"^[A-Za-z0-9-]{1,128}$")
MAX_SUBMIT_BYTES = 32 * 1024 * 1024
OPERATIONS = {  # handler -> (the operation's name, what failed, in words)
    "get_batch": ("get_batch_status", "retrieve batch status"),
    "create_batch": ("create_batch", "create batch"),
    "pause_batch": ("pause_batch", "pause batch"),
    "resume_batch": ("resume_batch", "resume batch"),
    "cancel_batch": ("cancel_batch", "cancel batch"),
}


class StatusQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_job_details: bool = False
    metrics_only: bool = False
    include_errors: bool = True
    fields: str | None = None
    job_details_limit: int = Field(default=100, ge=1, le=1000)

    def view(self) -> View:
        wanted = None
        if self.fields:
            wanted = frozenset(part.strip() for part in self.fields.split(",") if part.strip())
        return View(self.include_job_details, self.metrics_only, self.include_errors, wanted)


class FileItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_path: str = Field(min_length=1, max_length=1024)
    media_type: str | None = Field(default=None, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class Configuration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent: int | None = Field(default=None, ge=1, le=10_000)
    priority: Literal["low", "normal", "high"] = "normal"
    timeout: int | None = Field(default=None, ge=1, le=30 * 86_400)
    notification_enabled: bool = False


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_name: str | None = Field(default=None, max_length=256)
    job_type: str = Field(min_length=1, max_length=128)
    files: list[FileItem] = Field(min_length=1, max_length=100_000)
    batch_configuration: Configuration = Field(default_factory=Configuration)


def batch_id_of(call: Call) -> str:
    """The Joblane id behind the path's id: 400 if it breaks the document's rule, 404 if it
    keeps the rule but names no batch this server could have made."""
    shown = call.path("batch_id")
    if not _ID_RULE.match(shown):
        raise InvalidBatchId(
            f"Invalid batch ID: {shown}",
            details={"error": "Batch ID must be alphanumeric with hyphens only"},
        )
    try:
        return BATCH_ID.read(shown)
    except InvalidId:
        raise BatchNotFound(f"Batch {shown} not found") from None


async def _batch(call: Call) -> Batch:
    return await find_batch(call, batch_id_of(call), call.path("batch_id"))


async def get_batch(call: Call) -> Response:
    query = parse_query(call.request.query_params, StatusQuery)
    view = query.view()
    batch = await _batch(call)
    items, errors = None, []
    if view.include_job_details and not view.metrics_only:
        page = await call.ctx.batches.items(call.who, batch, (), None, query.job_details_limit)
        items = page.jobs
    if view.include_errors and not view.metrics_only:
        errors = await _errors(call, batch)
    return _answer(call, batch, "Batch status retrieved successfully", view, items, errors)


async def _errors(call: Call, batch: Batch) -> list[tuple[ErrorGroup, list[str]]]:
    """Each error group with the file paths of its sample of failed items."""
    groups = await call.ctx.batches.error_summary(batch)
    sampled = {job_id for group in groups for job_id in group.sample_job_ids}
    jobs = await asyncio.gather(*(_item(call, job_id) for job_id in sorted(sampled)))
    paths = {job.id: file_path(job) for job in jobs if job is not None}
    return [
        (group, [paths[job_id] for job_id in group.sample_job_ids if job_id in paths])
        for group in groups
    ]


async def _item(call: Call, job_id: str) -> Job | None:
    try:
        return await call.ctx.jobs.get(call.who, job_id)
    except JoblaneError:  # retried or purged since the sample was taken
        return None


async def create_batch(call: Call) -> Response:
    limit = min(call.ctx.settings.max_batch_bytes, MAX_SUBMIT_BYTES)
    body = await parse_json_body(
        call.request, CreateBody, limit, max_depth=call.ctx.settings.max_json_depth + 2
    )
    config = body.batch_configuration
    options = BatchOptions(
        name=body.batch_name,
        max_concurrent=config.max_concurrent,
        priority=PRIORITIES[config.priority],
        timeout=config.timeout,
        notification_enabled=config.notification_enabled,
    )
    batch = await call.ctx.batches.submit(call.who, options, _items(body))
    return _answer(call, batch, "Batch created successfully", View(), None, [], 202)


async def _items(body: CreateBody) -> AsyncIterator[BatchItem]:
    for index, item in enumerate(body.files):
        meta = {"file_path": item.file_path}
        if item.media_type:
            meta["media_type"] = item.media_type
        yield BatchItem(("body", "files", index), body.job_type, item.input, meta)


async def pause_batch(call: Call) -> Response:
    batch = await call.ctx.batches.pause(call.who, batch_id_of(call))
    return _answer(call, batch, "Batch paused successfully", View(), None, [])


async def resume_batch(call: Call) -> Response:
    batch = await call.ctx.batches.resume(call.who, batch_id_of(call))
    return _answer(call, batch, "Batch resumed successfully", View(), None, [])


async def cancel_batch(call: Call) -> Response:
    batch = await call.ctx.batches.cancel(call.who, batch_id_of(call), "cancelled by the user")
    status = 200 if batch.terminal else 202
    return _answer(call, batch, "Batch cancelled successfully", View(), None, [], status)


def _answer(
    call: Call,
    batch: Batch,
    message: str,
    view: View,
    items: list[Job] | None,
    errors: list[tuple[ErrorGroup, list[str]]],
    status: int = 200,
) -> Response:
    now = call.now
    meta = metadata(batch, now, request_id_of(call.request))
    body = success(message, data_body(batch, now, view, items, errors), meta)
    headers = {"Cache-Control": f"private, max-age={meta['cache_ttl']}"}
    if not batch.terminal:
        headers["Retry-After"] = str(meta["cache_ttl"])
    return json_response(body, status, headers)


def error(info: ErrorInfo) -> JSON:
    shown = info.path_params.get("batch_id", "")
    message, details = info.message, info.details
    if info.code == "not_found" and shown:
        message = f"Batch {shown} not found"
        details = {"resource_type": "batch", "resource_id": shown}
    elif info.code == "processing_error":
        operation, words = OPERATIONS.get(info.operation, ("request", "process request"))
        message = f"Failed to {words}: {info.message}"
        details = {"operation": operation, **({"batch_id": shown} if shown else {})}
    return {
        "success": False,
        "message": message,
        "code": info.code,
        "status_code": info.status,
        "details": details,
    }


CODES = {
    "VALIDATION_ERROR": "validation_error",
    "INVALID_BATCH_ID": "validation_error",
    "INVALID_JOB_ID": "validation_error",
    "PAYLOAD_TOO_LARGE": "validation_error",
    "UNSUPPORTED_MEDIA_TYPE": "validation_error",
    "BATCH_NOT_FOUND": "not_found",
    "BATCH_EXPIRED": "not_found",
    "NOT_FOUND": "not_found",
    "UNAUTHORIZED": "unauthorized",
    "INVALID_API_KEY": "unauthorized",
    "FORBIDDEN": "forbidden",
    "CONFLICT": "conflict",
    "METHOD_NOT_ALLOWED": "method_not_allowed",
    "RATE_LIMITED": "rate_limited",
    "INTERNAL_ERROR": "processing_error",
    "UNAVAILABLE": "processing_error",
}
STATUSES = {"VALIDATION_ERROR": 400, "BATCH_EXPIRED": 404, "UNAVAILABLE": 500}

PROFILE = Profile(
    name="wickson",
    title="Batch document processing (X-Api-Key; {success, message, data, metadata})",
    endpoints=(
        Endpoint("GET", "/v1/batches/{batch_id}", get_batch),
        Endpoint("POST", "/v1/batches", create_batch),
        Endpoint("POST", "/v1/batches/{batch_id}/pause", pause_batch),
        Endpoint("POST", "/v1/batches/{batch_id}/resume", resume_batch),
        Endpoint("POST", "/v1/batches/{batch_id}/cancel", cancel_batch),
    ),
    error=error,
    codes=CODES,
    statuses=STATUSES,
)
