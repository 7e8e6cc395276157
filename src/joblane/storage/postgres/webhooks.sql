-- Webhooks on PostgreSQL (storage/postgres/webhooks.py). Events and their deliveries are written
-- by the triggers of migration 0007; these manage endpoints and secrets and move deliveries
-- along. Times from the database clock.

-- name: webhook_insert
INSERT INTO webhook_endpoints (id, tenant_id, url, description, events, enabled, secret,
    created_at, updated_at)
VALUES (:id, :tenant_id, :url, :description, :events::text[], :enabled, :secret,
    joblane_now(), joblane_now())

-- name: webhook_get
SELECT * FROM webhook_endpoints
WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)

-- name: webhooks_list
SELECT * FROM webhook_endpoints
WHERE (:tenant_id::text IS NULL OR tenant_id = :tenant_id)
    AND (:before_id::text IS NULL OR id < :before_id)
ORDER BY id DESC LIMIT :limit

-- name: webhook_update
-- A PATCH; disabling cancels what the endpoint had waiting, in the same statement.
WITH updated AS (
    UPDATE webhook_endpoints SET
        url = COALESCE(:url, url),
        events = COALESCE(:events::text[], events),
        enabled = COALESCE(:enabled::boolean, enabled),
        description = CASE WHEN :set_description THEN :description ELSE description END,
        disabled_reason = CASE WHEN :enabled::boolean IS NULL THEN disabled_reason
                               WHEN :enabled::boolean THEN NULL ELSE :disabled_reason END,
        updated_at = joblane_now()
    WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)
    RETURNING *
), cancelled AS (
    UPDATE webhook_deliveries d SET state = 'cancelled', lease_token = NULL,
        updated_at = joblane_now()
    FROM updated u WHERE d.endpoint_id = u.id AND NOT u.enabled AND d.state = 'pending'
)
SELECT * FROM updated

-- name: webhook_delete
WITH gone AS (
    DELETE FROM webhook_endpoints
    WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)
    RETURNING id
), deliveries AS (
    DELETE FROM webhook_deliveries d USING gone WHERE d.endpoint_id = gone.id
    RETURNING d.event_id, d.target
), attempts AS (
    DELETE FROM webhook_attempts a USING deliveries d
    WHERE a.event_id = d.event_id AND a.target = d.target
)
SELECT id FROM gone

-- name: webhook_set_secret
UPDATE webhook_endpoints SET previous_secret = secret,
    previous_secret_expires_at = :previous_expires_at, secret = :secret,
    updated_at = joblane_now()
WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)
RETURNING *

-- name: callback_secret_get
SELECT * FROM callback_secrets WHERE tenant_id = :tenant_id

-- name: callback_secret_init
-- The secret already made, or this candidate: one statement, so two processes agree.
WITH made AS (
    INSERT INTO callback_secrets (tenant_id, secret, created_at, updated_at)
    VALUES (:tenant_id, :secret, joblane_now(), joblane_now())
    ON CONFLICT (tenant_id) DO NOTHING
    RETURNING *
)
SELECT * FROM made
UNION ALL
SELECT * FROM callback_secrets WHERE tenant_id = :tenant_id AND NOT EXISTS (SELECT 1 FROM made)

-- name: callback_secret_rotate
INSERT INTO callback_secrets AS s (tenant_id, secret, created_at, updated_at)
VALUES (:tenant_id, :secret, joblane_now(), joblane_now())
ON CONFLICT (tenant_id) DO UPDATE SET previous_secret = s.secret,
    previous_secret_expires_at = :previous_expires_at, secret = excluded.secret,
    updated_at = joblane_now()
RETURNING *

-- name: webhook_deliveries_page
-- An endpoint's deliveries, newest event first.
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.endpoint_id = :endpoint_id AND (:before::text IS NULL OR d.event_id < :before)
    AND (:state::text IS NULL OR d.state = :state)
ORDER BY d.event_id DESC LIMIT :limit

-- name: webhook_deliveries_of_subject
-- One job's (or batch's) deliveries, newest event first. Its events were written by the
-- transitions they report, within [since, until]: a range of `webhook_events_by_age`.
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_events v JOIN webhook_deliveries d ON d.event_id = v.id
WHERE v.created_at BETWEEN :since AND :until AND v.subject_id = :subject_id
    AND (:tenant_id::text IS NULL OR v.tenant_id = :tenant_id)
ORDER BY v.id DESC, d.target LIMIT :limit

-- name: webhook_attempts_of_events
SELECT * FROM webhook_attempts WHERE event_id = ANY(:event_ids::text[])

-- name: webhook_attempts_of_endpoint
SELECT * FROM webhook_attempts WHERE target = :target AND event_id = ANY(:event_ids::text[])

