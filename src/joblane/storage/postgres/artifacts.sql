-- Artifacts on PostgreSQL (storage/postgres/artifacts.py). A worker's writes carry its lease:
-- they apply only while the job is running under that token, like every other worker write.

-- name: artifact_reserve
-- The job's row is share-locked until the commit: a rescue, and so a delete of the job that
-- would hand its files over, comes after this row exists (and then takes it along).
WITH owner AS (
    SELECT id, tenant_id, attempt FROM jobs
    WHERE id = :job_id AND state = 'running' AND lease_token = :token
    FOR SHARE
), replaced AS (
    INSERT INTO artifact_garbage (path, queued_at)
    SELECT a.path, joblane_now() FROM artifacts a JOIN owner o ON a.job_id = o.id
    WHERE a.name = :name
)
INSERT INTO artifacts (job_id, name, tenant_id, attempt, path, content_type, created_at)
SELECT id, :name, tenant_id, attempt, :path, :content_type, joblane_now() FROM owner
ON CONFLICT (job_id, name) DO UPDATE SET
    attempt = excluded.attempt, path = excluded.path, content_type = excluded.content_type,
    size = NULL, sha256 = NULL, created_at = excluded.created_at
RETURNING attempt

-- name: artifact_commit
UPDATE artifacts SET size = :size, sha256 = :sha256, created_at = joblane_now()
WHERE job_id = :job_id AND name = :name AND path = :path
    AND EXISTS (SELECT 1 FROM jobs
                WHERE id = :job_id AND state = 'running' AND lease_token = :token)
RETURNING job_id, name, attempt, path, size, sha256, content_type, created_at

-- name: artifact_abandon
WITH dropped AS (
    DELETE FROM artifacts WHERE job_id = :job_id AND name = :name AND path = :path
)
INSERT INTO artifact_garbage (path, queued_at) VALUES (:path, joblane_now())

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
DELETE FROM artifact_garbage WHERE id = ANY(:ids::bigint[])
