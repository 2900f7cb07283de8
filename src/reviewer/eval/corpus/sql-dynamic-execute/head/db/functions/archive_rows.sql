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

CREATE OR REPLACE FUNCTION archive_tenant_rows(tbl text, tenant text, retention_days integer)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
AS $$
DECLARE
    moved bigint;
BEGIN
    EXECUTE 'WITH gone AS (DELETE FROM ' || tbl
        || ' WHERE tenant_id = ''' || tenant || ''''
        || ' AND created_at < $1 RETURNING *)'
        || ' INSERT INTO archive.' || tbl || ' SELECT * FROM gone'
        USING archive_cutoff(retention_days);
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END;
$$;

GRANT EXECUTE ON FUNCTION archive_tenant_rows(text, text, integer) TO app_user;
