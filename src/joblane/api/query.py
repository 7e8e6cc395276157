"""Query-string parsing for the job list; each bad parameter becomes one `errors[]` entry."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import QueryParams

from joblane.api.schemas import METADATA_KEY_PATTERN
from joblane.core import ids
from joblane.core.clock import from_rfc3339
from joblane.core.errors import ValidationFailed
from joblane.core.states import JobState
from joblane.storage.params import JobFilter

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
KNOWN = {"status", "type", "batch_id", "created_after", "created_before", "limit", "cursor"}


def _values(params: QueryParams, name: str) -> list[str]:
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def job_filter(params: QueryParams) -> JobFilter:
    errors: list[dict[str, Any]] = []

    def fail(name: str, message: str) -> None:
        errors.append({"loc": ["query", name], "msg": message, "type": "value_error"})

    states: list[JobState] = []
    for value in _values(params, "status"):
        try:
            states.append(JobState(value))
        except ValueError:
            fail("status", f"unknown status '{value}'; use {', '.join(s.value for s in JobState)}")
    times: dict[str, float | None] = {}
    for name in ("created_after", "created_before"):
        raw = params.get(name)
        try:
            times[name] = from_rfc3339(raw) if raw else None
        except ValueError:
            fail(name, "must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z")
    limit = _limit(params.get("limit"), fail)
    cursor, batch_id = _ids(params, fail)
    metadata = tuple(
        (k[len("metadata.") :], v) for k, v in params.items() if k.startswith("metadata.")
    )
    for key, _ in metadata:
        if not re.match(METADATA_KEY_PATTERN, key):
            fail(f"metadata.{key}", "metadata keys use letters, digits and _ . : - (1-64)")
    for key in params:
        if (
            key not in KNOWN
            and not key.startswith("metadata.")
            and key not in ("fields", "include")
        ):
            fail(key, "unknown query parameter")
    if errors:
        raise ValidationFailed("query parameters are not valid", errors)
    return JobFilter(
        tenant_id=None,
        states=tuple(states),
        types=tuple(_values(params, "type")),
        batch_id=batch_id,
        created_after=times.get("created_after"),
        created_before=times.get("created_before"),
        metadata=metadata,
        before_id=cursor,
        limit=limit,
    )


def _ids(params: QueryParams, fail: Any) -> tuple[str | None, str | None]:
    """The cursor and the batch id, well-formed; and no NUL in any value (nothing stored can
    match it, and PostgreSQL text cannot even take it as a parameter)."""
    cursor = params.get("cursor") or None
    if cursor is not None and not ids.is_valid(cursor, ids.JOB):
        fail("cursor", "not a cursor returned by this API")
    batch_id = params.get("batch_id") or None
    if batch_id is not None and (problem := ids.id_problem(batch_id, ids.BATCH)):
        fail("batch_id", f"not a batch id: {problem}")
    for key, value in params.multi_items():
        if "\x00" in value:
            fail(key, "must not contain NUL characters")
    return cursor, batch_id


def _limit(raw: str | None, fail: Any) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        fail("limit", f"must be an integer from 1 to {MAX_LIMIT}")
        return DEFAULT_LIMIT
    return int(raw)
