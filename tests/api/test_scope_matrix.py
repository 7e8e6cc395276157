"""The scope matrix, generated from the OpenAPI document: every authenticated operation needs
one scope (`needed_scope`: `admin` for the admin API, else `jobs:read` for GET and `jobs:write`
for every other method). A key with only the other scopes gets 403 FORBIDDEN naming the missing
scope, before anything about the request is looked at: a valid request, a malformed id, an
invalid query and a body that is not JSON (or too large) all get the same 403, so a key without
the scope learns nothing. A key with the scope is never refused; `admin` implies the other two."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from api.attack import (
    AUTHENTICATED,
    BATCH,
    JOB,
    KEY,
    Op,
    Tenant,
    answer,
    attack_order,
    malformed,
    needed_scope,
    tenant,
    two_tenants,
)
from api.conftest import Api, Headers, assert_problem
from api.test_rate_limits import READS, WRITES, serve_limited
from joblane.api.ratelimit import RateLimits
from joblane.core.clock import FakeClock
from joblane.core.principal import ADMIN, READ, WRITE
from joblane.service.ratelimit import MemoryRateLimiter, RatePolicies
from joblane.storage.base import Storage

OTHER_SCOPES = {READ: (WRITE,), WRITE: (READ,), ADMIN: (READ, WRITE)}
NOT_JSON = b"{" + b" " * 70 * 1024  # not JSON, and over the tests' 64 KiB body limit
BAD_QUERY_VALUES = {"integer": "-1x", "boolean": "maybe", "date": "someday", "date-time": "now"}


@dataclass(frozen=True, slots=True)
class Variant:
    """One way to call an operation: `bad` ones are refused (4xx) even with the right scope."""

    name: str
    value: str | None
    params: dict[str, str] | None = None
    content: bytes | None = None
    bad: bool = False


def target(side: Tenant, op: Op) -> str | None:
    """A real id of `side` for `op`: finished things, so event streams end."""
    kind = op.id_param
    if kind is None:
        return None
    if kind == KEY:
        return side.spare_key_id
    return side.ids(kind, finished_only=True)[0]


def variants(side: Tenant, op: Op) -> list[Variant]:
    value = target(side, op)
    found = [Variant("valid", value)]
    if op.id_param is not None:
        found.append(Variant("malformed id", malformed(op.id_param), bad=True))
    bad_query = {
        name: BAD_QUERY_VALUES[kind]
        for name, schema in op.query_params.items()
        if (kind := schema.get("format", schema.get("type", ""))) in BAD_QUERY_VALUES
    }
    if bad_query:
        found.append(Variant("invalid query", value, params=bad_query, bad=True))
    if op.body is not None:
        found.append(Variant("body not JSON", value, content=NOT_JSON, bad=True))
    return found


async def call(api: Api, op: Op, headers: Headers, variant: Variant) -> httpx.Response:
    extra = {"Content-Type": "application/json"} if variant.content is not None else {}
    request = op.call(
        api.client,
        {**headers, **extra},
        variant.value,
        params=variant.params,
        content=variant.content,
    )
    return await answer(request, f"{op.label} ({variant.name})")


async def keys_by_scope(api: Api) -> dict[tuple[str, ...], Headers]:
    keyed: dict[tuple[str, ...], Headers] = {}
    for scopes in ((READ,), (WRITE,), (READ, WRITE), (ADMIN,)):
        keyed[scopes] = await api.headers_for("ops" if ADMIN in scopes else "tenant-a", *scopes)
    return keyed


async def test_a_key_without_the_needed_scope_gets_403_whatever_it_sends(api: Api) -> None:
    a, _ = await two_tenants(api)
    keys = await keys_by_scope(api)
    failures = []

    for op in AUTHENTICATED:
        needed = needed_scope(op)
        lacking = keys[OTHER_SCOPES[needed]]
        for variant in variants(a, op):
            response = await call(api, op, lacking, variant)
            try:
                body = assert_problem(response, 403, "FORBIDDEN")
                assert body["details"] == {"scope": needed}, body
            except AssertionError as exc:
                failures.append(f"{op.label} ({variant.name}): {exc}")

    assert failures == [], "\n".join(failures)


async def test_a_key_with_the_needed_scope_is_not_refused(api: Api) -> None:
    """... and the invalid variants above are really invalid: with the scope, they are 4xx."""
    a, _ = await two_tenants(api)
    keys = await keys_by_scope(api)
    failures = []

    for op in sorted(AUTHENTICATED, key=attack_order):
        needed = needed_scope(op)
        for variant in variants(a, op):
            response = await call(api, op, keys[(needed,)], variant)
            wrong = response.status_code == 403 or response.status_code >= 500
            if variant.bad:
                wrong = not 400 <= response.status_code < 500 or response.status_code == 403
            if wrong:
                failures.append(f"{op.label} ({variant.name}): {response.status_code}")

    assert failures == [], "\n".join(failures)


async def test_admin_keys_pass_every_scope_check(api: Api) -> None:
    """`admin` implies `jobs:read` and `jobs:write` (and sees every tenant: see the matrix)."""
    a, _ = await two_tenants(api)
    admin = (await tenant(api, "ops", ADMIN)).headers

    for op in sorted(AUTHENTICATED, key=attack_order):
        response = await answer(op.call(api.client, admin, target(a, op)), op.label)

        assert response.status_code not in (401, 403), (op.label, response.text)
        assert response.status_code < 500, (op.label, response.text)


async def test_the_scope_rule_covers_every_kind_of_operation() -> None:
    """The derived rule is not vacuous: the document has operations of each scope, and ids of
    jobs, batches and keys to aim at."""
    scopes = {needed_scope(op) for op in AUTHENTICATED}
    kinds = {op.id_param for op in AUTHENTICATED}

    assert scopes == {READ, WRITE, ADMIN}
    assert {JOB, BATCH, KEY} <= kinds


async def test_every_authenticated_operation_documents_its_refusals() -> None:
    """401 and 403 as the matrices above answer them, and 429: rate limits are off in these
    tests, so nothing else would notice the document forgetting them."""
    for op in AUTHENTICATED:
        assert {"401", "403", "429"} <= set(op.spec["responses"]), op.label


async def test_a_refusal_for_scope_is_charged_like_any_authenticated_request(
    storage: Storage,
) -> None:
    """The scope is checked after the rate limit: a key probing what it may not do is limited
    (and told so in the fields) like one doing what it may."""
    limits = RateLimits(MemoryRateLimiter(FakeClock()), RatePolicies(READS, WRITES))
    async with serve_limited(storage, limits) as api:
        read_only = await api.headers_for("tenant-a", READ)
        answers = [
            await api.client.post("/v1/jobs", content=b"{", headers=read_only) for _ in range(3)
        ]

    assert [r.status_code for r in answers] == [403, 403, 429]
    assert all("ratelimit" in r.headers for r in answers)
