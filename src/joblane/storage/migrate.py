"""Numbered migrations (`NNNN_name.sql`), the same numbers for every backend."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def discover(package: str) -> list[Migration]:
    found: list[Migration] = []
    for entry in files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            version, name = int(match[1]), match[2]
            found.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations in {package} are not numbered 1..n: {versions}")
    return found


def pending(available: list[Migration], applied: set[int]) -> list[Migration]:
    return [m for m in available if m.version not in applied]
