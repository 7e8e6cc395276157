-- The current schema, equal to all migrations applied (tests/migrations checks it).
CREATE FUNCTION joblane_now() RETURNS double precision
    LANGUAGE sql STABLE AS $$ SELECT extract(epoch FROM now())::double precision $$;

-- the UTC day of an epoch time (usage is counted per tenant and UTC day)
CREATE FUNCTION joblane_utc_day(epoch double precision) RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT (to_timestamp(epoch) AT TIME ZONE 'UTC')::date $$;

CREATE TABLE jobs (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    type text NOT NULL,
    state text NOT NULL
        CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    version integer NOT NULL DEFAULT 1,
    priority integer NOT NULL DEFAULT 0,
    input json NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    result json,
    error json,
    attempt integer NOT NULL DEFAULT 1,
    max_attempts integer NOT NULL,
    timeout double precision NOT NULL,
    batch_id text,
    idempotency_key text,
    callback_url text,
    progress_processed bigint NOT NULL DEFAULT 0,
    progress_total bigint,
    progress_failed bigint NOT NULL DEFAULT 0,
    progress_message text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    scheduled_at double precision NOT NULL,
    started_at double precision,
    completed_at double precision,
    failed_at double precision,
    cancelled_at double precision,
    finished_at double precision,
    cancel_requested boolean NOT NULL DEFAULT false,
    cancel_reason text,
    lease_token text,
    lease_expires_at double precision,
    worker_id text,
    rescue_count integer NOT NULL DEFAULT 0,
    -- queued in the lane of a tenant with max_running, or claimed under its cap (migration 0006)
    capped boolean NOT NULL DEFAULT false,
    CHECK ((state = 'running') = (lease_token IS NOT NULL))
) WITH (
    -- room on each page so heartbeat and progress updates stay HOT (they touch no indexed
    -- column; claims and outcomes change `state`, which the indexes use, so they never are)
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

-- Hot index: only queued rows outside batches; finished jobs never enter it. A batch's queued
-- items have their own (`jobs_batch_claimable`), so that those of a paused or
-- concurrency-limited batch never lie in a claim's way; so do the queued jobs of tenants with
-- max_running (`jobs_capped`, one range per tenant: a capped tenant's backlog is never walked).
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped;
CREATE INDEX jobs_capped ON jobs (tenant_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped;
CREATE INDEX jobs_batch_claimable ON jobs (batch_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NOT NULL;
-- Rescuer: running rows only (lease_expires_at is deliberately not indexed: heartbeats stay HOT).
CREATE INDEX jobs_running ON jobs (id) WHERE state = 'running';
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id COLLATE "C");
CREATE INDEX jobs_by_tenant_state ON jobs (tenant_id, state, id COLLATE "C");
-- retention: finished jobs outside batches, by tenant and finish time (migration 0005)
CREATE INDEX jobs_finished ON jobs (tenant_id, finished_at)
    WHERE finished_at IS NOT NULL AND batch_id IS NULL;
-- a batch's items in item order (ids are made in submission order)
CREATE INDEX jobs_by_batch ON jobs (batch_id, id COLLATE "C") INCLUDE (state)
    WHERE batch_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    tenant_id text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    job_id text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    scopes jsonb NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    revoked_at double precision,
    hash_version integer NOT NULL DEFAULT 1,
    replaced_by text
);

CREATE TABLE workers (
    id text PRIMARY KEY,
    hostname text NOT NULL,
    pid integer NOT NULL,
    types jsonb NOT NULL,
    concurrency integer NOT NULL,
    started_at double precision NOT NULL,
    heartbeat_at double precision NOT NULL,
    running jsonb NOT NULL DEFAULT '[]'
);

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

-- Tenants and what protects them: per-tenant settings (NULL = the server's default), keyed key
-- hashes and rotation, daily usage, and tombstones of purged jobs and batches.
CREATE TABLE tenants (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    retention_days integer CHECK (retention_days > 0),
    read_rate double precision CHECK (read_rate > 0),
    read_burst integer CHECK (read_burst > 0),
    write_rate double precision CHECK (write_rate > 0),
    write_burst integer CHECK (write_burst > 0),
    max_running integer CHECK (max_running > 0),
    max_payload_bytes integer CHECK (max_payload_bytes > 0),
    job_types jsonb
);

CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id COLLATE "C");

-- Billable units per tenant and UTC day, sharded like batch_counts so writers do not queue.
CREATE TABLE usage_daily (
    tenant_id text COLLATE "C" NOT NULL,
    day date NOT NULL,
    shard integer NOT NULL,
    jobs_submitted bigint NOT NULL DEFAULT 0,
    items_processed bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, shard)
) WITH (fillfactor = 50);

-- A purged job or batch id answers 410 (not 404) until its tombstone is purged in turn.
CREATE TABLE tombstones (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    purged_at double precision NOT NULL
);
CREATE INDEX tombstones_by_age ON tombstones (purged_at);

-- The server's own secrets (the key-hashing secret when JOBLANE_SECRET_KEY is not set).
CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    value text NOT NULL,
    created_at double precision NOT NULL
);

