"""SQLite schema drift: `schema.sql` equals all migrations applied, and SQL guards match the
state machine in `core/states.py`."""

from __future__ import annotations

import re
import sqlite3
from importlib.resources import files
from pathlib import Path

import pytest

from joblane.core.states import TRANSITIONS, JobState, sources_of
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions

SchemaRow = tuple[str, str, str, str | None]

QUERIES = load("joblane.storage.sqlite")

# named query -> the state it moves a job to
MOVES: dict[str, JobState] = {
    "job_cancel_queued": JobState.CANCELLED,
    "job_retry": JobState.QUEUED,
    "jobs_claim": JobState.RUNNING,
    "job_complete": JobState.COMPLETED,
    "job_fail": JobState.FAILED,
    "job_cancelled": JobState.CANCELLED,
    "job_requeue": JobState.QUEUED,
    "job_release": JobState.QUEUED,
}

_SET_STATE = re.compile(r"\bSET\s+state\s*=\s*'(\w+)'", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
_STATE_EQ = re.compile(r"(?<![\w.])state\s*=\s*'(\w+)'", re.IGNORECASE)
_STATE_IN = re.compile(r"(?<![\w.])state\s+IN\s*\(([^)]*)\)", re.IGNORECASE)


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


# -- state guards ----------------------------------------------------------------------------
def target_of(sql: str) -> JobState:
    found = _SET_STATE.findall(sql)
    assert len(found) == 1, f"expected one `SET state = '...'`, found {found}"
    return JobState(found[0])


def guard_states(sql: str) -> set[JobState]:
    """The from-states in the WHERE clause(s): `state = '...'` and `state IN (...)`."""
    where = _WHERE.search(sql)
    assert where is not None, "no WHERE clause"
    clause = sql[where.start() :]
    states = {JobState(s) for s in _STATE_EQ.findall(clause)}
    for group in _STATE_IN.findall(clause):
        states |= {JobState(s) for s in re.findall(r"'(\w+)'", group)}
    return states


@pytest.mark.parametrize("name", sorted(MOVES))
def test_state_guard_matches_the_state_machine(name: str) -> None:
    sql = QUERIES[name]
    target = MOVES[name]

    assert target_of(sql) is target
    sources = guard_states(sql)
    assert sources, f"{name} moves jobs to {target} without a state guard"
    illegal = sources - sources_of(target)
    assert not illegal, f"{name}: {sorted(illegal)} -> {target} is not in TRANSITIONS"


def test_every_query_that_sets_a_state_is_checked() -> None:
    setting = {name for name, sql in QUERIES.items() if _SET_STATE.search(sql)}
    assert setting == set(MOVES)


def test_every_allowed_transition_has_a_query() -> None:
    covered = {(src, MOVES[name]) for name in MOVES for src in guard_states(QUERIES[name])}
    allowed = {(src, dst) for src, targets in TRANSITIONS.items() for dst in targets}
    assert covered == allowed


def test_guard_parsing() -> None:
    sql = (
        "UPDATE jobs SET state = 'queued', cancel_requested = 0 "
        "WHERE id = :id AND state IN ('failed', 'cancelled') AND cancel_requested = 0"
    )
    assert target_of(sql) is JobState.QUEUED
    assert guard_states(sql) == {JobState.FAILED, JobState.CANCELLED}
    nested = "UPDATE jobs SET state = 'running' WHERE id IN (SELECT id WHERE state = 'queued')"
    assert guard_states(nested) == {JobState.QUEUED}
