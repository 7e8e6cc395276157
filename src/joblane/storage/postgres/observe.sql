-- Job logs on PostgreSQL (storage/postgres/observe.py): one statement per kind for all the
-- attempts of a flush. Not lease-guarded: a lost attempt's lines are still its own; a job that
-- no longer exists gets none.

-- name: job_logs_trim
DELETE FROM job_logs l
USING unnest(:job_ids::text[], :attempts::int[], :first_seqs::int[]) AS t(job_id, attempt, first_seq)
WHERE l.job_id = t.job_id AND l.attempt = t.attempt AND l.seq < t.first_seq

-- name: job_logs_insert
INSERT INTO job_logs (job_id, attempt, seq, at, level, logger, message)
SELECT t.job_id, t.attempt, t.seq, t.at, t.level, t.logger, t.message
FROM unnest(:job_ids::text[], :attempts::int[], :seqs::int[], :ats::float8[], :levels::text[],
            :loggers::text[], :messages::text[])
    AS t(job_id, attempt, seq, at, level, logger, message)
WHERE EXISTS (SELECT 1 FROM jobs WHERE id = t.job_id)
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
-- /metrics (cached a few seconds): jobs ready to run now, and the oldest one's readiness, by
-- type, with the database clock's now for their age
SELECT type, count(*), min(scheduled_at), joblane_now() FROM jobs
WHERE state = 'queued' AND scheduled_at <= joblane_now()
GROUP BY type
