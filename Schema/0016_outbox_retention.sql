-- Outbox retention (issue 17, DESIGN §11): the retention sweep deletes integration events
-- older than the retention (30 days unless configured), an hour of events per statement, so
-- the table does not grow forever. The index finds the oldest event and each hour's range
-- (the feed's own indexes lead with the tenant).

-- On Citus: one connection per node, so the function below may be created on the workers in
-- the transaction that built the index there (a placeholder setting on plain PostgreSQL).
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);

DO $$
BEGIN
    EXECUTE 'CREATE INDEX outbox_events_occurred ON outbox_events (occurred_at)';
END
$$;

-- The application role may only append events (schema 0006); the sweep deletes old ones
-- through this function, as the schema owner, like its batch functions (schema 0012): every
-- event older than p_before and older than p_oldest plus an hour. Answers how many went.
CREATE FUNCTION purge_outbox_events(p_oldest timestamptz, p_before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_count bigint;
BEGIN
    DELETE FROM outbox_events WHERE occurred_at < least(p_oldest + interval '1 hour', p_before);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
REVOKE ALL ON FUNCTION purge_outbox_events(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_outbox_events(timestamptz, timestamptz) TO partner_app;
