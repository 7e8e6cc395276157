"""asyncpg records to domain objects, and domain objects to array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from joblane.core.batch import ErrorGroup
from joblane.core.job import Job, NewJob
from joblane.core.states import JobState
from joblane.storage.params import ApiKeyRecord, ItemResult, WorkerRecord
from joblane.storage.rowmap import JobReader


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


_READER = JobReader(lambda value: value)  # the connection's codecs already decoded JSON


def job_from_record(record: asyncpg.Record) -> Job:
    return _READER.read(record)


def insert_params(jobs: Sequence[NewJob]) -> dict[str, list[Any]]:
    return {
        "ids": [j.id for j in jobs],
        "tenant_ids": [j.tenant_id for j in jobs],
        "types": [j.type for j in jobs],
        "priorities": [j.priority for j in jobs],
        "inputs": [dumps(j.input) for j in jobs],
        "metadatas": [dumps(j.metadata) for j in jobs],
        "max_attempts": [j.max_attempts for j in jobs],
        "timeouts": [j.timeout for j in jobs],
        "batch_ids": [j.batch_id for j in jobs],
        "idempotency_keys": [j.idempotency_key for j in jobs],
        "callback_urls": [j.callback_url for j in jobs],
        "run_ats": [j.run_at for j in jobs],
    }


def key_from_record(row: asyncpg.Record) -> ApiKeyRecord:
    return _READER.key(row)


def worker_from_record(row: asyncpg.Record) -> WorkerRecord:
    return _READER.worker(row)


# a batch's items, written by COPY: every other column of `jobs` takes its default
COPY_COLUMNS = (
    "id",
    "tenant_id",
    "type",
    "state",
    "version",
    "priority",
    "input",
    "metadata",
    "attempt",
    "max_attempts",
    "timeout",
    "batch_id",
    "callback_url",
    "created_at",
    "updated_at",
    "scheduled_at",
)


def copy_records(jobs: Sequence[NewJob], batch_id: str, now: float) -> list[tuple[Any, ...]]:
    """Rows for `COPY jobs (COPY_COLUMNS)`: items of `batch_id`, queued, first attempt, created
    `now`. `input` and `metadata` stay Python values: the upload's connection encodes them."""
    return [
        (
            j.id,
            j.tenant_id,
            j.type,
            "queued",
            1,
            j.priority,
            j.input,
            j.metadata,
            1,
            j.max_attempts,
            j.timeout,
            batch_id,
            j.callback_url,
            now,
            now,
            now if j.run_at is None else max(now, j.run_at),
        )
        for j in jobs
    ]


def item_result_from_record(row: asyncpg.Record) -> ItemResult:
    return ItemResult(row["id"], JobState(row["state"]), row["result"], row["error"])


def error_group_from_record(row: asyncpg.Record) -> ErrorGroup:
    return ErrorGroup(row["code"], row["count"], tuple(row["sample"]), row["resolution"])
