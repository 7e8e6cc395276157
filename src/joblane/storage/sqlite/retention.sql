-- Retention on SQLite (storage/sqlite/retention.py). Every statement is one short write: the
-- single writer is shared with submissions and claims. Cutoffs: `:cutoffs` is a JSON object
-- {tenant_id: epoch seconds} of tenants with a retention of their own, `:default_before` the
-- cutoff of every other tenant.

-- name: jobs_expire
-- Every tenant with finished jobs outside batches (a skip-scan of `jobs_finished`: one probe
-- per tenant), then that tenant's jobs finished before its cutoff: a range of the same index.
WITH RECURSIVE tenant(id) AS (
    SELECT (SELECT tenant_id FROM jobs INDEXED BY jobs_finished
            WHERE state IN ('completed', 'failed', 'cancelled') AND batch_id IS NULL
            ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j INDEXED BY jobs_finished
            WHERE j.tenant_id > tenant.id
              AND j.state IN ('completed', 'failed', 'cancelled') AND j.batch_id IS NULL
            ORDER BY j.tenant_id LIMIT 1)
    FROM tenant WHERE tenant.id IS NOT NULL
), cutoff(tenant_id, before) AS MATERIALIZED (
    SELECT t.id, COALESCE(c.value, :default_before)
    FROM tenant t LEFT JOIN json_each(:cutoffs) c ON c.key = t.id
    WHERE t.id IS NOT NULL
)
DELETE FROM jobs WHERE id IN (
    SELECT j.id FROM cutoff c
    JOIN jobs j INDEXED BY jobs_finished ON j.tenant_id = c.tenant_id AND j.updated_at < c.before
    WHERE j.state IN ('completed', 'failed', 'cancelled') AND j.batch_id IS NULL
    LIMIT :limit)
RETURNING id, tenant_id

-- name: batches_expired
-- Settled batches whose tenant's cutoff has passed since they settled, found like `jobs_expire`.
WITH RECURSIVE tenant(id) AS (
    SELECT (SELECT tenant_id FROM batches INDEXED BY batches_settled
            WHERE settled_at IS NOT NULL ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT b.tenant_id FROM batches b INDEXED BY batches_settled
            WHERE b.tenant_id > tenant.id AND b.settled_at IS NOT NULL
            ORDER BY b.tenant_id LIMIT 1)
    FROM tenant WHERE tenant.id IS NOT NULL
), cutoff(tenant_id, before) AS MATERIALIZED (
    SELECT t.id, COALESCE(c.value, :default_before)
    FROM tenant t LEFT JOIN json_each(:cutoffs) c ON c.key = t.id
    WHERE t.id IS NOT NULL
)
SELECT b.id, b.tenant_id FROM cutoff c
JOIN batches b INDEXED BY batches_settled
    ON b.tenant_id = c.tenant_id AND b.settled_at < c.before
WHERE b.settled_at IS NOT NULL
LIMIT :limit

-- name: batch_row_delete
DELETE FROM batches WHERE id = :id

-- name: batch_purge_begin
INSERT OR IGNORE INTO batch_purges (batch_id, started_at) VALUES (:id, :now)

-- name: batch_items_expire
-- Items of the batches being purged, oldest purge first; whatever their state (an item retried
-- after its batch went is never claimed, since claims start from the batch row).
WITH pending AS (
    SELECT batch_id FROM batch_purges ORDER BY started_at, batch_id LIMIT :batches)
DELETE FROM jobs WHERE id IN (
    SELECT j.id FROM pending p JOIN jobs j INDEXED BY jobs_by_batch ON j.batch_id = p.batch_id
    LIMIT :limit)
RETURNING id, tenant_id

-- name: batch_purges_done
SELECT p.batch_id FROM batch_purges p
WHERE p.batch_id IN (
    SELECT batch_id FROM batch_purges ORDER BY started_at, batch_id LIMIT :batches)
  AND NOT EXISTS (SELECT 1 FROM jobs j INDEXED BY jobs_by_batch WHERE j.batch_id = p.batch_id)

-- name: batch_counts_drop
DELETE FROM batch_counts WHERE batch_id IN (SELECT value FROM json_each(:ids))

-- name: batch_errors_drop
DELETE FROM batch_errors WHERE batch_id IN (SELECT value FROM json_each(:ids))

-- name: batch_purges_drop
DELETE FROM batch_purges WHERE batch_id IN (SELECT value FROM json_each(:ids))

-- name: tombstone_put
INSERT OR IGNORE INTO tombstones (id, tenant_id, purged_at) VALUES (:id, :tenant_id, :now)

-- name: tombstone_get
SELECT purged_at FROM tombstones
WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)

-- name: tombstones_purge
DELETE FROM tombstones WHERE id IN (
    SELECT id FROM tombstones INDEXED BY tombstones_by_age
    WHERE purged_at < :before ORDER BY purged_at LIMIT :limit)
