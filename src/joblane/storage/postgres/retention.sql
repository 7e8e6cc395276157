-- Retention on PostgreSQL (storage/postgres/retention.py). Every chunk is one statement: short
-- row locks, no long transaction. Cutoffs: `tenant_ids`/`befores` are the tenants with a
-- retention of their own and their cutoffs, `default_before` every other tenant's, and
-- `latest_before` the latest of them all: what each DELETE rechecks on the row (a job
-- retried meanwhile has no finish time, a re-settled batch a recent one), since the rows to
-- delete are found first and deleted after.

-- name: jobs_expire
-- Every tenant with finished jobs outside batches (a skip-scan of `jobs_finished`: one probe
-- per tenant), then that tenant's jobs finished before its cutoff: a range of the same index.
WITH RECURSIVE tenant(id) AS (
    (SELECT tenant_id FROM jobs WHERE finished_at IS NOT NULL AND batch_id IS NULL
     ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j
            WHERE j.tenant_id > t.id AND j.finished_at IS NOT NULL AND j.batch_id IS NULL
            ORDER BY j.tenant_id LIMIT 1)
    FROM tenant t WHERE t.id IS NOT NULL
), expired AS (
    SELECT e.id FROM tenant t
    LEFT JOIN unnest(:tenant_ids::text[], :befores::float8[]) AS c(tenant_id, before)
        ON c.tenant_id = t.id
    CROSS JOIN LATERAL (
        SELECT j.id FROM jobs j
        WHERE j.tenant_id = t.id AND j.finished_at IS NOT NULL AND j.batch_id IS NULL
            AND j.finished_at < COALESCE(c.before, :default_before::float8)
        ORDER BY j.finished_at LIMIT :limit) AS e
    WHERE t.id IS NOT NULL
    LIMIT :limit
), gone AS (
    DELETE FROM jobs
    WHERE id = ANY(ARRAY(SELECT id FROM expired))
        AND batch_id IS NULL AND finished_at < :latest_before::float8
    RETURNING id, tenant_id
), buried AS (
    INSERT INTO tombstones (id, tenant_id, purged_at)
    SELECT id, tenant_id, joblane_now() FROM gone
    ON CONFLICT (id) DO NOTHING
)
SELECT count(*) FROM gone

-- name: batches_expire
-- Settled batches past their tenant's cutoff (found like `jobs_expire`): the batch row goes
-- now, with a tombstone, and `batch_purges` remembers that its items are still to go. A
-- retry that re-opens the batch first locks its row; one that comes after finds no batch.
WITH RECURSIVE tenant(id) AS (
    (SELECT tenant_id FROM batches WHERE settled_at IS NOT NULL ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT b.tenant_id FROM batches b
            WHERE b.tenant_id > t.id AND b.settled_at IS NOT NULL
            ORDER BY b.tenant_id LIMIT 1)
    FROM tenant t WHERE t.id IS NOT NULL
), expired AS (
    SELECT e.id FROM tenant t
    LEFT JOIN unnest(:tenant_ids::text[], :befores::float8[]) AS c(tenant_id, before)
        ON c.tenant_id = t.id
    CROSS JOIN LATERAL (
        SELECT b.id FROM batches b
        WHERE b.tenant_id = t.id AND b.settled_at IS NOT NULL
            AND b.settled_at < COALESCE(c.before, :default_before::float8)
        ORDER BY b.settled_at LIMIT :limit) AS e
    WHERE t.id IS NOT NULL
    LIMIT :limit
), gone AS (
    DELETE FROM batches
    WHERE id = ANY(ARRAY(SELECT id FROM expired)) AND settled_at < :latest_before::float8
    RETURNING id, tenant_id
), buried AS (
    INSERT INTO tombstones (id, tenant_id, purged_at)
    SELECT id, tenant_id, joblane_now() FROM gone
    ON CONFLICT (id) DO NOTHING
), pending AS (
    INSERT INTO batch_purges (batch_id, started_at)
    SELECT id, joblane_now() FROM gone
    ON CONFLICT (batch_id) DO NOTHING
)
SELECT id FROM gone

-- name: batch_items_expire
-- Items of the batches being purged, oldest purge first; whatever their state (an item retried
-- after its batch went is never claimed, since claims start from the batch row). A batch's
-- items are read as a range of `jobs_by_batch`: as `batch_id = … ORDER BY id` the planner,
-- taking a big batch's items for spread evenly over the table, would walk the primary key
-- from its first id instead, through every older job. (Job ids, `job_…`, all sort below 'k'.)
WITH pending AS (
    SELECT batch_id COLLATE "default" AS batch_id FROM batch_purges
    ORDER BY started_at, batch_id LIMIT :batches
), doomed AS (
    SELECT i.id FROM pending p CROSS JOIN LATERAL (
        SELECT j.id FROM jobs j
        WHERE j.batch_id IS NOT NULL
            AND (j.batch_id, j.id) > (p.batch_id, '') AND (j.batch_id, j.id) < (p.batch_id, 'k')
        ORDER BY j.batch_id, j.id LIMIT :limit) AS i
    LIMIT :limit
), gone AS (
    DELETE FROM jobs WHERE id = ANY(ARRAY(SELECT id FROM doomed))
    RETURNING id, tenant_id
), buried AS (
    INSERT INTO tombstones (id, tenant_id, purged_at)
    SELECT id, tenant_id, joblane_now() FROM gone
    ON CONFLICT (id) DO NOTHING
)
SELECT count(*) FROM gone

-- name: batch_purges_finish
-- A new statement after `batch_items_expire`: it sees that statement's deletions. A batch with
-- no item left loses its counts and errors (rows an item retried at the last moment may have
-- added too), then its place in `batch_purges`.
WITH done AS (
    DELETE FROM batch_purges p
    WHERE p.batch_id IN (
            SELECT batch_id FROM batch_purges ORDER BY started_at, batch_id LIMIT :batches)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id IS NOT NULL
            AND (j.batch_id, j.id) > (p.batch_id COLLATE "default", '')
            AND (j.batch_id, j.id) < (p.batch_id COLLATE "default", 'k'))
    RETURNING p.batch_id
), counts AS (
    DELETE FROM batch_counts WHERE batch_id IN (SELECT batch_id FROM done)
), errors AS (
    DELETE FROM batch_errors WHERE batch_id IN (SELECT batch_id FROM done)
)
SELECT batch_id FROM done

-- name: tombstone_get
SELECT purged_at FROM tombstones
WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)

-- name: tombstones_purge
DELETE FROM tombstones WHERE id = ANY(ARRAY(
    SELECT id FROM tombstones WHERE purged_at < :before ORDER BY purged_at LIMIT :limit))
