"""The jobs page's filter form → a `JobFilter` (the same storage query the API's list runs,
cursor-paged, newest first), with one message per field that does not parse."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.datastructures import QueryParams

from joblane.api.schemas import METADATA_KEY_PATTERN
from joblane.core import ids
from joblane.core.states import JobState
from joblane.service.tenants import TENANT_ID_PATTERN
from joblane.storage.params import JobFilter

PAGE_SIZE = 50
FIELDS = ("status", "type", "tenant", "batch_id", "metadata", "created_after", "created_before")
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)
_TENANT = re.compile(TENANT_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class JobsQuery:
    values: dict[str, str]  # the form as given (to fill it in again)
    filter: JobFilter
    tenant: str | None  # an admin's choice of tenant (ignored for tenant keys)
    errors: dict[str, str] = field(default_factory=dict)

    def link(self, **changes: str) -> str:
        """The query string of this form with `changes` (e.g. the next page's cursor)."""
        merged = {k: v for k, v in {**self.values, **changes}.items() if v}
        return str(QueryParams(merged))


def _time(raw: str, name: str, errors: dict[str, str]) -> float | None:
    """A `datetime-local` value (no zone: read as UTC), or an RFC 3339 one."""
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors[name] = "use a date and time, e.g. 2026-01-31T12:00"
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _metadata(raw: str, errors: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """`key=value`, several separated by commas."""
    pairs: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not _METADATA_KEY.match(key):
            errors["metadata"] = "use key=value (keys: letters, digits and _ . : -)"
            continue
        pairs.append((key, value.strip()))
    return tuple(pairs)


def jobs_query(params: QueryParams, *, admin: bool) -> JobsQuery:
    values = {name: params.get(name, "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    states: tuple[JobState, ...] = ()
    if values["status"]:
        try:
            states = (JobState(values["status"]),)
        except ValueError:
            errors["status"] = "unknown status"
    batch_id = values["batch_id"] or None
    if batch_id is not None and (problem := ids.id_problem(batch_id, ids.BATCH)):
        errors["batch_id"] = f"not a batch id: {problem}"
        batch_id = None
    tenant = values["tenant"] if admin and values["tenant"] else None
    if tenant is not None and not _TENANT.match(tenant):
        errors["tenant"] = "not a tenant id"
        tenant = None
    cursor = params.get("cursor") or None
    if cursor is not None and not ids.is_valid(cursor, ids.JOB):
        cursor = None
    query = JobFilter(
        tenant_id=None,
        states=states,
        types=(values["type"],) if values["type"] else (),
        batch_id=batch_id,
        created_after=_time(values["created_after"], "created_after", errors),
        created_before=_time(values["created_before"], "created_before", errors),
        metadata=_metadata(values["metadata"], errors),
        before_id=cursor,
        limit=PAGE_SIZE,
    )
    if "\x00" in "".join(values.values()):
        errors["form"] = "values must not contain NUL characters"
    return JobsQuery(values, query, tenant, errors)


def tenant_param(params: QueryParams, *, admin: bool) -> str | None:
    """An admin's `tenant` filter, if it is a tenant id at all (tenant keys: None)."""
    tenant = params.get("tenant", "").strip()
    return tenant if admin and tenant and _TENANT.match(tenant) else None
