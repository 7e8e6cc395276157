-- Job logs on SQLite (storage/sqlite/observe.py). Not lease-guarded: a lost attempt's lines are
-- still its own; a job that no longer exists gets none.

-- name: job_logs_trim
DELETE FROM job_logs WHERE job_id = :job_id AND attempt = :attempt AND seq < :first_seq

-- name: job_logs_insert
INSERT INTO job_logs (job_id, attempt, seq, at, level, logger, message)
SELECT :job_id, :attempt, :seq, :at, :level, :logger, :message
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = :job_id)
ON CONFLICT (job_id, attempt, seq) DO NOTHING

-- name: job_logs_attempt
SELECT job_id, attempt, seq, at, level, logger, message FROM job_logs
WHERE job_id = :job_id AND attempt = :attempt
ORDER BY seq LIMIT :limit

-- name: job_logs_all
SELECT job_id, attempt, seq, at, level, logger, message FROM job_logs
WHERE job_id = :job_id
ORDER BY attempt, seq LIMIT :limit

-- name: job_trace_put
INSERT INTO job_traces (job_id, traceparent, tracestate)
SELECT :job_id, :traceparent, :tracestate WHERE EXISTS (SELECT 1 FROM jobs WHERE id = :job_id)
ON CONFLICT (job_id) DO NOTHING

-- name: job_trace_get
SELECT traceparent, tracestate FROM job_traces WHERE job_id = :job_id

-- name: queue_stats
-- /metrics (cached a few seconds): jobs ready to run now, and the oldest one's readiness, by type
SELECT type, count(*), min(scheduled_at) FROM jobs
WHERE state = 'queued' AND scheduled_at <= :now
GROUP BY type
