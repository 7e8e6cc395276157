-- The dashboard's overview on PostgreSQL (storage/postgres/overview.py; migration 0010). Read in
-- one read-only transaction, so the counts, the queue and the throughput agree.

-- name: overview_counts
-- `job_counts` holds up to 16 shards per (tenant, type, state); `tenant_id` NULL: every tenant
SELECT type, state, sum(count)::bigint AS count
FROM job_counts
WHERE (:tenant_id::text IS NULL OR tenant_id = :tenant_id::text)
GROUP BY type, state
HAVING sum(count) <> 0;

-- name: overview_queues_all
-- per type with queued jobs: those ready now (queued minus those scheduled later; a short range
-- of `jobs_queued_by_type`) and the one ready longest
WITH queued AS (
    SELECT type, sum(count)::bigint AS queued FROM job_counts
    WHERE state = 'queued' GROUP BY type HAVING sum(count) > 0)
SELECT q.type, q.queued - later.n AS depth, o.id, o.created_at, o.scheduled_at
FROM queued q
CROSS JOIN LATERAL (SELECT count(*) AS n FROM jobs j
    WHERE j.state = 'queued' AND j.type = q.type AND j.scheduled_at > :now) AS later
LEFT JOIN LATERAL (SELECT j.id, j.created_at, j.scheduled_at FROM jobs j
    WHERE j.state = 'queued' AND j.type = q.type AND j.scheduled_at <= :now
    ORDER BY j.scheduled_at, j.id LIMIT 1) AS o ON true;

-- name: overview_queues_tenant
-- `overview_queues_all` for one tenant (`jobs_queued_by_tenant`)
WITH queued AS (
    SELECT type, sum(count)::bigint AS queued FROM job_counts
    WHERE state = 'queued' AND tenant_id = :tenant_id GROUP BY type HAVING sum(count) > 0)
SELECT q.type, q.queued - later.n AS depth, o.id, o.created_at, o.scheduled_at
FROM queued q
CROSS JOIN LATERAL (SELECT count(*) AS n FROM jobs j
    WHERE j.state = 'queued' AND j.tenant_id = :tenant_id AND j.type = q.type
        AND j.scheduled_at > :now) AS later
LEFT JOIN LATERAL (SELECT j.id, j.created_at, j.scheduled_at FROM jobs j
    WHERE j.state = 'queued' AND j.tenant_id = :tenant_id AND j.type = q.type
        AND j.scheduled_at <= :now
    ORDER BY j.scheduled_at, j.id LIMIT 1) AS o ON true;

-- name: overview_finished
-- completed and failed jobs per type: from `since` in buckets of `coarse` seconds, from
-- `fine_since` in buckets of `fine` (core/overview.py `FinishBuckets`); one range of
-- `jobs_finished_at` (index only), which a tenant's view filters
SELECT type, floor(finished_at / b.size) * b.size AS start,
    count(*) FILTER (WHERE state = 'completed') AS completed,
    count(*) FILTER (WHERE state = 'failed') AS failed
FROM jobs,
    LATERAL (SELECT CASE WHEN finished_at >= :fine_since THEN :fine::double precision
                         ELSE :coarse::double precision END AS size) AS b
WHERE finished_at IS NOT NULL AND finished_at >= :since
    AND state IN ('completed', 'failed')
    AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id::text)
GROUP BY 1, 2;
