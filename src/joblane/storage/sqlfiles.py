"""Named queries: a `.sql` file split on `-- name: <query>` headers, loaded once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

_HEADER = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";")
    return queries


@cache
def load(package: str, filename: str = "queries.sql") -> dict[str, str]:
    return parse(files(package).joinpath(filename).read_text(encoding="utf-8"))


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Positional:
    """A query with `:name` parameters rewritten to `$1, $2 …` (asyncpg's style)."""

    sql: str
    names: tuple[str, ...]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def to_positional(sql: str) -> Positional:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return Positional(_NAMED.sub(number, sql), tuple(names))


@cache
def load_positional(package: str, filename: str = "queries.sql") -> dict[str, Positional]:
    return {name: to_positional(sql) for name, sql in load(package, filename).items()}
