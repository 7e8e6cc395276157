-- Fair share (storage/sqlite/fairshare.py): `tenants.max_running` caps the running jobs of a
-- tenant. The queued jobs of a capped tenant (outside batches) leave the plain claim index for a
-- lane of their own, ordered by tenant (`capped`), so that a capped tenant's backlog never lies
-- in the way of other tenants' claims; the claim takes at most `max_running` minus what runs.
ALTER TABLE jobs ADD COLUMN capped INTEGER NOT NULL DEFAULT 0;
DROP INDEX jobs_claimable;
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 0;
CREATE INDEX jobs_capped ON jobs (tenant_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped = 1;
CREATE INDEX tenants_capped ON tenants (id) WHERE max_running IS NOT NULL;
UPDATE jobs SET capped = 1
WHERE state = 'queued' AND batch_id IS NULL
    AND tenant_id IN (SELECT id FROM tenants WHERE max_running IS NOT NULL);

-- A job's lane is chosen by the statements that queue it (`job_insert`, `job_requeue`,
-- `job_release`, `job_retry`); a cap set or lifted moves the tenant's queued jobs.
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
