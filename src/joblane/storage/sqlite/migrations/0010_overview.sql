-- The dashboard (storage/sqlite/overview.sql): the queue by type over queued rows only, and
-- throughput over the finish time of completed and failed jobs (SQLite has no `finished_at`:
-- the expression below, used as is by `overview_finished`). Counts by type and state read the
-- table (PostgreSQL keeps counters instead: migration 0010 there).
CREATE INDEX jobs_queued_by_type ON jobs (type, scheduled_at, id) WHERE state = 'queued';
CREATE INDEX jobs_queued_by_tenant ON jobs (tenant_id, type, scheduled_at, id)
    WHERE state = 'queued';
CREATE INDEX jobs_finished_at ON jobs (coalesce(completed_at, failed_at))
    WHERE state IN ('completed', 'failed');
