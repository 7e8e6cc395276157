-- Webhooks on SQLite (storage/sqlite/webhooks.py). Events and their deliveries are written by
-- the triggers of migration 0007; these manage endpoints and secrets and move deliveries along.

-- name: webhook_insert
INSERT INTO webhook_endpoints (id, tenant_id, url, description, events, enabled, secret,
    created_at, updated_at)
VALUES (:id, :tenant_id, :url, :description, :events, :enabled, :secret, :now, :now)

-- name: webhook_get
SELECT * FROM webhook_endpoints
WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)

-- name: webhooks_list
SELECT * FROM webhook_endpoints
WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id) AND (:before_id IS NULL OR id < :before_id)
ORDER BY id DESC LIMIT :limit

-- name: webhook_update
UPDATE webhook_endpoints SET
    url = COALESCE(:url, url),
    events = COALESCE(:events, events),
    enabled = COALESCE(:enabled, enabled),
    description = CASE WHEN :set_description THEN :description ELSE description END,
    disabled_reason = CASE WHEN :enabled IS NULL THEN disabled_reason
                           WHEN :enabled THEN NULL ELSE :disabled_reason END,
    updated_at = :now
WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)
RETURNING *

-- name: webhook_disable
UPDATE webhook_endpoints SET enabled = 0, disabled_reason = :reason, updated_at = :now
WHERE id = :id AND enabled = 1

-- name: webhook_cancel_pending
-- An endpoint disabled (by a user, or by its 410): what it had waiting is not sent.
UPDATE webhook_deliveries SET state = 'cancelled', lease_token = NULL, updated_at = :now
WHERE endpoint_id = :id AND state = 'pending'

-- name: webhook_attempts_delete
DELETE FROM webhook_attempts WHERE (event_id, target) IN (
    SELECT event_id, target FROM webhook_deliveries WHERE endpoint_id = :id)

-- name: webhook_deliveries_delete
DELETE FROM webhook_deliveries WHERE endpoint_id = :id

-- name: webhook_delete
DELETE FROM webhook_endpoints WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)

-- name: webhook_set_secret
UPDATE webhook_endpoints SET previous_secret = secret,
    previous_secret_expires_at = :previous_expires_at, secret = :secret, updated_at = :now
WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)
RETURNING *

-- name: callback_secret_init
INSERT INTO callback_secrets (tenant_id, secret, created_at, updated_at)
VALUES (:tenant_id, :secret, :now, :now)
ON CONFLICT (tenant_id) DO NOTHING

-- name: callback_secret_get
SELECT * FROM callback_secrets WHERE tenant_id = :tenant_id

-- name: callback_secret_rotate
INSERT INTO callback_secrets (tenant_id, secret, created_at, updated_at)
VALUES (:tenant_id, :secret, :now, :now)
ON CONFLICT (tenant_id) DO UPDATE SET previous_secret = callback_secrets.secret,
    previous_secret_expires_at = :previous_expires_at, secret = excluded.secret,
    updated_at = :now
RETURNING *

-- name: webhook_deliveries_page
-- An endpoint's deliveries, newest event first.
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.endpoint_id = :endpoint_id AND (:before IS NULL OR d.event_id < :before)
    AND (:state IS NULL OR d.state = :state)
ORDER BY d.event_id DESC LIMIT :limit

-- name: webhook_deliveries_of_subject
-- One job's (or batch's) deliveries, newest event first. Its events were written by the
-- transitions they report, within [since, until]: a range of `webhook_events_by_age`.
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_events v JOIN webhook_deliveries d ON d.event_id = v.id
WHERE v.created_at BETWEEN :since AND :until AND v.subject_id = :subject_id
    AND (:tenant_id IS NULL OR v.tenant_id = :tenant_id)
ORDER BY v.id DESC, d.target LIMIT :limit

-- name: webhook_attempts_of_events
SELECT * FROM webhook_attempts WHERE event_id IN (SELECT value FROM json_each(:event_ids))

-- name: webhook_attempts_of_endpoint
SELECT * FROM webhook_attempts
WHERE target = :target AND event_id IN (SELECT value FROM json_each(:event_ids))

