-- Named queries of the SQLite backend. Guards on `state` follow core/states.py TRANSITIONS;
-- every worker write checks `lease_token`.

-- name: job_insert
INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt, max_attempts,
    timeout, batch_id, idempotency_key, callback_url, created_at, updated_at, scheduled_at)
VALUES (:id, :tenant_id, :type, 'queued', :priority, :input, :metadata, 1, :max_attempts,
    :timeout, :batch_id, :idempotency_key, :callback_url, :now, :now, :scheduled_at)

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
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL
WHERE id = :id AND state IN ('failed', 'cancelled')
RETURNING *

-- name: job_delete
DELETE FROM jobs WHERE id = :id AND state IN ('completed', 'failed', 'cancelled')

-- name: jobs_claim
UPDATE jobs SET state = 'running', version = version + 1, started_at = :now,
    updated_at = :now, lease_token = :token, lease_expires_at = :now + :lease_seconds,
    worker_id = :worker_id
WHERE id IN (
    SELECT id FROM jobs
    WHERE state = 'queued' AND scheduled_at <= :now
      AND type IN (SELECT value FROM json_each(:types))
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit)
RETURNING *

-- name: jobs_claimable_exists
SELECT 1 FROM jobs
WHERE state = 'queued' AND scheduled_at <= :now
  AND type IN (SELECT value FROM json_each(:types))
LIMIT 1

-- name: jobs_next_due
SELECT min(scheduled_at) FROM jobs
WHERE state = 'queued' AND type IN (SELECT value FROM json_each(:types))

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
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
    AND (:rescue = 0 OR lease_expires_at < :now)
RETURNING id, state, version, attempt

-- name: job_release
UPDATE jobs SET state = 'queued', version = version + 1, scheduled_at = :now, updated_at = :now,
    started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL,
    progress_processed = 0, progress_total = NULL, progress_failed = 0, progress_message = NULL
WHERE id = :id AND state = 'running' AND lease_token = :token AND cancel_requested = 0
RETURNING id, state, version, attempt

-- name: jobs_cancel_requested
SELECT id FROM jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'running' AND cancel_requested = 1

-- name: jobs_expired_leases
SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < :now
ORDER BY lease_expires_at LIMIT :limit

-- name: jobs_purge
DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs
    WHERE state IN ('completed', 'failed', 'cancelled') AND updated_at < :before
    LIMIT :limit)

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

-- name: key_insert
INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, created_at, expires_at)
VALUES (:id, :tenant_id, :name, :prefix, :key_hash, :scopes, :created_at, :expires_at)

-- name: key_by_hash
SELECT * FROM api_keys WHERE key_hash = :key_hash

-- name: keys_list
SELECT * FROM api_keys ORDER BY id

-- name: keys_list_for_tenant
SELECT * FROM api_keys WHERE tenant_id = :tenant_id ORDER BY id

-- name: key_revoke
UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL

-- name: migrations_applied
SELECT version FROM schema_migrations

-- name: migration_record
INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :now)
