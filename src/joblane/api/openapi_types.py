"""The shape of the operation table the OpenAPI document is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: str  # path | query | header
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = (400, 401, 403, 404, 422, 500, 503)
    auth: bool = True
    media_type: str = "application/json"
    alt_bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # other request types


PREFER = Param("Prefer", "header", "wait=N: wait up to N seconds for a change (long-poll)")
FIELDS = Param("fields", "query", "comma-separated top-level fields")
_STATUS = r"\s*(queued|running|completed|failed|cancelled)?\s*"
STATUSES = {"type": "string", "pattern": f"^{_STATUS}(,{_STATUS})*$"}  # comma-separated


def id_schema(prefix: str) -> dict[str, Any]:
    """A prefixed id as `core.ids` accepts it: `prefix_`, then a ULID's 26 Crockford base32
    characters (the first at most 7: 48 bits of milliseconds)."""
    return {"type": "string", "pattern": f"^{prefix}_[0-7][0-9A-HJKMNP-TV-Z]{{25}}$"}


def or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter whose empty value (`?cursor=`) means the same as its absence."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
