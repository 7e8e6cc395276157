"""A handler's own log lines, kept with its job (pure: no I/O).

Each attempt keeps its last `MAX_LINES` lines and at most `MAX_BYTES` of messages; a line's
`seq` counts from 1 within its attempt, so a reader knows how many earlier lines were dropped
(`dropped_before`) without a counter of its own. The worker buffers lines in a `LogTail` and
writes them in batches; the stored rows are always the tail's current content.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

MAX_LINES = 200
MAX_BYTES = 64 * 1024
MAX_LINE_CHARS = 4000  # one line is cut here, before it counts against MAX_BYTES
TRUNCATED = " …[truncated]"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log record a handler emitted during one attempt of its job."""

    job_id: str
    attempt: int
    seq: int  # 1, 2, … within the attempt; a gap before the first kept line = lines dropped
    at: float  # epoch seconds
    level: str  # "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL"
    logger: str
    message: str

    @property
    def size(self) -> int:
        return len(self.message.encode("utf-8", "replace"))


def clip(message: str) -> str:
    """A message cut to `MAX_LINE_CHARS`, NULs removed (PostgreSQL text refuses them)."""
    message = message.replace("\x00", "")
    if len(message) <= MAX_LINE_CHARS:
        return message
    return message[: MAX_LINE_CHARS - len(TRUNCATED)] + TRUNCATED


def dropped_before(lines: list[LogLine]) -> int:
    """How many lines of the first line's attempt were dropped before the first kept one."""
    return lines[0].seq - 1 if lines else 0


class LogTail:
    """The last lines of one attempt within the bounds, and which of them are not stored yet.

    Not thread-safe: the caller holds a lock (handlers may log from a worker thread)."""

    __slots__ = ("_bytes", "_lines", "_seq", "_unsaved", "attempt", "job_id")

    def __init__(self, job_id: str, attempt: int) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self._lines: deque[LogLine] = deque()
        self._bytes = 0
        self._seq = 0
        self._unsaved = 0  # the newest `_unsaved` lines are not written yet

    def add(self, at: float, level: str, logger: str, message: str) -> LogLine:
        self._seq += 1
        line = LogLine(self.job_id, self.attempt, self._seq, at, level, logger, clip(message))
        self._lines.append(line)
        self._bytes += line.size
        self._unsaved += 1
        while len(self._lines) > MAX_LINES or (self._bytes > MAX_BYTES and len(self._lines) > 1):
            self._bytes -= self._lines.popleft().size
        self._unsaved = min(self._unsaved, len(self._lines))
        return line

    @property
    def lines(self) -> list[LogLine]:
        return list(self._lines)

    @property
    def first_seq(self) -> int:
        """The seq of the oldest kept line: stored rows before it are to be deleted."""
        return self._lines[0].seq if self._lines else self._seq + 1

    @property
    def pending(self) -> bool:
        return self._unsaved > 0

    def take_unsaved(self) -> list[LogLine]:
        """The lines to write now (marked as written)."""
        if not self._unsaved:
            return []
        new = list(self._lines)[-self._unsaved :]
        self._unsaved = 0
        return new


@dataclass(frozen=True, slots=True)
class LogBatch:
    """What one flush writes for one attempt: its new lines, and `first_seq`, the oldest seq
    still kept (stored rows of the attempt before it are deleted in the same write)."""

    job_id: str
    attempt: int
    first_seq: int
    lines: tuple[LogLine, ...]


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Jobs ready to run, per type: (type, how many, the oldest one's `scheduled_at`), as of
    `now` on the storage clock (for /metrics; read at scrape time, across the cluster)."""

    now: float
    types: tuple[tuple[str, int, float], ...]
