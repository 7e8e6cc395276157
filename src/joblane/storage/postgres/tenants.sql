-- Tenants, API keys and server secrets (PostgreSQL).

-- name: tenant_get
SELECT * FROM tenants WHERE id = :id

-- name: tenants_list
SELECT * FROM tenants ORDER BY id

-- name: tenant_put
INSERT INTO tenants (
    id, name, created_at, updated_at, retention_days, read_rate, read_burst, write_rate,
    write_burst, max_running, max_payload_bytes, job_types
) VALUES (
    :id, :name, joblane_now(), joblane_now(), :retention_days, :read_rate, :read_burst,
    :write_rate, :write_burst, :max_running, :max_payload_bytes, :job_types::jsonb
)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name,
    updated_at = excluded.updated_at,
    retention_days = excluded.retention_days,
    read_rate = excluded.read_rate,
    read_burst = excluded.read_burst,
    write_rate = excluded.write_rate,
    write_burst = excluded.write_burst,
    max_running = excluded.max_running,
    max_payload_bytes = excluded.max_payload_bytes,
    job_types = excluded.job_types
RETURNING *

-- name: key_insert
INSERT INTO api_keys (
    id, tenant_id, name, prefix, key_hash, scopes, created_at, expires_at, hash_version
) VALUES (
    :id, :tenant_id, :name, :prefix, :key_hash, :scopes::jsonb, :created_at, :expires_at,
    :hash_version
)

-- name: key_get
SELECT * FROM api_keys WHERE id = :id

-- name: key_by_hash
SELECT * FROM api_keys WHERE key_hash = :key_hash

-- name: keys_list
SELECT * FROM api_keys ORDER BY id

-- name: keys_list_for_tenant
SELECT * FROM api_keys WHERE tenant_id = :tenant_id ORDER BY id

-- name: key_revoke
UPDATE api_keys SET revoked_at = joblane_now() WHERE id = :id AND revoked_at IS NULL

-- name: key_retire
-- the rotated-out key: still valid for the grace period, never longer than it already was
UPDATE api_keys
SET replaced_by = :new_id, expires_at = LEAST(COALESCE(expires_at, :expires_at), :expires_at)
WHERE id = :id AND revoked_at IS NULL AND replaced_by IS NULL
  AND (expires_at IS NULL OR expires_at > joblane_now())
RETURNING id

-- name: server_secret_init
INSERT INTO server_secrets (name, value, created_at) VALUES (:name, :value, joblane_now())
ON CONFLICT (name) DO NOTHING

-- name: server_secret_get
SELECT value FROM server_secrets WHERE name = :name
