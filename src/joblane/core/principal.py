"""Who is calling: a tenant and the scopes of the key they used."""

from __future__ import annotations

from dataclasses import dataclass, field

from joblane.core.errors import Forbidden
from joblane.core.tenant import TenantSettings

READ = "jobs:read"
WRITE = "jobs:write"
ADMIN = "admin"
SCOPES = (READ, WRITE, ADMIN)


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    scopes: frozenset[str]
    key_id: str | None = None
    settings: TenantSettings = field(default_factory=TenantSettings)  # as of authentication

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes and not self.is_admin:
            raise Forbidden(f"this API key lacks the '{scope}' scope", details={"scope": scope})

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this API key lacks the 'admin' scope", details={"scope": ADMIN})

    def may_use(self, job_type: str) -> None:
        if not self.settings.may_use(job_type):
            raise Forbidden(
                f"tenant '{self.tenant_id}' may not use job type '{job_type}'",
                details={"job_type": job_type},
            )

    def body_limit(self, server_limit: int) -> int:
        """The request body limit for this caller: the server's, or the tenant's if lower."""
        own = self.settings.max_payload_bytes
        return server_limit if own is None else min(server_limit, own)

    @property
    def visible_tenant(self) -> str | None:
        """The tenant filter for reads: None (every tenant) for admin keys."""
        return None if self.is_admin else self.tenant_id