-- name: webhook_event_get
SELECT * FROM webhook_events WHERE id = :id AND (:tenant_id IS NULL OR tenant_id = :tenant_id)

-- name: webhook_event_deliveries
SELECT d.*, v.type AS event_type, v.subject_id
FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
WHERE d.event_id = :id ORDER BY d.target

-- name: webhook_event_attempts
SELECT * FROM webhook_attempts WHERE event_id = :id

-- name: webhook_redeliver
-- Due now, on a fresh schedule; a delivery being attempted right now (its lease not lapsed) is
-- left to finish, and one of a disabled endpoint stays as it is.
UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = :now,
    round_start = attempt + 1, updated_at = :now
WHERE event_id = :event_id AND (:target IS NULL OR target = :target)
    AND NOT (state = 'pending' AND lease_token IS NOT NULL AND next_attempt_at > :now)
    AND (endpoint_id IS NULL
         OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1))

-- name: webhook_deliveries_claim
-- Due deliveries, oldest due first: each gets the lease (`next_attempt_at` moves past it) and
-- its attempt number.
UPDATE webhook_deliveries SET attempt = attempt + 1, lease_token = :token,
    next_attempt_at = :now + :lease_seconds, updated_at = :now
WHERE (event_id, target) IN (
    SELECT event_id, target FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= :now
    ORDER BY next_attempt_at LIMIT :limit)
RETURNING event_id, target, attempt

-- name: webhook_attempt_start
INSERT INTO webhook_attempts (event_id, target, attempt, started_at)
VALUES (:event_id, :target, :attempt, :now)
ON CONFLICT (event_id, target, attempt) DO NOTHING

-- name: webhook_claimed
SELECT d.event_id, d.target, d.tenant_id, d.attempt, d.round_start, d.lease_token, d.url,
    v.type AS event_type, v.subject_id, v.occurred_at, v.body, v.snapshot,
    e.url AS endpoint_url, e.enabled AS endpoint_enabled, e.secret AS endpoint_secret,
    e.previous_secret AS endpoint_previous_secret,
    e.previous_secret_expires_at AS endpoint_previous_secret_expires_at,
    e.created_at AS endpoint_created_at, e.updated_at AS endpoint_updated_at
FROM webhook_deliveries d
JOIN webhook_events v ON v.id = d.event_id
LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.event_id = :event_id AND d.target = :target

-- name: webhook_event_render
UPDATE webhook_events SET body = :body, snapshot = NULL WHERE id = :id AND body IS NULL

-- name: webhook_event_body
SELECT body FROM webhook_events WHERE id = :id

-- name: webhook_delivery_finish
-- Only by the holder of the lease, while the delivery is still pending (not cancelled meanwhile).
UPDATE webhook_deliveries SET state = :state, next_attempt_at = :now + :retry_in,
    lease_token = NULL, last_status = :status_code, last_error = :error, updated_at = :now,
    delivered_at = CASE WHEN :delivered THEN :now ELSE delivered_at END
WHERE event_id = :event_id AND target = :target AND state = 'pending' AND lease_token = :token

-- name: webhook_attempt_finish
UPDATE webhook_attempts SET finished_at = :now, status_code = :status_code, error = :error,
    duration = :duration
WHERE event_id = :event_id AND target = :target AND attempt = :attempt AND finished_at IS NULL

-- name: webhook_next_due
SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'

-- name: webhook_events_expired
-- Events older than the log keeps, none of whose deliveries is still pending.
SELECT id FROM webhook_events v
WHERE created_at < :before AND NOT EXISTS (
    SELECT 1 FROM webhook_deliveries d WHERE d.event_id = v.id AND d.state = 'pending')
ORDER BY created_at LIMIT :limit

-- name: webhook_events_attempts_delete
DELETE FROM webhook_attempts WHERE event_id IN (SELECT value FROM json_each(:ids))

-- name: webhook_events_deliveries_delete
DELETE FROM webhook_deliveries WHERE event_id IN (SELECT value FROM json_each(:ids))

-- name: webhook_events_delete
DELETE FROM webhook_events WHERE id IN (SELECT value FROM json_each(:ids))
