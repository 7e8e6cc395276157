-- Tenants and what protects them: per-tenant settings (NULL = the server's default), keyed key
-- hashes and rotation, daily usage, and tombstones of purged jobs and batches.
CREATE TABLE tenants (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    retention_days integer CHECK (retention_days > 0),
    read_rate double precision CHECK (read_rate > 0),
    read_burst integer CHECK (read_burst > 0),
    write_rate double precision CHECK (write_rate > 0),
    write_burst integer CHECK (write_burst > 0),
    max_running integer CHECK (max_running > 0),
    max_payload_bytes integer CHECK (max_payload_bytes > 0),
    job_types jsonb
);

-- 1: SHA-256 of the secret (keys made before 0003); 2: HMAC-SHA256 under the server's secret.
ALTER TABLE api_keys ADD COLUMN hash_version integer NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN replaced_by text;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id COLLATE "C");

-- Billable units per tenant and UTC day, sharded like batch_counts so writers do not queue.
CREATE TABLE usage_daily (
    tenant_id text COLLATE "C" NOT NULL,
    day date NOT NULL,
    shard integer NOT NULL,
    jobs_submitted bigint NOT NULL DEFAULT 0,
    items_processed bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, shard)
) WITH (fillfactor = 50);

-- A purged job or batch id answers 410 (not 404) until its tombstone is purged in turn.
CREATE TABLE tombstones (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    purged_at double precision NOT NULL
);
CREATE INDEX tombstones_by_age ON tombstones (purged_at);

-- The server's own secrets (the key-hashing secret when JOBLANE_SECRET_KEY is not set).
CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    value text NOT NULL,
    created_at double precision NOT NULL
);
