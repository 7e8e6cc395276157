"""Credentials: `X-API-Key: <key>` or `Authorization: Bearer <key>`; and the scope a route
needs, checked as soon as the key is known (and charged: see `context.caller`)."""

from __future__ import annotations

from starlette.requests import Request

from joblane.core.errors import Unauthorized
from joblane.core.principal import ADMIN, READ, WRITE, Principal
from joblane.service.keys import KeyService

READ_METHODS = frozenset({"GET", "HEAD"})
ADMIN_PREFIX = "/v1/admin/"


async def authenticate(request: Request, keys: KeyService) -> Principal:
    secret = request.headers.get("x-api-key")
    if secret is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            secret = value.strip()
    if not secret:
        raise Unauthorized(
            "missing credentials: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
        )
    return await keys.authenticate(secret)


def required_scope(method: str, path: str) -> str:
    """`admin` for the admin API; otherwise `jobs:read` to read and `jobs:write` for anything
    else. (The services check their own scope too; this one comes first.)"""
    if path.startswith(ADMIN_PREFIX):
        return ADMIN
    return READ if method in READ_METHODS else WRITE


def authorize(request: Request, who: Principal) -> None:
    """403 unless the key has the route's scope: before the route parses an id, a query or a
    body, so a key without the scope learns nothing about any of them."""
    scope = required_scope(request.method, request.url.path)
    if scope == ADMIN:
        who.require_admin()
    else:
        who.require(scope)
