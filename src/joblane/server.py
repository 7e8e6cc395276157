"""Composition root: builds storage, services, the API app, the worker and maintenance from
Settings, for `joblane serve` (all in one process), `joblane api` and `joblane worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette

from joblane.api.app import create_app
from joblane.api.context import ApiContext, ApiSettings
from joblane.api.ratelimit import RateLimits
from joblane.app import Joblane, load_app
from joblane.compat.mount import CompatConfig
from joblane.core.artifact import LinkPolicy
from joblane.core.job import JobStamp
from joblane.maintenance.artifacts import ArtifactSweep
from joblane.maintenance.leader import Maintenance
from joblane.maintenance.retention import RetentionSettings
from joblane.observe.logs import configure as configure_logging
from joblane.service.artifact_store import ArtifactStore
from joblane.service.artifacts import ArtifactService
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.service.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RatePolicies,
    RatePolicy,
)
from joblane.service.webhooks import WebhookService
from joblane.settings import Settings, load_settings
from joblane.storage.base import Storage
from joblane.storage.factory import storage_for
from joblane.webhooks.dispatcher import Dispatcher, DispatchSettings
from joblane.webhooks.sender import Sender
from joblane.worker.artifacts import ArtifactLimits, ArtifactWriter
from joblane.worker.runtime import Worker, WorkerSettings

log = logging.getLogger("joblane")


class SchemaOutdated(RuntimeError):
    pass


def open_storage(settings: Settings) -> Storage:
    return storage_for(
        settings.database_url,
        pool_size=settings.pool_size,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_timeout=settings.pool_timeout,
        sqlite_max_pending_writes=settings.sqlite_max_pending_writes,
    )


def worker_settings(settings: Settings) -> WorkerSettings:
    return WorkerSettings(
        concurrency=settings.concurrency,
        lease_seconds=settings.lease_seconds,
        shutdown_grace=settings.shutdown_grace,
    )


def retention_settings(settings: Settings) -> RetentionSettings:
    return RetentionSettings(
        days=settings.retention_days,
        tombstone_days=settings.tombstone_days,
        chunk=settings.retention_chunk,
        pause=settings.retention_pause,
    )


def dispatcher(settings: Settings, storage: Storage) -> Dispatcher:
    """Sends this process's share of webhook deliveries (`serve` and `worker` processes)."""
    return Dispatcher(
        storage,
        Sender(settings.webhook_targets, timeout=settings.webhook_timeout),
        DispatchSettings(
            concurrency=settings.webhook_concurrency,
            lease_seconds=settings.webhook_lease_seconds,
            poll_interval=settings.webhook_poll_interval,
            schedule=settings.webhook_schedule,
        ),
    )


@dataclass
class Runtime:
    settings: Settings
    registry: Joblane
    storage: Storage
    changes: ChangeFeed
    jobs: JobService
    keys: KeyService
    batches: BatchService
    store: ArtifactStore
    artifacts: ArtifactService
    background: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False

    def notify(self, stamp: JobStamp) -> None:
        self.changes.notify(stamp.id, stamp.version)

    def start_worker(self) -> Worker:
        settings = self.settings
        limits = ArtifactLimits(settings.result_inline_limit, settings.artifact_max_bytes)
        worker = Worker(
            self.storage,
            self.registry,
            worker_settings(settings),
            on_change=self.notify,
            artifacts=ArtifactWriter(self.storage, self.store, limits),
        )
        maintenance = Maintenance(
            self.storage,
            interval=settings.maintenance_interval,
            on_change=self.notify,
            retention=retention_settings(settings),
            artifacts=ArtifactSweep(self.storage, self.store),
            webhook_log_days=settings.webhook_log_days,
        )
        jobs = [("worker", worker.run(self.stop)), ("maintenance", maintenance.run(self.stop))]
        if settings.webhook_dispatch:
            jobs.append(("webhooks", dispatcher(settings, self.storage).run(self.stop)))
        for name, work in jobs:
            task = asyncio.create_task(work, name=f"joblane-{name}")
            task.add_done_callback(self._watch)
            self.background.append(task)
        return worker

    def _watch(self, task: asyncio.Task[None]) -> None:
        """A background task must not die quietly while the process looks healthy: log it and
        stop the process (SIGTERM to ourselves), so that a supervisor restarts it."""
        if task.cancelled() or task.exception() is None or self.stop.is_set():
            return
        log.critical("%s stopped: %r; shutting down", task.get_name(), task.exception())
        self.failed = True
        self.stop.set()
        os.kill(os.getpid(), signal.SIGTERM)


