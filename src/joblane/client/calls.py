"""Requests of the contract, built once for both the sync and the async client (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    idempotent: bool = False  # safe to send again after a 503 or a connection broken mid-way
    read_timeout: float | None = None  # None: the client's own


def seg(value: str) -> str:
    """An id as one path segment (whatever it holds, it cannot climb out of its route)."""
    return quote(value, safe="")


def get(path: str, params: Mapping[str, str] | None = None) -> Call:
    return Call("GET", path, dict(params or {}), idempotent=True)


def post(path: str, body: Any = None, *, idempotent: bool = False) -> Call:
    headers = JSON if body is not None else {}
    return Call("POST", path, json=body, headers=dict(headers), idempotent=idempotent)


def rfc3339(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; pass an aware datetime (UTC)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def submit(
    type: str,
    input: Mapping[str, Any] | BaseModel,
    *,
    metadata: Mapping[str, str] | None = None,
    priority: int | None = None,
    max_attempts: int | None = None,
    timeout: float | None = None,
    run_at: datetime | str | None = None,
    callback_url: str | None = None,
    idempotency_key: str | None = None,
    wait: float | None = None,
) -> Call:
    """`POST /v1/jobs`. Without an `idempotency_key` one is made up, so the request may be
    sent again after a 503 or a lost answer without ever making a second job."""
    plain = input.model_dump(mode="json") if isinstance(input, BaseModel) else dict(input)
    body: dict[str, Any] = {"type": type, "input": plain}
    optional = {
        "metadata": dict(metadata) if metadata else None,
        "priority": priority,
        "max_attempts": max_attempts,
        "timeout": timeout,
        "run_at": rfc3339(run_at) if run_at is not None else None,
        "callback_url": callback_url,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    headers = {**JSON, "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    read_timeout = None
    if wait:
        headers["Prefer"] = f"wait={wait:g}"
        read_timeout = wait + 15.0
    return Call("POST", "/v1/jobs", json=body, headers=headers, idempotent=True,
                read_timeout=read_timeout)  # fmt: skip


def listing(
    *,
    status: str | Iterable[str] | None = None,
    type: str | Iterable[str] | None = None,
    batch_id: str | None = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    metadata: Mapping[str, str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call:
    """`GET /v1/jobs` with the contract's filters (several statuses or types: any of them)."""
    params: dict[str, str] = {}
    for name, value in (("status", status), ("type", type)):
        if value is not None:
            params[name] = value if isinstance(value, str) else ",".join(value)
    for name, when in (("created_after", created_after), ("created_before", created_before)):
        if when is not None:
            params[name] = rfc3339(when)
    for key, value in (metadata or {}).items():
        params[f"metadata.{key}"] = value
    optional = {"batch_id": batch_id, "limit": limit, "cursor": cursor}
    params.update({k: str(v) for k, v in optional.items() if v is not None})
    return get("/v1/jobs", params)


def job(job_id: str, *, include_input: bool = False) -> Call:
    return get(f"/v1/jobs/{seg(job_id)}", {"include": "input"} if include_input else None)


def cancel(job_id: str, reason: str | None = None) -> Call:
    return post(f"/v1/jobs/{seg(job_id)}/cancel", {"reason": reason} if reason else None)


def retry(job_id: str) -> Call:
    return post(f"/v1/jobs/{seg(job_id)}/retry")


def delete(job_id: str) -> Call:
    return Call("DELETE", f"/v1/jobs/{seg(job_id)}", idempotent=True)


def result(job_id: str) -> Call:
    return get(f"/v1/jobs/{seg(job_id)}/result")


def job_events(job_id: str) -> str:
    return f"/v1/jobs/{seg(job_id)}/events"


# -- batches ------------------------------------------------------------------------------------
def submit_batch(
    *,
    name: str | None = None,
    max_concurrent: int | None = None,
    priority: int | None = None,
    timeout: float | None = None,
    callback_url: str | None = None,
    notification_enabled: bool | None = None,
) -> Call:
    """`POST /v1/batches` with the items as a JSONL body (options in the query string); the
    body itself is given to the client's send, as a stream."""
    options: dict[str, Any] = {
        "name": name,
        "max_concurrent": max_concurrent,
        "priority": priority,
        "timeout": timeout,
        "callback_url": callback_url,
        "notification_enabled": notification_enabled,
    }
    params = {k: _query_value(v) for k, v in options.items() if v is not None}
    return Call("POST", "/v1/batches", params, headers=dict(NDJSON), read_timeout=300.0)


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def batch(
    batch_id: str,
    *,
    include_job_details: bool = False,
    include_errors: bool = True,
    metrics_only: bool = False,
) -> Call:
    params = {}
    if include_job_details:
        params["include_job_details"] = "true"
    if not include_errors:
        params["include_errors"] = "false"
    if metrics_only:
        params["metrics_only"] = "true"
    return get(f"/v1/batches/{seg(batch_id)}", params)


def batches(*, limit: int | None = None, cursor: str | None = None) -> Call:
    optional = {"limit": limit, "cursor": cursor}
    return get("/v1/batches", {k: str(v) for k, v in optional.items() if v is not None})


def batch_jobs(
    batch_id: str,
    *,
    status: str | Iterable[str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call:
    params: dict[str, str] = {}
    if status is not None:
        params["status"] = status if isinstance(status, str) else ",".join(status)
    optional = {"limit": limit, "cursor": cursor}
    params.update({k: str(v) for k, v in optional.items() if v is not None})
    return get(f"/v1/batches/{seg(batch_id)}/jobs", params)


def batch_action(batch_id: str, action: str, reason: str | None = None) -> Call:
    body = {"reason": reason} if reason else None
    return post(f"/v1/batches/{seg(batch_id)}/{action}", body)


def batch_results(batch_id: str) -> Call:
    return Call("GET", f"/v1/batches/{seg(batch_id)}/results", idempotent=True,
                read_timeout=300.0)  # fmt: skip


def batch_events(batch_id: str) -> str:
    return f"/v1/batches/{seg(batch_id)}/events"
