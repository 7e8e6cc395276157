"""The observability section of the OpenAPI document: a job's own log lines and /metrics (see
`openapi.py` for the table's shape)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from joblane.api.openapi_types import Operation, Param, id_schema


class LogLineOut(BaseModel):
    seq: int = Field(description="1, 2, … within the attempt")
    at: str = Field(description="when the line was logged (RFC 3339)")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | str
    logger: str
    message: str


class JobLogList(BaseModel):
    object: Literal["list"]
    job_id: str
    attempt: int = Field(description="the attempt these lines are of")
    dropped: int = Field(description="earlier lines of the attempt that were not kept")
    data: list[LogLineOut]


JOB_ID = Param("job_id", "path", "a job id", id_schema("job"), True)
ATTEMPT = Param(
    "attempt",
    "query",
    "which attempt (default: the job's latest)",
    {"type": "integer", "minimum": 1},
)

OBSERVE_MODELS: tuple[type[BaseModel], ...] = (JobLogList,)
OBSERVE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/jobs/{job_id}/logs",
        "getJobLogs",
        "A handler's own log lines for one attempt (the last 200 lines / 64 KiB are kept)",
        {200: JobLogList},
        params=(JOB_ID, ATTEMPT),
        errors=(400, 401, 403, 404, 410, 422, 500, 503),
    ),
    Operation(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics of every process on this host (Bearer JOBLANE_METRICS_TOKEN when set)",
        {200: None},
        errors=(401,),
        auth=False,
        media_type="text/plain",
    ),
)