-- name: webhook_event_get
SELECT * FROM webhook_events WHERE id = :id AND (:tenant_id::text IS NULL OR tenant_id = :tenant_id)

-- name: webhook_event_deliveries
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.event_id = :id ORDER BY d.target

-- name: webhook_event_attempts
SELECT * FROM webhook_attempts WHERE event_id = :id

-- name: webhook_redeliver
-- Due now, on a fresh schedule; a delivery being attempted right now (its lease not lapsed) is
-- left to finish, and one of a disabled endpoint stays as it is.
UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = joblane_now(),
    round_start = attempt + 1, updated_at = joblane_now()
WHERE event_id = :event_id AND (:target::text IS NULL OR target = :target)
    AND NOT (state = 'pending' AND lease_token IS NOT NULL AND next_attempt_at > joblane_now())
    AND (endpoint_id IS NULL
         OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled))

-- name: webhook_deliveries_claim
-- Due deliveries, oldest due first, each locked as scanned (another dispatcher skips it): each
-- gets the lease (`next_attempt_at` moves past it), its attempt number and a row in the log.
WITH picked AS (
    SELECT event_id, target FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= joblane_now()
    ORDER BY next_attempt_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries d SET attempt = d.attempt + 1, lease_token = :token,
        next_attempt_at = joblane_now() + :lease_seconds, updated_at = joblane_now()
    FROM picked WHERE d.event_id = picked.event_id AND d.target = picked.target
    RETURNING d.*
), logged AS (
    INSERT INTO webhook_attempts (event_id, target, attempt, started_at)
    SELECT event_id, target, attempt, joblane_now() FROM claimed
    ON CONFLICT (event_id, target, attempt) DO NOTHING
)
SELECT d.event_id, d.target, d.tenant_id, d.attempt, d.round_start, d.lease_token, d.url,
    v.type AS event_type, v.subject_id, v.occurred_at, v.body, v.snapshot,
    e.url AS endpoint_url, e.enabled AS endpoint_enabled, e.secret AS endpoint_secret,
    e.previous_secret AS endpoint_previous_secret,
    e.previous_secret_expires_at AS endpoint_previous_secret_expires_at,
    e.created_at AS endpoint_created_at, e.updated_at AS endpoint_updated_at
FROM claimed d
JOIN webhook_events v ON v.id = d.event_id
LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id
ORDER BY d.event_id

-- name: webhook_event_render
-- The first rendering wins: every attempt, by any process, sends the body stored here.
WITH stored AS (
    UPDATE webhook_events SET body = :body, snapshot = NULL
    WHERE id = :id AND body IS NULL
    RETURNING body
)
SELECT body FROM stored
UNION ALL
SELECT body FROM webhook_events WHERE id = :id AND NOT EXISTS (SELECT 1 FROM stored)

-- name: webhook_delivery_finish
-- Only by the holder of the lease, while the delivery is still pending (not cancelled meanwhile);
-- the attempt's row in the log is filled in either way.
WITH finished AS (
    UPDATE webhook_deliveries SET state = :state, next_attempt_at = joblane_now() + :retry_in,
        lease_token = NULL, last_status = :status_code, last_error = :error,
        updated_at = joblane_now(),
        delivered_at = CASE WHEN :delivered THEN joblane_now() ELSE delivered_at END
    WHERE event_id = :event_id AND target = :target AND state = 'pending'
        AND lease_token = :token
    RETURNING event_id
), logged AS (
    UPDATE webhook_attempts SET finished_at = joblane_now(), status_code = :status_code,
        error = :error, duration = :duration
    WHERE event_id = :event_id AND target = :target AND attempt = :attempt
        AND finished_at IS NULL
)
SELECT count(*) AS finished FROM finished

-- name: webhook_gone
-- The endpoint answered 410: disabled, and what it had waiting is not sent.
WITH disabled AS (
    UPDATE webhook_endpoints SET enabled = false, disabled_reason = :reason,
        updated_at = joblane_now()
    WHERE id = :id AND enabled
    RETURNING id
)
UPDATE webhook_deliveries SET state = 'cancelled', lease_token = NULL, updated_at = joblane_now()
WHERE endpoint_id = :id AND state = 'pending'

-- name: webhook_next_due
SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'

-- name: webhook_events_purge
-- Events older than the log keeps, none of whose deliveries is still pending, with their
-- deliveries and attempts.
WITH expired AS (
    SELECT v.id FROM webhook_events v
    WHERE v.created_at < :before AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries d WHERE d.event_id = v.id AND d.state = 'pending')
    ORDER BY v.created_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
), attempts AS (
    DELETE FROM webhook_attempts a USING expired e WHERE a.event_id = e.id
), deliveries AS (
    DELETE FROM webhook_deliveries d USING expired e WHERE d.event_id = e.id
)
DELETE FROM webhook_events v USING expired e WHERE v.id = e.id
