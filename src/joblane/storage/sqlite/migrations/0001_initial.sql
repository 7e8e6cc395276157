-- Jobs, idempotency keys, API keys, workers and leadership.
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
    CHECK ((state = 'running') = (lease_token IS NOT NULL))
) STRICT;

CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id);
CREATE INDEX jobs_by_tenant_state ON jobs (tenant_id, state, id);
CREATE INDEX jobs_finished ON jobs (updated_at)
    WHERE state IN ('completed', 'failed', 'cancelled');
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
    revoked_at REAL
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
