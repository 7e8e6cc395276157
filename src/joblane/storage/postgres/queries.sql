-- Named queries of the PostgreSQL backend. `:name` parameters become `$n` once, at load.
-- Guards on `state` follow core/states.py TRANSITIONS; every worker write checks `lease_token`.
-- Times come from the database clock: joblane_now().

-- name: jobs_insert
WITH inserted AS (
    INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt,
        max_attempts, timeout, batch_id, idempotency_key, callback_url, created_at, updated_at,
        scheduled_at, capped)
    SELECT j.id, j.tenant_id, j.type, 'queued', j.priority, j.input::json, j.metadata::jsonb, 1,
        j.max_attempts, j.timeout, j.batch_id, j.idempotency_key, j.callback_url, joblane_now(),
        joblane_now(), GREATEST(joblane_now(), COALESCE(j.run_at, 0)),
        -- fair share (fairshare.sql): jobs of a tenant with max_running queue in its lane
        j.batch_id IS NULL AND j.tenant_id IN (
            SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
    FROM unnest(:ids::text[], :tenant_ids::text[], :types::text[], :priorities::int[],
        :inputs::text[], :metadatas::text[], :max_attempts::int[], :timeouts::float8[],
        :batch_ids::text[], :idempotency_keys::text[], :callback_urls::text[], :run_ats::float8[])
        AS j(id, tenant_id, type, priority, input, metadata, max_attempts, timeout, batch_id,
             idempotency_key, callback_url, run_at)
    RETURNING *
), counted AS (
    -- usage (usage.sql): the jobs accepted, counted by the statement that accepts them
    INSERT INTO usage_daily AS u (tenant_id, day, shard, jobs_submitted)
    SELECT tenant_id, joblane_utc_day(created_at), pg_backend_pid() % 16, count(*)
    FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (tenant_id, day, shard) DO UPDATE SET
        jobs_submitted = u.jobs_submitted + excluded.jobs_submitted
)
-- the uncorrelated subquery runs once: one NOTIFY per statement, sent at its commit
SELECT *, (SELECT pg_notify('joblane_jobs', '')) IS NULL AS notified FROM inserted

-- name: notify_jobs
SELECT pg_notify('joblane_jobs', '')

