-- Artifacts (service/artifacts.py, storage/sqlite/artifacts.py): a row per file of a job, made
-- (guarded by the job's lease) before its bytes are written, so every file in the store has a
-- row here or in `artifact_garbage`. `size` and `sha256` stay NULL until the write committed.
CREATE TABLE artifacts (
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (job_id, name)
) STRICT, WITHOUT ROWID;

-- Files to remove from the store: a replaced write, an abandoned one, and every file of a
-- deleted job (the trigger below, in the transaction that deleted it). The maintenance leader
-- removes the files, then the rows: a crash in between removes them again, never leaks them.
CREATE TABLE artifact_garbage (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    queued_at REAL NOT NULL
) STRICT;

-- Whatever deletes a job (DELETE /v1/jobs/{id}, retention, a batch's purge) hands its files
-- over; a job without artifacts costs one probe of the primary key.
CREATE TRIGGER jobs_artifacts_gone AFTER DELETE ON jobs
WHEN EXISTS (SELECT 1 FROM artifacts WHERE job_id = OLD.id)
BEGIN
    INSERT INTO artifact_garbage (path, queued_at)
    SELECT path, (julianday('now') - 2440587.5) * 86400.0 FROM artifacts WHERE job_id = OLD.id;
    DELETE FROM artifacts WHERE job_id = OLD.id;
END;
