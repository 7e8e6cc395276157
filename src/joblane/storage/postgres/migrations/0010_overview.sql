-- The dashboard (storage/postgres/overview.sql, bench/dashboard.py): reads that stay fast with
-- millions of jobs. Counts by tenant, type and state are kept in `job_counts` by statement
-- triggers on jobs (sharded by backend process like batch_counts, so writers never queue on
-- one row); a read sums at most 16 rows per (tenant, type, state). Throughput comes from an
-- index over finish times, the queue from indexes over queued rows only, and the job list's
-- type and metadata filters from indexes of their own.
CREATE TABLE job_counts (
    tenant_id text NOT NULL,
    type text NOT NULL,
    state text NOT NULL,
    shard integer NOT NULL,
    count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, type, state, shard)
) WITH (fillfactor = 50);

INSERT INTO job_counts (tenant_id, type, state, shard, count)
SELECT tenant_id, type, state, 0, count(*) FROM jobs GROUP BY tenant_id, type, state;

-- +1 for each row's new state, -1 for its old one; rows in key order, so two statements lock
-- the rows they share in one order
CREATE FUNCTION joblane_job_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_counts AS c (tenant_id, type, state, shard, count)
        SELECT n.tenant_id, n.type, n.state, pg_backend_pid() % 16, count(*)
        FROM new_rows n GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, type, state, shard) DO UPDATE SET count = c.count + excluded.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_counts AS c (tenant_id, type, state, shard, count)
        SELECT o.tenant_id, o.type, o.state, pg_backend_pid() % 16, -count(*)
        FROM old_rows o GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, type, state, shard) DO UPDATE SET count = c.count + excluded.count;
    ELSE
        INSERT INTO job_counts AS c (tenant_id, type, state, shard, count)
        SELECT d.tenant_id, d.type, d.state, pg_backend_pid() % 16, sum(d.delta)
        FROM new_rows n JOIN old_rows o ON o.id = n.id,
            LATERAL (VALUES (n.tenant_id, n.type, n.state, 1),
                            (o.tenant_id, o.type, o.state, -1)) AS d(tenant_id, type, state, delta)
        WHERE n.state <> o.state
        GROUP BY 1, 2, 3 HAVING sum(d.delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (tenant_id, type, state, shard) DO UPDATE SET count = c.count + excluded.count;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_job_counts();
CREATE TRIGGER jobs_counts_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_job_counts();
CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_job_counts();

-- throughput: the last day's finished jobs in one range, for every tenant (an admin's view) or
-- filtered to one (never more rows than the admin's view reads)
CREATE INDEX jobs_finished_at ON jobs (finished_at) INCLUDE (tenant_id, type, state)
    WHERE finished_at IS NOT NULL;
-- queue depth and the oldest ready job per type: queued rows only (a claim leaves them)
CREATE INDEX jobs_queued_by_type ON jobs (type, scheduled_at, id) INCLUDE (created_at)
    WHERE state = 'queued';
CREATE INDEX jobs_queued_by_tenant ON jobs (tenant_id, type, scheduled_at, id)
    INCLUDE (created_at) WHERE state = 'queued';

-- The job list (listing.py), newest first by id: a type's jobs through their own range (a type
-- whose jobs are rare or old is never found by walking the whole primary key), and metadata
-- filters (`metadata @> {"k": "v"}`) through a GIN index. Status, batch and tenant filters have
-- theirs (jobs_by_tenant_state, jobs_by_batch, jobs_by_tenant); a created range becomes a range
-- of ids (service/jobs.py).
CREATE INDEX jobs_by_type ON jobs (type, id COLLATE "C");
CREATE INDEX jobs_metadata ON jobs USING gin (metadata jsonb_path_ops);
