-- Batches. A batch row holds what users control; item counts live in `batch_counts`, kept by
-- a statement trigger on every item transition. The counts are spread over shards (one per
-- backend process, modulo 16) so that workers finishing items of one batch never queue up on
-- a single row; a read sums at most 16 rows, whatever the batch size.
CREATE TABLE batches (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    name text,
    control text NOT NULL DEFAULT 'active'
        CHECK (control IN ('active', 'paused', 'cancelled')),
    control_reason text,
    version integer NOT NULL DEFAULT 1,
    max_concurrent integer CHECK (max_concurrent > 0),
    priority integer NOT NULL DEFAULT 0,
    timeout double precision,
    deadline double precision,
    callback_url text,
    notification_enabled boolean NOT NULL DEFAULT false,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    settled_at double precision
);

CREATE INDEX batches_by_tenant ON batches (tenant_id, id COLLATE "C");
-- batches whose queued items the plain claim must skip: paused, or limited in concurrency
CREATE INDEX batches_gated ON batches (id)
    WHERE settled_at IS NULL AND (control = 'paused' OR max_concurrent IS NOT NULL);
CREATE INDEX batches_unsettled ON batches (deadline) WHERE settled_at IS NULL;

CREATE TABLE batch_counts (
    batch_id text COLLATE "C" NOT NULL,
    shard integer NOT NULL,
    queued bigint NOT NULL DEFAULT 0,
    running bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    changes bigint NOT NULL DEFAULT 0,
    first_started_at double precision,
    last_finished_at double precision,
    item_seconds double precision NOT NULL DEFAULT 0,
    timed_items bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, shard)
) WITH (fillfactor = 50);

CREATE TABLE batch_errors (
    batch_id text COLLATE "C" NOT NULL,
    code text NOT NULL,
    shard integer NOT NULL,
    count bigint NOT NULL DEFAULT 0,
    sample text[] NOT NULL DEFAULT '{}',
    resolution text,
    PRIMARY KEY (batch_id, code, shard)
) WITH (fillfactor = 50);

CREATE FUNCTION joblane_batch_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_rows WHERE batch_id IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    -- an item of an active batch with max_concurrent stopped running: a slot is free, and idle
    -- workers (which skip such batches while they are full) must hear of it
    IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
               JOIN batches b ON b.id = n.batch_id
               WHERE o.state = 'running' AND n.state <> 'running'
                   AND b.max_concurrent IS NOT NULL AND b.control = 'active') THEN
        PERFORM pg_notify('joblane_jobs', '');
    END IF;
    -- rows in batch_id order: two statements touching the same batches lock them in one order
    INSERT INTO batch_counts AS c (batch_id, shard, queued, running, completed, failed,
        cancelled, changes, first_started_at, last_finished_at, item_seconds, timed_items)
    SELECT n.batch_id, pg_backend_pid() % 16,
        sum((n.state = 'queued')::int - (o.state = 'queued')::int),
        sum((n.state = 'running')::int - (o.state = 'running')::int),
        sum((n.state = 'completed')::int - (o.state = 'completed')::int),
        sum((n.state = 'failed')::int - (o.state = 'failed')::int),
        sum((n.state = 'cancelled')::int - (o.state = 'cancelled')::int),
        count(*),
        min(n.started_at) FILTER (WHERE n.state = 'running'),
        max(n.finished_at) FILTER (WHERE n.finished_at IS NOT NULL),
        COALESCE(sum(n.finished_at - n.started_at)
            FILTER (WHERE n.finished_at IS NOT NULL AND n.started_at IS NOT NULL), 0),
        count(*) FILTER (WHERE n.finished_at IS NOT NULL AND n.started_at IS NOT NULL)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.batch_id IS NOT NULL AND n.state <> o.state
    GROUP BY n.batch_id
    ORDER BY n.batch_id
    ON CONFLICT (batch_id, shard) DO UPDATE SET
        queued = c.queued + excluded.queued,
        running = c.running + excluded.running,
        completed = c.completed + excluded.completed,
        failed = c.failed + excluded.failed,
        cancelled = c.cancelled + excluded.cancelled,
        changes = c.changes + excluded.changes,
        first_started_at = LEAST(c.first_started_at, excluded.first_started_at),
        last_finished_at = GREATEST(c.last_finished_at, excluded.last_finished_at),
        item_seconds = c.item_seconds + excluded.item_seconds,
        timed_items = c.timed_items + excluded.timed_items;
    -- failures by error code: +1 entering `failed`, -1 leaving it (a retry)
    INSERT INTO batch_errors AS e (batch_id, code, shard, count, sample, resolution)
    SELECT d.batch_id, d.code, pg_backend_pid() % 16, sum(d.delta),
        COALESCE((array_agg(d.id ORDER BY d.id) FILTER (WHERE d.delta > 0))[1:10], '{}'),
        min(d.resolution)
    FROM (
        SELECT n.batch_id, n.id, COALESCE(n.error ->> 'code', 'UNKNOWN') AS code, 1 AS delta,
            n.error ->> 'resolution' AS resolution
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.batch_id IS NOT NULL AND n.state = 'failed' AND o.state <> 'failed'
        UNION ALL
        SELECT o.batch_id, o.id, COALESCE(o.error ->> 'code', 'UNKNOWN'), -1, NULL
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.batch_id IS NOT NULL AND o.state = 'failed' AND n.state <> 'failed'
    ) d
    GROUP BY d.batch_id, d.code
    ORDER BY d.batch_id, d.code
    ON CONFLICT (batch_id, code, shard) DO UPDATE SET
        count = e.count + excluded.count,
        sample = CASE WHEN cardinality(e.sample) >= 10 THEN e.sample
                      ELSE (e.sample || excluded.sample)[1:10] END,
        resolution = COALESCE(e.resolution, excluded.resolution);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_batch_counts AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_batch_counts();

-- a batch's items in item order (ids are made in submission order)
DROP INDEX jobs_by_batch;
CREATE INDEX jobs_by_batch ON jobs (batch_id, id COLLATE "C") INCLUDE (state)
    WHERE batch_id IS NOT NULL;

-- Queued jobs in claim order, split in two so that the queued items of a paused or
-- concurrency-limited batch never lie in a claim's way: jobs outside batches, and each batch's
-- items under its own key (a claim visits only the batches it may take items from).
DROP INDEX jobs_claimable;
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL;
CREATE INDEX jobs_batch_claimable ON jobs (batch_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NOT NULL;
