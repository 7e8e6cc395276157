"""Tracing (the `otel` extra) with the in-memory span exporter: the submitting request's trace
continues through `joblane.submit` into the worker's `joblane.queue_wait` and `joblane.run`;
without a tracer provider nothing is traced or stored; without the package nothing imports it."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import observe_apps
from api.conftest import FAST_WORKER, Api, serve
from joblane.observe import tracing
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.use_provider(provider)
    try:
        yield spans
    finally:
        tracing.use_provider(None)
        provider.shutdown()


@pytest.fixture
async def traced_api(storage: Storage, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Api]:
    caplog.set_level(logging.INFO)
    async with serve(storage, observe_apps.app) as built:
        yield built


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


async def test_the_request_trace_goes_on_into_the_handler(
    traced_api: Api, exporter: InMemorySpanExporter
) -> None:
    auth = await traced_api.headers_for("tenant-a")
    response = await traced_api.client.post(
        "/v1/jobs", json={"type": "ok", "input": {}}, headers={**auth, "traceparent": PARENT}
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    stored = await traced_api.storage.job_trace_get(job_id)

    await Worker(traced_api.storage, traced_api.registry, FAST_WORKER).run_until_empty()

    spans = by_name(exporter.get_finished_spans())
    submit, wait, run = spans["joblane.submit"], spans["joblane.queue_wait"], spans["joblane.run"]
    trace_ids = {format(s.context.trace_id, "032x") for s in (submit, wait, run)}
    assert trace_ids == {TRACE_ID}
    assert submit.parent is not None and format(submit.parent.span_id, "016x") == PARENT[36:52]
    assert wait.parent is not None and wait.parent.span_id == submit.context.span_id
    assert run.parent is not None and run.parent.span_id == submit.context.span_id
    assert run.attributes is not None and run.attributes["joblane.outcome"] == "completed"
    assert run.attributes["joblane.job.id"] == job_id
    assert stored is not None and stored[0].split("-")[1] == TRACE_ID


async def test_without_a_provider_nothing_is_traced_or_stored(traced_api: Api) -> None:
    auth = await traced_api.headers_for("tenant-a")
    response = await traced_api.client.post(
        "/v1/jobs", json={"type": "ok", "input": {}}, headers={**auth, "traceparent": PARENT}
    )

    assert await traced_api.storage.job_trace_get(response.json()["id"]) is None


def test_nothing_imports_opentelemetry_when_it_is_not_installed() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # as if the extra were not installed
        from joblane.core.job import NewJob
        from joblane.observe import tracing
        import joblane.server, joblane.worker.runtime
        with tracing.submit_span(NewJob("job_1", "t", "x", {})) as trace:
            assert trace.traceparent is None
        assert not [m for m in sys.modules if m.startswith("opentelemetry") and sys.modules[m]]
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "ok", done.stderr
