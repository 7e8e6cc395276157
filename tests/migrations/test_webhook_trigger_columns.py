"""SQLite's outbox trigger (`jobs_webhook_events`, migration 0007) fires on the columns only a
move to a terminal state sets (`completed_at`, `failed_at`, `cancelled_at`), so that claims,
heartbeats and progress never run it. That holds only while every statement that moves a job to
a terminal state sets its column: a new one that forgot would finish jobs without their
webhooks. Checked here for every named SQLite query, whatever its name."""

from __future__ import annotations

import re
from importlib.resources import files

from joblane.storage.sqlfiles import parse

PACKAGE = "joblane.storage.sqlite"
STAMP = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}
_SET_STATE = re.compile(r"\bUPDATE\s+jobs\b.*?\bSET\s+state\s*=\s*'(\w+)'", re.I | re.S)
_TRIGGER = re.compile(r"CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF ([\w, ]+) ON jobs")


def sqlite_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for entry in files(PACKAGE).iterdir():
        if entry.name.endswith(".sql") and entry.name != "schema.sql":
            for name, sql in parse(entry.read_text(encoding="utf-8")).items():
                queries[f"{entry.name}:{name}"] = sql
    return queries


def test_every_move_to_a_terminal_state_sets_its_own_column() -> None:
    moves = 0
    for name, sql in sqlite_queries().items():
        for match in _SET_STATE.finditer(sql):
            state = match[1]
            if state in STAMP:
                moves += 1
                assigned = re.search(rf"\b{STAMP[state]}\s*=\s*:now\b", sql)
                assert assigned, f"{name} moves jobs to {state} without setting {STAMP[state]}"
    assert moves >= 4  # complete, fail, cancelled, cancel queued, a batch's cancel


def test_the_trigger_fires_on_exactly_those_columns() -> None:
    migration = files(f"{PACKAGE}.migrations").joinpath("0007_webhooks.sql").read_text()
    match = _TRIGGER.search(migration)

    assert match is not None
    assert {c.strip() for c in match[1].split(",")} == set(STAMP.values())
