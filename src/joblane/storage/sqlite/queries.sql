-- Named queries of the SQLite backend. Guards on `state` follow core/states.py TRANSITIONS;
-- every worker write checks `lease_token`.

-- name: job_insert
INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt, max_attempts,
    timeout, batch_id, idempotency_key, callback_url, created_at, updated_at, scheduled_at,
    capped)
VALUES (:id, :tenant_id, :type, 'queued', :priority, :input, :metadata, 1, :max_attempts,
    :timeout, :batch_id, :idempotency_key, :callback_url, :now, :now, :scheduled_at,
    -- fair share (fairshare.sql): jobs of a tenant with max_running queue in its lane
    :batch_id IS NULL AND EXISTS (
        SELECT 1 FROM tenants WHERE id = :tenant_id AND max_running IS NOT NULL))

-- name: job_get
SELECT * FROM jobs WHERE id = :id

-- name: job_get_for_tenant
SELECT * FROM jobs WHERE id = :id AND tenant_id = :tenant_id

-- name: jobs_versions
SELECT id, version FROM jobs WHERE id IN (SELECT value FROM json_each(:ids))

-- name: idempotency_get
SELECT request_hash, job_id FROM idempotency_keys
WHERE tenant_id = :tenant_id AND key = :key AND expires_at > :now

-- name: idempotency_put
INSERT OR REPLACE INTO idempotency_keys (tenant_id, key, request_hash, job_id, expires_at)
VALUES (:tenant_id, :key, :request_hash, :job_id, :expires_at)

-- name: idempotency_purge
DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (
    SELECT tenant_id, key FROM idempotency_keys WHERE expires_at <= :now LIMIT :limit)

-- name: job_cancel_queued
UPDATE jobs SET state = 'cancelled', version = version + 1, cancelled_at = :now,
    updated_at = :now, cancel_requested = 1, cancel_reason = :reason
WHERE id = :id AND state = 'queued'
RETURNING *

-- name: job_request_cancel
UPDATE jobs SET cancel_requested = 1, cancel_reason = :reason, version = version + 1,
    updated_at = :now
WHERE id = :id AND state = 'running' AND cancel_requested = 0
RETURNING *

-- name: job_retry
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    max_attempts = MAX(max_attempts, attempt + 1), scheduled_at = :now, updated_at = :now,
    result = NULL, started_at = NULL, completed_at = NULL, failed_at = NULL,
    cancelled_at = NULL, cancel_requested = 0, cancel_reason = NULL,
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL,
    capped = (batch_id IS NULL AND EXISTS (  -- fair share: the tenant's lane, as now
        SELECT 1 FROM tenants WHERE id = jobs.tenant_id AND max_running IS NOT NULL))
WHERE id = :id AND state IN ('failed', 'cancelled')
RETURNING *

-- name: job_delete
DELETE FROM jobs WHERE id = :id AND state IN ('completed', 'failed', 'cancelled')

-- name: jobs_claim
-- Jobs outside batches come from `jobs_claimable`; items of batches only through `:picked`
-- (chosen per batch that may start items now, see `batches_with_room`), jobs of tenants with
-- max_running only through `:capped` (fairshare.sql): the claim takes the best `:limit` of
-- them, in claim order.
UPDATE jobs SET state = 'running', version = version + 1, started_at = :now,
    updated_at = :now, lease_token = :token, lease_expires_at = :now + :lease_seconds,
    worker_id = :worker_id
WHERE id IN (
    SELECT id FROM (
        SELECT id, priority, scheduled_at FROM (
            SELECT id, priority, scheduled_at FROM jobs INDEXED BY jobs_claimable
            WHERE state = 'queued' AND batch_id IS NULL AND capped = 0 AND scheduled_at <= :now
              AND type IN (SELECT value FROM json_each(:types))
            ORDER BY priority DESC, scheduled_at, id
            LIMIT :limit)
        UNION ALL
        SELECT id, priority, scheduled_at FROM jobs
        WHERE id IN (SELECT value FROM json_each(:picked)) AND state = 'queued'
        UNION ALL
        SELECT id, priority, scheduled_at FROM jobs
        WHERE id IN (SELECT value FROM json_each(:capped)) AND state = 'queued')
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit)
RETURNING *

-- name: jobs_claimable_exists
-- Items of paused batches, or of limited ones without room, and jobs of tenants at their
-- max_running (fairshare.sql), are not claimable: an idle worker must not spin on them.
SELECT 1 FROM jobs INDEXED BY jobs_claimable
WHERE state = 'queued' AND batch_id IS NULL AND capped = 0 AND scheduled_at <= :now
  AND type IN (SELECT value FROM json_each(:types))
