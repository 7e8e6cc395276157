-- Webhooks (README "Webhooks", docs/architecture.md). Tenant endpoints, each tenant's signing
-- secret for per-job and per-batch `callback_url`, and the outbox: an event per job or batch that
-- reaches a terminal state, written by the triggers below in the transaction of that change (so
-- whatever path makes it: a worker, the rescuer, a cancel, a batch settling), and a delivery per
-- target, which dispatchers claim with a lease like jobs; every attempt is logged.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    events TEXT NOT NULL,  -- a JSON array of event types; ["*"] is every type
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,  -- still signs (beside `secret`) until it expires: a rotation's grace
    previous_secret_expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, id);

-- The secret that signs a tenant's callback_url deliveries (made on first use).
CREATE TABLE callback_secrets (
    tenant_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) STRICT;

-- `snapshot`: the job or batch as it was at the event (a job without its input); the first
-- dispatch renders it into `body` (the payload every attempt then sends, byte for byte).
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    snapshot TEXT,
    body TEXT,
    created_at REAL NOT NULL
) STRICT;
CREATE INDEX webhook_events_by_age ON webhook_events (created_at);

-- One per event and target: an endpoint (`target` = its id) or the subject's callback_url
-- (`target` = 'callback', `url` its address). A claim bumps `attempt`, sets `lease_token` and
-- moves `next_attempt_at` past the lease, so a dispatcher that dies leaves it due again.
CREATE TABLE webhook_deliveries (
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    endpoint_id TEXT,
    url TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempt INTEGER NOT NULL DEFAULT 0,
    round_start INTEGER NOT NULL DEFAULT 1,  -- the attempt a redelivery restarted the schedule at
    next_attempt_at REAL NOT NULL,
    lease_token TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL,
    PRIMARY KEY (event_id, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, event_id)
    WHERE endpoint_id IS NOT NULL;

CREATE TABLE webhook_attempts (
    event_id TEXT NOT NULL,
    target TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,  -- NULL: the dispatcher never reported (it died mid-attempt)
    status_code INTEGER,
    error TEXT,
    duration REAL,
    PRIMARY KEY (event_id, target, attempt)
) STRICT, WITHOUT ROWID;

-- 16 random Crockford base32 characters: an event id is 'evt_', 10 characters of the event's
-- millisecond time, then these (a ULID, as core/ids.py makes them).
CREATE VIEW joblane_random_chars AS
SELECT substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1)
    || substr(a, (random() & 31) + 1, 1) || substr(a, (random() & 31) + 1, 1) AS chars
FROM (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a);

-- A job outside a batch that reached a terminal state, with a callback_url or a tenant endpoint
-- subscribed to its event (batch items are told by their batch's event). It fires on the columns
-- only a move to a terminal state sets (every one sets its own `*_at`; tests/migrations checks),
-- so claims, heartbeats and progress never run it; other finished jobs cost its WHEN clause:
-- one probe of webhook_endpoints by tenant.
-- (Comparisons, not IN lists: SQLite builds an IN list's lookup table at every run of a
-- trigger's WHEN, which would cost each finished job some microseconds.)
CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF completed_at, failed_at, cancelled_at ON jobs
WHEN NEW.state <> OLD.state AND NEW.state <> 'queued' AND NEW.state <> 'running'
    AND (NEW.callback_url IS NOT NULL OR (NEW.batch_id IS NULL AND EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(e.events)
                        WHERE value = '*' OR value = 'job.' || NEW.state))))
BEGIN
    INSERT INTO webhook_events (id, tenant_id, type, subject_id, occurred_at, snapshot, created_at)
    SELECT 'evt_'
        || substr(t.a, ((t.ms >> 45) & 31) + 1, 1) || substr(t.a, ((t.ms >> 40) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 35) & 31) + 1, 1) || substr(t.a, ((t.ms >> 30) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 25) & 31) + 1, 1) || substr(t.a, ((t.ms >> 20) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 15) & 31) + 1, 1) || substr(t.a, ((t.ms >> 10) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 5) & 31) + 1, 1) || substr(t.a, ((t.ms >> 0) & 31) + 1, 1)
        || (SELECT chars FROM joblane_random_chars),
        NEW.tenant_id, 'job.' || NEW.state, NEW.id, NEW.updated_at,
        json_object('id', NEW.id, 'tenant_id', NEW.tenant_id, 'type', NEW.type,
            'state', NEW.state, 'version', NEW.version, 'metadata', json(NEW.metadata),
            'priority', NEW.priority, 'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
            'timeout', NEW.timeout, 'progress_processed', NEW.progress_processed,
            'progress_total', NEW.progress_total, 'progress_failed', NEW.progress_failed,
            'progress_message', NEW.progress_message, 'result', json(NEW.result),
            'error', json(NEW.error), 'batch_id', NEW.batch_id,
            'idempotency_key', NEW.idempotency_key, 'callback_url', NEW.callback_url,
            'created_at', NEW.created_at, 'updated_at', NEW.updated_at,
            'scheduled_at', NEW.scheduled_at, 'started_at', NEW.started_at,
            'completed_at', NEW.completed_at, 'failed_at', NEW.failed_at,
            'cancelled_at', NEW.cancelled_at, 'cancel_requested', NEW.cancel_requested,
            'cancel_reason', NEW.cancel_reason, 'lease_token', NEW.lease_token,
            'lease_expires_at', NEW.lease_expires_at, 'worker_id', NEW.worker_id),
        NEW.updated_at
    FROM (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a,
                 CAST(NEW.updated_at * 1000 AS INTEGER) AS ms) AS t;
    -- (webhook_deliveries has no rowid: last_insert_rowid() still names the event)
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT v.id, 'callback', v.tenant_id, NULL, NEW.callback_url, v.occurred_at,
        v.occurred_at, v.occurred_at
    FROM webhook_events v WHERE v.rowid = last_insert_rowid() AND NEW.callback_url IS NOT NULL
        AND v.subject_id = NEW.id
    UNION ALL
    SELECT v.id, e.id, v.tenant_id, e.id, NULL, v.occurred_at, v.occurred_at, v.occurred_at
    FROM webhook_events v JOIN webhook_endpoints e ON e.tenant_id = v.tenant_id AND e.enabled = 1
    WHERE v.rowid = last_insert_rowid() AND v.subject_id = NEW.id AND NEW.batch_id IS NULL
        AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = v.type);
