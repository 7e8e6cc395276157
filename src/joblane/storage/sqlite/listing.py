"""The job list query: fixed SQL fragments joined by the filters that are set."""

from __future__ import annotations

from typing import Any

from joblane.storage.params import JobFilter
from joblane.storage.sqlite.rows import dumps


def list_query(query: JobFilter) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {"limit": query.limit}
    if query.tenant_id is not None:
        where.append("tenant_id = :tenant_id")
        params["tenant_id"] = query.tenant_id
    if query.states:
        where.append("state IN (SELECT value FROM json_each(:states))")
        params["states"] = dumps([s.value for s in query.states])
    if query.types:
        where.append("type IN (SELECT value FROM json_each(:types))")
        params["types"] = dumps(list(query.types))
    if query.batch_id is not None:
        where.append("batch_id = :batch_id")
        params["batch_id"] = query.batch_id
    if query.created_after is not None:
        where.append("created_at > :created_after")
        params["created_after"] = query.created_after
    if query.created_before is not None:
        where.append("created_at < :created_before")
        params["created_before"] = query.created_before
    if query.before_id is not None:
        where.append("id < :before_id")
        params["before_id"] = query.before_id
    if query.after_id is not None:
        where.append("id > :after_id")
        params["after_id"] = query.after_id
    for index, (key, value) in enumerate(query.metadata):
        where.append(f"json_extract(metadata, :mk{index}) = :mv{index}")
        params[f"mk{index}"] = '$."' + key.replace('"', "") + '"'
        params[f"mv{index}"] = value
    clause = " AND ".join(where) or "1 = 1"
    order = "ASC" if query.oldest_first else "DESC"
    return f"SELECT * FROM jobs WHERE {clause} ORDER BY id {order} LIMIT :limit", params
