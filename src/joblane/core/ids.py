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
WEBHOOK = "whk"
EVENT = "evt"  # a webhook event: the `webhook-id` of its every delivery


_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]  # every 10-bit chunk


_RANDOM_BITS = 80
_LOW_BITS = 40  # the last 8 characters; ids made together usually differ only there
_LOW_MASK = (1 << _LOW_BITS) - 1
_last = [0]  # the value (millis << 80 | random) of the last id made for "now"
_last_lock = threading.Lock()


def ulid(epoch_ms: int | None = None) -> str:
    """48-bit millisecond timestamp + 80 random bits, as 26 Crockford base32 characters.

    Ids made for "now" are monotonic within a process: in the same millisecond (or if the clock
    steps back) the previous value is incremented, so lists ordered by id are newest first even
    for jobs submitted within one millisecond (2**80 ids in one millisecond borrow the next).
    """
    if epoch_ms is None:
        value = _reserve(1)
    else:
        value = (epoch_ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    return _encode_high(value >> _LOW_BITS) + _encode_low(value & _LOW_MASK)


def _reserve(count: int) -> int:
    """The first of `count` consecutive values, all after any value handed out before."""
    fresh = (int(time.time() * 1000) << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    with _last_lock:
        last = _last[0]
        first = fresh if fresh >> _RANDOM_BITS > last >> _RANDOM_BITS else last + 1
        _last[0] = first + count - 1
    return first


def _encode_high(value: int) -> str:
    """The first 18 characters (90 bits, the top 2 always zero)."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(80, -1, -10)])


def _encode_low(value: int) -> str:
    pairs = _PAIRS
    return (
        pairs[value >> 30]
        + pairs[(value >> 20) & 1023]
        + pairs[(value >> 10) & 1023]
        + pairs[value & 1023]
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` ids at once, in increasing order (a batch's items): the shared leading
    characters are encoded once, not once per id."""
    first = _reserve(count)
    out: list[str] = []
    head_value, head = -1, ""
    for value in range(first, first + count):
        if value >> _LOW_BITS != head_value:
            head_value = value >> _LOW_BITS
            head = f"{prefix}_{_encode_high(head_value)}"
        out.append(head + _encode_low(value & _LOW_MASK))
    return out


def time_bound(prefix: str, epoch: float) -> str:
    """The smallest id that can be made at `epoch` (seconds): every id made before sorts
    before it, every id made at or after it sorts at or after it."""
    value = max(0, int(epoch * 1000)) << _RANDOM_BITS
    return f"{prefix}_{_encode_high(value >> _LOW_BITS)}{_encode_low(value & _LOW_MASK)}"


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
