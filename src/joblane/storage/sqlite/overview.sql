-- The dashboard's overview on SQLite (storage/sqlite/overview.py; migration 0010), read in one
-- read transaction. `tenant_id` NULL: every tenant.

-- name: overview_counts
SELECT type, state, count(*) FROM jobs
WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id)
GROUP BY type, state;

-- name: overview_queues
-- per type with queued jobs: how many are ready now, and the one ready longest
SELECT q.type, q.depth, o.id, o.created_at, o.scheduled_at
FROM (
    SELECT type, count(*) FILTER (WHERE scheduled_at <= :now) AS depth FROM jobs
    WHERE state = 'queued' AND (:tenant_id IS NULL OR tenant_id = :tenant_id)
    GROUP BY type
) AS q
LEFT JOIN jobs AS o ON o.id = (
    SELECT j.id FROM jobs j
    WHERE j.state = 'queued' AND j.type = q.type AND j.scheduled_at <= :now
        AND (:tenant_id IS NULL OR j.tenant_id = :tenant_id)
    ORDER BY j.scheduled_at, j.id LIMIT 1);

-- name: overview_finished
-- completed and failed jobs per type: from `since` in buckets of `coarse` seconds, from
-- `fine_since` in buckets of `fine` (core/overview.py `FinishBuckets`; times are positive, so
-- CAST floors)
SELECT type, CAST(t.at / t.size AS INTEGER) * t.size AS start,
    sum(t.state = 'completed'), sum(t.state = 'failed')
FROM (
    SELECT type, state, coalesce(completed_at, failed_at) AS at,
        CASE WHEN coalesce(completed_at, failed_at) >= :fine_since THEN :fine ELSE :coarse END
            AS size
    FROM jobs
    WHERE state IN ('completed', 'failed') AND coalesce(completed_at, failed_at) >= :since
        AND (:tenant_id IS NULL OR tenant_id = :tenant_id)
) AS t
GROUP BY 1, 2;
