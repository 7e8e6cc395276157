"""The Jinja2 environment: templates from the package, autoescaped, with the few filters the
pages need to show times and sizes the same way everywhere."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape

from joblane.core.clock import to_rfc3339

HERE = Path(__file__).parent


def when(epoch: float | None) -> str:
    """An epoch as `2026-11-23 04:05:06Z` (UTC, whole seconds), or an em dash."""
    text = to_rfc3339(epoch)
    return "—" if text is None else text[:19].replace("T", " ") + "Z"


def stamp(text: str | None) -> str:
    """An RFC 3339 string from a presenter in the same form as `when`."""
    return "—" if not text else text[:19].replace("T", " ") + "Z"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def ago(epoch: float | None, now: float | None = None) -> str:
    if epoch is None:
        return "—"
    return duration((now if now is not None else time.time()) - epoch) + " ago"


def pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        stamp=stamp,
        duration=duration,
        ago=ago,
        pretty=pretty,
        percent=percent,
        rate=rate,
    )
    return env


templates = _environment()
