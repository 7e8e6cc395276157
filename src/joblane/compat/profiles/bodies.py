"""A profile's own request body model, read under the canonical submit's limits (size, depth)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from joblane.api.http import parse_json_body
from joblane.compat.profile import Call

M = TypeVar("M", bound=BaseModel)


async def read_model(call: Call, model: type[M]) -> M:
    settings = call.ctx.settings
    limit = call.who.body_limit(settings.max_body_bytes)
    return await parse_json_body(call.request, model, limit, max_depth=settings.max_json_depth)
