-- Job logs (core/joblog.py, storage/sqlite/observe.py): a handler's own log lines, the last
-- ones of each attempt within bounds the worker keeps (200 lines, 64 KiB). Written in batches;
-- `seq` counts from 1 within an attempt, so a gap before the first kept line = lines dropped.
CREATE TABLE job_logs (
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    level TEXT NOT NULL,
    logger TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
) STRICT, WITHOUT ROWID;

-- The W3C trace context of the request that submitted a job (tracing on: the `otel` extra),
-- restored by the worker around the handler's span. A row only for jobs submitted in a trace.
CREATE TABLE job_traces (
    job_id TEXT PRIMARY KEY,
    traceparent TEXT NOT NULL,
    tracestate TEXT
) STRICT, WITHOUT ROWID;

-- Whatever deletes a job (DELETE /v1/jobs/{id}, retention, a batch's purge) deletes its lines
-- and its trace context; a job without either costs two probes of a primary key.
CREATE TRIGGER jobs_logs_gone AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_logs WHERE job_id = OLD.id;
    DELETE FROM job_traces WHERE job_id = OLD.id;
END;
