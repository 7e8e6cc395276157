-- The current schema, equal to all migrations applied (tests/migrations checks it).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    version INTEGER NOT NULL DEFAULT 1,
    priority INTEGER NOT NULL DEFAULT 0,
    input TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    max_attempts INTEGER NOT NULL,
    timeout REAL NOT NULL,
    batch_id TEXT,
    idempotency_key TEXT,
    callback_url TEXT,
    progress_processed INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER,
    progress_failed INTEGER NOT NULL DEFAULT 0,
    progress_message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    scheduled_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    failed_at REAL,
    cancelled_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cancel_reason TEXT,
    lease_token TEXT,
    lease_expires_at REAL,
    worker_id TEXT,
    rescue_count INTEGER NOT NULL DEFAULT 0,
    -- queued in the lane of a tenant with max_running (migration 0006, fairshare.py)
    capped INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'running') = (lease_token IS NOT NULL))
) STRICT;

-- queued jobs outside batches; those of tenants with max_running wait in their tenant's lane
-- (`jobs_capped`), so that a capped tenant's backlog never lies in other tenants' claims
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 0;
CREATE INDEX jobs_capped ON jobs (tenant_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 1;
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id);
CREATE INDEX jobs_by_tenant_state ON jobs (tenant_id, state, id);
-- retention: finished jobs outside batches, by tenant and finish time (migration 0005)
CREATE INDEX jobs_finished ON jobs (tenant_id, updated_at)
    WHERE state IN ('completed', 'failed', 'cancelled') AND batch_id IS NULL;
CREATE INDEX jobs_by_batch ON jobs (batch_id, id) WHERE batch_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    hash_version INTEGER NOT NULL DEFAULT 1,
    replaced_by TEXT
) STRICT;

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    types TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    running TEXT NOT NULL DEFAULT '[]'
) STRICT;

CREATE TABLE leadership (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
) STRICT;

-- Batches. A batch row holds what users control; item counts live in `batch_counts`, kept by
-- triggers on every item transition (SQLite has one writer, so one row per batch: shard 0).
CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT,
    control TEXT NOT NULL DEFAULT 'active'
        CHECK (control IN ('active', 'paused', 'cancelled')),
    control_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    max_concurrent INTEGER CHECK (max_concurrent > 0),
    priority INTEGER NOT NULL DEFAULT 0,
    timeout REAL,
    deadline REAL,
    callback_url TEXT,
    notification_enabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    settled_at REAL
) STRICT;

CREATE INDEX batches_by_tenant ON batches (tenant_id, id);
CREATE INDEX batches_gated ON batches (id)
    WHERE settled_at IS NULL AND (control = 'paused' OR max_concurrent IS NOT NULL);
CREATE INDEX batches_unsettled ON batches (deadline) WHERE settled_at IS NULL;

CREATE TABLE batch_counts (
    batch_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    queued INTEGER NOT NULL DEFAULT 0,
    running INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0,
    first_started_at REAL,
    last_finished_at REAL,
    item_seconds REAL NOT NULL DEFAULT 0,
    timed_items INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, shard)
) STRICT, WITHOUT ROWID;

CREATE TABLE batch_errors (
    batch_id TEXT NOT NULL,
    code TEXT NOT NULL,
    shard INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    sample TEXT NOT NULL DEFAULT '[]',
    resolution TEXT,
    PRIMARY KEY (batch_id, code, shard)
) STRICT, WITHOUT ROWID;

-- Items of a batch being uploaded: moved into `jobs` in the one write that commits the batch.
CREATE TABLE batch_staging (
    batch_id TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    input TEXT NOT NULL,
    metadata TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    timeout REAL NOT NULL,
    callback_url TEXT,
    staged_at REAL NOT NULL,
    PRIMARY KEY (batch_id, id)
) STRICT, WITHOUT ROWID;

