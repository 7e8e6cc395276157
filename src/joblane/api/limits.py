"""Limits on what a request may contain, beyond its size: how deep JSON nests, and header
values that are stored (`Idempotency-Key`).

Depth is counted in arrays and objects. `max_depth` is what a job's `input` may hold (the input
object itself is level 1); a body may add its envelope on top (one level for a job body or a
JSONL line, three for a JSON batch body), so the same input is accepted in every form. The
checks are cheap when nothing is deep: raw bytes are first bounded by counting brackets (an
upper bound of the depth), and only a body with more brackets than levels allowed is parsed and
walked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NoReturn

import orjson
from starlette.requests import Request

from joblane.core.errors import ValidationFailed

DEFAULT_MAX_DEPTH = 32
ENVELOPE = 1  # the levels around `input` in a job body or a batch JSONL line
_IDEMPOTENCY_KEY = re.compile(r"[^\x00-\x1f\x7f]{1,255}")

Loc = Sequence[str | int]


def brackets(raw: bytes) -> int:
    """An upper bound of how deep `raw` nests (brackets inside strings count too)."""
    return raw.count(b"[") + raw.count(b"{")


def check_raw_depth(raw: bytes, levels: int, loc: Loc, max_depth: int) -> None:
    """Refuse `raw` (a JSON document) if it nests deeper than `levels`. Invalid JSON passes:
    the parser that follows reports it."""
    if brackets(raw) <= levels:
        return
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if is_depth_error(exc):
            too_deep(loc, max_depth)
        return
    check_depth(data, levels, loc, max_depth)


def check_depth(value: Any, levels: int, loc: Loc, max_depth: int) -> None:
    """Refuse a parsed value nesting deeper than `levels`, naming where it goes over."""
    path = _too_deep(value, levels)
    if path is not None:
        too_deep([*loc, *path], max_depth)


def _too_deep(value: Any, levels: int) -> list[str | int] | None:
    """The path to the first array or object below `levels` levels, or None."""
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    if levels == 0:
        return []
    for key, child in children:
        if isinstance(child, (dict, list)):
            path = _too_deep(child, levels - 1)
            if path is not None:
                return [key, *path]
    return None


def is_depth_error(exc: orjson.JSONDecodeError) -> bool:
    """orjson refuses documents deeper than 1024 levels by itself."""
    return "depth limit" in str(exc)


def too_deep(loc: Loc, max_depth: int) -> NoReturn:
    where = ".".join(str(part) for part in loc[:8]) + ("…" if len(loc) > 8 else "")
    msg = f"arrays and objects nest too deeply (a job's input may nest {max_depth} levels)"
    raise ValidationFailed(f"{where}: {msg}", [{"loc": list(loc), "msg": msg, "type": "too_deep"}])


def idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header: 1-255 characters, no control characters."""
    key = request.headers.get("idempotency-key")
    if key is None or _IDEMPOTENCY_KEY.fullmatch(key):
        return key
    msg = "1-255 characters without control characters"
    raise ValidationFailed(
        f"Idempotency-Key header: {msg}",
        [{"loc": ["header", "Idempotency-Key"], "msg": msg, "type": "string_pattern"}],
    )
