"""`joblane keys create | list | revoke | rotate` and `joblane tenants list | show | set`: the
admin API's operations, straight on the database (for bootstrapping the first admin key)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from joblane.cli.common import database_option, settings_from
from joblane.core.clock import to_rfc3339
from joblane.core.errors import JoblaneError, ValidationFailed
from joblane.core.principal import SCOPES
from joblane.core.tenant import SETTING_NAMES, Tenant
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
            return await action(KeyService(storage, settings.secret_key))
        finally:
            await storage.close()

    try:
        return asyncio.run(run())
    except ValidationFailed as exc:
        problems = [f"\n  {'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors]
        raise click.ClickException(exc.message + "".join(problems)) from None
    except JoblaneError as exc:
        raise click.ClickException(exc.message) from None


@click.group()
def keys() -> None:
    """Manage API keys (stored only as keyed hashes)."""


@keys.command()
@click.option("--tenant", required=True, help="the tenant the key acts for")
@click.option(
    "--scopes",
    default="jobs:read,jobs:write",
    show_default=True,
    help=f"comma-separated, from {', '.join(SCOPES)}",
)
@click.option("--name", default="", help="a label to recognise the key by")
@click.option("--expires-in", type=click.FloatRange(min=1), help="seconds until it stops working")
@database_option
def create(tenant: str, scopes: str, name: str, expires_in: float | None, **flags: object) -> None:
    """Create a key and print it: it is shown this once."""
    settings = settings_from(**flags)
    wanted = tuple(s.strip() for s in scopes.split(",") if s.strip())

    async def make(ks: KeyService) -> Any:
        expires_at = None if expires_in is None else ks.storage.now() + expires_in
        return await ks.create(tenant, wanted, name, expires_at)

    created = _with_keys(settings, make)
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
        expiry = f"  expires={to_rfc3339(r.expires_at)}" if r.expires_at else ""
        click.echo(
            f"{r.id}  {r.prefix}…  tenant={r.tenant_id}  scopes={','.join(r.scopes)}  "
            f"{state}  created={to_rfc3339(r.created_at)}{expiry}  {r.name}"
        )


@keys.command()
@click.argument("key_id")
@database_option
def revoke(key_id: str, **flags: object) -> None:
    """Revoke a key by its id (key_…)."""
    settings = settings_from(**flags)
    _with_keys(settings, lambda ks: ks.revoke(key_id))
    click.echo(f"revoked {key_id}")


@keys.command()
@click.argument("key_id")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="seconds the old key keeps working",
)
@database_option
def rotate(key_id: str, grace: float, **flags: object) -> None:
    """Replace a key with a new one (same tenant, scopes, name); print the new key."""
    settings = settings_from(**flags)
    created = _with_keys(settings, lambda ks: ks.rotate(key_id, grace))
    click.echo(created.secret)
    click.echo(f"{created.record.id} replaces {key_id} (store it now)", err=True)


@click.group()
def tenants() -> None:
    """Tenants and their settings (unset = the server's default)."""


def _describe(tenant: Tenant) -> str:
    parts = [f"{n}={getattr(tenant.settings, n)}" for n in SETTING_NAMES]
    shown = [p for p in parts if not p.endswith("=None")]
    return f"{tenant.id}  {tenant.name!r}  " + ("  ".join(shown) or "(all defaults)")


@tenants.command("list")
@database_option
def list_tenants(**flags: object) -> None:
    """Tenants with settings of their own."""
    for tenant in _with_keys(settings_from(**flags), lambda ks: ks.tenants.list()):
        click.echo(_describe(tenant))


@tenants.command("set")
@click.argument("tenant_id")
@click.option("--name", default=None)
@click.option(
    "--setting",
    "-s",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"one of {', '.join(SETTING_NAMES)}; VALUE 'default' unsets; job_types comma-separated",
)
@database_option
def set_tenant(tenant_id: str, name: str | None, pairs: tuple[str, ...], **flags: object) -> None:
    """Create the tenant if needed and change its settings."""
    changes = dict(_parse_pair(p) for p in pairs)

    async def apply(ks: KeyService) -> Tenant:
        await ks.tenants.ensure(tenant_id)
        return await ks.tenants.update(tenant_id, name, changes)

    click.echo(_describe(_with_keys(settings_from(**flags), apply)))


def _parse_pair(pair: str) -> tuple[str, object]:
    name, sep, value = pair.partition("=")
    if not sep:
        raise click.BadParameter(f"'{pair}': use NAME=VALUE", param_hint="--setting")
    if value == "default":
        return name, None
    if name == "job_types":
        return name, [v.strip() for v in value.split(",") if v.strip()]
    try:  # a number, as the API takes it; anything else is refused by the settings' check
        return name, json.loads(value)
    except ValueError:
        return name, value
