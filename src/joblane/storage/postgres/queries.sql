-- Named queries of the PostgreSQL backend. `:name` parameters become `$n` once, at load.
-- Guards on `state` follow core/states.py TRANSITIONS; every worker write checks `lease_token`.
-- Times come from the database clock: joblane_now().

-- name: jobs_insert
WITH inserted AS (
    INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt,
        max_attempts, timeout, batch_id, idempotency_key, callback_url, created_at, updated_at,
        scheduled_at)
    SELECT j.id, j.tenant_id, j.type, 'queued', j.priority, j.input::json, j.metadata::jsonb, 1,
        j.max_attempts, j.timeout, j.batch_id, j.idempotency_key, j.callback_url, joblane_now(),
        joblane_now(), GREATEST(joblane_now(), COALESCE(j.run_at, 0))
    FROM unnest(:ids::text[], :tenant_ids::text[], :types::text[], :priorities::int[],
        :inputs::text[], :metadatas::text[], :max_attempts::int[], :timeouts::float8[],
        :batch_ids::text[], :idempotency_keys::text[], :callback_urls::text[], :run_ats::float8[])
        AS j(id, tenant_id, type, priority, input, metadata, max_attempts, timeout, batch_id,
             idempotency_key, callback_url, run_at)
    RETURNING *
)
-- the uncorrelated subquery runs once: one NOTIFY per statement, sent at its commit
SELECT *, (SELECT pg_notify('joblane_jobs', '')) IS NULL AS notified FROM inserted

-- name: notify_jobs
SELECT pg_notify('joblane_jobs', '')

-- name: job_get
SELECT * FROM jobs WHERE id = :id

-- name: jobs_by_ids
SELECT * FROM jobs WHERE id = ANY(:ids::text[])

-- name: job_get_for_update
SELECT * FROM jobs WHERE id = :id FOR UPDATE

-- name: jobs_versions
SELECT id, version FROM jobs WHERE id = ANY(:ids::text[])

-- name: idempotency_get
SELECT request_hash, job_id FROM idempotency_keys
WHERE tenant_id = :tenant_id AND key = :key AND expires_at > joblane_now()
FOR UPDATE

-- name: idempotency_lock
SELECT pg_advisory_xact_lock(hashtextextended(:tenant_id || '/' || :key, 7))

-- name: idempotency_put
INSERT INTO idempotency_keys (tenant_id, key, request_hash, job_id, expires_at)
VALUES (:tenant_id, :key, :request_hash, :job_id, joblane_now() + :ttl)
ON CONFLICT (tenant_id, key) DO UPDATE
SET request_hash = excluded.request_hash, job_id = excluded.job_id,
    expires_at = excluded.expires_at

-- name: idempotency_purge
DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (
    SELECT tenant_id, key FROM idempotency_keys WHERE expires_at <= joblane_now()
    LIMIT :limit)

-- name: job_cancel_queued
UPDATE jobs SET state = 'cancelled', version = version + 1, cancelled_at = joblane_now(),
    finished_at = joblane_now(), updated_at = joblane_now(), cancel_requested = true,
    cancel_reason = :reason
WHERE id = :id AND state = 'queued'
RETURNING *

-- name: job_request_cancel
UPDATE jobs SET cancel_requested = true, cancel_reason = :reason, version = version + 1,
    updated_at = joblane_now()
WHERE id = :id AND state = 'running' AND NOT cancel_requested
RETURNING *

-- name: job_retry
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    max_attempts = GREATEST(max_attempts, attempt + 1), scheduled_at = joblane_now(),
    updated_at = joblane_now(), result = NULL, started_at = NULL, completed_at = NULL,
    failed_at = NULL, cancelled_at = NULL, finished_at = NULL, cancel_requested = false,
    cancel_reason = NULL, progress_processed = 0, progress_total = NULL,
    progress_failed = 0, progress_message = NULL
WHERE id = :id AND state IN ('failed', 'cancelled')
RETURNING *

-- name: job_delete
DELETE FROM jobs WHERE id = :id AND state IN ('completed', 'failed', 'cancelled')

