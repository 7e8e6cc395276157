"""Log lines: one JSON object per line (or readable text on a terminal), each carrying the
context of its task (`request_id`; inside a handler `job_id`, `type`, `attempt`), and the
capture of a handler's own lines into its job's log (`JobLogCapture`)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any, Literal

import orjson

from joblane.observe import context

LogFormat = Literal["auto", "json", "text"]

# attributes every LogRecord has: anything else on a record came from `extra=`
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_HANDLER_NAME = "joblane-stderr"


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context of a record: the task's context variables, then what `extra=` gave."""
    out = context.fields()
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            out[key] = value
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, message, the context
    fields, and `exc` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """For people at a terminal: the usual line, then the context as `key=value`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = record_fields(record)
        if not extra:
            return text
        head, sep, rest = text.partition("\n")
        tags = " ".join(f"{k}={v}" for k, v in extra.items())
        return f"{head}  [{tags}]{sep}{rest}"


def configure(level: str, fmt: LogFormat = "auto", stream: IO[str] | None = None) -> None:
    """Log to `stream` (stderr) at `level`: JSON unless `fmt` is text, or auto on a terminal.
    The root logger lets INFO through whatever `level` is, so a handler's INFO lines reach
    its job's log; stderr still shows only `level` and above. Safe to call twice."""
    stream = stream or sys.stderr
    use_text = fmt == "text" or (fmt == "auto" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(TextFormatter() if use_text else JsonFormatter())
    numeric = logging.getLevelName(level.upper())
    handler.setLevel(numeric)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(numeric, logging.INFO))


class JobLogCapture(logging.Handler):
    """Keeps every record emitted while a job's handler runs (in its task, or a sync handler's
    thread) in that job's log tail; the worker writes the tails in batches."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.set_name("joblane-job-logs")

    def emit(self, record: logging.LogRecord) -> None:
        scope = context.current_job.get()
        if scope is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            scope.add_line(record.created, record.levelname, record.name, message)
        except Exception:
            self.handleError(record)


def install_capture() -> None:
    """Install the capture on the root logger once per process. It keeps what the logging
    levels let through: `configure` lets INFO through; an application embedding a worker
    decides for itself."""
    root = logging.getLogger()
    if not any(isinstance(h, JobLogCapture) for h in root.handlers):
        root.addHandler(JobLogCapture())