-- Queued items of a batch in claim order: a claim takes a few items of each batch that has
-- max_concurrent without walking the batch, and a batch cancel finds its queued items.
CREATE INDEX jobs_batch_queued ON jobs (batch_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NOT NULL;

CREATE TRIGGER jobs_batch_counts AFTER UPDATE OF state ON jobs
WHEN NEW.batch_id IS NOT NULL AND NEW.state <> OLD.state
BEGIN
    UPDATE batch_counts SET
        queued = queued + (NEW.state = 'queued') - (OLD.state = 'queued'),
        running = running + (NEW.state = 'running') - (OLD.state = 'running'),
        completed = completed + (NEW.state = 'completed') - (OLD.state = 'completed'),
        failed = failed + (NEW.state = 'failed') - (OLD.state = 'failed'),
        cancelled = cancelled + (NEW.state = 'cancelled') - (OLD.state = 'cancelled'),
        changes = changes + 1,
        first_started_at = CASE WHEN NEW.state = 'running'
            THEN min(COALESCE(first_started_at, NEW.started_at), NEW.started_at)
            ELSE first_started_at END,
        last_finished_at = CASE WHEN NEW.state IN ('completed', 'failed', 'cancelled')
            THEN max(COALESCE(last_finished_at, NEW.updated_at), NEW.updated_at)
            ELSE last_finished_at END,
        item_seconds = item_seconds + CASE
            WHEN NEW.state IN ('completed', 'failed', 'cancelled') AND NEW.started_at IS NOT NULL
            THEN NEW.updated_at - NEW.started_at ELSE 0 END,
        timed_items = timed_items + (
            NEW.state IN ('completed', 'failed', 'cancelled') AND NEW.started_at IS NOT NULL)
    WHERE batch_id = NEW.batch_id AND shard = 0;
    INSERT INTO batch_errors (batch_id, code, shard, count, sample, resolution)
    SELECT NEW.batch_id, COALESCE(json_extract(NEW.error, '$.code'), 'UNKNOWN'), 0, 1,
        json_array(NEW.id), json_extract(NEW.error, '$.resolution')
    WHERE NEW.state = 'failed'
    ON CONFLICT (batch_id, code, shard) DO UPDATE SET
        count = count + 1,
        sample = CASE WHEN json_array_length(sample) >= 10 THEN sample
                      ELSE json_insert(sample, '$[#]', NEW.id) END,
        resolution = COALESCE(resolution, excluded.resolution);
    UPDATE batch_errors SET count = count - 1
    WHERE OLD.state = 'failed' AND batch_id = NEW.batch_id AND shard = 0
      AND code = COALESCE(json_extract(OLD.error, '$.code'), 'UNKNOWN');
END;

-- Tenants and what protects them: per-tenant settings (NULL = the server's default), keyed key
-- hashes and rotation, daily usage, and tombstones of purged jobs and batches.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    retention_days INTEGER CHECK (retention_days > 0),
    read_rate REAL CHECK (read_rate > 0),
    read_burst INTEGER CHECK (read_burst > 0),
    write_rate REAL CHECK (write_rate > 0),
    write_burst INTEGER CHECK (write_burst > 0),
    max_running INTEGER CHECK (max_running > 0),
    max_payload_bytes INTEGER CHECK (max_payload_bytes > 0),
    job_types TEXT
) STRICT;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

-- Billable units per tenant and UTC day ('YYYY-MM-DD'); one writer, so one row (shard 0).
CREATE TABLE usage_daily (
    tenant_id TEXT NOT NULL,
    day TEXT NOT NULL,
    shard INTEGER NOT NULL,
    jobs_submitted INTEGER NOT NULL DEFAULT 0,
    items_processed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, shard)
) STRICT;

-- A purged job or batch id answers 410 (not 404) until its tombstone is purged in turn.
CREATE TABLE tombstones (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    purged_at REAL NOT NULL
) STRICT;
CREATE INDEX tombstones_by_age ON tombstones (purged_at);

-- The server's own secrets (the key-hashing secret when JOBLANE_SECRET_KEY is not set).
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at REAL NOT NULL
) STRICT;

-- Usage: items processed, counted when an attempt ends completed or failed (jobs accepted are
-- counted by the writes that accept them).
CREATE TRIGGER jobs_usage_processed AFTER UPDATE OF state ON jobs
WHEN OLD.state = 'running' AND NEW.state IN ('completed', 'failed')
BEGIN
    INSERT INTO usage_daily (tenant_id, day, shard, items_processed)
    VALUES (NEW.tenant_id, date(NEW.updated_at, 'unixepoch'), 0, 1)
    ON CONFLICT (tenant_id, day, shard) DO UPDATE SET items_processed = items_processed + 1;
END;

-- Retention (migration 0005): settled batches by tenant and settle time, and the batches being
-- purged (their row is gone, their items are deleted chunk by chunk, then their counts).
CREATE INDEX batches_settled ON batches (tenant_id, settled_at) WHERE settled_at IS NOT NULL;
CREATE TABLE batch_purges (
    batch_id TEXT PRIMARY KEY,
    started_at REAL NOT NULL
) STRICT;

-- Fair share (migration 0006, fairshare.py): a job's lane is chosen by the statements that queue
-- it (`job_insert`, `job_requeue`, `job_release`, `job_retry`); these triggers move a tenant's
-- queued jobs when its cap is set or lifted.
CREATE INDEX tenants_capped ON tenants (id) WHERE max_running IS NOT NULL;

