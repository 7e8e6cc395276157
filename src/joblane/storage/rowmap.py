"""Rows to domain objects (`Job`, API keys, workers), for every backend.

Columns are read by position: the positions are looked up once per column layout (every
`SELECT *` / `RETURNING *` on jobs shares one), because name lookups on a row cost more than the
query itself on the status-read hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, Protocol

from joblane.core.job import Job, JobErrorInfo, Progress
from joblane.core.states import JobState
from joblane.storage.params import ApiKeyRecord, WorkerRecord

JOB_COLUMNS = (
    "id", "tenant_id", "type", "state", "version", "input", "metadata", "priority", "attempt",
    "max_attempts", "timeout", "progress_processed", "progress_total", "progress_failed",
    "progress_message", "result", "error", "batch_id", "idempotency_key", "callback_url",
    "created_at", "updated_at", "scheduled_at", "started_at", "completed_at", "failed_at",
    "cancelled_at", "cancel_requested", "cancel_reason", "lease_token", "lease_expires_at",
    "worker_id",
)  # fmt: skip


class Row(Protocol):
    def __len__(self) -> int: ...
    def __getitem__(self, index: Any) -> Any: ...
    def keys(self) -> Iterable[str]: ...


class JobReader:
    """`read(row) -> Job`, `key(row)`, `worker(row)`; `decode` turns a JSON column into Python
    (identity when the driver already decoded it)."""

    def __init__(self, decode: Callable[[Any], Any]) -> None:
        self._decode = decode
        self._getters: dict[int, Callable[[Row], tuple[Any, ...]]] = {}

    def _getter(self, row: Row) -> Callable[[Row], tuple[Any, ...]]:
        getter = self._getters.get(len(row))
        if getter is None:
            names = list(row.keys())
            getter = itemgetter(*(names.index(column) for column in JOB_COLUMNS))
            self._getters[len(row)] = getter
        return getter

    def read(self, row: Row) -> Job:
        (
            id_, tenant_id, type_, state, version, input_, metadata, priority, attempt,
            max_attempts, timeout, processed, total, failed, message, result, error, batch_id,
            idempotency_key, callback_url, created_at, updated_at, scheduled_at, started_at,
            completed_at, failed_at, cancelled_at, cancel_requested, cancel_reason, lease_token,
            lease_expires_at, worker_id,
        ) = self._getter(row)(row)  # fmt: skip
        decode = self._decode
        return Job(
            id=id_,
            tenant_id=tenant_id,
            type=type_,
            state=JobState(state),
            version=version,
            input=decode(input_),
            metadata=decode(metadata),
            priority=priority,
            attempt=attempt,
            max_attempts=max_attempts,
            timeout=timeout,
            progress=Progress(processed, total, failed, message),
            result=None if result is None else decode(result),
            error=JobErrorInfo.from_dict(decode(error)) if error else None,
            batch_id=batch_id,
            idempotency_key=idempotency_key,
            callback_url=callback_url,
            created_at=created_at,
            updated_at=updated_at,
            scheduled_at=scheduled_at,
            started_at=started_at,
            completed_at=completed_at,
            failed_at=failed_at,
            cancelled_at=cancelled_at,
            cancel_requested=bool(cancel_requested),
            cancel_reason=cancel_reason,
            lease_token=lease_token,
            lease_expires_at=lease_expires_at,
            worker_id=worker_id,
        )

    def key(self, row: Row) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row["id"],
            tenant_id=row["tenant_id"],
            name=row["name"],
            prefix=row["prefix"],
            key_hash=row["key_hash"],
            scopes=tuple(self._decode(row["scopes"])),
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            hash_version=row["hash_version"],
            replaced_by=row["replaced_by"],
        )

    def worker(self, row: Row) -> WorkerRecord:
        return WorkerRecord(
            id=row["id"],
            hostname=row["hostname"],
            pid=row["pid"],
            types=tuple(self._decode(row["types"])),
            concurrency=row["concurrency"],
            started_at=row["started_at"],
            heartbeat_at=row["heartbeat_at"],
            running=tuple(self._decode(row["running"])),
        )
