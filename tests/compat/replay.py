"""Replaying the requests a seed document shows (tests/compat/fixtures/<profile>/requests.json):
the document's method, path and headers, with the host changed and placeholders filled in."""

from __future__ import annotations

from typing import Any

import httpx

from compat.conftest import fixture

JSON = dict[str, Any]


def requests_of(profile: str) -> list[JSON]:
    shown: list[JSON] = fixture(profile, "requests")
    return shown


def fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


async def replay(
    client: httpx.AsyncClient, shown: JSON, root: str, **values: str
) -> httpx.Response:
    """One request as the document shows it, under `root` (`/compat/<name>` or "")."""
    headers = {name: fill(value, values) for name, value in shown["headers"].items()}
    url = root + fill(shown["path"], values)
    return await client.request(shown["method"], url, headers=headers, json=shown.get("json"))


async def replay_all(
    client: httpx.AsyncClient, profile: str, root: str, method: str = "GET", **values: str
) -> list[tuple[str, httpx.Response]]:
    """Every request of the document with `method`: (where the document shows it, response)."""
    return [
        (shown["source"], await replay(client, shown, root, **values))
        for shown in requests_of(profile)
        if shown["method"] == method
    ]