CREATE TRIGGER tenants_cap_set AFTER INSERT ON tenants
WHEN NEW.max_running IS NOT NULL
BEGIN
    UPDATE jobs SET capped = 1
    WHERE tenant_id = NEW.id AND state = 'queued' AND batch_id IS NULL AND capped = 0;
END;

CREATE TRIGGER tenants_cap_changed AFTER UPDATE OF max_running ON tenants
WHEN (OLD.max_running IS NULL) <> (NEW.max_running IS NULL)
BEGIN
    UPDATE jobs SET capped = NEW.max_running IS NOT NULL
    WHERE tenant_id = NEW.id AND state = 'queued' AND batch_id IS NULL;
END;

-- Artifacts (migration 0008; storage/sqlite/artifacts.py): a row per file of a job, made
-- (guarded by the job's lease) before its bytes are written, so every file in the store has a
-- row here or in `artifact_garbage`. `size` and `sha256` stay NULL until the write committed.
CREATE TABLE artifacts (
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (job_id, name)
) STRICT, WITHOUT ROWID;

-- Files to remove from the store: a replaced write, an abandoned one, and every file of a
-- deleted job (the trigger below, in the transaction that deleted it). The maintenance leader
-- removes the files, then the rows: a crash in between removes them again, never leaks them.
CREATE TABLE artifact_garbage (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    queued_at REAL NOT NULL
) STRICT;

-- Whatever deletes a job (DELETE /v1/jobs/{id}, retention, a batch's purge) hands its files
-- over; a job without artifacts costs one probe of the primary key.
CREATE TRIGGER jobs_artifacts_gone AFTER DELETE ON jobs
WHEN EXISTS (SELECT 1 FROM artifacts WHERE job_id = OLD.id)
BEGIN
    INSERT INTO artifact_garbage (path, queued_at)
    SELECT path, (julianday('now') - 2440587.5) * 86400.0 FROM artifacts WHERE job_id = OLD.id;
    DELETE FROM artifacts WHERE job_id = OLD.id;
END;

-- Webhooks (README "Webhooks", docs/architecture.md). Tenant endpoints, each tenant's signing
-- secret for per-job and per-batch `callback_url`, and the outbox: an event per job or batch that
-- reaches a terminal state, written by the triggers below in the transaction of that change (so
-- whatever path makes it: a worker, the rescuer, a cancel, a batch settling), and a delivery per
-- target, which dispatchers claim with a lease like jobs; every attempt is logged.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    events TEXT NOT NULL,  -- a JSON array of event types; ["*"] is every type
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,  -- still signs (beside `secret`) until it expires: a rotation's grace
    previous_secret_expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, id);

-- The secret that signs a tenant's callback_url deliveries (made on first use).
CREATE TABLE callback_secrets (
    tenant_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) STRICT;

-- `snapshot`: the job or batch as it was at the event (a job without its input); the first
-- dispatch renders it into `body` (the payload every attempt then sends, byte for byte).
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    snapshot TEXT,
    body TEXT,
    created_at REAL NOT NULL
) STRICT;
CREATE INDEX webhook_events_by_age ON webhook_events (created_at);

-- One per event and target: an endpoint (`target` = its id) or the subject's callback_url
-- (`target` = 'callback', `url` its address). A claim bumps `attempt`, sets `lease_token` and
-- moves `next_attempt_at` past the lease, so a dispatcher that dies leaves it due again.
CREATE TABLE webhook_deliveries (
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    endpoint_id TEXT,
    url TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempt INTEGER NOT NULL DEFAULT 0,
    round_start INTEGER NOT NULL DEFAULT 1,  -- the attempt a redelivery restarted the schedule at
    next_attempt_at REAL NOT NULL,
    lease_token TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL,
    PRIMARY KEY (event_id, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, event_id)
    WHERE endpoint_id IS NOT NULL;

CREATE TABLE webhook_attempts (
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,  -- NULL: the dispatcher never reported (it died mid-attempt)
    status_code INTEGER,
    error TEXT,
    duration REAL,
    PRIMARY KEY (event_id, target, attempt)
) STRICT, WITHOUT ROWID;

-- 16 random Crockford base32 characters: an event id is 'evt_', 10 characters of the event's
-- millisecond time, then these (a ULID, as core/ids.py makes them).
CREATE VIEW joblane_random_chars AS
SELECT substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1) AS chars
FROM (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a);