UNION ALL
SELECT 1 FROM batches b INDEXED BY batches_unsettled
JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.settled_at IS NULL AND b.control = 'active' AND c.queued > 0
  AND (b.max_concurrent IS NULL OR c.running < b.max_concurrent)
  AND NOT EXISTS (
    SELECT 1 FROM tenants t WHERE t.id = b.tenant_id AND t.max_running <= (
        SELECT count(*) FROM jobs WHERE tenant_id = t.id AND state = 'running'))
  AND EXISTS (
    SELECT 1 FROM jobs INDEXED BY jobs_batch_queued
    WHERE batch_id = b.id AND state = 'queued' AND scheduled_at <= :now
      AND type IN (SELECT value FROM json_each(:types)))
UNION ALL
SELECT 1 FROM tenants t INDEXED BY tenants_capped
WHERE t.max_running IS NOT NULL
  AND t.max_running > (SELECT count(*) FROM jobs WHERE tenant_id = t.id AND state = 'running')
  AND EXISTS (
    SELECT 1 FROM jobs INDEXED BY jobs_capped
    WHERE tenant_id = t.id AND state = 'queued' AND batch_id IS NULL AND capped = 1
      AND scheduled_at <= :now AND type IN (SELECT value FROM json_each(:types)))
LIMIT 1

-- name: jobs_next_due
-- Like `jobs_claimable_exists`: what a worker may start once it is due.
SELECT min(due) FROM (
    SELECT min(scheduled_at) AS due FROM jobs INDEXED BY jobs_claimable
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 0
      AND type IN (SELECT value FROM json_each(:types))
    UNION ALL
    SELECT (SELECT min(scheduled_at) FROM jobs INDEXED BY jobs_batch_queued
            WHERE batch_id = b.id AND state = 'queued'
              AND type IN (SELECT value FROM json_each(:types)))
    FROM batches b INDEXED BY batches_unsettled
    JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
    WHERE b.settled_at IS NULL AND b.control = 'active' AND c.queued > 0
      AND (b.max_concurrent IS NULL OR c.running < b.max_concurrent)
      AND NOT EXISTS (
        SELECT 1 FROM tenants t WHERE t.id = b.tenant_id AND t.max_running <= (
            SELECT count(*) FROM jobs WHERE tenant_id = t.id AND state = 'running'))
    UNION ALL
    SELECT (SELECT min(scheduled_at) FROM jobs INDEXED BY jobs_capped
            WHERE tenant_id = t.id AND state = 'queued' AND batch_id IS NULL AND capped = 1
              AND type IN (SELECT value FROM json_each(:types)))
    FROM tenants t INDEXED BY tenants_capped
    WHERE t.max_running IS NOT NULL AND t.max_running > (
        SELECT count(*) FROM jobs WHERE tenant_id = t.id AND state = 'running'))

-- name: job_heartbeat
UPDATE jobs SET lease_expires_at = :now + :lease_seconds
WHERE id = :id AND state = 'running' AND lease_token = :token
RETURNING cancel_requested

-- name: job_progress
UPDATE jobs SET version = version + 1, updated_at = :now,
    progress_processed = MAX(progress_processed, :processed),
    progress_total = COALESCE(:total, progress_total),
    progress_failed = MAX(progress_failed, :failed),
    progress_message = COALESCE(:message, progress_message)
WHERE id = :id AND state = 'running' AND lease_token = :token

-- name: job_complete
UPDATE jobs SET state = 'completed', version = version + 1, result = :result, error = NULL,
    completed_at = :now, updated_at = :now, lease_token = NULL, lease_expires_at = NULL,
    progress_processed = MAX(progress_processed, COALESCE(progress_total, 0))
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
    AND (:rescue = 0 OR lease_expires_at < :now)
RETURNING id, state, version, attempt

-- name: job_fail
UPDATE jobs SET state = 'failed', version = version + 1, error = :error, failed_at = :now,
    updated_at = :now, lease_token = NULL, lease_expires_at = NULL,
    rescue_count = rescue_count + :rescue
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
    AND (:rescue = 0 OR lease_expires_at < :now)
RETURNING id, state, version, attempt

-- name: job_cancelled
UPDATE jobs SET state = 'cancelled', version = version + 1, error = :error,
    cancelled_at = :now, updated_at = :now, lease_token = NULL, lease_expires_at = NULL
WHERE id = :id AND state = 'running' AND lease_token = :token
    AND (:rescue = 0 OR lease_expires_at < :now)
RETURNING id, state, version, attempt

-- name: job_requeue
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    error = :error, scheduled_at = :now + :delay, updated_at = :now, started_at = NULL,
    lease_token = NULL, lease_expires_at = NULL, worker_id = NULL,
    rescue_count = rescue_count + :rescue,
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL,
    capped = (batch_id IS NULL AND EXISTS (  -- fair share: the tenant's lane, as now
        SELECT 1 FROM tenants WHERE id = jobs.tenant_id AND max_running IS NOT NULL))
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
    AND (:rescue = 0 OR lease_expires_at < :now)
