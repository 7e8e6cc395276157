-- Artifacts (service/artifacts.py, storage/postgres/artifacts.py): a row per file of a job,
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
