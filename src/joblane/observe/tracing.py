"""OpenTelemetry spans (the `otel` extra): `joblane.submit` around accepting a job, then, in
the worker, `joblane.queue_wait` (ready -> claimed) and `joblane.run` around the handler, both
children of the submitting request's trace: its W3C trace context is stored with the job
(`job_traces`) and restored by the worker.

Nothing here imports opentelemetry unless it is installed, and nothing is done (no span, no
row, no read) unless the process has a real tracer provider (the operator's setup, e.g.
`opentelemetry-instrument joblane serve`, or the app module). JOBLANE_TRACING=off turns it off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from joblane.core.job import Job, NewJob
from joblane.observe import context
from joblane.storage.base import Storage

log = logging.getLogger("joblane.tracing")
TRACER = "joblane"
_loaded: list[tuple[Any, Any] | None] = []  # empty: not looked for yet; [None]: unavailable


def _load() -> tuple[Any, Any] | None:
    if os.environ.get("JOBLANE_TRACING", "").lower() in {"0", "off", "false", "no"}:
        return None
    try:
        from opentelemetry import propagate, trace
    except ImportError:
        return None
    return trace, propagate


_verdict: list[Any] = [0.0, None]  # [until (monotonic), what `_api` answers until then]
_provider: list[Any] = []  # a tracer provider given to `use_provider` (tests, embedding)


def use_provider(provider: Any | None) -> None:
    """Trace with `provider` instead of the global one (None: the global one again)."""
    _verdict[:] = [0.0, None]
    _provider.clear()
    if provider is not None:
        _provider.append(provider)


def _api() -> tuple[Any, Any, Any] | None:
    """(opentelemetry.trace, opentelemetry.propagate, tracer) while tracing is on, else None.
    Asked once per job: the answer is kept a second (a provider set later counts from then)."""
    now = time.monotonic()
    if now < _verdict[0]:
        cached: tuple[Any, Any, Any] | None = _verdict[1]
        return cached
    if not _loaded:
        _loaded.append(_load())
    api = _loaded[0]
    verdict = None
    if api is not None:
        trace, propagate = api
        provider = _provider[0] if _provider else trace.get_tracer_provider()
        # the API without a provider drops every span: nothing to do
        if type(provider).__name__ not in {"ProxyTracerProvider", "NoOpTracerProvider"}:
            verdict = (trace, propagate, provider.get_tracer(TRACER))
    _verdict[:] = [now + 1.0, verdict]
    return verdict


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


@dataclass(frozen=True, slots=True)
class Trace:
    """The W3C trace context to keep with a submitted job (None: not traced)."""

    traceparent: str | None = None
    tracestate: str | None = None

    async def keep(self, storage: Storage, job_id: str) -> None:
        if self.traceparent is None:
            return
        try:
            await storage.job_trace_put(job_id, self.traceparent, self.tracestate)
        except Exception as exc:  # the job is accepted: losing its trace is not worth a 500
            log.warning("trace context of %s not kept: %s", job_id, exc)


NO_TRACE = Trace()


@contextlib.contextmanager
def submit_span(job: NewJob) -> Iterator[Trace]:
    """`joblane.submit`, a child of the current span or of the request's `traceparent`."""
    api = _api()
    if api is None:
        yield NO_TRACE
        return
    trace, propagate, tracer = api
    parent = None
    if not trace.get_current_span().get_span_context().is_valid:
        headers = context.trace_headers.get()
        parent = propagate.extract(headers) if headers else None
    attributes = {"joblane.job.id": job.id, "joblane.job.type": job.type}
    kind = trace.SpanKind.PRODUCER
    with tracer.start_as_current_span("joblane.submit", parent, kind, attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield Trace(carrier.get("traceparent"), carrier.get("tracestate") or None)


class RunSpan:
    """The handler's span, told the attempt's outcome (a no-op while tracing is off)."""

    def __init__(self, span: Any = None) -> None:
        self.span = span

    def outcome(self, label: str) -> None:
        if self.span is not None:
            self.span.set_attribute("joblane.outcome", label)


class _Untraced:
    """What `job_spans` is while tracing is off: nothing at all, at the cost of two calls."""

    span = RunSpan()

    async def __aenter__(self) -> RunSpan:
        return self.span

    async def __aexit__(self, *exc: object) -> None:
        return None


UNTRACED = _Untraced()


def job_spans(job: Job, storage: Storage) -> AbstractAsyncContextManager[RunSpan]:
    """In the worker, around an attempt: `joblane.queue_wait` and `joblane.run`, under the
    trace the job was submitted in (read from storage, one row by primary key)."""
    api = _api()
    return UNTRACED if api is None else _job_spans(job, storage, api)


@contextlib.asynccontextmanager
async def _job_spans(
    job: Job, storage: Storage, api: tuple[Any, Any, Any]
) -> AsyncIterator[RunSpan]:
    trace, propagate, tracer = api
    parent = None
    try:
        stored = await storage.job_trace_get(job.id)
    except Exception as exc:
        log.warning("trace context of %s not read: %s", job.id, exc)
        stored = None
    if stored is not None:
        parent = propagate.extract({"traceparent": stored[0], "tracestate": stored[1] or ""})
    attributes = {"joblane.job.id": job.id, "joblane.job.type": job.type,
                  "joblane.job.attempt": job.attempt}  # fmt: skip
    if job.started_at is not None:
        wait = tracer.start_span(
            "joblane.queue_wait", parent, attributes=attributes, start_time=_ns(job.scheduled_at)
        )
        wait.end(end_time=_ns(max(job.started_at, job.scheduled_at)))
    kind = trace.SpanKind.CONSUMER
    with tracer.start_as_current_span("joblane.run", parent, kind, attributes) as span:
        yield RunSpan(span)
