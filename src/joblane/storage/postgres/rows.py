"""asyncpg records to domain objects, and domain objects to array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from joblane.core.job import Job, NewJob
from joblane.storage.params import ApiKeyRecord, WorkerRecord
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
