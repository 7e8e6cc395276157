"""`cutoffs`: a tenant's own retention wins; every other tenant gets the server default."""

from __future__ import annotations

from joblane.core.retention import DAY, Cutoffs, cutoffs
from joblane.core.tenant import Tenant, TenantSettings

NOW = 1_767_225_600.0


def tenant(tenant_id: str, days: int | None) -> Tenant:
    return Tenant(tenant_id, "", NOW, NOW, TenantSettings(retention_days=days))


def test_only_tenants_with_their_own_retention_get_their_own_cutoff() -> None:
    tenants = [tenant("short", 7), tenant("long", 365), tenant("default", None)]

    assert cutoffs(tenants, NOW, 30) == Cutoffs(
        NOW - 30 * DAY, {"short": NOW - 7 * DAY, "long": NOW - 365 * DAY}
    )


def test_without_tenants_everyone_gets_the_default() -> None:
    assert cutoffs([], NOW, 1) == Cutoffs(NOW - DAY)
