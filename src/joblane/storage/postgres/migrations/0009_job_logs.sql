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
