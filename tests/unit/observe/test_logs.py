"""Log lines: the JSON formatter (one object per line, context from contextvars and `extra=`),
the text formatter, context that follows tasks and threads, and `configure`."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from joblane.observe import context
from joblane.observe.context import JobScope
from joblane.observe.logs import JobLogCapture, JsonFormatter, TextFormatter, configure


def record(message: str = "hello %s", *args: Any, **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord(
        "joblane.test", logging.INFO, __file__, 1, message, args or ("x",), None
    )
    rec.__dict__.update(extra)
    return rec


def as_json(rec: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    out: dict[str, Any] = json.loads(line)
    return out


def test_a_plain_line_has_time_level_logger_and_message() -> None:
    line = as_json(record())

    assert line["message"] == "hello x"
    assert (line["level"], line["logger"]) == ("INFO", "joblane.test")
    assert line["ts"].endswith("Z") and "T" in line["ts"]
    assert "request_id" not in line and "job_id" not in line


def test_the_request_id_comes_from_the_context() -> None:
    token = context.request_id.set("req_123")
    try:
        line = as_json(record())
    finally:
        context.request_id.reset(token)

    assert line["request_id"] == "req_123"
    assert "request_id" not in as_json(record())


def test_inside_a_job_every_line_says_which() -> None:
    token = context.current_job.set(JobScope("job_1", "resize", 2))
    try:
        line = as_json(record())
    finally:
        context.current_job.reset(token)

    assert (line["job_id"], line["type"], line["attempt"]) == ("job_1", "resize", 2)


def test_extra_fields_and_odd_values_are_kept_and_a_traceback_is_one_field() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        rec = record("multi\nline", (), tenant="t1", payload=object())
        rec.args = None
        rec.exc_info = sys.exc_info()
    line = as_json(rec)

    assert line["message"] == "multi\nline" and line["tenant"] == "t1"
    assert line["payload"].startswith("<object")
    assert "ValueError: bad" in line["exc"]


def test_the_text_format_appends_the_context() -> None:
    token = context.request_id.set("req_9")
    try:
        text = TextFormatter().format(record())
    finally:
        context.request_id.reset(token)

    assert "INFO" in text and "joblane.test: hello x" in text
    assert text.endswith("[request_id=req_9]")


async def test_the_context_follows_tasks_and_a_copied_thread_context() -> None:
    scope = JobScope("job_2", "t", 1)

    async def in_task() -> str | None:
        context.current_job.set(scope)
        await asyncio.sleep(0)
        with ThreadPoolExecutor(1) as pool:
            seen = pool.submit(contextvars.copy_context().run, context.fields).result()
        return str(seen.get("job_id"))

    assert await asyncio.create_task(in_task()) == "job_2"
    assert context.current_job.get() is None  # the task's context was its own


def test_the_capture_keeps_lines_only_inside_a_job() -> None:
    capture = JobLogCapture()
    scope = JobScope("job_3", "t", 1)
    capture.emit(record("outside"))
    token = context.current_job.set(scope)
    try:
        capture.emit(record("inside %d", 1))
    finally:
        context.current_job.reset(token)

    batch = scope.take_batch()
    assert batch is not None and [ln.message for ln in batch.lines] == ["inside 1"]
    assert scope.take_batch() is None  # taken once


@pytest.mark.parametrize(("fmt", "is_json"), [("json", True), ("text", False), ("auto", True)])
def test_configure_writes_the_chosen_format_at_the_chosen_level(fmt: str, is_json: bool) -> None:
    stream = io.StringIO()  # not a terminal: auto means JSON
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    try:
        configure("warning", fmt, stream)  # type: ignore[arg-type]
        configure("warning", fmt, stream)  # type: ignore[arg-type]  # idempotent
        logging.getLogger("joblane.x").info("hidden")
        logging.getLogger("joblane.x").warning("shown")
        assert root.level <= logging.INFO  # INFO still reaches the job log capture
    finally:
        root.handlers[:] = before[1]
        root.setLevel(before[0])

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert (json.loads(lines[0])["message"] == "shown") if is_json else lines[0].endswith("shown")