RETURNING id, state, version, attempt

-- name: job_release
UPDATE jobs SET state = 'queued', version = version + 1, scheduled_at = :now, updated_at = :now,
    started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL,
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL,
    capped = (batch_id IS NULL AND EXISTS (  -- fair share: the tenant's lane, as now
        SELECT 1 FROM tenants WHERE id = jobs.tenant_id AND max_running IS NOT NULL))
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
RETURNING id, state, version, attempt

-- name: jobs_cancel_requested
SELECT id FROM jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'running' AND cancel_requested = 1

-- name: jobs_expired_leases
SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < :now
ORDER BY lease_expires_at LIMIT :limit

-- name: leader_acquire
INSERT INTO leadership (name, holder, expires_at) VALUES (:name, :holder, :now + :ttl)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leadership.holder = excluded.holder OR leadership.expires_at < :now
RETURNING holder

-- name: leader_release
DELETE FROM leadership WHERE name = :name AND holder = :holder

-- name: worker_upsert
INSERT INTO workers (id, hostname, pid, types, concurrency, started_at, heartbeat_at, running)
VALUES (:id, :hostname, :pid, :types, :concurrency, :started_at, :now, :running)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = :now, running = excluded.running

-- name: worker_remove
DELETE FROM workers WHERE id = :id

-- name: workers_alive
SELECT * FROM workers WHERE heartbeat_at >= :since ORDER BY started_at

-- name: workers_prune
DELETE FROM workers WHERE heartbeat_at < :before

-- name: migrations_applied
SELECT version FROM schema_migrations

-- name: migration_record
INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :now)

-- name: batch_get
-- A batch with its counts. SQLite keeps one `batch_counts` row per batch (shard 0): the sums
-- over its shards (storage/batchmap.py) are that row.
SELECT b.*, c.queued, c.running, c.completed, c.failed, c.cancelled, c.changes,
    c.first_started_at, c.last_finished_at, c.item_seconds, c.timed_items
FROM batches b LEFT JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.id = :id AND (:tenant_id IS NULL OR b.tenant_id = :tenant_id)

-- name: batches_list
SELECT b.*, c.queued, c.running, c.completed, c.failed, c.cancelled, c.changes,
    c.first_started_at, c.last_finished_at, c.item_seconds, c.timed_items
FROM batches b LEFT JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.id < :before_id
ORDER BY b.id DESC LIMIT :limit

-- name: batches_list_for_tenant
SELECT b.*, c.queued, c.running, c.completed, c.failed, c.cancelled, c.changes,
    c.first_started_at, c.last_finished_at, c.item_seconds, c.timed_items
FROM batches b LEFT JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.tenant_id = :tenant_id AND b.id < :before_id
ORDER BY b.id DESC LIMIT :limit

-- name: batches_past_deadline
SELECT b.*, c.queued, c.running, c.completed, c.failed, c.cancelled, c.changes,
    c.first_started_at, c.last_finished_at, c.item_seconds, c.timed_items
FROM batches b JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.settled_at IS NULL AND b.deadline <= :now AND b.control IN ('active', 'paused')
  AND c.queued + c.running > 0
ORDER BY b.deadline LIMIT :limit

-- name: batches_versions
SELECT b.id, b.version + COALESCE(c.changes, 0)
FROM batches b LEFT JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.id IN (SELECT value FROM json_each(:ids))

-- name: batch_error_rows
SELECT code, count, sample, resolution FROM batch_errors WHERE batch_id = :batch_id

-- name: jobs_failed_codes
SELECT id, COALESCE(json_extract(error, '$.code'), 'UNKNOWN') AS code FROM jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'failed'

-- name: batch_results
SELECT id, state, result, error FROM jobs
WHERE batch_id = :batch_id AND id > :after_id
ORDER BY id LIMIT :limit

-- name: batch_stage
INSERT INTO batch_staging (batch_id, id, tenant_id, type, priority, input, metadata,
    max_attempts, timeout, callback_url, staged_at)
VALUES (:batch_id, :id, :tenant_id, :type, :priority, :input, :metadata, :max_attempts,
    :timeout, :callback_url, :now)

-- name: batch_unstage
INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt, max_attempts,
    timeout, batch_id, callback_url, created_at, updated_at, scheduled_at)
SELECT id, tenant_id, type, 'queued', priority, input, metadata, 1, max_attempts, timeout,
    batch_id, callback_url, :now, :now, :now
FROM batch_staging WHERE batch_id = :batch_id
ORDER BY id

