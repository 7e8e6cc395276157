"""Wire models: request bodies are validated with them; responses are documented with them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

MAX_METADATA_KEYS = 50
MAX_METADATA_VALUE = 500  # characters
MAX_METADATA_BYTES = 16 * 1024  # keys and values together, in UTF-8
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# this many entries cannot reach MAX_METADATA_BYTES (64 ASCII key characters, 4 bytes a value's)
METADATA_KEYS_ALWAYS_SMALL = MAX_METADATA_BYTES // (64 + 4 * MAX_METADATA_VALUE)
# keys are filterable (`metadata.K=V`), so they stay plain on every backend
MetadataKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it at the edge, for both backends
MetadataValue = Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE, pattern=NO_NUL)]


def metadata_size_problem(metadata: dict[str, str]) -> str | None:
    if len(metadata) <= METADATA_KEYS_ALWAYS_SMALL:
        return None
    size = sum(
        len(key) + len(value.encode("utf-8", "surrogatepass")) for key, value in metadata.items()
    )
    if size <= MAX_METADATA_BYTES:
        return None
    return f"keys and values may take at most {MAX_METADATA_BYTES} bytes together, not {size}"


def _metadata_size(metadata: dict[str, str]) -> dict[str, str]:
    if problem := metadata_size_problem(metadata):
        raise ValueError(problem)
    return metadata


Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=MAX_METADATA_KEYS,
        description=f"string values of at most 500 characters; at most {MAX_METADATA_BYTES} "
        "bytes of keys and values together",
    ),
    AfterValidator(_metadata_size),
]


class SubmitJobBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100, examples=["extraction"])
    input: dict[str, Any] = Field(description="validated against the job type's input model")
    metadata: Metadata = Field(default_factory=dict)
    priority: int | None = Field(default=None, ge=-100, le=100)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    timeout: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)
    run_at: datetime | None = Field(default=None, description="RFC 3339; run no earlier")
    callback_url: AnyHttpUrl | None = None

    @field_validator("priority", "max_attempts", "timeout", mode="before")
    @classmethod
    def _json_numbers_only(cls, value: object) -> object:
        if isinstance(value, bool | str):  # lax mode would take `true` as 1 and "5" as 5
            raise ValueError("must be a number")
        return value


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500, pattern=NO_NUL)


class ProgressOut(BaseModel):
    percentage: float | None
    total: int | None
    processed: int
    failed: int
    message: str | None


class JobErrorOut(BaseModel):
    code: str
    message: str
    details: dict[str, Any]
    retryable: bool
    resolution: str | None = None


Status = Literal["queued", "running", "completed", "failed", "cancelled"]


class JobOut(BaseModel):
    id: str = Field(examples=["job_01JD6X3K4M5N6P7Q8R9S0T1V2W"])
    object: Literal["job"]
    type: str
    status: Status
    version: int
    progress: ProgressOut
    input: dict[str, Any] | None = Field(default=None, description="only with include=input")
    metadata: dict[str, str]
    result: Any
    error: JobErrorOut | None
    attempt: int
    max_attempts: int
    priority: int
    timeout: float
    batch_id: str | None
    idempotency_key: str | None
    callback_url: str | None
    cancel_requested: bool
    cancel_reason: str | None
    created_at: str
    updated_at: str
    scheduled_at: str
    started_at: str | None
    completed_at: str | None
    failed_at: str | None
    cancelled_at: str | None
    estimated_completion: str | None
    retry_after: int | None
    queue_position: int | None
    waiting_reason: str | None


class JobList(BaseModel):
    object: Literal["list"]
    data: list[JobOut]
    next_cursor: str | None


class JobTypeOut(BaseModel):
    name: str
    description: str
    enabled: bool
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    defaults: dict[str, Any]


class JobTypeList(BaseModel):
    object: Literal["list"]
    data: list[JobTypeOut]


class BatchOptionsBody(BaseModel):
    """Options of `POST /v1/batches` (JSON body fields, form fields, or query parameters)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    max_concurrent: int | None = Field(
        default=None, ge=1, le=10_000, description="items of this batch running at once"
    )
    priority: int = Field(default=0, ge=-100, le=100)
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=30 * 24 * 3600,
        description="seconds; unfinished items are then cancelled",
    )
    callback_url: AnyHttpUrl | None = None
    notification_enabled: bool = False


class BatchItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100)
    input: dict[str, Any]
    metadata: Metadata = Field(default_factory=dict)


class SubmitBatchBody(BatchOptionsBody):
    jobs: list[BatchItemBody] = Field(min_length=1)


class BatchProgressOut(BaseModel):
    percentage: float
    completed: int
    failed: int
    pending: int
    processing: int
    cancelled: int
    total: int


class BatchTimingOut(BaseModel):
    created_at: str
    started_at: str | None
    updated_at: str
    completed_at: str | None
    estimated_completion: str | None
    deadline: str | None
    elapsed_time: float
    average_item_time: float | None


class JobDetailOut(BaseModel):
    job_id: str
    status: Status
    progress: dict[str, Any]
    metadata: dict[str, str]
    attempt: int
    started_at: str | None
    completed_at: str | None
    error: JobErrorOut | None


class ErrorSummaryOut(BaseModel):
    error_type: str
    count: int
    affected_jobs: list[str]
    affected_jobs_total: int
    resolution: str | None


class BatchConfigurationOut(BaseModel):
    max_concurrent: int | None
    priority: int
    timeout: float | None
    callback_url: str | None
    notification_enabled: bool


class ResponseMetadataOut(BaseModel):
    request_id: str
    api_version: str
    cache_ttl: int
    cache_remaining: int


BatchStatusName = Literal["queued", "running", "paused", "completed", "failed", "cancelled"]


class BatchOut(BaseModel):
    id: str = Field(examples=["bat_01JD6X3K4M5N6P7Q8R9S0T1V2W"])
    object: Literal["batch"]
    name: str | None = None
    status: BatchStatusName
    status_reason: str | None = None
    cancel_requested: bool = False
    version: int
    progress: BatchProgressOut
    timing: BatchTimingOut
    job_details: list[JobDetailOut] | None = Field(
        default=None, description="only with include_job_details=true"
    )
    job_details_next_cursor: str | None = None
    error_summary: list[ErrorSummaryOut] | None = Field(
        default=None, description="omitted with include_errors=false or metrics_only=true"
    )
    batch_configuration: BatchConfigurationOut | None = None
    metadata: ResponseMetadataOut


class BatchList(BaseModel):
    object: Literal["list"]
    data: list[BatchOut]
    next_cursor: str | None


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    details: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None
    purged_at: datetime | None = None  # JOB_EXPIRED / BATCH_EXPIRED: when retention purged it


class Health(BaseModel):
    status: str
