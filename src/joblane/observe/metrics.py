"""The process's Prometheus metrics. prometheus-client is imported on first use, after
`JOBLANE_METRICS_DIR` (if set) became its multiprocess directory: each process then writes its
counters and histograms to files there, and `/metrics` sums every process's files
(docs/observability.md). Label values are bounded: job types, outcomes, route templates."""

from __future__ import annotations

import atexit
import os
import tempfile
from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, TypeVar

METRICS_DIR_ENV = "JOBLANE_METRICS_DIR"
PROMETHEUS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# seconds: from a few milliseconds to an hour in the queue or in a handler
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def multiprocess_dir() -> str | None:
    return os.environ.get(METRICS_DIR_ENV) or None


def prepare() -> None:
    """Make prometheus-client write to JOBLANE_METRICS_DIR (whatever imported it first)."""
    directory = multiprocess_dir()
    if directory is None:
        return
    os.makedirs(directory, exist_ok=True)
    os.environ[PROMETHEUS_DIR_ENV] = directory
    from prometheus_client import multiprocess, values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    # a live gauge (jobs running) of a process that exited must not be summed any more
    atexit.register(multiprocess.mark_process_dead, os.getpid(), directory)


def shared_metrics_dir() -> str:
    """The multiprocess directory for the processes this one starts (`--processes N`): the
    configured one, else a new temporary one (inherited through the environment)."""
    directory = multiprocess_dir()
    if directory is None:
        directory = tempfile.mkdtemp(prefix="joblane-metrics-")
        os.environ[METRICS_DIR_ENV] = directory
    return directory


def attempt_label(attempt: int) -> str:
    return str(attempt) if attempt < 4 else "4+"


class _Children(dict[K, V]):
    """`metric.labels(...)` costs more than a job's bookkeeping: keep each child once."""

    def __init__(self, make: Callable[[K], V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: K) -> V:
        value = self[key] = self._make(key)
        return value


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        def labelled(metric: Any) -> _Children[Any, Any]:
            return _Children(lambda key: metric.labels(*key) if isinstance(key, tuple) else
                             metric.labels(key))  # fmt: skip

        self.submitted = labelled(
            Counter("joblane_jobs_submitted", "Jobs accepted (batch items included)", ["type"])
        )
        self.started = labelled(
            Counter("joblane_jobs_started", "Attempts started by workers", ["type"])
        )
        self.attempts = labelled(
            Counter(
                "joblane_job_attempts", "Attempts started, by attempt number", ["type", "attempt"]
            )
        )
        self.finished = labelled(
            Counter(
                "joblane_jobs_finished",
                "Attempts ended, by outcome: completed, failed, cancelled, retried (queued for "
                "another attempt), released (handed back by a stopping worker)",
                ["type", "outcome"],
            )
        )
        self.queue_wait = labelled(
            Histogram(
                "joblane_job_queue_wait_seconds",
                "From ready to run (scheduled_at) to claimed",
                ["type"],
                buckets=DURATION_BUCKETS,
            )
        )
        self.run_time = labelled(
            Histogram(
                "joblane_job_run_seconds",
                "Handler run time of an attempt, by outcome",
                ["type", "outcome"],
                buckets=DURATION_BUCKETS,
            )
        )
        self.running = labelled(
            Gauge(
                "joblane_jobs_running",
                "Attempts running now",
                ["type"],
                multiprocess_mode="livesum",
            )
        )
        self.rescued = labelled(
            Counter(
                "joblane_jobs_rescued",
                "Attempts whose worker was lost, rescued by the maintenance leader, by outcome: "
                "retried, failed, cancelled",
                ["type", "outcome"],
            )
        )
        self.webhook_deliveries = labelled(
            Counter(
                "joblane_webhook_deliveries",
                "Webhook delivery attempts, by outcome: delivered, retry, gone, failed",
                ["outcome"],
            )
        )
        self.http_requests = labelled(
            Counter(
                "joblane_http_requests",
                "HTTP requests by method, route template and status",
                ["method", "route", "status"],
            )
        )
        self.http_duration = labelled(
            Histogram(
                "joblane_http_request_duration_seconds",
                "HTTP request latency (until the response started) by method and route template",
                ["method", "route"],
                buckets=HTTP_BUCKETS,
            )
        )
        self.rate_limited = labelled(
            Counter("joblane_rate_limited", "Requests refused by rate limits (429)", ["kind"])
        )


@cache
def metrics() -> Metrics:
    """This process's metrics (made on first use)."""
    prepare()
    return Metrics()
