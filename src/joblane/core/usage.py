"""Usage metering: billable units per tenant and UTC day.

- `jobs_submitted`: jobs accepted, counted on the UTC day of their `created_at` (a single
  submission, or every item of a committed batch). An idempotent replay creates nothing and
  counts nothing; an aborted batch counts nothing.
- `items_processed`: attempts that ended `completed` or `failed` (by a worker, or by the rescuer
  giving up), on the UTC day they ended. A job retried and processed again counts again; a
  cancelled job, and an attempt that is retried, count nothing.

Storage changes the counters in the same transaction as the insert or the state change, so a
crash can neither lose nor double a unit. Reads (status polls) never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class UsageDay:
    day: date
    jobs_submitted: int = 0
    items_processed: int = 0


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Every day of `first..last` (inclusive), days without usage as zeros, and the totals."""

    tenant_id: str
    first: date
    last: date
    days: tuple[UsageDay, ...]

    @property
    def jobs_submitted(self) -> int:
        return sum(day.jobs_submitted for day in self.days)

    @property
    def items_processed(self) -> int:
        return sum(day.items_processed for day in self.days)


def utc_day(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def default_first(last: date) -> date:
    """The first of the `DEFAULT_DAYS` days that end with `last`."""
    return last - timedelta(days=DEFAULT_DAYS - 1)


def span(first: date, last: date) -> int:
    """Days in `first..last`, both included."""
    return (last - first).days + 1


def report(tenant_id: str, first: date, last: date, stored: Iterable[UsageDay]) -> UsageReport:
    """The stored days (sparse) spread over the whole range."""
    by_day = {day.day: day for day in stored}
    days = tuple(
        by_day.get(first + timedelta(days=n), UsageDay(first + timedelta(days=n)))
        for n in range(span(first, last))
    )
    return UsageReport(tenant_id, first, last, days)
