-- Fair share on PostgreSQL: a tenant's `max_running` caps its running jobs (outside and inside
-- batches) across all workers. The queued jobs of a capped tenant outside batches wait in its
-- lane (`jobs.capped`, index `jobs_capped`: one range per tenant), never in `jobs_claimable`;
-- while any tenant has a cap, the plain claim is `jobs_claim_fair`, which skips the capped
-- tenants' batches, and so does the limited claim. Lanes and those batches are claimed by
-- `jobs_claim_capped`, while the tenant's row is held, like `max_concurrent` of a batch
-- (queries.sql: `batches_limited_lock`). Functions and triggers: migration 0006.

-- name: jobs_claim_fair
-- `jobs_claim` (queries.sql; keep the two in step) while some tenant has max_running: jobs and
-- batches of capped tenants are left to `jobs_claim_capped`. `capped_ready` says whether that
-- has work now; `strays` whether `jobs_move_strays` has; `fair_share` (as `fair_share_active`)
-- whether this query is still the one to run. One row carries them even when nothing was
-- claimed.
WITH loose AS (
    -- a stray: a job queued while its tenant's cap was being set (its statement read the tenant
    -- before) is not claimed here but reported, and moved into its tenant's lane
    SELECT id, priority, scheduled_at, tenant_id IN (
        SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL) AS stray
    FROM jobs
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped AND scheduled_at <= joblane_now()
        AND type = ANY(:types::text[])
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), items AS (
    SELECT i.id, i.priority, i.scheduled_at
    FROM (SELECT id FROM batches
          WHERE settled_at IS NULL AND control = 'active' AND max_concurrent IS NULL
              AND tenant_id NOT IN (
                  SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
          ORDER BY priority DESC, id) AS b
    CROSS JOIN LATERAL (
        SELECT id, priority, scheduled_at FROM jobs
        WHERE batch_id = b.id COLLATE "default" AND state = 'queued'
            AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])
        ORDER BY priority DESC, scheduled_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED) AS i
    LIMIT :limit
), picked AS (
    SELECT id FROM (
        SELECT id, priority, scheduled_at FROM loose WHERE NOT stray
        UNION ALL SELECT * FROM items) AS c
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit
), claimed AS (
    UPDATE jobs SET state = 'running', version = version + 1, started_at = joblane_now(),
        updated_at = joblane_now(), lease_token = :token,
        lease_expires_at = joblane_now() + :lease_seconds, worker_id = :worker_id
    FROM picked WHERE jobs.id = picked.id
    RETURNING jobs.*
)
SELECT claimed.*, flag.limited, flag.capped_ready, flag.strays, flag.fair_share
FROM (SELECT EXISTS (SELECT 1 FROM batches WHERE settled_at IS NULL AND control = 'active'
        AND max_concurrent IS NOT NULL) AS limited,
    EXISTS (SELECT 1 FROM tenants WHERE max_running IS NOT NULL)
        OR EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped)
        AS fair_share,
    joblane_capped_ready(:types::text[]) AS capped_ready,
    EXISTS (SELECT 1 FROM loose WHERE stray) AS strays) AS flag
LEFT JOIN claimed ON true

-- name: fair_share_active
-- Does any tenant have a cap (or a lane still hold jobs)? Then claims run `jobs_claim_fair`.
SELECT EXISTS (SELECT 1 FROM tenants WHERE max_running IS NOT NULL)
    OR EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped)

-- name: tenants_capped_lock
-- Tenants that may start jobs of these types now, from their lane (visited one tenant at a
-- time: a skip scan) or their open batches, held until the claim of their jobs commits: another
-- claimer skips them, so the running count read next cannot go stale. A lane tenant without a
-- cap (lifted while one of its jobs was being queued) comes along too: its strays are claimed
-- here, without a limit.
WITH RECURSIVE lane(tenant_id) AS (
    (SELECT tenant_id FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped
     ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j
            WHERE j.state = 'queued' AND j.batch_id IS NULL AND j.capped
                AND j.tenant_id > lane.tenant_id
            ORDER BY j.tenant_id LIMIT 1)
    FROM lane WHERE lane.tenant_id IS NOT NULL
), candidates(id) AS (
    SELECT lane.tenant_id COLLATE "C" FROM lane
    WHERE (SELECT 1 FROM jobs q
           WHERE q.tenant_id = lane.tenant_id AND q.state = 'queued' AND q.batch_id IS NULL
               AND q.capped AND q.scheduled_at <= joblane_now() AND q.type = ANY(:types::text[])
           ORDER BY q.priority DESC, q.scheduled_at, q.id LIMIT 1) IS NOT NULL
    UNION
    SELECT t.id FROM tenants t
    WHERE t.max_running IS NOT NULL AND EXISTS (SELECT 1 FROM batches b
        WHERE b.tenant_id = t.id COLLATE "default" AND b.settled_at IS NULL
            AND b.control = 'active'
            AND EXISTS (SELECT 1 FROM jobs i
                WHERE i.batch_id = b.id COLLATE "default" AND i.state = 'queued'
                    AND i.scheduled_at <= joblane_now() AND i.type = ANY(:types::text[])))
)
SELECT t.id, t.max_running FROM candidates c JOIN tenants t ON t.id = c.id
CROSS JOIN LATERAL (SELECT count(*) AS jobs FROM jobs r
    WHERE r.tenant_id = t.id COLLATE "default" AND r.state = 'running') AS running
