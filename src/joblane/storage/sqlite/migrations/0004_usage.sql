-- Usage metering (core/usage.py). Jobs accepted are counted by the writes that accept them
-- (`ops.insert_jobs`, a batch's commit: one row update per write, not one per item); items
-- processed by this trigger, which fires only when an attempt ends completed or failed (a
-- cancelled job is not processed; a retried one counts again), on the UTC day it ended. Both
-- write `usage_daily` (migration 0003) in the transaction of the change itself.
CREATE TRIGGER jobs_usage_processed AFTER UPDATE OF state ON jobs
WHEN OLD.state = 'running' AND NEW.state IN ('completed', 'failed')
BEGIN
    INSERT INTO usage_daily (tenant_id, day, shard, items_processed)
    VALUES (NEW.tenant_id, date(NEW.updated_at, 'unixepoch'), 0, 1)
    ON CONFLICT (tenant_id, day, shard) DO UPDATE SET items_processed = items_processed + 1;
END;