-- name: batch_staging_delete
DELETE FROM batch_staging WHERE batch_id = :batch_id

-- name: batch_staging_expire
-- Uploads that died (crash, lost client) leave staged rows: drop every upload whose first item
-- was staged before `:before`, visiting one key per upload (skip-scan of the primary key).
DELETE FROM batch_staging WHERE batch_id IN (
    WITH RECURSIVE upload(batch_id) AS (
        SELECT min(batch_id) FROM batch_staging
        UNION ALL
        SELECT (SELECT min(s.batch_id) FROM batch_staging s WHERE s.batch_id > upload.batch_id)
        FROM upload WHERE upload.batch_id IS NOT NULL)
    SELECT batch_id FROM upload
    WHERE batch_id IS NOT NULL AND (
        SELECT s.staged_at FROM batch_staging s WHERE s.batch_id = upload.batch_id
        ORDER BY s.id LIMIT 1) < :before)

-- name: batch_insert
INSERT INTO batches (id, tenant_id, name, max_concurrent, priority, timeout, deadline,
    callback_url, notification_enabled, created_at, updated_at)
VALUES (:id, :tenant_id, :name, :max_concurrent, :priority, :timeout, :now + :timeout,
    :callback_url, :notification_enabled, :now, :now)

-- name: batch_counts_insert
INSERT INTO batch_counts (batch_id, shard, queued) VALUES (:batch_id, 0, :queued)

-- name: batches_with_room
-- Active, unsettled batches with queued items that may start more now: how many. (Batches of
-- tenants with max_running are left to fairshare.sql: the tenant's cap counts too.)
SELECT b.id, CASE WHEN b.max_concurrent IS NULL THEN :limit
                  ELSE b.max_concurrent - c.running END AS room
FROM batches b INDEXED BY batches_unsettled
JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
WHERE b.settled_at IS NULL AND b.control = 'active' AND c.queued > 0
  AND (b.max_concurrent IS NULL OR c.running < b.max_concurrent)
  AND b.tenant_id NOT IN (SELECT id FROM tenants WHERE max_running IS NOT NULL)

-- name: batch_claimable_items
SELECT id FROM jobs INDEXED BY jobs_batch_queued
WHERE batch_id = :batch_id AND state = 'queued' AND scheduled_at <= :now
  AND type IN (SELECT value FROM json_each(:types))
ORDER BY priority DESC, scheduled_at, id LIMIT :limit

-- name: batch_set_control
UPDATE batches SET control = :target, control_reason = :reason, version = version + 1,
    updated_at = :now
WHERE id = :id AND control IN (SELECT value FROM json_each(:sources))

-- name: batch_cancel_queued
UPDATE jobs SET state = 'cancelled', version = version + 1, cancelled_at = :now,
    updated_at = :now, cancel_requested = 1, cancel_reason = :reason
WHERE batch_id = :batch_id AND state = 'queued'

-- name: batch_request_cancel
UPDATE jobs SET cancel_requested = 1, cancel_reason = :reason, version = version + 1,
    updated_at = :now
WHERE batch_id = :batch_id AND state = 'running' AND cancel_requested = 0

-- name: batch_retry_failed
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    max_attempts = MAX(max_attempts, attempt + 1), scheduled_at = :now, updated_at = :now,
    result = NULL, started_at = NULL, completed_at = NULL, failed_at = NULL,
    cancelled_at = NULL, cancel_requested = 0, cancel_reason = NULL,
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL
WHERE batch_id = :batch_id AND state = 'failed'

-- name: batch_errors_reset
DELETE FROM batch_errors WHERE batch_id = :batch_id

-- name: batch_unsettle
UPDATE batches SET settled_at = NULL WHERE id = :id AND settled_at IS NOT NULL

-- name: batches_settle
UPDATE batches SET settled_at = :now WHERE id IN (
    SELECT b.id FROM batches b JOIN batch_counts c ON c.batch_id = b.id AND c.shard = 0
    WHERE b.settled_at IS NULL AND c.queued = 0 AND c.running = 0
    LIMIT :limit)
RETURNING id

-- name: batch_errors_resample
-- An item named in its error group's sample was retried: name the oldest items still failed
-- with that code instead, so a group that still has failed items keeps naming some of them.
UPDATE batch_errors SET sample = (
    SELECT json_group_array(id) FROM (
        SELECT id FROM jobs
        WHERE batch_id = :batch_id AND state = 'failed'
          AND COALESCE(json_extract(error, '$.code'), 'UNKNOWN') = :code
        ORDER BY id LIMIT 10))
WHERE batch_id = :batch_id AND code = :code
  AND EXISTS (SELECT 1 FROM json_each(sample) WHERE value = :job_id)
