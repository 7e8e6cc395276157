"""The cross-tenant matrix, generated from the OpenAPI document the app serves: every operation
x {own, another tenant's, nonexistent} id x every method. With tenant A's key, each of tenant
B's ids (in every state, purged ones too) answers exactly as an id that exists nowhere: same
status, code, body and header shape, same detail once the id is masked; and no response to A,
list or not, ever contains anything of B's (its ids, key ids, tenant id or secret)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from api.attack import (
    ID_PARAMS,
    ID_QUERY_PARAMS,
    JOB,
    UNAUTHENTICATED,
    Op,
    Tenant,
    answer,
    attack_order,
    needed_scope,
    operations,
    two_tenants,
    unknown,
    versions,
)
from api.conftest import Api
from joblane.core.principal import ADMIN

Shape = tuple[Any, ...]
SHARED_IDEMPOTENCY_KEY = "attack-idempotency-key"


def shape(response: httpx.Response, sent: str | None) -> Shape:
    """What a client can compare between two answers, the id it sent masked out."""
    headers = tuple(sorted(set(response.headers) - {"content-length"}))
    body = (
        response.json() if response.content and "json" in response.headers["content-type"] else None
    )
    if not isinstance(body, dict):
        return (response.status_code, headers)
    detail = str(body.get("detail", ""))
    if sent:
        detail = detail.replace(sent, "<id>")
    details = tuple(sorted(body.get("details") or {}))
    return (response.status_code, body.get("code"), tuple(sorted(body)), details, detail, headers)


def proves(op: Op, method: str, mine: httpx.Response, own: str, nothing: Shape) -> bool:
    """A 404 for A's own id still proves the tenant check let A through when it is not the
    unknown id's answer (a job's file that does not exist: the job was found). A HEAD has no
    body to tell them apart with: for a file of a job, the GET just before did."""
    return shape(mine, own) != nothing or (method == "HEAD" and op.fixed_path_params)


@dataclass
class Attack:
    """Tenant A's key aimed at every operation; what went wrong is collected, not raised, so
    one run names every hole at once."""

    api: Api
    a: Tenant
    b: Tenant
    failures: list[str] = field(default_factory=list)
    exercised: set[str] = field(default_factory=set)

    async def operation(self, op: Op) -> None:
        self.exercised.add(op.label)
        kind = op.id_param
        if kind is not None:
            for method in (op.method, "HEAD") if op.method == "GET" else (op.method,):
                await self._path_ids(op, kind, method)
        await self._query_ids(op, kind)

    async def _path_ids(self, op: Op, kind: str, method: str) -> None:
        label = f"{method} {op.path}"
        sent = unknown(kind)
        nothing = await self._call(op, sent, method=method)
        expected = shape(nothing, sent)
        for other in self.b.others(kind):
            theirs = shape(await self._call(op, other, method=method), other)
            if theirs != expected:
                self.failures.append(f"{label}: B's {other}: {theirs} != unknown: {expected}")
        for own in self.a.ids(kind, finished_only=op.streams):
            mine = await self._call(op, own, method=method)
            if needed_scope(op) == ADMIN:  # a non-admin key: refused whatever the id
                if mine.status_code != 403 or shape(mine, own) != expected:
                    self.failures.append(f"{label}: A's {own}: {shape(mine, own)}")
            elif mine.status_code in (404, 410) and not proves(op, method, mine, own, expected):
                self.failures.append(f"{label}: A's own {own} answered {mine.status_code}")

    async def _query_ids(self, op: Op, kind: str | None) -> None:
        """Query parameters that carry ids: B's answer like unknown ones; plain call first."""
        path_value = self.a.ids(kind, finished_only=True)[0] if kind else None
        await self._call(op, path_value)
        for name in ID_QUERY_PARAMS:
            if name not in op.query_params:
                continue
            for id_kind in ID_PARAMS:
                sent = unknown(id_kind)
                expected = shape(await self._call(op, path_value, {name: sent}), sent)
                other = self.b.others(id_kind)[0]
                theirs = shape(await self._call(op, path_value, {name: other}), other)
                if theirs != expected:
                    self.failures.append(f"{op.label}?{name}={other}: {theirs} != {expected}")

    async def _call(
        self,
        op: Op,
        value: str | None,
        params: dict[str, str] | None = None,
        *,
        method: str | None = None,
    ) -> httpx.Response:
        headers = dict(self.a.headers)
        if any(p["name"] == "Idempotency-Key" for p in op.spec["parameters"]):
            headers["Idempotency-Key"] = SHARED_IDEMPOTENCY_KEY  # B used it first
        request = op.call(self.api.client, headers, value, method=method, params=params)
        what = f"{method or op.method} {op.path} {value} {params}"
        try:  # an event stream of a job A should not see would never end
            response = await answer(request, what)
        except AssertionError as exc:
            self.failures.append(str(exc))
            return httpx.Response(599, request=httpx.Request(op.method, op.url(value)))
        if response.status_code >= 500:
            self.failures.append(f"{op.label} {value} {params}: {response.status_code}")
        sent = [value or "", *(params or {}).values()]
        for secret in self.b.secrets():
            if secret in response.text and secret not in sent:
                self.failures.append(f"{op.label} {value} {params}: leaks B's {secret}")
        return response


async def test_other_tenants_ids_answer_like_ids_that_exist_nowhere(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    a, b = await two_tenants(api)
    replayed = await api.client.post(
        "/v1/jobs",
        json={"type": "noop", "input": {}},
        headers={**b.headers, "Idempotency-Key": SHARED_IDEMPOTENCY_KEY},
    )
    b.jobs["idempotent"] = replayed.json()["id"]
    before = await versions(api, b)
    attack = Attack(api, a, b)

    for op in sorted(operations(spec), key=attack_order):
        if op.label not in UNAUTHENTICATED:
            await attack.operation(op)

    assert attack.failures == [], "\n".join(attack.failures)
    assert attack.exercised == {op.label for op in operations(spec)} - set(UNAUTHENTICATED)
    assert await versions(api, b) == before, "A's requests changed B's resources"


async def test_lists_show_a_tenant_its_own_ids_only(api: Api) -> None:
    a, b = await two_tenants(api)

    jobs = await api.client.get("/v1/jobs", params={"limit": 1000}, headers=a.headers)
    batches = await api.client.get("/v1/batches", headers=a.headers)
    items = await api.client.get(f"/v1/batches/{a.batches['finished']}/jobs", headers=a.headers)

    listed = {item["id"] for r in (jobs, batches, items) for item in r.json()["data"]}
    assert listed == {*a.jobs.values(), *a.batches.values(), *a.items}
    assert not listed & set(b.secrets())


async def test_every_operation_is_attacked_or_exempt_for_a_reason(api: Api) -> None:
    """A new endpoint joins the matrix by itself; one with a new kind of path parameter, or
    without credentials, must be classified here first."""
    ops = operations((await api.client.get("/openapi.json")).json())

    open_ops = {op.label for op in ops if not op.authenticated}
    unclassified = [op.label for op in ops if op.id_param not in (None, *ID_PARAMS)]

    assert open_ops == set(UNAUTHENTICATED), "exempt exactly the unauthenticated operations"
    assert all(reason for reason in UNAUTHENTICATED.values())
    assert unclassified == []
    assert any(op.id_param == JOB for op in ops)
