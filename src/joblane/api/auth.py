"""Credentials: `X-API-Key: <key>` or `Authorization: Bearer <key>`."""

from __future__ import annotations

from starlette.requests import Request

from joblane.core.errors import Unauthorized
from joblane.core.principal import Principal
from joblane.service.keys import KeyService


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
