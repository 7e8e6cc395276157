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