-- A job outside a batch that reached a terminal state, with a callback_url or a tenant endpoint
-- subscribed to its event (batch items are told by their batch's event). It fires on the columns
-- only a move to a terminal state sets (every one sets its own `*_at`; tests/migrations checks),
-- so claims, heartbeats and progress never run it; other finished jobs cost its WHEN clause:
-- one probe of webhook_endpoints by tenant.
-- (Comparisons, not IN lists: SQLite builds an IN list's lookup table at every run of a
-- trigger's WHEN, which would cost each finished job some microseconds.)
CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF completed_at, failed_at, cancelled_at ON jobs
WHEN NEW.state <> OLD.state AND NEW.state <> 'queued' AND NEW.state <> 'running'
    AND (NEW.callback_url IS NOT NULL OR (NEW.batch_id IS NULL AND EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(e.events)
                        WHERE value = '*' OR value = 'job.' || NEW.state))))
BEGIN
    INSERT INTO webhook_events (id, tenant_id, type, subject_id, occurred_at, snapshot, created_at)
    SELECT 'evt_'
        || substr(t.a, ((t.ms >> 45) & 31) + 1, 1) || substr(t.a, ((t.ms >> 40) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 35) & 31) + 1, 1) || substr(t.a, ((t.ms >> 30) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 25) & 31) + 1, 1) || substr(t.a, ((t.ms >> 20) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 15) & 31) + 1, 1) || substr(t.a, ((t.ms >> 10) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 5) & 31) + 1, 1) || substr(t.a, ((t.ms >> 0) & 31) + 1, 1)
        || (SELECT chars FROM joblane_random_chars),
        NEW.tenant_id, 'job.' || NEW.state, NEW.id, NEW.updated_at,
        json_object('id', NEW.id, 'tenant_id', NEW.tenant_id, 'type', NEW.type,
            'state', NEW.state, 'version', NEW.version, 'metadata', json(NEW.metadata),
            'priority', NEW.priority, 'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
            'timeout', NEW.timeout, 'progress_processed', NEW.progress_processed,
            'progress_total', NEW.progress_total, 'progress_failed', NEW.progress_failed,
            'progress_message', NEW.progress_message, 'result', json(NEW.result),
            'error', json(NEW.error), 'batch_id', NEW.batch_id,
            'idempotency_key', NEW.idempotency_key, 'callback_url', NEW.callback_url,
            'created_at', NEW.created_at, 'updated_at', NEW.updated_at,
            'scheduled_at', NEW.scheduled_at, 'started_at', NEW.started_at,
            'completed_at', NEW.completed_at, 'failed_at', NEW.failed_at,
            'cancelled_at', NEW.cancelled_at, 'cancel_requested', NEW.cancel_requested,
            'cancel_reason', NEW.cancel_reason, 'lease_token', NEW.lease_token,
            'lease_expires_at', NEW.lease_expires_at, 'worker_id', NEW.worker_id),
        NEW.updated_at
    FROM (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a,
                 CAST(NEW.updated_at * 1000 AS INTEGER) AS ms) AS t;
    -- (webhook_deliveries has no rowid: last_insert_rowid() still names the event)
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT v.id, 'callback', v.tenant_id, NULL, NEW.callback_url, v.occurred_at,
        v.occurred_at, v.occurred_at
    FROM webhook_events v WHERE v.rowid = last_insert_rowid() AND NEW.callback_url IS NOT NULL
        AND v.subject_id = NEW.id
    UNION ALL
    SELECT v.id, e.id, v.tenant_id, e.id, NULL, v.occurred_at, v.occurred_at, v.occurred_at
    FROM webhook_events v JOIN webhook_endpoints e ON e.tenant_id = v.tenant_id AND e.enabled = 1
    WHERE v.rowid = last_insert_rowid() AND v.subject_id = NEW.id AND NEW.batch_id IS NULL
        AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = v.type);
END;

-- A batch settled (maintenance, `batches_settle`): it reached its terminal state. The event's
-- type follows core/batch.py `batch_status` once nothing is left to run.
CREATE TRIGGER batches_webhook_events AFTER UPDATE OF settled_at ON batches
WHEN OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL
    AND (NEW.callback_url IS NOT NULL OR EXISTS (
        SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1))
