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
