"""Prefixed, time-sortable ids: `job_` + 26 Crockford base32 chars of a ULID."""

from __future__ import annotations

import os
import re
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

JOB = "job"
KEY = "key"
REQUEST = "req"
BATCH = "bat"


def ulid(epoch_ms: int | None = None) -> str:
    millis = int(time.time() * 1000) if epoch_ms is None else epoch_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"


def id_problem(value: str, prefix: str) -> str | None:
    """Why `value` is not a well-formed `prefix_` id, or None when it is."""
    expected = prefix + "_"
    if not value.startswith(expected):
        return f"must start with '{expected}'"
    body = value[len(expected) :]
    if len(body) != 26:
        return f"must have 26 characters after '{expected}', got {len(body)}"
    if not _BODY.match(body):
        return "must use Crockford base32 characters (0-9, A-Z without I, L, O, U)"
    if body[0] > "7":
        return "timestamp part out of range"
    return None


def is_valid(value: str, prefix: str) -> bool:
    return id_problem(value, prefix) is None
