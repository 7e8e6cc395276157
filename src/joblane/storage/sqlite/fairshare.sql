-- Fair share on SQLite: a tenant's `max_running` caps its running jobs (outside and inside
-- batches). The queued jobs of a capped tenant outside batches wait in its lane (`jobs.capped`,
-- index `jobs_capped`: one range per tenant), never in `jobs_claimable`; its batches are left
-- out of `batches_with_room`. The claim picks them here, at most `max_running - running` per
-- tenant (SQLite has one writer: what this counts cannot change before the claim commits).

-- name: any_tenant_capped
SELECT 1 FROM tenants INDEXED BY tenants_capped WHERE max_running IS NOT NULL LIMIT 1

-- name: tenants_with_room
-- Capped tenants with jobs in their lane (visited one tenant at a time: a skip scan) or with open
-- batches, that may start jobs now: how many. Who runs least comes first.
WITH RECURSIVE lane(tenant_id) AS (
    SELECT min(tenant_id) FROM jobs INDEXED BY jobs_capped
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 1
    UNION ALL
    SELECT (SELECT min(tenant_id) FROM jobs INDEXED BY jobs_capped
            WHERE state = 'queued' AND batch_id IS NULL AND capped = 1
              AND tenant_id > lane.tenant_id)
    FROM lane WHERE lane.tenant_id IS NOT NULL)
SELECT id, max_running - running AS room FROM (
    SELECT t.id, t.max_running, (
        SELECT count(*) FROM jobs WHERE tenant_id = t.id AND state = 'running') AS running
    FROM tenants t
    WHERE t.max_running IS NOT NULL AND t.id IN (
        SELECT tenant_id FROM lane
        UNION SELECT tenant_id FROM batches INDEXED BY batches_unsettled
        WHERE settled_at IS NULL AND control = 'active'))
WHERE running < max_running
ORDER BY running, id

-- name: tenant_lane_picks
SELECT id, priority, scheduled_at FROM jobs INDEXED BY jobs_capped
WHERE tenant_id = :tenant_id AND state = 'queued' AND batch_id IS NULL AND capped = 1
  AND scheduled_at <= :now AND type IN (SELECT value FROM json_each(:types))
ORDER BY priority DESC, scheduled_at, id LIMIT :limit

-- name: tenant_batches_with_room
-- as `batches_with_room` (queries.sql), for one tenant's batches
SELECT b.id, CASE WHEN b.max_concurrent IS NULL THEN :limit
                  ELSE b.max_concurrent - c.running END AS room
FROM batches b INDEXED BY batches_unsettled
JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.settled_at IS NULL AND b.control = 'active' AND c.queued > 0 AND b.tenant_id = :tenant_id
  AND (b.max_concurrent IS NULL OR c.running < b.max_concurrent)

-- name: batch_item_picks
SELECT id, priority, scheduled_at FROM jobs INDEXED BY jobs_batch_queued
WHERE batch_id = :batch_id AND state = 'queued' AND scheduled_at <= :now
  AND type IN (SELECT value FROM json_each(:types))
ORDER BY priority DESC, scheduled_at, id LIMIT :limit

-- name: tenant_running
SELECT count(*) FROM jobs WHERE tenant_id = :tenant_id AND state = 'running'