-- Retention (migration 0005): settled batches by tenant and settle time, and the batches being
-- purged (their row is gone, their items are deleted chunk by chunk, then their counts).
CREATE INDEX batches_settled ON batches (tenant_id, settled_at) WHERE settled_at IS NOT NULL;
CREATE TABLE batch_purges (
    batch_id text COLLATE "C" PRIMARY KEY,
    started_at double precision NOT NULL
);

-- Fair share (migration 0006, fairshare.sql): the queued jobs of a tenant with max_running sit in
-- their own lane (`jobs.capped`, index `jobs_capped` above), claimed by a step that holds the
-- tenant's row. A job's lane is chosen by the statements that queue it (`jobs_insert`,
-- `jobs_requeue`, `jobs_release`, `job_retry`); the triggers move a tenant's queued jobs when its
-- cap is set or lifted, and wake idle workers when a capped tenant may start jobs again.
CREATE INDEX tenants_capped ON tenants (id) WHERE max_running IS NOT NULL;
-- a tenant's open batches (the capped claim looks at those of each tenant it serves)
CREATE INDEX batches_open ON batches (tenant_id) WHERE settled_at IS NULL;

-- May a capped tenant start a job of these types now? (lane jobs of a tenant with room, or of
-- one whose cap was lifted; items of a capped tenant's open batches with room.) Asked by the
-- claim while some tenant has a cap, and by idle workers (a function: their probe carries none
-- of this plan while nobody has a cap).
CREATE FUNCTION joblane_capped_ready(types text[]) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        WITH RECURSIVE lane(tenant_id) AS (
            (SELECT tenant_id FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped
             ORDER BY tenant_id LIMIT 1)
            UNION ALL
            SELECT (SELECT j.tenant_id FROM jobs j
                    WHERE j.state = 'queued' AND j.batch_id IS NULL AND j.capped
                        AND j.tenant_id > lane.tenant_id
                    ORDER BY j.tenant_id LIMIT 1)
            FROM lane WHERE lane.tenant_id IS NOT NULL)
        SELECT 1 FROM lane JOIN tenants t ON t.id = lane.tenant_id COLLATE "C"
        WHERE (t.max_running IS NULL OR t.max_running > (SELECT count(*) FROM jobs r
                WHERE r.tenant_id = lane.tenant_id AND r.state = 'running'))
            AND (SELECT 1 FROM jobs q
                 WHERE q.tenant_id = lane.tenant_id AND q.state = 'queued'
                     AND q.batch_id IS NULL AND q.capped AND q.scheduled_at <= joblane_now()
                     AND q.type = ANY(types)
                 ORDER BY q.priority DESC, q.scheduled_at, q.id LIMIT 1) IS NOT NULL)
    OR EXISTS (
        SELECT 1 FROM tenants t
        JOIN batches b ON b.tenant_id = t.id COLLATE "default"
            AND b.settled_at IS NULL AND b.control = 'active'
        WHERE t.max_running IS NOT NULL
            AND t.max_running > (SELECT count(*) FROM jobs r
                WHERE r.tenant_id = b.tenant_id AND r.state = 'running')
            AND (b.max_concurrent IS NULL OR b.max_concurrent > COALESCE(
                (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = b.id), 0))
            AND EXISTS (SELECT 1 FROM jobs i
                WHERE i.batch_id = b.id COLLATE "default" AND i.state = 'queued'
                    AND i.scheduled_at <= joblane_now() AND i.type = ANY(types)));
END $$;

CREATE FUNCTION joblane_tenant_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (OLD.max_running IS NULL) <> (NEW.max_running IS NULL) THEN
        UPDATE jobs SET capped = (NEW.max_running IS NOT NULL)
        WHERE tenant_id = NEW.id COLLATE "default" AND state = 'queued' AND batch_id IS NULL
            AND capped <> (NEW.max_running IS NOT NULL);
    END IF;
    PERFORM pg_notify('joblane_jobs', '');
    RETURN NULL;
END $$;

