"""A bare Starlette endpoint reading one SQLite row: the floor our status GET is compared to."""

from __future__ import annotations

import json
import os
import sqlite3

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DB = os.environ.get("BASELINE_DB", "/tmp/joblane-baseline.db")


def _setup() -> sqlite3.Connection:
    conn = sqlite3.connect(DB, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT)")
    conn.execute("INSERT OR REPLACE INTO t VALUES ('x', ?)", (json.dumps({"status": "queued"}),))
    conn.commit()
    return conn


CONN = _setup()


async def get(request: Request) -> Response:
    row = CONN.execute("SELECT body FROM t WHERE id = ?", (request.path_params["id"],)).fetchone()
    return Response(row[0], media_type="application/json")


app = Starlette(routes=[Route("/rows/{id}", get)])
