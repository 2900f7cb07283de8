-- Archive helpers, run by the nightly retention job.
CREATE OR REPLACE FUNCTION archive_cutoff(retention_days integer)
RETURNS timestamptz
LANGUAGE sql
STABLE
AS $$
    SELECT now() - make_interval(days => retention_days);
$$;

COMMENT ON FUNCTION archive_cutoff(integer) IS
    'The oldest created_at kept by the retention job.';