END;

-- A batch settled (maintenance, `batches_settle`): it reached its terminal state. The event's
-- type follows core/batch.py `batch_status` once nothing is left to run.
CREATE TRIGGER batches_webhook_events AFTER UPDATE OF settled_at ON batches
WHEN OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL
    AND (NEW.callback_url IS NOT NULL OR EXISTS (
        SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1))
BEGIN
    INSERT INTO webhook_events (id, tenant_id, type, subject_id, occurred_at, snapshot, created_at)
    SELECT 'evt_'
        || substr(t.a, ((t.ms >> 45) & 31) + 1, 1) || substr(t.a, ((t.ms >> 40) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 35) & 31) + 1, 1) || substr(t.a, ((t.ms >> 30) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 25) & 31) + 1, 1) || substr(t.a, ((t.ms >> 20) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 15) & 31) + 1, 1) || substr(t.a, ((t.ms >> 10) & 31) + 1, 1)
        || substr(t.a, ((t.ms >> 5) & 31) + 1, 1) || substr(t.a, ((t.ms >> 0) & 31) + 1, 1)
        || (SELECT chars FROM joblane_random_chars),
        NEW.tenant_id, k.type, NEW.id, NEW.settled_at,
        json_object('id', NEW.id, 'tenant_id', NEW.tenant_id, 'name', NEW.name,
            'control', NEW.control, 'control_reason', NEW.control_reason,
            'version', NEW.version, 'max_concurrent', NEW.max_concurrent,
            'priority', NEW.priority, 'timeout', NEW.timeout, 'callback_url', NEW.callback_url,
            'notification_enabled', NEW.notification_enabled, 'created_at', NEW.created_at,
            'updated_at', NEW.updated_at, 'queued', k.queued, 'running', k.running,
            'completed', k.completed, 'failed', k.failed, 'cancelled', k.cancelled,
            'changes', k.changes, 'first_started_at', k.first_started_at,
            'last_finished_at', k.last_finished_at, 'item_seconds', k.item_seconds,
            'timed_items', k.timed_items,
            'errors', json((SELECT json_group_array(json_object('code', r.code,
                            'count', r.count, 'sample', json(r.sample),
                            'resolution', r.resolution))
                       FROM batch_errors r WHERE r.batch_id = NEW.id AND r.count > 0))),
        NEW.settled_at
    FROM (SELECT c.*, CASE
                WHEN NEW.control = 'cancelled' THEN 'batch.cancelled'
                WHEN c.failed > 0 AND c.failed = c.queued + c.running + c.completed + c.failed
                    + c.cancelled THEN 'batch.failed'
                ELSE 'batch.completed' END AS type
          FROM batch_counts c WHERE c.batch_id = NEW.id AND c.shard = 0) AS k,
        (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS a,
                CAST(NEW.settled_at * 1000 AS INTEGER) AS ms) AS t
    WHERE NEW.callback_url IS NOT NULL OR EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.tenant_id = NEW.tenant_id AND e.enabled = 1
            AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = k.type));
    INSERT INTO webhook_deliveries (event_id, target, tenant_id, endpoint_id, url,
        next_attempt_at, created_at, updated_at)
    SELECT v.id, 'callback', v.tenant_id, NULL, NEW.callback_url, v.occurred_at,
        v.occurred_at, v.occurred_at
    FROM webhook_events v WHERE v.rowid = last_insert_rowid() AND NEW.callback_url IS NOT NULL
        AND v.subject_id = NEW.id
    UNION ALL
    SELECT v.id, e.id, v.tenant_id, e.id, NULL, v.occurred_at, v.occurred_at, v.occurred_at
    FROM webhook_events v JOIN webhook_endpoints e ON e.tenant_id = v.tenant_id AND e.enabled = 1
    WHERE v.rowid = last_insert_rowid() AND v.subject_id = NEW.id
        AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = '*' OR value = v.type);
END;
