-- Fair share (storage/postgres/fairshare.sql): `tenants.max_running` caps the running jobs of a
-- tenant across all workers. The queued jobs of a capped tenant (outside batches) leave the
-- plain claim index for a lane of their own, ordered by tenant (`capped`), so that a capped
-- tenant's backlog never lies in the way of other tenants' claims; a separate claim step takes
-- them while it holds the tenant's row, up to `max_running` minus what runs.
ALTER TABLE jobs ADD COLUMN capped boolean NOT NULL DEFAULT false;
DROP INDEX jobs_claimable;
CREATE INDEX jobs_claimable ON jobs (priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND NOT capped;
CREATE INDEX jobs_capped ON jobs (tenant_id, priority DESC, scheduled_at, id)
    WHERE state = 'queued' AND batch_id IS NULL AND capped;
CREATE INDEX tenants_capped ON tenants (id) WHERE max_running IS NOT NULL;
-- a tenant's open batches (the capped claim looks at those of each tenant it serves)
CREATE INDEX batches_open ON batches (tenant_id) WHERE settled_at IS NULL;
UPDATE jobs SET capped = true
WHERE state = 'queued' AND batch_id IS NULL
    AND tenant_id IN (SELECT id COLLATE "default" FROM tenants WHERE max_running IS NOT NULL);

-- May a capped tenant start a job of these types now? (lane jobs of a tenant with room, or of
-- one whose cap was lifted; items of a capped tenant's open batches with room.) Asked by the
-- claim while some tenant has a cap, and by idle workers (a function: their probe carries none
-- of this plan while nobody has a cap).
CREATE FUNCTION joblane_capped_ready(types text[]) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        WITH RECURSIVE lane(tenant_id) AS (
            (SELECT tenant_id FROM jobs WHERE state = 'queued' AND batch_id IS NULL AND capped
             ORDER BY tenant_id LIMIT 1)
            UNION ALL
            SELECT (SELECT j.tenant_id FROM jobs j
                    WHERE j.state = 'queued' AND j.batch_id IS NULL AND j.capped
                        AND j.tenant_id > lane.tenant_id
                    ORDER BY j.tenant_id LIMIT 1)
            FROM lane WHERE lane.tenant_id IS NOT NULL)
        SELECT 1 FROM lane JOIN tenants t ON t.id = lane.tenant_id COLLATE "C"
        WHERE (t.max_running IS NULL OR t.max_running > (SELECT count(*) FROM jobs r
                WHERE r.tenant_id = lane.tenant_id AND r.state = 'running'))
            AND (SELECT 1 FROM jobs q
                 WHERE q.tenant_id = lane.tenant_id AND q.state = 'queued'
                     AND q.batch_id IS NULL AND q.capped AND q.scheduled_at <= joblane_now()
                     AND q.type = ANY(types)
                 ORDER BY q.priority DESC, q.scheduled_at, q.id LIMIT 1) IS NOT NULL)
    OR EXISTS (
        SELECT 1 FROM tenants t
        JOIN batches b ON b.tenant_id = t.id COLLATE "default"
            AND b.settled_at IS NULL AND b.control = 'active'
        WHERE t.max_running IS NOT NULL
            AND t.max_running > (SELECT count(*) FROM jobs r
                WHERE r.tenant_id = b.tenant_id AND r.state = 'running')
            AND (b.max_concurrent IS NULL OR b.max_concurrent > COALESCE(
                (SELECT sum(c.running) FROM batch_counts c WHERE c.batch_id = b.id), 0))
            AND EXISTS (SELECT 1 FROM jobs i
                WHERE i.batch_id = b.id COLLATE "default" AND i.state = 'queued'
                    AND i.scheduled_at <= joblane_now() AND i.type = ANY(types)));
END $$;

-- A job's lane is chosen by the statements that queue it (`jobs_insert`, `jobs_requeue`,
-- `jobs_release`, `job_retry`). A cap set or lifted moves the tenant's queued jobs between the
-- lanes; any change of a cap may let idle workers start jobs, so they are woken. (A job queued
-- while this runs may land in the old lane: the claim queries notice such strays.)
CREATE FUNCTION joblane_tenant_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (OLD.max_running IS NULL) <> (NEW.max_running IS NULL) THEN
        UPDATE jobs SET capped = (NEW.max_running IS NOT NULL)
        WHERE tenant_id = NEW.id COLLATE "default" AND state = 'queued' AND batch_id IS NULL
            AND capped <> (NEW.max_running IS NOT NULL);
    END IF;
    PERFORM pg_notify('joblane_jobs', '');
    RETURN NULL;
END $$;

CREATE TRIGGER tenants_cap_set AFTER INSERT ON tenants
    FOR EACH ROW WHEN (NEW.max_running IS NOT NULL)
    EXECUTE FUNCTION joblane_tenant_cap();
CREATE TRIGGER tenants_cap_changed AFTER UPDATE OF max_running ON tenants
    FOR EACH ROW WHEN (OLD.max_running IS DISTINCT FROM NEW.max_running)
    EXECUTE FUNCTION joblane_tenant_cap();

-- A job claimed under its tenant's cap stopped running: the tenant may start another one, and
-- idle workers (which skip tenants at their cap) must hear of it.
CREATE FUNCTION joblane_tenant_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('joblane_jobs', '');
    RETURN NULL;
END $$;

-- only for jobs claimed under a cap (`capped`): other jobs' claims and outcomes never call it
CREATE TRIGGER jobs_tenant_freed AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state <> 'running' AND OLD.capped)
    EXECUTE FUNCTION joblane_tenant_freed();
