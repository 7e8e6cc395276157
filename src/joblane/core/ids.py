"""Prefixed, time-sortable ids: `job_` + 26 Crockford base32 chars of a ULID."""

from __future__ import annotations

import os
import re
import threading
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

JOB = "job"
KEY = "key"
REQUEST = "req"
BATCH = "bat"


_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]  # every 10-bit chunk


_RANDOM_BITS = 80
_last = [0, 0]  # (millis, random) of the last id made for "now"
_last_lock = threading.Lock()


def ulid(epoch_ms: int | None = None) -> str:
    """48-bit millisecond timestamp + 80 random bits, as 26 Crockford base32 characters.

    Ids made for "now" are monotonic within a process: in the same millisecond (or if the clock
    steps back) the random part of the previous id is incremented, so lists ordered by id are
    newest first even for jobs submitted within one millisecond.
    """
    if epoch_ms is None:
        value = _next_now()
    else:
        value = (epoch_ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


def _next_now() -> int:
    millis = int(time.time() * 1000)
    with _last_lock:
        last_millis, last_random = _last
        if millis > last_millis:
            random = int.from_bytes(os.urandom(10), "big")
        else:
            millis, random = last_millis, last_random + 1
            if random >> _RANDOM_BITS:  # 2**80 ids in one millisecond: borrow the next one
                millis, random = millis + 1, 0
        _last[:] = [millis, random]
    return (millis << _RANDOM_BITS) | random


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
