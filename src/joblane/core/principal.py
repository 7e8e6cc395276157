"""Who is calling: a tenant and the scopes of the key they used."""

from __future__ import annotations

from dataclasses import dataclass

from joblane.core.errors import Forbidden

READ = "jobs:read"
WRITE = "jobs:write"
ADMIN = "admin"
SCOPES = (READ, WRITE, ADMIN)


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    scopes: frozenset[str]
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes and not self.is_admin:
            raise Forbidden(f"this API key lacks the '{scope}' scope", details={"scope": scope})

    @property
    def visible_tenant(self) -> str | None:
        """The tenant filter for reads: None (every tenant) for admin keys."""
        return None if self.is_admin else self.tenant_id