CREATE TRIGGER tenants_cap_set AFTER INSERT ON tenants
    FOR EACH ROW WHEN (NEW.max_running IS NOT NULL)
    EXECUTE FUNCTION joblane_tenant_cap();
CREATE TRIGGER tenants_cap_changed AFTER UPDATE OF max_running ON tenants
    FOR EACH ROW WHEN (OLD.max_running IS DISTINCT FROM NEW.max_running)
    EXECUTE FUNCTION joblane_tenant_cap();

CREATE FUNCTION joblane_tenant_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('joblane_jobs', '');
    RETURN NULL;
END $$;

-- only for jobs claimed under a cap (`capped`): other jobs' claims and outcomes never call it
CREATE TRIGGER jobs_tenant_freed AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state <> 'running' AND OLD.capped)
    EXECUTE FUNCTION joblane_tenant_freed();

-- Artifacts (migration 0008; storage/postgres/artifacts.py): a row per file of a job,
-- made (guarded by the job's lease) before its bytes are written, so every file in the store
-- has a row here or in `artifact_garbage`. `size` and `sha256` stay NULL until the write
-- committed.
CREATE TABLE artifacts (
    job_id text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    tenant_id text NOT NULL,
    attempt integer NOT NULL,
    path text NOT NULL,
    content_type text NOT NULL,
    size bigint,
    sha256 text,
    created_at double precision NOT NULL,
    PRIMARY KEY (job_id, name)
);

-- Files to remove from the store: a replaced write, an abandoned one, and every file of a
-- deleted job (the trigger below, in the transaction that deleted it). The maintenance leader
-- removes the files, then the rows: a crash in between removes them again, never leaks them.
CREATE TABLE artifact_garbage (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path text NOT NULL,
    queued_at double precision NOT NULL
);

-- Whatever deletes jobs (DELETE /v1/jobs/{id}, retention, a batch's purge) hands their files
-- over: one statement per deleting statement, through the primary key.
CREATE FUNCTION joblane_artifacts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        DELETE FROM artifacts WHERE job_id = ANY(ARRAY(SELECT id FROM gone_jobs))
        RETURNING path)
    INSERT INTO artifact_garbage (path, queued_at) SELECT path, joblane_now() FROM gone;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_artifacts_gone AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS gone_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_artifacts_gone();

-- Webhooks (README "Webhooks", docs/architecture.md). Tenant endpoints, each tenant's signing
-- secret for per-job and per-batch `callback_url`, and the outbox: an event per job or batch that
-- reaches a terminal state, written by the triggers below in the transaction of that change (so
-- whatever path makes it: a worker, the rescuer, a cancel, a batch settling), and a delivery per
-- target, which dispatchers claim with a lease (FOR UPDATE SKIP LOCKED, like jobs); every attempt
-- is logged.
CREATE TABLE webhook_endpoints (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    url text NOT NULL,
    description text,
    events text[] NOT NULL,  -- event types; {*} is every type
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    secret text NOT NULL,
    previous_secret text,  -- still signs (beside `secret`) until it expires: a rotation's grace
    previous_secret_expires_at double precision,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, id COLLATE "C");

-- The secret that signs a tenant's callback_url deliveries (made on first use).
CREATE TABLE callback_secrets (
    tenant_id text PRIMARY KEY,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_expires_at double precision,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);

-- `snapshot`: the job or batch as it was at the event (a job without its input); the first
-- dispatch renders it into `body` (the payload every attempt then sends, byte for byte).
CREATE TABLE webhook_events (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text NOT NULL,
    type text NOT NULL,
    subject_id text NOT NULL,
    occurred_at double precision NOT NULL,
    snapshot jsonb,
    body text,
    created_at double precision NOT NULL
);
CREATE INDEX webhook_events_by_age ON webhook_events (created_at);

-- One per event and target: an endpoint (`target` = its id) or the subject's callback_url
-- (`target` = 'callback', `url` its address). A claim bumps `attempt`, sets `lease_token` and
-- moves `next_attempt_at` past the lease, so a dispatcher that dies leaves it due again.
CREATE TABLE webhook_deliveries (
    event_id text COLLATE "C" NOT NULL,
    target text NOT NULL,
    tenant_id text NOT NULL,
    endpoint_id text,
    url text,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempt integer NOT NULL DEFAULT 0,
    round_start integer NOT NULL DEFAULT 1,  -- the attempt a redelivery restarted the schedule at
    next_attempt_at double precision NOT NULL,
    lease_token text,
    last_status integer,
    last_error text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    delivered_at double precision,
    PRIMARY KEY (event_id, target)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, event_id)
    WHERE endpoint_id IS NOT NULL;

CREATE TABLE webhook_attempts (
    event_id text COLLATE "C" NOT NULL,
    target text NOT NULL,
    attempt integer NOT NULL,
    started_at double precision NOT NULL,
    finished_at double precision,  -- NULL: the dispatcher never reported (it died mid-attempt)
    status_code integer,
    error text,
    duration double precision,
    PRIMARY KEY (event_id, target, attempt)
);

-- A ULID as core/ids.py makes them: `prefix_`, 10 characters of `epoch` in milliseconds, then 16
-- random ones.
CREATE FUNCTION joblane_ulid(prefix text, epoch double precision) RETURNS text
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet CONSTANT text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms CONSTANT bigint := floor(epoch * 1000)::bigint;
    body text := '';
BEGIN
    FOR i IN REVERSE 9..0 LOOP
        body := body || substr(alphabet, ((ms >> (5 * i)) & 31)::int + 1, 1);
    END LOOP;
    FOR i IN 1..16 LOOP
        body := body || substr(alphabet, floor(random() * 32)::int + 1, 1);
    END LOOP;
    RETURN prefix || '_' || body;
END $$;

-- Jobs outside batches that reached a terminal state, with a callback_url or a tenant endpoint
-- subscribed to their event (batch items are told by their batch's event). A statement trigger:
-- the transition tables are the ones `jobs_batch_counts` already has. A statement that finishes
-- no such job (the common case, and every heartbeat or claim) writes nothing: while no endpoint
-- is enabled anywhere it costs one probe of webhook_endpoints and a scan of its new rows for a
-- callback_url; else a probe per finished row (bench/RESULTS.md, "webhook outbox").
CREATE FUNCTION joblane_webhook_job_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled)
        AND NOT EXISTS (SELECT 1 FROM new_rows WHERE callback_url IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM new_rows n
        WHERE n.state IN ('completed', 'failed', 'cancelled')
            AND (n.callback_url IS NOT NULL OR (n.batch_id IS NULL AND EXISTS (
                SELECT 1 FROM webhook_endpoints e
                WHERE e.tenant_id = n.tenant_id AND e.enabled)))) THEN
        RETURN NULL;
    END IF;
    WITH events AS (
        INSERT INTO webhook_events AS v (id, tenant_id, type, subject_id, occurred_at, snapshot,
            created_at)
        SELECT joblane_ulid('evt', n.updated_at), n.tenant_id, 'job.' || n.state, n.id,
            n.updated_at, to_jsonb(n) - 'input', joblane_now()
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.state IN ('completed', 'failed', 'cancelled')
            AND o.state NOT IN ('completed', 'failed', 'cancelled')
            AND (n.callback_url IS NOT NULL OR (n.batch_id IS NULL AND EXISTS (
                SELECT 1 FROM webhook_endpoints e
                WHERE e.tenant_id = n.tenant_id AND e.enabled
                    AND ('job.' || n.state = ANY(e.events) OR '*' = ANY(e.events)))))
        ORDER BY n.id
        RETURNING v.id, v.tenant_id, v.type, v.occurred_at, v.snapshot ->> 'callback_url' AS url,
            v.snapshot ->> 'batch_id' IS NOT NULL AS item
    )
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT v.id, 'callback', v.tenant_id, NULL, v.url, v.occurred_at, v.occurred_at,
        v.occurred_at
    FROM events v WHERE v.url IS NOT NULL
    UNION ALL
    SELECT v.id, e.id, v.tenant_id, e.id, NULL, v.occurred_at, v.occurred_at, v.occurred_at
    FROM events v JOIN webhook_endpoints e ON e.tenant_id = v.tenant_id AND e.enabled
    WHERE NOT v.item AND (v.type = ANY(e.events) OR '*' = ANY(e.events));
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_webhook_events AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_webhook_job_events();

-- A batch settled (maintenance, `batches_settle`): it reached its terminal state. The event's
-- type follows core/batch.py `batch_status` once nothing is left to run.
CREATE FUNCTION joblane_webhook_batch_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k record;
    kind text;
    made text;
BEGIN
    IF NEW.callback_url IS NULL AND NOT EXISTS (
        SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = NEW.tenant_id AND e.enabled) THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(sum(c.queued), 0) AS queued, COALESCE(sum(c.running), 0) AS running,
        COALESCE(sum(c.completed), 0) AS completed, COALESCE(sum(c.failed), 0) AS failed,
        COALESCE(sum(c.cancelled), 0) AS cancelled, COALESCE(sum(c.changes), 0) AS changes,
        min(c.first_started_at) AS first_started_at, max(c.last_finished_at) AS last_finished_at,
        COALESCE(sum(c.item_seconds), 0) AS item_seconds,
        COALESCE(sum(c.timed_items), 0) AS timed_items
    INTO k FROM batch_counts c WHERE c.batch_id = NEW.id;
    kind := CASE
        WHEN NEW.control = 'cancelled' THEN 'batch.cancelled'
        WHEN k.failed > 0 AND k.failed = k.queued + k.running + k.completed + k.failed
            + k.cancelled THEN 'batch.failed'
        ELSE 'batch.completed' END;
    IF NEW.callback_url IS NULL AND NOT EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled
            AND (kind = ANY(e.events) OR '*' = ANY(e.events))) THEN
        RETURN NULL;
    END IF;
    made := joblane_ulid('evt', NEW.settled_at);
    INSERT INTO webhook_events (id, tenant_id, type, subject_id, occurred_at, snapshot, created_at)
    VALUES (made, NEW.tenant_id, kind, NEW.id, NEW.settled_at,
        to_jsonb(NEW) || to_jsonb(k) || jsonb_build_object('errors', (
            SELECT COALESCE(jsonb_agg(jsonb_build_object('code', g.code, 'count', g.count,
                'sample', g.sample, 'resolution', g.resolution)), '[]')
            FROM (SELECT r.code, sum(r.count) AS count, min(r.resolution) AS resolution,
                    (SELECT COALESCE(array_agg(DISTINCT s ORDER BY s), '{}')
                     FROM batch_errors q, unnest(q.sample) AS s
                     WHERE q.batch_id = NEW.id AND q.code = r.code) AS sample
                  FROM batch_errors r WHERE r.batch_id = NEW.id
                  GROUP BY r.code HAVING sum(r.count) > 0) AS g)),
        joblane_now());
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT made, 'callback', NEW.tenant_id, NULL, NEW.callback_url, NEW.settled_at,
        NEW.settled_at, NEW.settled_at
    WHERE NEW.callback_url IS NOT NULL
    UNION ALL
    SELECT made, e.id, NEW.tenant_id, e.id, NULL, NEW.settled_at, NEW.settled_at,
        NEW.settled_at
    FROM webhook_endpoints e
    WHERE e.tenant_id = NEW.tenant_id AND e.enabled
        AND (kind = ANY(e.events) OR '*' = ANY(e.events));
    RETURN NULL;
