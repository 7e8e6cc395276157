"""Retention: how long finished jobs and batches are kept, per tenant, and when the tombstones
of purged ids are dropped in turn. Pure: the leader task (`maintenance/retention.py`) reads the
tenants and the clock, storage applies the cutoffs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from joblane.core.tenant import DEFAULT_RETENTION_DAYS, Tenant

__all__ = ["DAY", "DEFAULT_RETENTION_DAYS", "DEFAULT_TOMBSTONE_DAYS", "Cutoffs", "cutoffs"]

DAY = 86_400.0
DEFAULT_TOMBSTONE_DAYS = 90  # how long a purged id answers 410 before it answers 404


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Records finished before `default` are expired, except those of tenants in `by_tenant`,
    which have a retention of their own."""

    default: float
    by_tenant: dict[str, float] = field(default_factory=dict)


def cutoffs(tenants: Iterable[Tenant], now: float, default_days: int) -> Cutoffs:
    """Each tenant's own `retention_days` where set, the server's `default_days` otherwise."""
    own = {
        tenant.id: now - tenant.settings.retention_days * DAY
        for tenant in tenants
        if tenant.settings.retention_days is not None
    }
    return Cutoffs(now - default_days * DAY, own)
