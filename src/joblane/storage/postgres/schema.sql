-- The current schema, equal to all migrations applied (tests/migrations checks it).
CREATE FUNCTION joblane_now() RETURNS double precision
    LANGUAGE sql STABLE AS $$ SELECT extract(epoch FROM now())::double precision $$;

CREATE TABLE jobs (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    type text NOT NULL,
    state text NOT NULL
        CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    version integer NOT NULL DEFAULT 1,
    priority integer NOT NULL DEFAULT 0,
    input json NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    result json,
    error json,
    attempt integer NOT NULL DEFAULT 1,
    max_attempts integer NOT NULL,
    timeout double precision NOT NULL,
    batch_id text,
    idempotency_key text,
    callback_url text,
    progress_processed bigint NOT NULL DEFAULT 0,
    progress_total bigint,
    progress_failed bigint NOT NULL DEFAULT 0,
    progress_message text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    scheduled_at double precision NOT NULL,
    started_at double precision,
    completed_at double precision,
    failed_at double precision,
    cancelled_at double precision,
    finished_at double precision,
    cancel_requested boolean NOT NULL DEFAULT false,
    cancel_reason text,
    lease_token text,
    lease_expires_at double precision,
    worker_id text,
    rescue_count integer NOT NULL DEFAULT 0,
    CHECK ((state = 'running') = (lease_token IS NOT NULL))
) WITH (
    -- room on each page so heartbeat and progress updates stay HOT (they touch no indexed
    -- column; claims and outcomes change `state`, which the indexes use, so they never are)
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

-- Hot index: only queued rows; finished jobs never enter it.
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id) WHERE state = 'queued';
-- Rescuer: running rows only (lease_expires_at is deliberately not indexed: heartbeats stay HOT).
CREATE INDEX jobs_running ON jobs (id) WHERE state = 'running';
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id COLLATE "C");
CREATE INDEX jobs_by_tenant_state ON jobs (tenant_id, state, id COLLATE "C");
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_by_batch ON jobs (batch_id, id COLLATE "C") WHERE batch_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    job_id text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    scopes jsonb NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    revoked_at double precision
);

CREATE TABLE workers (
    id text PRIMARY KEY,
    hostname text NOT NULL,
    pid integer NOT NULL,
    types jsonb NOT NULL,
    concurrency integer NOT NULL,
    started_at double precision NOT NULL,
    heartbeat_at double precision NOT NULL,
    running jsonb NOT NULL DEFAULT '[]'
);
