-- The audit log (append-only, enforced here) and the outbox of integration events.

CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind IN ('operator', 'distributor', 'partner', 'customer', 'system')),
    actor_id uuid,
    action text NOT NULL,
    target_kind text NOT NULL,
    target_id uuid,
    -- Tenant scope, so each principal reads only its own slice.
    distributor_id uuid,
    partner_id uuid,
    customer_id uuid,
    reason text,
    request_id text,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_distributor ON audit_events (distributor_id, id);
CREATE INDEX audit_events_partner ON audit_events (partner_id, id);
CREATE INDEX audit_events_customer ON audit_events (customer_id, id);

-- Audit events are immutable for everybody, the schema owner included.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Integration events, read in order from the events feed. txid is the writing transaction:
-- the feed only shows events of transactions older than every one still running
-- (pg_snapshot_xmin) and orders by (txid, id), so a reader never skips an event that
-- commits late with a smaller id.
CREATE TABLE outbox_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    type text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    distributor_id uuid NOT NULL,
    partner_id uuid,
    customer_id uuid,
    data jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX outbox_events_distributor_feed ON outbox_events (distributor_id, txid, id);
CREATE INDEX outbox_events_partner_feed ON outbox_events (partner_id, txid, id);
CREATE INDEX outbox_events_customer_feed ON outbox_events (customer_id, txid, id);
