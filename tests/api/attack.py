"""What the attack tests aim at: the API's operations as its OpenAPI document lists them (so a
new endpoint is attacked without anyone listing it here), the scope each one needs, and real
resources of two tenants in every state, plus ids that exist nowhere."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.batching import bad, ok, submit_batch
from api.conftest import JSON, Api, Headers
from joblane.api import openapi
from joblane.core import ids
from joblane.core.clock import to_rfc3339
from joblane.core.principal import ADMIN, READ, WRITE
from joblane.core.retention import Cutoffs

# the path parameters that name something a tenant owns (or, in the admin API, a tenant or key)
JOB, BATCH, KEY, TENANT = "job_id", "batch_id", "key_id", "tenant_id"
WEBHOOK, EVENT = "webhook_id", "event_id"  # a webhook endpoint, a webhook event
ID_PARAMS = (JOB, BATCH, KEY, TENANT, WEBHOOK, EVENT)
# query parameters that carry an id of some kind
ID_QUERY_PARAMS = ("batch_id", "cursor", "job_details_cursor", "tenant", "tenant_id")
# operations whose body must be valid for a request to reach the code behind validation
BODIES: dict[str, JSON] = {
    "submitJob": {"type": "noop", "input": {}},
    "submitBatch": {"jobs": [ok(0)]},
    "createTenant": {"id": "tenant-c"},
    "createKey": {"tenant_id": "tenant-a", "scopes": [READ]},
    "updateTenant": {"name": "renamed"},
    "cancelJob": {"reason": "attack"},
    "cancelBatch": {"reason": "attack"},
    "createWebhook": {"url": "https://example.com/hooks/attack", "events": ["*"]},
    "updateWebhook": {"description": "attack"},
}
# path parameters that name nothing a tenant owns by themselves (a job's file is found through
# its job): the matrix sends this value, and aims at the id beside it
PATH_VALUES = {"name": "report.txt"}
ANSWER_WITHIN = 5.0
UNAUTHENTICATED = {  # operation -> why no tenant matrix applies
    "GET /healthz": "no credentials, no tenant data: a liveness probe",
    "GET /readyz": "no credentials, no tenant data: a readiness probe",
    "GET /v1/artifacts/{job_id}/{name}": "a signed link: its HMAC is the credential, minted "
    "only for a caller who could read the job (tests/api/test_artifact_links.py)",
    "GET /metrics": "no API key, no tenant data: counts by job type and route template; an "
    "optional operator token (tests/acceptance/test_metrics_acceptance.py)",
}


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the OpenAPI document."""

    method: str
    path: str
    spec: JSON

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def op_id(self) -> str:
        return str(self.spec["operationId"])

    @property
    def id_param(self) -> str | None:
        names = [
            p["name"]
            for p in self.spec["parameters"]
            if p["in"] == "path" and p["name"] not in PATH_VALUES
        ]
        assert len(names) <= 1, f"{self.label}: more than one path parameter"
        return names[0] if names else None

    @property
    def fixed_path_params(self) -> bool:
        """The path names something inside the resource of `id_param` (see PATH_VALUES)."""
        return any("{" + name + "}" in self.path for name in PATH_VALUES)

    @property
    def query_params(self) -> dict[str, JSON]:
        return {p["name"]: p["schema"] for p in self.spec["parameters"] if p["in"] == "query"}

    @property
    def authenticated(self) -> bool:
        return bool(self.spec["security"])

    @property
    def streams(self) -> bool:
        """Server-Sent Events: the stream of a job or batch that is not finished never ends."""
        content = self.spec["responses"].get("200", {}).get("content", {})
        return "text/event-stream" in content

    @property
    def body(self) -> JSON | None:
        if "requestBody" not in self.spec:
            return None
        return BODIES.get(self.op_id, {})

    def url(self, value: str | None = None) -> str:
        path = self.path
        for name, fixed in PATH_VALUES.items():
            path = path.replace("{" + name + "}", fixed)
        if self.id_param is None:
            return path
        assert value is not None, self.label
        return path.replace("{" + self.id_param + "}", value)

    async def call(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        value: str | None = None,
        *,
        method: str | None = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        body = None if content is not None or method == "HEAD" else self.body
        return await client.request(
            method or self.method,
            self.url(value),
            headers=headers,
            params=params,
            json=body,
            content=content,
        )


async def answer(request: Awaitable[httpx.Response], what: str) -> httpx.Response:
    """The response, or a failure naming `what` if there is none in time (an event stream that
    should have been refused, or has no end)."""
    try:
        return await asyncio.wait_for(request, ANSWER_WITHIN)
    except TimeoutError:
        raise AssertionError(f"{what}: no answer within {ANSWER_WITHIN} s") from None


def operations(spec: JSON) -> list[Op]:
    return [
        Op(method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = operations(openapi.build())
AUTHENTICATED = [op for op in OPERATIONS if op.authenticated]


def attack_order(op: Op) -> tuple[bool, bool]:
    """Reads first (event streams need finished jobs and batches still finished), deletes
    last (everything else needs the ids to exist)."""
    return (op.method != "GET", op.method == "DELETE")


def needed_scope(op: Op) -> str:
    """The rule the matrix checks the routes against: the admin API needs `admin`; otherwise
    GET (and HEAD) need `jobs:read` and every other method `jobs:write`."""
    if op.path.startswith("/v1/admin/"):
        return ADMIN
    return READ if op.method in ("GET", "HEAD") else WRITE


@dataclass(slots=True)
class Tenant:
    """A tenant's key and real resources: `jobs` and `batches` by state."""

    id: str
    headers: Headers
    key_id: str
    spare_key_id: str  # a key the admin API may revoke or rotate without locking anyone out
    jobs: dict[str, str] = field(default_factory=dict)
    batches: dict[str, str] = field(default_factory=dict)
    purged: dict[str, str] = field(default_factory=dict)  # kind -> an id retention purged
    items: list[str] = field(default_factory=list)  # every item of its batches
    webhooks: list[str] = field(default_factory=list)  # its webhook endpoints
    events: list[str] = field(default_factory=list)  # webhook events of its jobs and batches
    webhook_secrets: list[str] = field(default_factory=list)  # endpoint and callback secrets

    def ids(self, kind: str, *, finished_only: bool = False) -> list[str]:
        """This tenant's ids of `kind`; `finished_only`: those whose event stream ends."""
        unfinished = ("queued", "running", "active") if finished_only else ()
        if kind in (JOB, BATCH):
            by_state = self.jobs if kind == JOB else self.batches
            return [i for state, i in by_state.items() if state not in unfinished]
        if kind == KEY:
            return [self.key_id, self.spare_key_id]
        if kind in (WEBHOOK, EVENT):
            return list(self.webhooks if kind == WEBHOOK else self.events)
        return [self.id]

    def others(self, kind: str) -> list[str]:
        """The ids another tenant must not be able to tell apart from unknown ones."""
        purged = [self.purged[kind]] if kind in self.purged else []
        return [*self.ids(kind), *purged]

    def secrets(self) -> list[str]:
        """Everything of this tenant no other tenant's response may contain."""
        ids_ = [*self.jobs.values(), *self.batches.values(), *self.purged.values(), *self.items]
        hooks = [*self.webhooks, *self.events, *self.webhook_secrets]
        return [*ids_, *hooks, self.key_id, self.spare_key_id, self.id, self.headers["X-API-Key"]]


def unknown(kind: str) -> str:
    """A well-formed id of `kind` that exists nowhere."""
    prefix = {
        JOB: ids.JOB,
        BATCH: ids.BATCH,
        KEY: ids.KEY,
        WEBHOOK: ids.WEBHOOK,
        EVENT: ids.EVENT,
    }.get(kind)
    return ids.new_id(prefix) if prefix else "tenant-nobody"


def malformed(kind: str) -> str:
    return "not-an-id!" if kind == TENANT else "nope"


async def tenant(api: Api, tenant_id: str, *scopes: str) -> Tenant:
    created = await api.keys.create(tenant_id, scopes or (READ, WRITE))
    spare = await api.keys.create(tenant_id, (READ,), name="spare")
    return Tenant(tenant_id, {"X-API-Key": created.secret}, created.record.id, spare.record.id)


async def two_tenants(api: Api) -> tuple[Tenant, Tenant]:
    """Tenants A and B, each with jobs queued, running, completed, failed and cancelled, a
    batch item, a finished and an active batch; B also has a job and a batch that retention
    purged (its ids answer 410 to B, and must answer 404 to A)."""
    a, b = await tenant(api, "tenant-a"), await tenant(api, "tenant-b")
    for side in (a, b):  # subscribed before anything finishes: every job below has events
        await _webhook(api, side)
    await _purged(api, b)
    for side in (a, b):
        side.jobs["completed"] = (await api.submit(side.headers, "echo"))["id"]
        side.jobs["failed"] = (await api.submit(side.headers, "fail"))["id"]
        side.batches["finished"] = (await submit_batch(api, side.headers, [ok(0), bad(1, "X")]))[
            "id"
        ]
    await api.run_worker()
    later = to_rfc3339(api.storage.now() + 3600)
    for side in (a, b):
        side.jobs["item"] = (await _items(api, side, side.batches["finished"]))[0]
        side.jobs["running"] = (await api.submit(side.headers, "nap"))["id"]
        side.jobs["queued"] = (await api.submit(side.headers, "nap", run_at=later))["id"]
        cancelled = (await api.submit(side.headers, "nap", run_at=later))["id"]
        response = await api.client.post(f"/v1/jobs/{cancelled}/cancel", headers=side.headers)
        assert response.status_code == 200, response.text
        side.jobs["cancelled"] = cancelled
    assert len(await api.claim("nap")) == 2
    for side in (a, b):
        side.batches["active"] = (await submit_batch(api, side.headers, [ok(0)]))["id"]
        for batch_id in side.batches.values():
            side.items.extend(await _items(api, side, batch_id))
        side.events.extend(await _events(api, side))
    return a, b


async def _webhook(api: Api, side: Tenant) -> None:
    """An endpoint of `side` subscribed to everything, and its callback secret."""
    body = {"url": f"https://example.com/hooks/{side.id}", "events": ["*"]}
    created = await api.client.post("/v1/webhooks", json=body, headers=side.headers)
    assert created.status_code == 201, created.text
    side.webhooks.append(created.json()["id"])
    side.webhook_secrets.append(created.json()["secret"])
    secret = await api.client.post("/v1/callback-secret", headers=side.headers)
    assert secret.status_code == 200, secret.text
    side.webhook_secrets.append(secret.json()["secret"])


async def _events(api: Api, side: Tenant) -> list[str]:
    """The webhook events of `side`'s finished jobs (none is ever sent here: no dispatcher)."""
    url = f"/v1/webhooks/{side.webhooks[0]}/deliveries"
    response = await api.client.get(url, headers=side.headers)
    assert response.status_code == 200, response.text
    events = [delivery["event_id"] for delivery in response.json()["data"]]
    assert events, "finished jobs of a subscribed tenant have events"
    return events


async def _items(api: Api, side: Tenant, batch_id: str) -> list[str]:
    response = await api.client.get(f"/v1/batches/{batch_id}/jobs", headers=side.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def _purged(api: Api, side: Tenant) -> None:
    """A finished job and batch of `side` that retention purged (only that tenant's)."""
    job = await api.submit(side.headers, "echo")
    batch = await submit_batch(api, side.headers, [ok(0)])
    await api.run_worker()
    expired = Cutoffs(0.0, {side.id: api.storage.now() + 1.0})
    await api.storage.jobs_expire(expired, 100)
    await api.storage.batches_settle(100)
    await api.storage.batches_expire(expired, 100)
    await api.storage.batch_items_purge(100)
    for kind, purged in ((JOB, job["id"]), (BATCH, batch["id"])):
        assert await api.storage.tombstone_get(purged, side.id) is not None, kind
        side.purged[kind] = purged


async def versions(api: Api, side: Tenant) -> dict[str, Any]:
    """What `side` sees of its own resources: changed by nobody else's request."""
    seen: dict[str, Any] = {}
    for resource in [*side.jobs.values(), *side.batches.values()]:
        kind = "jobs" if resource.startswith("job_") else "batches"
        response = await api.client.get(f"/v1/{kind}/{resource}", headers=side.headers)
        seen[resource] = (response.status_code, response.json().get("version"))
    keys = await api.keys.list(side.id)
    seen["keys"] = sorted((k.id, k.revoked_at, k.replaced_by) for k in keys)
    for path in [
        *(f"webhooks/{w}" for w in side.webhooks),
        *(f"webhook-events/{e}" for e in side.events),
    ]:
        response = await api.client.get(f"/v1/{path}", headers=side.headers)
        seen[path] = (response.status_code, response.text)
    return seen
