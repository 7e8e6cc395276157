-- Usage metering (core/usage.py). Counters are sharded like batch_counts: a backend process
-- adds to its own row (pg_backend_pid() % 16), so concurrent writers never queue on one row; a
-- read sums the shards. Single submissions are counted inside `jobs_insert` (queries.sql), items
-- processed inside `jobs_complete` and `jobs_fail`: in the statement that makes the change.

-- name: usage_add_submitted
-- a committed batch's items, on the day they were created
INSERT INTO usage_daily AS u (tenant_id, day, shard, jobs_submitted)
VALUES (:tenant_id, joblane_utc_day(:at::float8), pg_backend_pid() % 16, :count)
ON CONFLICT (tenant_id, day, shard) DO UPDATE SET
    jobs_submitted = u.jobs_submitted + excluded.jobs_submitted

-- name: usage_days
SELECT day, sum(jobs_submitted)::bigint AS jobs_submitted,
    sum(items_processed)::bigint AS items_processed
FROM usage_daily
WHERE tenant_id = :tenant_id AND day BETWEEN :first_day::date AND :last_day::date
GROUP BY day
ORDER BY day