-- name: now
SELECT joblane_now()

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
    progress_failed = 0, progress_message = NULL,
    -- fair share: the lane of the tenant, as it is now
    capped = jobs.batch_id IS NULL AND jobs.tenant_id IN (
        SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
WHERE id = :id AND state IN ('failed', 'cancelled')
RETURNING *

-- name: job_batch_lock
-- A batch item's batch row, locked before the item: every batch-wide change locks in that order.
SELECT b.id FROM jobs j JOIN batches b ON b.id = j.batch_id COLLATE "C" WHERE j.id = :id
FOR UPDATE OF b

-- name: job_delete
DELETE FROM jobs WHERE id = :id AND state IN ('completed', 'failed', 'cancelled')

-- name: jobs_claim
-- Jobs outside batches (`jobs_claimable`) and items of open batches (active, not limited:
-- `jobs_batch_claimable`, batch by batch in priority order), each locked as scanned, then the
-- best `limit` of both. Items of paused or limited batches are never visited. `limited`,
-- evaluated once per statement, says whether `jobs_claim_limited` has batches to look at: one
-- row carries it even when nothing was claimed (its job columns are then NULL). While any tenant
-- has max_running, claims run its twin `jobs_claim_fair` (fairshare.sql) instead.
WITH loose AS (
    SELECT id, priority, scheduled_at FROM jobs
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped AND scheduled_at <= joblane_now()
        AND type = ANY(:types::text[])
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), items AS (
    SELECT i.id, i.priority, i.scheduled_at
    FROM (SELECT id FROM batches
          WHERE settled_at IS NULL AND control = 'active' AND max_concurrent IS NULL
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
    SELECT id FROM (SELECT * FROM loose UNION ALL SELECT * FROM items) AS c
    ORDER BY priority DESC, scheduled_at, id
    LIMIT :limit
), claimed AS (
    UPDATE jobs SET state = 'running', version = version + 1, started_at = joblane_now(),
        updated_at = joblane_now(), lease_token = :token,
        lease_expires_at = joblane_now() + :lease_seconds, worker_id = :worker_id
    FROM picked WHERE jobs.id = picked.id
    RETURNING jobs.*
)
SELECT claimed.*, flag.limited
FROM (SELECT EXISTS (SELECT 1 FROM batches WHERE settled_at IS NULL AND control = 'active'
        AND max_concurrent IS NOT NULL) AS limited) AS flag
LEFT JOIN claimed ON true

-- name: batches_limited_lock
-- Active limited batches that may have room, held until the claim of their items commits:
-- another claimer skips them, so the running count read next cannot go stale. (Batches of
-- tenants with max_running are claimed under their tenant's row: `jobs_claim_capped`.)
SELECT b.id, b.max_concurrent FROM batches b
WHERE b.settled_at IS NULL AND b.control = 'active' AND b.max_concurrent IS NOT NULL
    AND b.tenant_id NOT IN (
        SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
    AND EXISTS (SELECT 1 FROM batch_counts c WHERE c.batch_id = b.id
        HAVING sum(c.queued) > 0 AND sum(c.running) < b.max_concurrent)
ORDER BY b.priority DESC, b.id
LIMIT 32
FOR UPDATE OF b SKIP LOCKED

-- name: jobs_claim_limited
-- Run after `batches_limited_lock`, as a new statement: its snapshot includes every claim
-- committed before the lock was ours. Per batch at most `max_concurrent - running` items.
WITH room AS (
    SELECT l.id, l.max_concurrent - COALESCE(
        (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = l.id), 0) AS free
    FROM unnest(:batch_ids::text[], :max_concurrents::int[]) AS l(id, max_concurrent)
), picked AS (
    SELECT p.id FROM room CROSS JOIN LATERAL (
        SELECT id, priority, scheduled_at FROM jobs
        WHERE batch_id = room.id AND state = 'queued' AND scheduled_at <= joblane_now()
            AND type = ANY(:types::text[])
        ORDER BY priority DESC, scheduled_at, id
        LIMIT GREATEST(room.free, 0)
        FOR UPDATE SKIP LOCKED
    ) p
    ORDER BY p.priority DESC, p.scheduled_at, p.id
    LIMIT :limit
)
UPDATE jobs SET state = 'running', version = version + 1, started_at = joblane_now(),
    updated_at = joblane_now(), lease_token = :token,
    lease_expires_at = joblane_now() + :lease_seconds, worker_id = :worker_id
FROM picked WHERE jobs.id = picked.id
RETURNING jobs.*

-- name: jobs_next_due
-- Like `jobs_claimable_exists`: items of paused batches, or of limited ones without room, and
-- jobs of tenants at their max_running, are not waited for.
WITH RECURSIVE lane(tenant_id) AS (
    (SELECT tenant_id FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped
     ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.tenant_id FROM jobs j
            WHERE j.state = 'queued' AND j.batch_id IS NULL AND j.capped
                AND j.tenant_id > lane.tenant_id
            ORDER BY j.tenant_id LIMIT 1)
    FROM lane WHERE lane.tenant_id IS NOT NULL)
SELECT min(due) - joblane_now() FROM (
    SELECT min(scheduled_at) AS due FROM jobs
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped AND type = ANY(:types::text[])
    UNION ALL
    SELECT (SELECT min(scheduled_at) FROM jobs
            WHERE batch_id = o.id COLLATE "default" AND state = 'queued'
                AND type = ANY(:types::text[]))
    FROM (SELECT b.id FROM batches b
    LEFT JOIN tenants t ON t.id = b.tenant_id COLLATE "C" AND t.max_running IS NOT NULL
    WHERE b.settled_at IS NULL AND b.control = 'active' AND (b.max_concurrent IS NULL
        OR b.max_concurrent > COALESCE(
            (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = b.id), 0))
        AND (t.id IS NULL OR t.max_running > (SELECT count(*) FROM jobs r
            WHERE r.tenant_id = b.tenant_id AND r.state = 'running'))) AS o
    UNION ALL
    SELECT (SELECT min(scheduled_at) FROM jobs q
            WHERE q.tenant_id = lane.tenant_id AND q.state = 'queued' AND q.batch_id IS NULL
                AND q.capped AND q.type = ANY(:types::text[]))
    FROM lane JOIN tenants t ON t.id = lane.tenant_id COLLATE "C"
    WHERE t.max_running IS NULL OR t.max_running > (SELECT count(*) FROM jobs r
        WHERE r.tenant_id = lane.tenant_id AND r.state = 'running')
) AS d

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
WITH ended AS (
    UPDATE jobs SET state = 'completed', version = version + 1, result = o.result::json,
        error = NULL, completed_at = joblane_now(), finished_at = joblane_now(),
        updated_at = joblane_now(), lease_token = NULL, lease_expires_at = NULL,
        progress_processed = GREATEST(progress_processed, COALESCE(progress_total, 0))
    FROM unnest(:ids::text[], :tokens::text[], :results::text[]) AS o(id, token, result)
    WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
        AND NOT jobs.cancel_requested
    RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt, jobs.tenant_id
), counted AS (
    -- usage (usage.sql): an attempt that ended completed or failed is one processed item,
    -- counted by the statement that ends it
    INSERT INTO usage_daily AS u (tenant_id, day, shard, items_processed)
    SELECT tenant_id, joblane_utc_day(joblane_now()), pg_backend_pid() % 16, count(*)
    FROM ended GROUP BY tenant_id ORDER BY tenant_id
    ON CONFLICT (tenant_id, day, shard) DO UPDATE SET
        items_processed = u.items_processed + excluded.items_processed
)
SELECT id, state, version, attempt FROM ended

-- name: jobs_fail
-- (the rescuer giving up on a lost job fails it here too: it counts as processed)
WITH ended AS (
    UPDATE jobs SET state = 'failed', version = version + 1, error = o.error::json,
        failed_at = joblane_now(), finished_at = joblane_now(), updated_at = joblane_now(),
        lease_token = NULL, lease_expires_at = NULL,
        rescue_count = rescue_count + CASE WHEN o.rescue THEN 1 ELSE 0 END
    FROM unnest(:ids::text[], :tokens::text[], :errors::text[], :rescues::bool[])
        AS o(id, token, error, rescue)
    WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
        AND NOT jobs.cancel_requested
        AND (NOT o.rescue OR jobs.lease_expires_at < joblane_now())
    RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt, jobs.tenant_id
), counted AS (
    -- usage (usage.sql): an attempt that ended completed or failed is one processed item,
    -- counted by the statement that ends it
    INSERT INTO usage_daily AS u (tenant_id, day, shard, items_processed)
    SELECT tenant_id, joblane_utc_day(joblane_now()), pg_backend_pid() % 16, count(*)
    FROM ended GROUP BY tenant_id ORDER BY tenant_id
    ON CONFLICT (tenant_id, day, shard) DO UPDATE SET
        items_processed = u.items_processed + excluded.items_processed
)
SELECT id, state, version, attempt FROM ended

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
    progress_message = NULL,
    -- fair share: the lane of the tenant, as it is now
    capped = jobs.batch_id IS NULL AND jobs.tenant_id IN (
        SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
FROM unnest(:ids::text[], :tokens::text[], :errors::text[], :delays::float8[], :rescues::bool[])
    AS o(id, token, error, delay, rescue)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested AND (NOT o.rescue OR jobs.lease_expires_at < joblane_now())
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_release
UPDATE jobs SET state = 'queued', version = version + 1, scheduled_at = joblane_now(),
    updated_at = joblane_now(), started_at = NULL, lease_token = NULL,
    lease_expires_at = NULL, worker_id = NULL, progress_processed = 0,
    progress_total = NULL, progress_failed = 0, progress_message = NULL,
    -- fair share: the lane of the tenant, as it is now
    capped = jobs.batch_id IS NULL AND jobs.tenant_id IN (
        SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL)
FROM unnest(:ids::text[], :tokens::text[]) AS o(id, token)
WHERE jobs.id = o.id AND jobs.state = 'running' AND jobs.lease_token = o.token
    AND NOT jobs.cancel_requested
RETURNING jobs.id, jobs.state, jobs.version, jobs.attempt

-- name: jobs_cancel_requested
SELECT id FROM jobs WHERE id = ANY(:ids::text[]) AND state = 'running' AND cancel_requested

-- name: jobs_claimable_exists
-- Items of a paused batch, or of a limited batch at its limit, and jobs of a tenant at its
-- max_running, are not claimable: an idle worker must not spin on them.
-- (a scalar subquery in claim order: EXISTS would drop the ORDER BY, and a sequential scan
-- may wade through many queued items of batches first)
-- Capped tenants (fairshare.sql): `joblane_capped_ready` (migration 0006), asked only while some
-- tenant has a cap or the capped lane holds jobs, and only if nothing else is claimable;
-- `capped` says that only they are.
SELECT NOT f.plain AS capped FROM (SELECT (
    SELECT 1 FROM jobs
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped AND scheduled_at <= joblane_now()
        AND type = ANY(:types::text[])
    ORDER BY priority DESC, scheduled_at, id LIMIT 1) IS NOT NULL
OR EXISTS (
    SELECT 1 FROM (SELECT b.id FROM batches b
    LEFT JOIN tenants t ON t.id = b.tenant_id COLLATE "C" AND t.max_running IS NOT NULL
    WHERE b.settled_at IS NULL AND b.control = 'active' AND (b.max_concurrent IS NULL
        OR b.max_concurrent > COALESCE(
            (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = b.id), 0))
        AND (t.id IS NULL OR t.max_running > (SELECT count(*) FROM jobs r
            WHERE r.tenant_id = b.tenant_id AND r.state = 'running'))) AS o
    WHERE EXISTS (SELECT 1 FROM jobs
        WHERE batch_id = o.id COLLATE "default" AND state = 'queued'
            AND scheduled_at <= joblane_now() AND type = ANY(:types::text[])))
    AS plain) AS f
WHERE f.plain
    OR ((EXISTS (SELECT 1 FROM tenants WHERE max_running IS NOT NULL)
            OR EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped))
        AND joblane_capped_ready(:types::text[]))

-- name: jobs_expired_leases
SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < joblane_now()
ORDER BY lease_expires_at LIMIT :limit

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

-- name: migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())

-- name: migrations_lock
SELECT pg_advisory_xact_lock(7346286310)

-- name: migrations_applied
SELECT version FROM schema_migrations

-- name: migration_record
INSERT INTO schema_migrations (version, name) VALUES (:version, :name)

-- Batches. A batch is its `batches` row plus the sums of its `batch_counts` shards (≤ 16 rows);
-- the lateral subquery below is that sum, the same in every query that reads whole batches.

-- name: batch_get
SELECT b.*, c.* FROM batches b CROSS JOIN LATERAL (
    SELECT sum(queued)::bigint AS queued, sum(running)::bigint AS running,
        sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
        sum(cancelled)::bigint AS cancelled, sum(changes)::bigint AS changes,
        min(first_started_at) AS first_started_at, max(last_finished_at) AS last_finished_at,
        sum(item_seconds) AS item_seconds, sum(timed_items)::bigint AS timed_items
    FROM batch_counts WHERE batch_id = b.id) c
WHERE b.id = :id

-- name: batches_list
SELECT b.*, c.* FROM batches b CROSS JOIN LATERAL (
    SELECT sum(queued)::bigint AS queued, sum(running)::bigint AS running,
        sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
        sum(cancelled)::bigint AS cancelled, sum(changes)::bigint AS changes,
        min(first_started_at) AS first_started_at, max(last_finished_at) AS last_finished_at,
        sum(item_seconds) AS item_seconds, sum(timed_items)::bigint AS timed_items
    FROM batch_counts WHERE batch_id = b.id) c
WHERE (:before_id::text IS NULL OR b.id < :before_id)
ORDER BY b.id DESC LIMIT :limit

-- name: batches_list_for_tenant
SELECT b.*, c.* FROM batches b CROSS JOIN LATERAL (
    SELECT sum(queued)::bigint AS queued, sum(running)::bigint AS running,
        sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
        sum(cancelled)::bigint AS cancelled, sum(changes)::bigint AS changes,
        min(first_started_at) AS first_started_at, max(last_finished_at) AS last_finished_at,
        sum(item_seconds) AS item_seconds, sum(timed_items)::bigint AS timed_items
    FROM batch_counts WHERE batch_id = b.id) c
WHERE b.tenant_id = :tenant_id AND (:before_id::text IS NULL OR b.id < :before_id)
ORDER BY b.id DESC LIMIT :limit

-- name: batches_past_deadline
SELECT b.*, c.* FROM batches b CROSS JOIN LATERAL (
    SELECT sum(queued)::bigint AS queued, sum(running)::bigint AS running,
        sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
        sum(cancelled)::bigint AS cancelled, sum(changes)::bigint AS changes,
        min(first_started_at) AS first_started_at, max(last_finished_at) AS last_finished_at,
        sum(item_seconds) AS item_seconds, sum(timed_items)::bigint AS timed_items
    FROM batch_counts WHERE batch_id = b.id) c
WHERE b.settled_at IS NULL AND b.deadline <= joblane_now()
    AND b.control IN ('active', 'paused') AND c.queued + c.running > 0
ORDER BY b.deadline LIMIT :limit

-- name: batches_versions
SELECT b.id, b.version + COALESCE(
    (SELECT sum(c.changes) FROM batch_counts c WHERE c.batch_id = b.id), 0)::bigint AS version
FROM batches b WHERE b.id = ANY(:ids::text[])

-- name: batch_insert
INSERT INTO batches (id, tenant_id, name, max_concurrent, priority, timeout, deadline,
    callback_url, notification_enabled, created_at, updated_at)
VALUES (:id, :tenant_id, :name, :max_concurrent, :priority, :timeout, :now::float8 + :timeout,
    :callback_url, :notification_enabled, :now, :now)

-- name: batch_counts_insert
INSERT INTO batch_counts (batch_id, shard, queued) VALUES (:batch_id, 0, :queued)

-- name: batch_lock
SELECT tenant_id, control FROM batches WHERE id = :id FOR UPDATE

-- name: batch_set_control
UPDATE batches SET control = :target, control_reason = :reason, version = version + 1,
    updated_at = joblane_now()
WHERE id = :id

-- name: batch_request_cancel
-- as `job_request_cancel`, for every running item of the batch
UPDATE jobs SET cancel_requested = true, cancel_reason = :reason, version = version + 1,
    updated_at = joblane_now()
WHERE batch_id = :batch_id AND state = 'running' AND NOT cancel_requested

-- name: batch_cancel_queued
-- as `job_cancel_queued`, for every queued item of the batch
UPDATE jobs SET state = 'cancelled', version = version + 1, cancelled_at = joblane_now(),
    finished_at = joblane_now(), updated_at = joblane_now(), cancel_requested = true,
    cancel_reason = :reason
WHERE batch_id = :batch_id AND state = 'queued'

-- name: batch_retry_failed
-- as `job_retry`, for every failed item of the batch
UPDATE jobs SET state = 'queued', version = version + 1, attempt = attempt + 1,
    max_attempts = GREATEST(max_attempts, attempt + 1), scheduled_at = joblane_now(),
    updated_at = joblane_now(), result = NULL, started_at = NULL, completed_at = NULL,
    failed_at = NULL, cancelled_at = NULL, finished_at = NULL, cancel_requested = false,
    cancel_reason = NULL, progress_processed = 0, progress_total = NULL,
    progress_failed = 0, progress_message = NULL
WHERE batch_id = :batch_id AND state = 'failed'

-- name: batch_errors_drop_empty
-- After a retry of every failed item the trigger has taken each of them out again. Conditions
-- on the row alone: a failure committed meanwhile is re-checked on the row, never lost.
DELETE FROM batch_errors WHERE batch_id = :batch_id AND count = 0

-- name: batch_errors_prune_samples
-- what is left (rows of shards that only gained or only lost) keeps only ids still failed, so
-- that new failures have room in the samples again
UPDATE batch_errors e SET sample = ARRAY(
    SELECT s.id FROM unnest(e.sample) AS s(id) JOIN jobs j ON j.id = s.id
    WHERE j.state = 'failed' ORDER BY s.id)
WHERE e.batch_id = :batch_id AND cardinality(e.sample) > 0

-- name: batch_unsettle
UPDATE batches SET settled_at = NULL, updated_at = joblane_now() WHERE id = :id

-- name: batch_error_groups
-- Samples: the shards' ids merged, oldest first, that are still failed with the code. Retried
-- items leave stale ids behind; when fewer than the group could name remain, the batch's
-- oldest failed items of the code are read instead (a scan, but only then).
WITH grouped AS (
    SELECT code, sum(count)::bigint AS count, max(resolution) AS resolution
    FROM batch_errors WHERE batch_id = :batch_id
    GROUP BY code HAVING sum(count) > 0
    ORDER BY count DESC, code LIMIT :limit
), sampled AS (
    SELECT g.*, ARRAY(
        SELECT DISTINCT s.id FROM batch_errors e CROSS JOIN LATERAL unnest(e.sample) AS s(id)
        JOIN jobs j ON j.id = s.id
        WHERE e.batch_id = :batch_id AND e.code = g.code AND j.state = 'failed'
            AND COALESCE(j.error ->> 'code', 'UNKNOWN') = g.code
        ORDER BY s.id LIMIT 10) AS sample
    FROM grouped g
)
SELECT code, count, resolution,
    CASE WHEN cardinality(sample) >= LEAST(count, 10) THEN sample ELSE ARRAY(
        SELECT id FROM jobs WHERE batch_id = :batch_id AND state = 'failed'
            AND COALESCE(error ->> 'code', 'UNKNOWN') = sampled.code
        ORDER BY id LIMIT 10) END AS sample
FROM sampled
ORDER BY count DESC, code

-- name: batch_results
SELECT id, state, result, error FROM jobs
WHERE batch_id = :batch_id AND id > COALESCE(:after_id::text, '')
ORDER BY id LIMIT :limit

-- name: batches_settle_lock
-- Unsettled batches whose counts show nothing left to run, held so that a concurrent retry
-- (which takes the batch row first) cannot slip in between the check and the update.
SELECT b.id FROM batches b
WHERE b.settled_at IS NULL AND NOT EXISTS (SELECT 1 FROM batch_counts c WHERE c.batch_id = b.id
    HAVING sum(c.queued) + sum(c.running) > 0)
ORDER BY b.id LIMIT :limit
FOR UPDATE OF b SKIP LOCKED

-- name: batches_settle
-- a new statement after `batches_settle_lock`: it sees every change committed before the lock
UPDATE batches b SET settled_at = joblane_now()
WHERE b.id = ANY(:ids::text[]) AND b.settled_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM batch_counts c WHERE c.batch_id = b.id
        HAVING sum(c.queued) + sum(c.running) > 0)
RETURNING b.id
