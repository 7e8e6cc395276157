"""Query strings of the batch endpoints, validated by pydantic (unknown parameters refused)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.datastructures import QueryParams

from joblane.api.http import validation_errors
from joblane.core import ids
from joblane.core.errors import ValidationFailed
from joblane.core.states import JobState

M = TypeVar("M", bound=BaseModel)
MAX_LIMIT = 1000


def _cursor(value: str | None, prefix: str) -> str | None:
    if value is not None and not ids.is_valid(value, prefix):
        raise ValueError("not a cursor returned by this API")
    return value


class BatchReadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_job_details: bool = False
    job_details_limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    job_details_cursor: str | None = None
    metrics_only: bool = False
    include_errors: bool = True
    fields: str | None = None

    @field_validator("job_details_cursor")
    @classmethod
    def _job_cursor(cls, value: str | None) -> str | None:
        return _cursor(value, ids.JOB)

    @property
    def field_set(self) -> frozenset[str] | None:
        if not self.fields:
            return None
        return frozenset(f.strip() for f in self.fields.split(",") if f.strip())


class BatchJobsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _job_cursor(cls, value: str | None) -> str | None:
        return _cursor(value, ids.JOB)

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: str | None) -> str | None:
        for name in (value or "").split(","):
            if name.strip() and name.strip() not in JobState.__members__.values():
                known = ", ".join(s.value for s in JobState)
                raise ValueError(f"unknown status '{name.strip()}'; use {known}")
        return value

    @property
    def states(self) -> tuple[JobState, ...]:
        return tuple(JobState(s.strip()) for s in (self.status or "").split(",") if s.strip())


class BatchListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _batch_cursor(cls, value: str | None) -> str | None:
        return _cursor(value, ids.BATCH)


def parse_query(params: QueryParams, model: type[M]) -> M:
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise ValidationFailed(
            "query parameters are not valid", validation_errors(exc, "query")
        ) from None
