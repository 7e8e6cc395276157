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

-- 1: SHA-256 of the secret (keys made before 0003); 2: HMAC-SHA256 under the server's secret.
ALTER TABLE api_keys ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
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
