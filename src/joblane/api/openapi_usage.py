"""The Usage section of the OpenAPI document: its wire models and its one operation (see
`openapi.py` for the table's shape)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from joblane.api.openapi_types import Operation, Param
from joblane.core.usage import MAX_DAYS
from joblane.service.tenants import TENANT_ID_PATTERN


class UsageTotalsOut(BaseModel):
    jobs_submitted: int = Field(
        description="jobs accepted: single submissions (not idempotent replays) and every item "
        "of a committed batch, on the UTC day they were created"
    )
    items_processed: int = Field(
        description="attempts that ended completed or failed, on the UTC day they ended; a job "
        "retried and processed again counts again, a cancelled job never counts"
    )


class UsageDayOut(UsageTotalsOut):
    date: str = Field(examples=["2026-01-31"], description="a UTC day, YYYY-MM-DD")


class UsageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    object: Literal["usage"]
    tenant_id: str
    from_: str = Field(alias="from", examples=["2026-01-02"])
    to: str = Field(examples=["2026-01-31"])
    days: list[UsageDayOut] = Field(description="every day of the range, zeros included")
    totals: UsageTotalsOut


DATE = {"type": "string", "format": "date"}
USAGE_MODELS: tuple[type[BaseModel], ...] = (UsageOut,)
USAGE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/usage",
        "getUsage",
        "Billable units per UTC day: jobs submitted, items processed (status polls and "
        "rate-limited requests never count)",
        {200: UsageOut},
        params=(
            Param("from", "query", "first day, YYYY-MM-DD (default: 29 days before `to`)", DATE),
            Param(
                "to",
                "query",
                f"last day, YYYY-MM-DD (default: today; at most {MAX_DAYS} days)",
                DATE,
            ),
            Param(
                "tenant",
                "query",
                "another tenant's usage: admin keys only (others: 403)",
                {"type": "string", "pattern": TENANT_ID_PATTERN},
            ),
        ),
        errors=(401, 403, 422, 500, 503),
    ),
)
