"""`joblane serve | api | worker | migrate`."""

from __future__ import annotations

import asyncio
import os

import click
import uvicorn

from joblane.cli.common import database_option, settings_from, setup_logging
from joblane.compat.mount import CompatConfig
from joblane.compat.registry import UnknownProfile
from joblane.observe.metrics import shared_metrics_dir
from joblane.server import SchemaOutdated, build_api, open_storage, run_worker
from joblane.settings import Settings

APP_ARG = click.argument("app_spec", metavar="[APP]", required=False)
PROFILE_OPTION = click.option(
    "--profile",
    help="also serve this profile at the root, e.g. walkerst (env JOBLANE_PROFILE; "
    "docs/profiles.md)",
)


@click.command()
@APP_ARG
@click.option("--host", help="bind address (default 127.0.0.1)")
@click.option("--port", type=int, help="port (default 8000)")
@click.option("--concurrency", type=int, help="jobs run at once (default 10)")
@PROFILE_OPTION
@database_option
def serve(app_spec: str | None, **flags: object) -> None:
    """API server and workers in one process, on SQLite (default ./joblane.db)."""
    settings = settings_from(app=app_spec, **flags)
    setup_logging(settings.log_level, settings.log_format)
    _banner(settings)
    _run_uvicorn(settings, with_worker=True)


@click.command()
@APP_ARG
@click.option("--host", help="bind address (default 127.0.0.1)")
@click.option("--port", type=int, help="port (default 8000)")
@click.option("--processes", "api_processes", type=int, help="API processes (default 1)")
@PROFILE_OPTION
@database_option
def api(app_spec: str | None, **flags: object) -> None:
    """The HTTP API alone; run workers with `joblane worker`."""
    settings = settings_from(app=app_spec, **flags)
    setup_logging(settings.log_level, settings.log_format)
    _run_uvicorn(settings, with_worker=False)


@click.command()
@APP_ARG
@click.option("--concurrency", type=int, help="jobs run at once (default 10)")
@database_option
def worker(app_spec: str | None, **flags: object) -> None:
    """A worker process: claims jobs and runs their handlers."""
    settings = settings_from(app=app_spec, **flags)
    setup_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_worker(settings))
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@database_option
def migrate(**flags: object) -> None:
    """Apply pending database migrations."""
    settings = settings_from(**flags)

    async def apply() -> list[int]:
        storage = open_storage(settings)
        await storage.open()
        try:
            return await storage.migrate()
        finally:
            await storage.close()

    applied = asyncio.run(apply())
    click.echo(f"applied migrations {applied}" if applied else "schema is up to date")


def _run_uvicorn(settings: Settings, *, with_worker: bool) -> None:
    try:  # an unknown profile name: one line, before anything starts
        CompatConfig.from_settings(settings.compat, settings.profile)
    except UnknownProfile as exc:
        raise click.UsageError(str(exc)) from None
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "log_config": None,  # uvicorn's lines go through ours (JSON, with request ids)
        "timeout_graceful_shutdown": max(1, int(settings.shutdown_grace)),
    }
    if settings.api_processes > 1:
        os.environ.update(_env(settings, with_worker))
        shared_metrics_dir()  # /metrics in any process sums them all
        uvicorn.run(
            "joblane.server:api_app_from_env",
            factory=True,
            workers=settings.api_processes,
            **common,  # type: ignore[arg-type]
        )
        return
    uvicorn.run(build_api(settings, with_worker=with_worker), **common)  # type: ignore[arg-type]


def _env(settings: Settings, with_worker: bool) -> dict[str, str]:
    values = settings.model_dump(exclude_none=True)
    env = {f"JOBLANE_{key.upper()}": str(value) for key, value in values.items()}
    env["JOBLANE_WITH_WORKER"] = "1" if with_worker else "0"
    return env


SAMPLE = '{"type": "sleep", "input": {"seconds": 3}}'


def _banner(settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}"
    database = settings.database_url
    click.echo(
        f"Joblane on {url}  (database {database}, job types from "
        f"{settings.app or 'joblane.examples:app'})\n"
        f"  API docs:   {url}/docs   (OpenAPI: {url}/openapi.json)\n"
        f"  API key:    joblane keys create --tenant demo --database {database}\n"
        f"  Submit:     curl -X POST {url}/v1/jobs -H 'X-API-Key: <key>' "
        '-H \'Content-Type: application/json\' -d \'{"type": "sleep", "input": {"seconds": 3}}\''
    )
    if settings.profile:
        click.echo(f"  Profile:    {settings.profile} at {url}/ (docs/profiles.md)")
