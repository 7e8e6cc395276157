"""Formatting helpers shared by profiles: timestamps, status vocabularies, id formats, bodies."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import orjson
from starlette.responses import Response

from joblane.core import ids
from joblane.core.errors import InvalidId

E = TypeVar("E", bound=Enum)
_CROCKFORD = {char: value for value, char in enumerate(ids.ALPHABET)}


def iso(epoch: float | None) -> str | None:
    """`2024-12-18T10:00:00Z`: ISO 8601, UTC, whole seconds (as most documents show them)."""
    if epoch is None:
        return None
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: float | None) -> int | None:
    """Whole epoch seconds."""
    return None if value is None else int(value)


class Vocabulary(Generic[E]):
    """A status vocabulary: every member of `states` (JobState, BatchStatus) has a word, checked
    when the profile module is imported, so a new Joblane state cannot go unmapped."""

    def __init__(self, states: type[E], words: Mapping[E, str]) -> None:
        missing = [state.value for state in states if state not in words]
        if missing:
            raise ValueError(f"status vocabulary lacks {missing}")
        self._words = dict(words)

    def __call__(self, state: E) -> str:
        return self._words[state]

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self._words.values())


@dataclass(frozen=True, slots=True)
class IdFormat:
    """A Joblane id (`job_<ULID>`) shown in another format and read back losslessly.

    `style="uuid"`: the ULID's 128 bits as a UUID (`0190b3c8-…`); `style="prefix"`: the
    ULID behind another prefix (`batch-<ULID>`). What does not read back is `InvalidId`."""

    joblane_prefix: str  # ids.JOB, ids.BATCH
    style: str = "prefix"  # "prefix" | "uuid"
    prefix: str = ""  # the shown prefix, for style="prefix" (e.g. "batch-")
    what: str = "job"  # for messages

    def show(self, joblane_id: str) -> str:
        body = joblane_id.partition("_")[2]
        if self.style == "uuid":
            return _ulid_to_uuid(body)
        return self.prefix + body

    def read(self, shown: str) -> str:
        body = _uuid_to_ulid(shown) if self.style == "uuid" else _unprefixed(shown, self.prefix)
        if body is None:
            raise InvalidId(f"Invalid {self.what} ID: {shown}", details={"id": shown})
        return f"{self.joblane_prefix}_{body}"


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def _ulid_to_uuid(body: str) -> str:
    value = 0
    for char in body:
        value = (value << 5) | _CROCKFORD[char]
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _uuid_to_ulid(shown: str) -> str | None:
    if not _UUID.match(shown):
        return None
    value = int(shown.replace("-", ""), 16)
    return "".join(ids.ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def _unprefixed(shown: str, prefix: str) -> str | None:
    body = shown.removeprefix(prefix) if shown.startswith(prefix) else None
    return body if body is not None and _ULID.match(body) else None


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def flag(value: str | None, default: bool) -> bool:
    """A boolean query parameter: true/false, 1/0, yes/no (anything else: the default)."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return default
