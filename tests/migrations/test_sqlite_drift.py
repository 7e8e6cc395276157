"""SQLite schema drift: `schema.sql` equals all migrations applied."""

from __future__ import annotations

import re
import sqlite3
from importlib.resources import files
from pathlib import Path

from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions

SchemaRow = tuple[str, str, str, str | None]


def normalise(sql: str | None) -> str | None:
    if sql is None:
        return None
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"\s*([(),])\s*", r"\1", sql)
    return sql.strip().rstrip(";")


def schema_of(path: Path) -> list[SchemaRow]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name != 'schema_migrations' AND tbl_name != 'schema_migrations'"
        ).fetchall()
    finally:
        conn.close()
    return sorted((kind, name, table, normalise(sql)) for kind, name, table, sql in rows)


async def migrated_schema(tmp_path: Path) -> list[SchemaRow]:
    path = tmp_path / "migrated.db"
    storage = SqliteStorage(SqliteOptions(str(path)))
    await storage.open()
    try:
        applied = await storage.migrate()
        assert applied, "no migration was applied to a fresh database"
    finally:
        await storage.close()
    return schema_of(path)


def declared_schema(tmp_path: Path) -> list[SchemaRow]:
    path = tmp_path / "declared.db"
    script = files("joblane.storage.sqlite").joinpath("schema.sql").read_text(encoding="utf-8")
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
    finally:
        conn.close()
    return schema_of(path)


async def test_schema_sql_equals_all_migrations_applied(tmp_path: Path) -> None:
    migrated = await migrated_schema(tmp_path)
    declared = declared_schema(tmp_path)

    only_migrated = [row for row in migrated if row not in declared]
    only_declared = [row for row in declared if row not in migrated]
    assert not only_migrated and not only_declared, (
        f"schema.sql and the migrations differ:\n"
        f"  only after migrations: {only_migrated}\n"
        f"  only in schema.sql:    {only_declared}"
    )
    assert {name for kind, name, _, _ in declared if kind == "table"} >= {
        "jobs",
        "idempotency_keys",
        "api_keys",
        "workers",
        "leadership",
    }


def test_normalise_ignores_layout_but_not_content() -> None:
    assert normalise("CREATE TABLE t (\n  a INTEGER, -- note\n  b TEXT\n)") == normalise(
        "CREATE TABLE t(a INTEGER,b TEXT)"
    )
    assert normalise("CREATE TABLE t (a INTEGER)") != normalise("CREATE TABLE t (a TEXT)")
