"""PostgreSQL schema drift: `schema.sql` equals all migrations applied (compared as catalog facts,
not as text). The state guards are checked in test_state_guards.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import asyncpg
import pytest

import pg
from conftest import BACKENDS
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.postgres.connection import PostgresOptions

Fact = tuple[str, ...]

IGNORED = ("schema_migrations", "schema_migrations_pkey")


# Every fact is produced by PostgreSQL itself (format_type, pg_get_expr, pg_get_*def), so two
# spellings of the same DDL give the same rows. One query per kind of fact, all in schema public.
CATALOG: dict[str, str] = {
    "relation": """
        SELECT c.relname, c.relkind::text FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind <> 't'""",
    "column": """
        SELECT c.relname, a.attnum::text, a.attname, format_type(a.atttypid, a.atttypmod),
            CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
            coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(co.collname, '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
            AND a.attnum > 0 AND NOT a.attisdropped""",
    "reloptions": """
        SELECT c.relname, c.relkind::text,
            coalesce(array_to_string(ARRAY(SELECT unnest(c.reloptions) ORDER BY 1), ', '), '')
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'i', 'm')""",
    "index": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'""",
    "constraint": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = 'public'::regnamespace""",
    "function": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace""",
    "trigger": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal""",
}


def normalise(text: str) -> str:
    """Layout and comments do not count (function bodies keep the text they were written as)."""
    text = re.sub(r"--[^\n]*", " ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([(),;])\s*", r"\1", text)
    return text.strip()


async def facts_of(conn: asyncpg.Connection[asyncpg.Record]) -> set[Fact]:
    facts: set[Fact] = set()
    for kind, sql in CATALOG.items():
        for row in await conn.fetch(sql):
            values = tuple(normalise(str(value)) for value in row)
            if values[0] not in IGNORED:
                facts.add((kind, *values))
    return facts


async def catalog_facts(url: str) -> set[Fact]:
    conn = await asyncpg.connect(url)
    try:
        return await facts_of(conn)
    finally:
        await conn.close()


@asynccontextmanager
async def migrated_database() -> AsyncIterator[str]:
    async with pg.fresh_database(migrated=False) as url:
        storage = PostgresStorage(PostgresOptions(url, min_connections=1, max_connections=1))
        await storage.open()
        try:
            applied = await storage.migrate()
        finally:
            await storage.close()
        assert applied, "no migration was applied to a fresh database"
        yield url


@asynccontextmanager
async def declared_database() -> AsyncIterator[str]:
    script = files("joblane.storage.postgres").joinpath("schema.sql").read_text(encoding="utf-8")
    async with pg.fresh_database(migrated=False) as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(script)
        finally:
            await conn.close()
        yield url


def _diff(a: set[Fact], b: set[Fact]) -> str:
    def lines(facts: set[Fact]) -> str:
        return "".join(f"\n    {fact}" for fact in sorted(facts)) or " none"

    return f"\n  only after migrations:{lines(a - b)}\n  only in schema.sql:{lines(b - a)}"


# -- schema ----------------------------------------------------------------------------------
@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL unreachable")
async def test_schema_sql_equals_all_migrations_applied() -> None:
    async with migrated_database() as url:
        migrated = await catalog_facts(url)
    async with declared_database() as url:
        declared = await catalog_facts(url)

    assert migrated == declared, "schema.sql and the migrations differ:" + _diff(migrated, declared)
    tables = {fact[1] for fact in declared if fact[0] == "relation" and fact[2] == "r"}
    assert tables >= {"jobs", "idempotency_keys", "api_keys", "workers"}
    assert ("function", "joblane_now", "") in {fact[:3] for fact in declared}


@pytest.mark.skipif("postgres" not in BACKENDS, reason="PostgreSQL unreachable")
async def test_catalog_facts_see_what_matters() -> None:
    """Each kind of drift the comparison is meant to catch changes the facts; another spelling
    of the same DDL does not."""
    same = [
        "DROP INDEX jobs_claimable; CREATE INDEX jobs_claimable ON jobs "
        "(priority DESC, scheduled_at ASC, id) "
        "WHERE (state IN ('queued') AND batch_id IS NULL AND NOT (capped))",
        "ALTER TABLE jobs SET (fillfactor = 70)",
        "CREATE OR REPLACE FUNCTION joblane_now() RETURNS float8 STABLE LANGUAGE sql AS $$\n"
        "    SELECT extract(epoch FROM now())::double precision  -- a comment\n$$",
    ]
    changes = [
        "ALTER TABLE jobs RESET (autovacuum_vacuum_scale_factor)",
        "ALTER TABLE jobs SET (fillfactor = 100)",
        "ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 1",
        "ALTER TABLE jobs ALTER COLUMN callback_url SET NOT NULL",
        'ALTER TABLE jobs ALTER COLUMN tenant_id TYPE text COLLATE "C"',
        "DROP INDEX jobs_claimable; CREATE INDEX jobs_claimable ON jobs "
        "(priority, scheduled_at, id) WHERE state = 'queued'",
        "ALTER TABLE workers ADD CHECK (pid > 0)",
        "CREATE OR REPLACE FUNCTION joblane_now() RETURNS double precision LANGUAGE sql "
        "STABLE AS $$ SELECT extract(epoch FROM clock_timestamp())::double precision $$",
    ]
    async with declared_database() as url:
        conn = await asyncpg.connect(url)
        try:
            before = await facts_of(conn)
            for change in same + changes:
                tx = conn.transaction()
                await tx.start()
                try:
                    await conn.execute(change)
                    after = await facts_of(conn)
                finally:
                    await tx.rollback()
                if change in same:
                    assert after == before, f"not the same: {change}" + _diff(after, before)
                else:
                    assert after != before, f"not seen: {change}"
            assert await facts_of(conn) == before
        finally:
            await conn.close()


def test_normalise_ignores_layout_but_not_content() -> None:
    assert normalise("SELECT a,\n  b -- note\nFROM t") == normalise("SELECT a, b FROM t")
    assert normalise("SELECT a FROM t") != normalise("SELECT b FROM t")
