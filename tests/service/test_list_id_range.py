"""JobService.list: a created range also bounds the ids a list walks (ids sort by the time they
were made), without losing a job whose id time is within the slack of its created_at."""

from __future__ import annotations

from dataclasses import replace

from factories import new_job
from joblane.app import Joblane
from joblane.core import ids
from joblane.core.principal import Principal
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import ID_TIME_SLACK, JobService, id_range
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter


def test_time_bound_sorts_between_ids_made_before_and_after() -> None:
    made = ids.new_id(ids.JOB)
    ms = ids.ulid(0)  # the shape of the body, for the length check
    bound = ids.time_bound(ids.JOB, 1_000_000.5)
    assert ids.is_valid(bound, ids.JOB) and len(bound) == len("job_") + len(ms)
    assert ids.time_bound(ids.JOB, 1_000_000.499) < bound < ids.time_bound(ids.JOB, 1_000_000.501)
    assert f"{ids.JOB}_{ids.ulid(1_000_000_499)}" < bound <= f"{ids.JOB}_{ids.ulid(1_000_000_500)}"
    assert ids.time_bound(ids.JOB, 0.0) < made


def test_id_range_keeps_the_tighter_cursor() -> None:
    query = JobFilter(tenant_id=None, created_after=5000.0, created_before=9000.0)
    ranged = id_range(query)
    assert ranged.after_id == ids.time_bound(ids.JOB, 5000.0 - ID_TIME_SLACK)
    assert ranged.before_id == ids.time_bound(ids.JOB, 9000.0 + ID_TIME_SLACK)
    cursor = ids.time_bound(ids.JOB, 8000.0)
    assert id_range(replace(query, before_id=cursor)).before_id == cursor
    assert id_range(JobFilter(tenant_id=None)) == JobFilter(tenant_id=None)


async def test_a_job_whose_id_is_older_than_its_creation_is_still_listed(
    storage: Storage, tenant_a: Principal
) -> None:
    now = storage.now()
    late = replace(new_job(), id=f"{ids.JOB}_{ids.ulid(int((now - 600) * 1000))}")
    old = replace(new_job(), id=f"{ids.JOB}_{ids.ulid(int((now - 3 * 86400) * 1000))}")
    await storage.jobs_insert([late, old])  # both created now, whatever their ids say
    service = JobService(storage, Joblane("t"), ChangeFeed(storage.jobs_versions))
    after = await service.list(tenant_a, JobFilter(tenant_id=None, created_after=now - 60))
    # 10 minutes off: within the slack, listed; 3 days off: the range's documented limit
    assert [j.id for j in after.jobs] == [late.id]
    before = await service.list(tenant_a, JobFilter(tenant_id=None, created_before=now - 60))
    assert before.jobs == []
