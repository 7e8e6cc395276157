-- Artifacts on SQLite (storage/sqlite/artifacts.py). A worker's writes carry its lease: they
-- apply only while the job is running under that token, like every other worker write.

-- name: artifact_replaced
-- The write this one replaces (a former attempt's, or an earlier write of the same name) goes.
INSERT INTO artifact_garbage (path, queued_at)
SELECT a.path, :now FROM artifacts a JOIN jobs j ON j.id = a.job_id
WHERE a.job_id = :job_id AND a.name = :name
    AND j.state = 'running' AND j.lease_token = :token

-- name: artifact_reserve
INSERT INTO artifacts (job_id, name, tenant_id, attempt, path, content_type, created_at)
SELECT id, :name, tenant_id, attempt, :path, :content_type, :now FROM jobs
WHERE id = :job_id AND state = 'running' AND lease_token = :token
ON CONFLICT (job_id, name) DO UPDATE SET
    attempt = excluded.attempt, path = excluded.path, content_type = excluded.content_type,
    size = NULL, sha256 = NULL, created_at = excluded.created_at
RETURNING attempt

-- name: artifact_commit
UPDATE artifacts SET size = :size, sha256 = :sha256, created_at = :now
WHERE job_id = :job_id AND name = :name AND path = :path
    AND EXISTS (SELECT 1 FROM jobs
                WHERE id = :job_id AND state = 'running' AND lease_token = :token)
RETURNING job_id, name, attempt, path, size, sha256, content_type, created_at

-- name: artifact_abandon_queue
INSERT INTO artifact_garbage (path, queued_at) VALUES (:path, :now)

-- name: artifact_abandon_drop
DELETE FROM artifacts WHERE job_id = :job_id AND name = :name AND path = :path

-- name: artifact_get
SELECT job_id, name, attempt, path, size, sha256, content_type, created_at FROM artifacts
WHERE job_id = :job_id AND name = :name AND size IS NOT NULL

-- name: artifacts_list
SELECT job_id, name, attempt, path, size, sha256, content_type, created_at FROM artifacts
WHERE job_id = :job_id AND size IS NOT NULL
ORDER BY name

-- name: artifact_garbage_take
SELECT id, path FROM artifact_garbage ORDER BY id LIMIT :limit

-- name: artifact_garbage_done
DELETE FROM artifact_garbage WHERE id IN (SELECT value FROM json_each(:ids))
