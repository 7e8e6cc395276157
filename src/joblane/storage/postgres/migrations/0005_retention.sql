-- Retention (maintenance/retention.py). Finished jobs outside batches by tenant and finish time:
-- each tenant's expired jobs are one range, whatever other tenants keep (jobs_finished was
-- only used by the old purge of every finished job). Batch items go with their batch.
DROP INDEX jobs_finished;
CREATE INDEX jobs_finished ON jobs (tenant_id, finished_at)
    WHERE finished_at IS NOT NULL AND batch_id IS NULL;
CREATE INDEX batches_settled ON batches (tenant_id, settled_at) WHERE settled_at IS NOT NULL;

-- Batches being purged: the batch row is gone (the batch answers 410), its items are deleted
-- chunk by chunk; then its counts, errors and this row.
CREATE TABLE batch_purges (
    batch_id text COLLATE "C" PRIMARY KEY,
    started_at double precision NOT NULL
);