BEGIN
    INSERT INTO webhook_events (id, tenant_id, type, subject_id, occurred_at, snapshot, created_at)
    SELECT 'evt_'
        || substr(t.a, ((t.ms >> 45) & 31) + 1, 1) || substr(t.a, ((t.ms >> 40) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 35) & 31) + 1, 1) || substr(t.a, ((t.ms >> 30) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 25) & 31) + 1, 1) || substr(t.a, ((t.ms >> 20) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 15) & 31) + 1, 1) || substr(t.a, ((t.ms >> 10) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 5) & 31) + 1, 1) || substr(t.a, ((t.ms >> 0) & 31) + 1, 1)
        || (SELECT chars FROM joblane_random_chars),
        NEW.tenant_id, k.type, NEW.id, NEW.settled_at,
        json_object('id', NEW.id, 'tenant_id', NEW.tenant_id, 'name', NEW.name,
            'control', NEW.control, 'control_reason', NEW.control_reason,
            'version', NEW.version, 'max_concurrent', NEW.max_concurrent,
            'priority', NEW.priority, 'timeout', NEW.timeout, 'callback_url', NEW.callback_url,
            'notification_enabled', NEW.notification_enabled, 'created_at', NEW.created_at,
            'updated_at', NEW.updated_at, 'queued', k.queued, 'running', k.running,
            'completed', k.completed, 'failed', k.failed, 'cancelled', k.cancelled,
            'changes', k.changes, 'first_started_at', k.first_started_at,
            'last_finished_at', k.last_finished_at, 'item_seconds', k.item_seconds,
            'timed_items', k.timed_items,
            'errors', json((SELECT json_group_array(json_object('code', r.code,
                            'count', r.count, 'sample', json(r.sample),
                            'resolution', r.resolution))
                       FROM batch_errors r WHERE r.batch_id = NEW.id AND r.count > 0))),
        NEW.settled_at
    FROM (SELECT c.*, CASE
                WHEN NEW.control = 'cancelled' THEN 'batch.cancelled'
                WHEN c.failed > 0 AND c.failed = c.queued + c.running + c.completed + c.failed
                    + c.cancelled THEN 'batch.failed'
                ELSE 'batch.completed' END AS type
          FROM batch_counts c WHERE c.batch_id = NEW.id AND c.shard = 0) AS k,
        (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a,
                CAST(NEW.settled_at * 1000 AS INTEGER) AS ms) AS t
    WHERE NEW.callback_url IS NOT NULL OR EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = k.type));
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT v.id, 'callback', v.tenant_id, NULL, NEW.callback_url, v.occurred_at,
        v.occurred_at, v.occurred_at
    FROM webhook_events v WHERE v.rowid = last_insert_rowid() AND NEW.callback_url IS NOT NULL
        AND v.subject_id = NEW.id
    UNION ALL
    SELECT v.id, e.id, v.tenant_id, e.id, NULL, v.occurred_at, v.occurred_at, v.occurred_at
    FROM webhook_events v JOIN webhook_endpoints e ON e.tenant_id = v.tenant_id AND e.enabled = 1
    WHERE v.rowid = last_insert_rowid() AND v.subject_id = NEW.id
        AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = v.type);
END;

-- Job logs (core/joblog.py, storage/sqlite/observe.py): a handler's own log lines, the last
-- ones of each attempt within bounds the worker keeps (200 lines, 64 KiB). Written in batches;
-- `seq` counts from 1 within an attempt, so a gap before the first kept line = lines dropped.
CREATE TABLE job_logs (
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    logger TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
) STRICT, WITHOUT ROWID;

-- The W3C trace context of the request that submitted a job (tracing on: the `otel` extra),
-- restored by the worker around the handler's span. A row only for jobs submitted in a trace.
CREATE TABLE job_traces (
    job_id TEXT PRIMARY KEY,
    traceparent TEXT NOT NULL,
    tracestate TEXT
) STRICT, WITHOUT ROWID;

-- Whatever deletes a job (DELETE /v1/jobs/{id}, retention, a batch's purge) deletes its lines
-- and its trace context; a job without either costs two probes of a primary key.
CREATE TRIGGER jobs_logs_gone AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_logs WHERE job_id = OLD.id;
    DELETE FROM job_traces WHERE job_id = OLD.id;
END;

-- The dashboard (migration 0010; storage/sqlite/overview.sql): the queue by type over queued
-- rows only, and throughput over the finish time of completed and failed jobs (SQLite has no `finished_at`:
-- the expression below, used as is by `overview_finished`). Counts by type and state read the
-- table (PostgreSQL keeps counters instead: migration 0010 there).
CREATE INDEX jobs_queued_by_type ON jobs (type, scheduled_at, id) WHERE state = 'queued';
CREATE INDEX jobs_queued_by_tenant ON jobs (tenant_id, type, scheduled_at, id)
    WHERE state = 'queued';
CREATE INDEX jobs_finished_at ON jobs (coalesce(completed_at, failed_at))
    WHERE state IN ('completed', 'failed');