END $$;

CREATE TRIGGER batches_webhook_events AFTER UPDATE OF settled_at ON batches
    FOR EACH ROW WHEN (OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL)
    EXECUTE FUNCTION joblane_webhook_batch_event();

-- New deliveries wake idle dispatchers (LISTEN joblane_webhooks), so an idle process sends no
-- query to find out; one NOTIFY per statement that queued any, delivered at its commit.
CREATE FUNCTION joblane_webhooks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM queued) THEN
        PERFORM pg_notify('joblane_webhooks', '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
    REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_webhooks_notify();

-- Job logs (core/joblog.py, storage/postgres/observe.py): a handler's own log lines, the last
-- ones of each attempt within bounds the worker keeps (200 lines, 64 KiB). Written in batches;
-- `seq` counts from 1 within an attempt, so a gap before the first kept line = lines dropped.
CREATE TABLE job_logs (
    job_id text COLLATE "C" NOT NULL,
    attempt integer NOT NULL,
    seq integer NOT NULL,
    at double precision NOT NULL,
    level text NOT NULL,
    logger text NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
);

-- The W3C trace context of the request that submitted a job (tracing on: the `otel` extra),
-- restored by the worker around the handler's span. A row only for jobs submitted in a trace.
CREATE TABLE job_traces (
    job_id text COLLATE "C" PRIMARY KEY,
    traceparent text NOT NULL,
    tracestate text
);

-- Whatever deletes jobs (DELETE /v1/jobs/{id}, retention, a batch's purge) deletes their lines
-- and trace contexts: one statement each per deleting statement, through the primary keys.
CREATE FUNCTION joblane_logs_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_logs WHERE job_id = ANY(ARRAY(SELECT id FROM gone_jobs));
    DELETE FROM job_traces WHERE job_id = ANY(ARRAY(SELECT id FROM gone_jobs));
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_logs_gone AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS gone_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION joblane_logs_gone();

-- The dashboard (migration 0010; storage/postgres/overview.sql, bench/dashboard.py): reads that
-- stay fast with millions of jobs. Counts by tenant, type and state are kept in `job_counts` by statement
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