@contextlib.asynccontextmanager
async def runtime(settings: Settings, *, migrate: bool) -> AsyncIterator[Runtime]:
    registry = load_app(settings.app)
    storage = open_storage(settings)
    await storage.open()
    try:
        if migrate:
            await storage.migrate()
        elif pending := await storage.migrations_pending():
            raise SchemaOutdated(
                f"database schema is behind (pending migrations {pending}): run 'joblane migrate'"
            )
        changes = ChangeFeed(storage.jobs_versions)
        batch_changes = ChangeFeed(storage.batches_versions, interval=0.2)
        store = ArtifactStore.from_url(settings.artifacts_location, settings.artifacts_options)
        artifacts = ArtifactService(storage, store, LinkPolicy(settings.artifact_link_ttl))
        await artifacts.open()
        rt = Runtime(
            settings,
            registry,
            storage,
            changes,
            JobService(storage, registry, changes),
            KeyService(storage, settings.secret_key),
            BatchService(storage, registry, batch_changes, settings.max_batch_items),
            store,
            artifacts,
        )
        try:
            yield rt
        finally:
            rt.stop.set()
            await asyncio.gather(*rt.background, return_exceptions=True)
            await changes.close()
            await batch_changes.close()
    finally:
        await storage.close()


def build_api(settings: Settings, *, with_worker: bool) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            runtime(settings, migrate=with_worker) as rt,
            contextlib.aclosing(rate_limits(settings)) as limits,
        ):
            app.state.ctx = ApiContext(
                rt.storage,
                rt.jobs,
                rt.keys,
                ApiSettings(
                    settings.max_body_bytes,
                    settings.max_wait,
                    settings.max_batch_bytes,
                    max_json_depth=settings.max_json_depth,
                ),
                rt.batches,
                limits=limits,
                artifacts=rt.artifacts,
                webhooks=WebhookService(rt.storage, settings.webhook_targets),
            )
            if with_worker:
                rt.start_worker()
            yield

    compat = CompatConfig.from_settings(settings.compat, settings.profile)
    app = create_app(None, lifespan=lifespan, compat=compat)
    app.state.metrics_token = settings.metrics_token  # None: /metrics is open
    return app


def rate_limits(settings: Settings) -> RateLimits:
    """Per-key limits: in this process, or shared by every API process through Redis. A
    tenant's own rates come with its key (`Principal.settings`)."""
    limiter: RateLimiter = MemoryRateLimiter()
    if settings.redis_url:
        from joblane.service.ratelimit_redis import RedisRateLimiter  # imports redis

        limiter = RedisRateLimiter(settings.redis_url)
    policies = RatePolicies(
        RatePolicy("read", settings.rate_read, settings.rate_read_burst),
        RatePolicy("write", settings.rate_write, settings.rate_write_burst),
    )
    return RateLimits(limiter, policies)


def api_app_from_env() -> Starlette:
    """uvicorn factory for `joblane api --processes N`: each process builds its own app."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return build_api(settings, with_worker=os.environ.get("JOBLANE_WITH_WORKER") == "1")


async def run_worker(settings: Settings) -> None:
    async with runtime(settings, migrate=False) as rt:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, rt.stop.set)
        worker = rt.start_worker()
        log.info(
            "worker %s serving %s with concurrency %d",
            worker.id,
            ", ".join(worker.types),
            settings.concurrency,
        )
        await rt.stop.wait()
    if rt.failed:
        raise SystemExit(1)
