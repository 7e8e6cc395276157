"""`joblane keys create | list | revoke`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from joblane.cli.common import database_option, settings_from
from joblane.core.clock import to_rfc3339
from joblane.core.errors import JoblaneError
from joblane.core.principal import SCOPES
from joblane.server import open_storage
from joblane.service.keys import KeyService
from joblane.settings import Settings

T = TypeVar("T")


def _with_keys(settings: Settings, action: Callable[[KeyService], Awaitable[T]]) -> T:
    async def run() -> T:
        storage = open_storage(settings)
        await storage.open()
        try:
            await storage.migrate()
            return await action(KeyService(storage))
        finally:
            await storage.close()

    try:
        return asyncio.run(run())
    except JoblaneError as exc:
        raise click.ClickException(exc.message) from None


@click.group()
def keys() -> None:
    """Manage API keys (stored only as hashes)."""


@keys.command()
@click.option("--tenant", required=True, help="the tenant the key acts for")
@click.option(
    "--scopes",
    default="jobs:read,jobs:write",
    show_default=True,
    help=f"comma-separated, from {', '.join(SCOPES)}",
)
@click.option("--name", default="", help="a label to recognise the key by")
@database_option
def create(tenant: str, scopes: str, name: str, **flags: object) -> None:
    """Create a key and print it: it is shown this once."""
    settings = settings_from(**flags)
    wanted = tuple(s.strip() for s in scopes.split(",") if s.strip())
    created = _with_keys(settings, lambda ks: ks.create(tenant, wanted, name))
    click.echo(created.secret)
    click.echo(
        f"{created.record.id} for tenant '{tenant}' with scopes {', '.join(wanted)} "
        "(store it now: only its hash is kept)",
        err=True,
    )


@keys.command("list")
@click.option("--tenant", default=None, help="only this tenant's keys")
@database_option
def list_keys(tenant: str | None, **flags: object) -> None:
    """List keys (never their secrets)."""
    settings = settings_from(**flags)
    records = _with_keys(settings, lambda ks: ks.list(tenant))
    for r in records:
        state = "revoked" if r.revoked_at else "active"
        click.echo(
            f"{r.id}  {r.prefix}…  tenant={r.tenant_id}  scopes={','.join(r.scopes)}  "
            f"{state}  created={to_rfc3339(r.created_at)}  {r.name}"
        )


@keys.command()
@click.argument("key_id")
@database_option
def revoke(key_id: str, **flags: object) -> None:
    """Revoke a key by its id (key_…)."""
    settings = settings_from(**flags)
    _with_keys(settings, lambda ks: ks.revoke(key_id))
    click.echo(f"revoked {key_id}")
