"""The profile framework itself: names and `JOBLANE_COMPAT`, id formats, vocabularies, times,
a sixth profile registered by an application (envelope for 404 / 405 / 500, the optional
cross-tenant 403), and `joblane serve --profile` refusing an unknown name."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from starlette.responses import Response

from compat.conftest import Compat, serve_compat
from joblane.cli.main import cli
from joblane.compat import registry
from joblane.compat.access import find_job
from joblane.compat.mount import CompatConfig
from joblane.compat.profile import Call, Endpoint, ErrorInfo, Profile
from joblane.compat.wire import IdFormat, Vocabulary, epoch, flag, iso, json_response
from joblane.core import ids
from joblane.core.errors import InvalidId
from joblane.core.states import JobState
from joblane.storage.base import Storage

UUID = IdFormat(ids.JOB, style="uuid")
DASHED = IdFormat(ids.BATCH, prefix="batch-", what="batch")


def test_compat_setting() -> None:
    assert registry.parse_enabled("none") == () == registry.parse_enabled(" ")
    assert registry.parse_enabled("wickson, walkerst,wickson") == ("wickson", "walkerst")
    assert {"walkerst", "wickson"} <= set(registry.parse_enabled("all"))
    with pytest.raises(registry.UnknownProfile, match="unknown profile"):
        registry.parse_enabled("walkerst,nope")
    with pytest.raises(registry.UnknownProfile):
        registry.check_name("nope")
    with pytest.raises(ValueError, match="lowercase"):
        registry.register(_profile("Bad-Name"))


def test_id_formats_read_back_what_they_show() -> None:
    for joblane_id in [ids.new_id(ids.JOB) for _ in range(200)] + [
        "job_7" + "Z" * 25,
        "job_" + "0" * 26,
    ]:
        shown = UUID.show(joblane_id)
        assert len(shown) == 36 and shown.count("-") == 4
        assert UUID.read(shown) == joblane_id
        assert UUID.read(shown.upper()) == joblane_id
    batch_id = ids.new_id(ids.BATCH)
    assert DASHED.show(batch_id) == "batch-" + batch_id[4:]
    assert DASHED.read(DASHED.show(batch_id)) == batch_id
    for bad in ("", "batch-", "batch-abc123", "bat_" + batch_id[4:], "batch-" + "I" * 26):
        with pytest.raises(InvalidId, match="Invalid batch ID"):
            DASHED.read(bad)
    for bad in ("550e8400", "550e8400-e29b-41d4-a716-44665544000g", "x" * 36):
        with pytest.raises(InvalidId):
            UUID.read(bad)


def test_vocabulary_must_name_every_state() -> None:
    with pytest.raises(ValueError, match="cancelled"):
        Vocabulary(JobState, {state: state.value for state in JobState if state != "cancelled"})
    words = Vocabulary(JobState, {state: state.value.upper() for state in JobState})
    assert words(JobState.RUNNING) == "RUNNING" and "QUEUED" in words.words


def test_times_and_flags() -> None:
    assert iso(1734516000.9) == "2024-12-18T10:00:00Z" and iso(None) is None
    assert epoch(1712345678.99) == 1712345678 and epoch(None) is None
    assert [flag(v, False) for v in ("true", "True", "1", "yes")] == [True] * 4
    assert [flag(v, True) for v in ("false", "0", "no")] == [False] * 3
    assert flag(None, True) and not flag("maybe", False)


# -- a sixth profile, as an application would add one -----------------------------------------
async def show(call: Call) -> Response:
    job = await find_job(call, call.path("id"))
    return json_response({"id": job.id, "state": job.state.value})


async def crash(call: Call) -> Response:
    raise RuntimeError("secret internal detail")


def _error(info: ErrorInfo) -> dict[str, Any]:
    return {"err": info.code, "status": info.status, "msg": info.message, "op": info.operation}


def _profile(name: str = "acme", forbidden: bool = True) -> Profile:
    return Profile(
        name=name,
        title="a test profile",
        endpoints=(Endpoint("GET", "/tasks/{id}", show), Endpoint("GET", "/crash", crash)),
        error=_error,
        codes={"JOB_NOT_FOUND": "NO_SUCH_TASK"},
        statuses={"JOB_NOT_FOUND": 410},
        cross_tenant_forbidden=forbidden,
    )


@pytest.fixture
async def acme(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(registry._registered, "acme", _profile())
    async with serve_compat(storage, CompatConfig(("acme",))) as built:
        yield built


async def test_a_registered_profile_is_served(acme: Compat) -> None:
    job = await acme.submit("noop", {})
    base = "/compat/acme"
    ok = await acme.client.get(f"{base}/tasks/{job['id']}", headers=acme.headers_a)
    assert ok.json() == {"id": job["id"], "state": "queued"}

    other = await acme.client.get(f"{base}/tasks/{job['id']}", headers=acme.headers_b)
    assert other.status_code == 403 and other.json()["err"] == "FORBIDDEN"
    missing = await acme.client.get(f"{base}/tasks/job_{'0' * 26}", headers=acme.headers_b)
    assert missing.status_code == 410 and missing.json()["err"] == "NO_SUCH_TASK"
    invalid = await acme.client.get(f"{base}/tasks/nope", headers=acme.headers_a)
    assert invalid.status_code == 400 and invalid.json()["err"] == "INVALID_JOB_ID"

    crashed = await acme.client.get(f"{base}/crash", headers=acme.headers_a)
    assert crashed.status_code == 500
    assert crashed.json() == {
        "err": "INTERNAL_ERROR",
        "status": 500,
        "msg": "Internal error",
        "op": "crash",
    }
    nowhere = await acme.client.get(f"{base}/elsewhere")
    assert nowhere.status_code == 404 and nowhere.json()["err"] == "NOT_FOUND"
    wrong = await acme.client.delete(f"{base}/tasks/{job['id']}", headers=acme.headers_a)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, HEAD"
    anonymous = await acme.client.get(f"{base}/tasks/{job['id']}")
    assert anonymous.status_code == 401 and anonymous.json()["err"] == "UNAUTHORIZED"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert (
        await acme.client.get(f"/compat/walkerst/v1/jobs/{job['id']}/status")
    ).status_code == 404


async def test_admin_keys_and_plain_404_without_the_forbidden_rule(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry._registered, "plain", _profile("plain", forbidden=False))
    async with serve_compat(storage, CompatConfig(("plain",))) as compat:
        job = await compat.submit("noop", {})
        other = await compat.client.get(
            f"/compat/plain/tasks/{job['id']}", headers=compat.headers_b
        )
        assert other.status_code == 410 and other.json()["err"] == "NO_SUCH_TASK"
        admin = await compat.api.headers_for("ops", "admin")
        seen = await compat.client.get(f"/compat/plain/tasks/{job['id']}", headers=admin)
        assert seen.status_code == 200


@pytest.mark.parametrize(
    ("args", "env"),
    [(["serve", "--profile", "nope"], {}), (["api"], {"JOBLANE_COMPAT": "walkerst,nope"})],
)
def test_unknown_profile_names_are_refused_at_start(
    args: list[str], env: dict[str, str], tmp_path: Any
) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(cli, [*args, "--database-url", database], env=env)
    assert result.exit_code == 2, result.output
    assert "unknown profile" in result.output
