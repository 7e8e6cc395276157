-- Usage metering (core/usage.py). `usage_daily` (migration 0003) is written by the statements
-- that accept jobs (`jobs_insert`, a batch's commit) and that finish them (`jobs_complete`,
-- `jobs_fail`), inside those statements: a crash can neither lose nor double a unit. Not a
-- trigger: a statement trigger on `jobs` would have to join its old and new rows on every
-- UPDATE (heartbeats, progress, claims) to find the attempts that ended.

-- the UTC day of an epoch time (usage is counted per tenant and UTC day)
CREATE FUNCTION joblane_utc_day(epoch double precision) RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT (to_timestamp(epoch) AT TIME ZONE 'UTC')::date $$;
