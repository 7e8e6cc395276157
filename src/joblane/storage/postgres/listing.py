"""The job list query: fixed SQL fragments joined by the filters that are set."""

from __future__ import annotations

from typing import Any

from joblane.storage.params import JobFilter


def list_query(query: JobFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.tenant_id is not None:
        where.append(f"tenant_id = {arg(query.tenant_id)}")
    if query.states:
        where.append(f"state = ANY({arg([s.value for s in query.states])}::text[])")
    if query.types:
        where.append(f"type = ANY({arg(list(query.types))}::text[])")
    if query.batch_id is not None:
        where.append(f"batch_id = {arg(query.batch_id)}")
    if query.created_after is not None:
        where.append(f"created_at > {arg(query.created_after)}")
    if query.created_before is not None:
        where.append(f"created_at < {arg(query.created_before)}")
    if query.before_id is not None:
        where.append(f"id < {arg(query.before_id)}")
    if query.after_id is not None:
        where.append(f"id > {arg(query.after_id)}")
    for key, value in query.metadata:
        # containment, not `->>`: the GIN index `jobs_metadata` (migration 0010) answers it
        where.append(f"metadata @> jsonb_build_object({arg(key)}::text, {arg(value)}::text)")
    clause = " AND ".join(where) or "true"
    order = "ASC" if query.oldest_first else "DESC"
    return f"SELECT * FROM jobs WHERE {clause} ORDER BY id {order} LIMIT {arg(query.limit)}", args
