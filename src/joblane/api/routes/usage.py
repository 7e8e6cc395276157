"""`GET /v1/usage`: the caller's billable units per UTC day (admin keys: any tenant's)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import caller
from joblane.api.http import json_response
from joblane.core.errors import ValidationFailed
from joblane.core.usage import UsageReport
from joblane.service.tenants import TENANT_ID_PATTERN
from joblane.service.usage import UsageQuery, UsageService

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TENANT = re.compile(TENANT_ID_PATTERN)
KNOWN = ("from", "to", "tenant")


async def get_usage(request: Request) -> Response:
    ctx, who = await caller(request)
    report = await UsageService(ctx.storage).report(who, usage_query(request.query_params))
    return json_response(usage_body(report))


def usage_query(params: QueryParams) -> UsageQuery:
    errors: list[dict[str, Any]] = []

    def fail(name: str, message: str) -> None:
        errors.append({"loc": ["query", name], "msg": message, "type": "value_error"})

    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = _day(params.get(name))
        except ValueError:
            fail(name, "must be a date, YYYY-MM-DD (UTC)")
    tenant_id = params.get("tenant")
    if tenant_id is not None and not _TENANT.fullmatch(tenant_id):
        fail("tenant", "not a tenant id")
    for name in params:
        if name not in KNOWN:
            fail(name, "unknown query parameter; use from, to and tenant")
    if errors:
        raise ValidationFailed("query parameters are not valid", errors)
    return UsageQuery(days.get("from"), days.get("to"), tenant_id)


def _day(raw: str | None) -> date | None:
    if raw is None:
        return None
    if not _DATE.fullmatch(raw):  # fromisoformat also takes 20260131 and 2026-W05-6
        raise ValueError(raw)
    return date.fromisoformat(raw)


def usage_body(report: UsageReport) -> dict[str, Any]:
    return {
        "object": "usage",
        "tenant_id": report.tenant_id,
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "days": [
            {
                "date": day.day.isoformat(),
                "jobs_submitted": day.jobs_submitted,
                "items_processed": day.items_processed,
            }
            for day in report.days
        ],
        "totals": {
            "jobs_submitted": report.jobs_submitted,
            "items_processed": report.items_processed,
        },
    }


routes = [Route("/v1/usage", get_usage, methods=["GET"])]
