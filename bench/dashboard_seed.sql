-- bench/dashboard.py: :n jobs in one statement into a migrated, empty database. 30 days of
-- history (ids made at each job's creation time, so id order is creation order), 5 tenants
-- (50/25/15/7/3 %), 20 types (skewed: type_00 most), states spread (recent jobs queued or
-- running, older ones completed 89 %, failed 7 %, cancelled 3 %, 1 % left queued), 5 % of
-- queued jobs scheduled later, 10 % of jobs items of 40 batches, and `type_rare`: 100 jobs
-- of 25 days ago (a filter nothing else matches). Metadata: customer (5000 values), region (3).
INSERT INTO batches (id, tenant_id, name, created_at, updated_at)
SELECT 'bat_' || lpad(b::text, 26, '0'), 'tenant-' || (b % 5), 'bench batch ' || b,
    extract(epoch FROM now()) - 86400 * 30, extract(epoch FROM now())
FROM generate_series(1, 40) b;

INSERT INTO jobs (id, tenant_id, type, state, priority, input, metadata, attempt, max_attempts,
    timeout, batch_id, created_at, updated_at, scheduled_at, started_at, completed_at, failed_at,
    cancelled_at, finished_at, lease_token, lease_expires_at, worker_id, error)
SELECT s.id, s.tenant_id, s.type, s.state, 0, '{"n": 1}', s.metadata, 1, 3, 600, s.batch_id,
    s.created, s.created + 1, s.scheduled,
    CASE WHEN s.state IN ('running', 'completed', 'failed') THEN s.created + 1 END,
    CASE WHEN s.state = 'completed' THEN s.finished END,
    CASE WHEN s.state = 'failed' THEN s.finished END,
    CASE WHEN s.state = 'cancelled' THEN s.finished END,
    CASE WHEN s.state IN ('completed', 'failed', 'cancelled') THEN s.finished END,
    CASE WHEN s.state = 'running' THEN 'lease-' || s.g END,
    CASE WHEN s.state = 'running' THEN s.now + 600 END,
    CASE WHEN s.state = 'running' THEN 'wrk_bench' END,
    CASE WHEN s.state = 'failed' THEN '{"code": "BOOM", "message": "bench"}'::json END
FROM (
    SELECT g, now, created,
        joblane_ulid('job', created) AS id,
        CASE WHEN g % 10 = 0 THEN 'tenant-' || ((1 + (g / 10) % 40) % 5)
            WHEN r1 < 0.5 THEN 'tenant-0' WHEN r1 < 0.75 THEN 'tenant-1'
            WHEN r1 < 0.9 THEN 'tenant-2' WHEN r1 < 0.97 THEN 'tenant-3'
            ELSE 'tenant-4' END AS tenant_id,
        CASE WHEN g BETWEEN :n / 6 AND :n / 6 + 99 THEN 'type_rare'
            ELSE 'type_' || lpad((floor(power(r2, 2) * 20))::int::text, 2, '0') END AS type,
        CASE WHEN created > now - 7200 AND r3 < 0.5 THEN 'queued'
             WHEN created > now - 7200 AND r3 < 0.6 THEN 'running'
             WHEN r3 < 0.01 THEN 'queued'
             WHEN r3 < 0.90 THEN 'completed'
             WHEN r3 < 0.97 THEN 'failed'
             ELSE 'cancelled' END AS state,
        CASE WHEN r4 < 0.05 THEN now + 3600 * r4 * 20 ELSE created END AS scheduled,
        least(created + 5 + r4 * 120, now) AS finished,
        CASE WHEN g % 10 = 0 THEN 'bat_' || lpad((1 + (g / 10) % 40)::text, 26, '0') END
            AS batch_id,
        jsonb_build_object('customer', 'cust-' || (g % 5000), 'region',
            (ARRAY['eu', 'us', 'ap'])[1 + g % 3]) AS metadata
    FROM (
        SELECT g, extract(epoch FROM now()) AS now,
            extract(epoch FROM now()) - 86400 * 30 + (86400 * 30.0 * g / :n) AS created,
            random() AS r1, random() AS r2, random() AS r3, random() AS r4
        FROM generate_series(1, :n) g
    ) x
) s;

-- the batches' counts, as their uploads would have written them
INSERT INTO batch_counts (batch_id, shard, queued, running, completed, failed, cancelled)
SELECT batch_id, 0, count(*) FILTER (WHERE state = 'queued'),
    count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'completed'),
    count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE state = 'cancelled')
FROM jobs WHERE batch_id IS NOT NULL GROUP BY batch_id;
