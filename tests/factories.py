"""Builders for test data."""

from __future__ import annotations

from typing import Any

from joblane.core import ids
from joblane.core.job import NewJob


def new_job(tenant_id: str = "tenant-a", type_: str = "noop", **fields: Any) -> NewJob:
    values: dict[str, Any] = {"input": {}, "max_attempts": 3, "timeout": 60.0, **fields}
    return NewJob(id=ids.new_id(ids.JOB), tenant_id=tenant_id, type=type_, **values)
