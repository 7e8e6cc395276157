"""Usage reads: a tenant's billable units per UTC day (what counts: `joblane.core.usage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from joblane.core import usage
from joblane.core.errors import Forbidden, ValidationFailed
from joblane.core.principal import READ, Principal
from joblane.core.usage import UsageReport
from joblane.storage.base import Storage


@dataclass(frozen=True, slots=True)
class UsageQuery:
    first: date | None = None  # default: `usage.DEFAULT_DAYS` days, ending with `last`
    last: date | None = None  # default: today (UTC)
    tenant_id: str | None = None  # another tenant than the caller's: admin keys only


class UsageService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def report(self, who: Principal, query: UsageQuery) -> UsageReport:
        who.require(READ)
        tenant_id = _tenant_of(who, query.tenant_id)
        first, last = self._range(query)
        stored = await self.storage.usage_days(tenant_id, first, last)
        return usage.report(tenant_id, first, last, stored)

    def _range(self, query: UsageQuery) -> tuple[date, date]:
        last = query.last or usage.utc_day(self.storage.now())
        first = query.first or usage.default_first(last)
        if first > last:
            _invalid("from", f"'from' ({first}) is after 'to' ({last})")
        if usage.span(first, last) > usage.MAX_DAYS:
            _invalid("to", f"at most {usage.MAX_DAYS} days at once; ask for several ranges")
        return first, last


def _tenant_of(who: Principal, asked: str | None) -> str:
    if asked is None or asked == who.tenant_id:
        return who.tenant_id
    if not who.is_admin:
        raise Forbidden(
            "only admin keys may read another tenant's usage", details={"scope": "admin"}
        )
    return asked


def _invalid(name: str, message: str) -> NoReturn:
    error: dict[str, Any] = {"loc": ["query", name], "msg": message, "type": "value_error"}
    raise ValidationFailed("query parameters are not valid", [error])
