"""Named queries: a `.sql` file split on `-- name: <query>` headers, loaded once."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

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
