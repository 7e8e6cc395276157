"""schemathesis against the OpenAPI document the app serves, every operation, generated valid
and invalid requests with a fixed seed and a bounded number of examples: no 5xx, and every
response conforms to the document (a documented status code, its content type, its body
schema, 401 without credentials).

The app runs in process as production runs it: storage opened and closed by its lifespan
(SQLite in a temporary directory), no rate limits (`ApiContext.limits=None`). A tenant key
(`jobs:read` + `jobs:write`) calls every operation, an admin key the admin API.
`JOBLANE_SCHEMATHESIS_EXAMPLES` raises the number of examples for a longer local run,
`JOBLANE_SCHEMATHESIS_SEED` explores with another seed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from schemathesis.python import asgi
from starlette.applications import Starlette

import apps
from joblane.api import openapi
from joblane.api.app import create_app
from joblane.api.context import ApiContext, ApiSettings
from joblane.core.principal import ADMIN, READ, WRITE
from joblane.service.artifact_store import ArtifactStore
from joblane.service.artifacts import ArtifactService
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions

Case = schemathesis.Case[Any]
SEED = int(os.environ.get("JOBLANE_SCHEMATHESIS_SEED", "20260131"))
EXAMPLES = int(os.environ.get("JOBLANE_SCHEMATHESIS_EXAMPLES", "25"))
# no worker runs here: a `Prefer: wait=N` on a submission waits its whole N
SETTINGS = ApiSettings(max_body_bytes=64 * 1024, max_wait=0.2, max_batch_bytes=1024 * 1024)
# Operations where a request the document calls valid may still be refused with 422 for a
# reason JSON Schema cannot state; for these alone 422 also counts as accepting valid data.
SEMANTIC_422 = {
    "submitJob": "job types and their inputs are the server's registry, not the document's",
    "submitBatch": "the same per item; and options go in the query only with a JSONL body",
    "createKey": "expires_at must be in the future",
    "getUsage": "'from' must not be after 'to', and a range covers at most 366 days",
    "createWebhook": "a URL's host may be an address webhooks may not go to (loopback, private)",
    "updateWebhook": "the same for a new URL",
    "redeliverWebhookEvent": "webhook_id must name an endpoint the event was sent to",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        # an invalid body refused for its size (413, before it is parsed) is refused all the same
        "checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "413"]}},
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            }
            for operation_id in SEMANTIC_422
        ],
    }
)

# a JSONL batch is text: one JSON object per line
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# the document is read from the app itself; requests go to `served` (same routes, storage open)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(None), config=CONFIG)


@dataclass
class Served:
    app: Starlette
    keys: dict[str, str] = field(default_factory=dict)  # "tenant" / "admin" -> secret

    def headers_for(self, case: Case) -> dict[str, str]:
        who = "admin" if case.path.startswith("/v1/admin/") else "tenant"
        return {"X-API-Key": self.keys[who]}


def serving(db: Path) -> Served:
    served = Served(create_app(None))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        storage = SqliteStorage(SqliteOptions(str(db)))
        await storage.open()
        await storage.migrate()
        changes = ChangeFeed(storage.jobs_versions)
        batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
        try:
            keys = KeyService(storage)
            jobs = JobService(storage, apps.app, changes)
            batches = BatchService(storage, apps.app, batch_changes, max_items=1000)
            artifacts = ArtifactService(storage, ArtifactStore.from_url(str(db.parent / "files")))
            await artifacts.open()
            app.state.ctx = ApiContext(
                storage, jobs, keys, SETTINGS, batches, limits=None, artifacts=artifacts
            )
            served.keys["tenant"] = (await keys.create("tenant-a", (READ, WRITE))).secret
            served.keys["admin"] = (await keys.create("ops", (ADMIN,))).secret
            yield
        finally:
            await changes.close()
            await batch_changes.close()
            await storage.close()

    served.app.router.lifespan_context = lifespan
    return served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = serving(tmp_path_factory.mktemp("schemathesis") / "joblane.db")
    with asgi.get_client(cast(Any, served.app)) as client:  # runs the lifespan's startup
        assert client.get("/readyz").status_code == 200
    try:
        yield served
    finally:
        asgi.shutdown_lifespans()  # closes the storage


@schema.parametrize()
def test_every_operation_conforms_to_the_document(case: Case, served: Served) -> None:
    case.call_and_validate(app=served.app, headers=served.headers_for(case))


def test_every_operation_with_a_body_documents_its_refusals() -> None:
    """What schemathesis does not probe: a body too large (413), of another media type (415)
    or invalid (422) is refused, and the document says so."""
    for path, methods in openapi.build()["paths"].items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(operation["responses"]), (method, path)
