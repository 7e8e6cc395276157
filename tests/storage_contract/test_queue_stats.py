"""Storage contract: `queue_stats` (read by /metrics at scrape time): jobs ready to run now and
the oldest one's readiness, per type; running, finished and future jobs are not waiting."""

from __future__ import annotations

from factories import new_job
from joblane.storage.base import Storage


async def test_ready_jobs_are_counted_per_type_with_the_oldest(storage: Storage) -> None:
    assert (await storage.queue_stats()).types == ()
    first = await storage.jobs_insert([new_job(type_="a")])
    await storage.jobs_insert([new_job(type_="a"), new_job(type_="b")])
    await storage.jobs_insert([new_job(type_="a", run_at=storage.now() + 3600)])
    await storage.jobs_insert([new_job(type_="c")])
    await storage.jobs_claim("w1", ["c"], 10, 30.0)

    stats = await storage.queue_stats()

    by_type = {name: (depth, oldest) for name, depth, oldest in stats.types}
    assert set(by_type) == {"a", "b"}
    assert by_type["a"][0] == 2 and by_type["b"][0] == 1
    assert by_type["a"][1] == first[0].scheduled_at
    assert abs(stats.now - storage.now()) < 5
    assert stats.now >= by_type["a"][1]
