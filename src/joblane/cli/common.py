"""Options and helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from joblane.observe.logs import LogFormat
from joblane.observe.logs import configure as configure_logging
from joblane.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def database_option(fn: F) -> F:
    return click.option(
        "--database-url",
        "--database",
        "database_url",
        help="sqlite:///path.db (default sqlite:///joblane.db; env JOBLANE_DATABASE_URL)",
    )(fn)


def settings_from(**flags: Any) -> Settings:
    database = flags.get("database_url")
    if database and "://" not in database:
        flags["database_url"] = f"sqlite:///{database}"
    try:
        return load_settings(**flags)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise click.UsageError("invalid settings:\n" + "\n".join(lines)) from None


def setup_logging(level: str, fmt: LogFormat = "auto") -> None:
    """JSON lines on stderr (readable text on a terminal), with request and job context."""
    configure_logging(level, fmt)