WHERE t.max_running IS NULL OR t.max_running > running.jobs
ORDER BY running.jobs, t.id  -- who runs least is served first
LIMIT 32
FOR NO KEY UPDATE OF t SKIP LOCKED

-- name: jobs_claim_capped
-- Run after `tenants_capped_lock`, as a new statement: its snapshot includes every claim
-- committed before the locks were ours. Per tenant at most `max_running - running` jobs, from
-- its lane and its open batches (each of those also within its own `max_concurrent`), the
-- tenant's best first; then `limit` of them, the tenants taking turns.
WITH counted AS (
    SELECT l.id, l.max_running, (SELECT count(*) FROM jobs r
        WHERE r.tenant_id = l.id AND r.state = 'running') AS running
    FROM unnest(:tenant_ids::text[], :max_runnings::int[]) AS l(id, max_running)
), room AS (
    SELECT id, max_running, running,
        LEAST(:limit, COALESCE(max_running - running, :limit)) AS free
    FROM counted
), lane AS (
    SELECT p.id, p.tenant_id, p.priority, p.scheduled_at FROM room CROSS JOIN LATERAL (
        SELECT id, tenant_id, priority, scheduled_at FROM jobs
        WHERE tenant_id = room.id AND state = 'queued' AND batch_id IS NULL AND capped
            AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])
        ORDER BY priority DESC, scheduled_at, id
        LIMIT GREATEST(room.free, 0)
        FOR UPDATE SKIP LOCKED) AS p
), items AS (
    SELECT i.id, i.tenant_id, i.priority, i.scheduled_at
    FROM room
    JOIN (SELECT id, tenant_id, max_concurrent, max_concurrent - COALESCE(
              (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = batches.id), 0)
              AS free
          FROM batches WHERE settled_at IS NULL AND control = 'active') AS b
        ON b.tenant_id = room.id AND room.max_running IS NOT NULL
    CROSS JOIN LATERAL (
        SELECT id, tenant_id, priority, scheduled_at FROM jobs
        WHERE batch_id = b.id COLLATE "default" AND state = 'queued'
            AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])
        ORDER BY priority DESC, scheduled_at, id
        LIMIT GREATEST(LEAST(room.free, COALESCE(b.free, room.free)), 0)
        FOR UPDATE SKIP LOCKED) AS i
), ranked AS (
    SELECT c.id, c.priority, c.scheduled_at, room.free, room.running, row_number() OVER (
        PARTITION BY c.tenant_id ORDER BY c.priority DESC, c.scheduled_at, c.id) AS n
    FROM (SELECT * FROM lane UNION ALL SELECT * FROM items) AS c
    JOIN room ON room.id = c.tenant_id
), picked AS (
    -- turn by turn (each tenant's best, then its second best…), who runs least first
    SELECT id FROM ranked WHERE n <= free
    ORDER BY n, running, priority DESC, scheduled_at, id
    LIMIT :limit
)
-- `capped` marks what runs under a cap (batch items too): its end wakes idle workers
UPDATE jobs SET state = 'running', version = version + 1, started_at = joblane_now(),
    updated_at = joblane_now(), lease_token = :token,
    lease_expires_at = joblane_now() + :lease_seconds, worker_id = :worker_id, capped = true
FROM picked WHERE jobs.id = picked.id
RETURNING jobs.*

-- name: jobs_move_strays
-- Jobs queued while their tenant's cap was being set (their statement read the tenant before
-- the change) are outside its lane; the plain claim meets them at the front of its queue and
-- reports them. Moved into the lane here, from the front of the queue: they are few and rare.
UPDATE jobs SET capped = true
WHERE state = 'queued' AND NOT capped AND id IN (
    SELECT id FROM (
        SELECT id, tenant_id FROM jobs
        WHERE state = 'queued' AND batch_id IS NULL AND NOT capped
        ORDER BY priority DESC, scheduled_at, id
        LIMIT 1000) AS front
    WHERE tenant_id IN (SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL))

-- name: tenant_running
SELECT count(*) FROM jobs WHERE tenant_id = :tenant_id AND state = 'running'
