-- Usage metering (core/usage.py). One writer, so one counter row per tenant and day: shard 0.
-- Items processed are counted by the trigger `jobs_usage_processed` (migration 0004).

-- name: usage_add_submitted
INSERT INTO usage_daily (tenant_id, day, shard, jobs_submitted)
VALUES (:tenant_id, date(:at, 'unixepoch'), 0, :count)
ON CONFLICT (tenant_id, day, shard) DO UPDATE SET
    jobs_submitted = jobs_submitted + excluded.jobs_submitted

-- name: usage_days
SELECT day, sum(jobs_submitted) AS jobs_submitted, sum(items_processed) AS items_processed
FROM usage_daily
WHERE tenant_id = :tenant_id AND day BETWEEN :first_day AND :last_day
GROUP BY day
ORDER BY day