-- name: jobs_claim
WITH picked AS (
    SELECT id FROM jobs
    WHERE state = 'queued' AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET state = 'running', version = version + 1, started_at = joblane_now(),
    updated_at = joblane_now(), lease_token = :token,
    lease_expires_at = joblane_now() + :lease_seconds, worker_id = :worker_id
FROM picked WHERE jobs.id = picked.id
RETURNING jobs.*

-- name: jobs_next_due
SELECT min(scheduled_at) - joblane_now() FROM jobs
WHERE state = 'queued' AND type = ANY(:types::text[])

-- name: jobs_heartbeat
UPDATE jobs SET lease_expires_at = joblane_now() + :lease_seconds
FROM unnest(:ids::text[], :tokens::text[]) AS l(id, token)
WHERE jobs.id = l.id AND jobs.state = 'running' AND jobs.lease_token = l.token
RETURNING jobs.id, jobs.cancel_requested

-- name: jobs_progress
UPDATE jobs SET version = version + 1, updated_at = joblane_now(),
    progress_processed = GREATEST(progress_processed, p.processed),
    progress_total = COALESCE(p.total, progress_total),
    progress_failed = GREATEST(progress_failed, p.failed),
    progress_message = COALESCE(p.message, progress_message)
FROM unnest(:ids::text[], :tokens::text[], :processed::bigint[], :totals::bigint[],
            :failed::bigint[], :messages::text[]) AS p(id, token, processed, total, failed, message)
WHERE jobs.id = p.id AND jobs.state = 'running' AND jobs.lease_token = p.token
RETURNING jobs.id

-- name: jobs_complete
UPDATE jobs SET state = 'completed', version = version + 1, result = o.result::json,
    error = NULL, completed_at = joblane_now(), finished_at = joblane_now(),
    updated_at = joblane_now(), lease_token = NULL, lease_expires_at = NULL,
    progress_processed = GREATEST(progress_processed, COALESCE(progress_total, 0))
FROM unnest(:ids::text[], :tokens::text[], :results::text[]) AS o(id, token, result)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_fail
UPDATE jobs SET state = 'failed', version = version + 1, error = o.error::json,
    failed_at = joblane_now(), finished_at = joblane_now(), updated_at = joblane_now(),
    lease_token = NULL, lease_expires_at = NULL,
    rescue_count = rescue_count + CASE WHEN o.rescue THEN 1 ELSE 0 END
FROM unnest(:ids::text[], :tokens::text[], :errors::text[], :rescues::bool[])
    AS o(id, token, error, rescue)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested
    AND (NOT o.rescue OR jobs.lease_expires_at < joblane_now())
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_cancelled
UPDATE jobs SET state = 'cancelled', version = version + 1, error = o.error::json,
    cancelled_at = joblane_now(), finished_at = joblane_now(), updated_at = joblane_now(),
    lease_token = NULL, lease_expires_at = NULL
FROM unnest(:ids::text[], :tokens::text[], :errors::text[], :rescues::bool[])
    AS o(id, token, error, rescue)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND (NOT o.rescue OR jobs.lease_expires_at < joblane_now())
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_requeue
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    error = o.error::json, scheduled_at = joblane_now() + o.delay,
    updated_at = joblane_now(), started_at = NULL, lease_token = NULL,
    lease_expires_at = NULL, worker_id = NULL,
    rescue_count = rescue_count + CASE WHEN o.rescue THEN 1 ELSE 0 END,
    progress_processed = 0, progress_total = NULL, progress_failed = 0,
    progress_message = NULL
FROM unnest(:ids::text[], :tokens::text[], :errors::text[], :delays::float8[], :rescues::bool[])
    AS o(id, token, error, delay, rescue)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested AND (NOT o.rescue OR jobs.lease_expires_at < joblane_now())
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_release
UPDATE jobs SET state = 'queued', version = version + 1, scheduled_at = joblane_now(),
    updated_at = joblane_now(), started_at = NULL, lease_token = NULL,
    lease_expires_at = NULL, worker_id = NULL, progress_processed = 0,
    progress_total = NULL, progress_failed = 0, progress_message = NULL
FROM unnest(:ids::text[], :tokens::text[]) AS o(id, token)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_cancel_requested
SELECT id FROM jobs WHERE id = ANY(:ids::text[]) AND state = 'running' AND cancel_requested

-- name: jobs_claimable_exists
SELECT 1 FROM jobs
WHERE state = 'queued' AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])
LIMIT 1

-- name: jobs_expired_leases
SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < joblane_now()
ORDER BY lease_expires_at LIMIT :limit

-- name: jobs_purge
DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs WHERE finished_at < :before LIMIT :limit)

-- name: leader_try
SELECT pg_try_advisory_lock(hashtextextended(:name, 0))

-- name: worker_upsert
INSERT INTO workers (id, hostname, pid, types, concurrency, started_at, heartbeat_at, running)
VALUES (:id, :hostname, :pid, :types::jsonb, :concurrency, :started_at, joblane_now(),
    :running::jsonb)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = joblane_now(), running = excluded.running

-- name: worker_remove
DELETE FROM workers WHERE id = :id

-- name: workers_alive
SELECT * FROM workers WHERE heartbeat_at >= joblane_now() - :within ORDER BY started_at

-- name: workers_prune
DELETE FROM workers WHERE heartbeat_at < joblane_now() - 3600

-- name: key_insert
INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, created_at, expires_at)
VALUES (:id, :tenant_id, :name, :prefix, :key_hash, :scopes::jsonb, :created_at, :expires_at)

-- name: key_by_hash
SELECT * FROM api_keys WHERE key_hash = :key_hash

-- name: keys_list
SELECT * FROM api_keys ORDER BY id

-- name: keys_list_for_tenant
SELECT * FROM api_keys WHERE tenant_id = :tenant_id ORDER BY id

-- name: key_revoke
UPDATE api_keys SET revoked_at = joblane_now() WHERE id = :id AND revoked_at IS NULL

-- name: migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())

-- name: migrations_lock
SELECT pg_advisory_xact_lock(7346286310)

-- name: migrations_applied
SELECT version FROM schema_migrations

-- name: migration_record
INSERT INTO schema_migrations (version, name) VALUES (:version, :name)
