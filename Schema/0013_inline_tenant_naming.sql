-- The buy and the usage report name their customer without a nested call, the buy reads the
-- customer's distributor from the customer (0012) instead of a join, and the resources policy
-- reads the settings row by row like every other policy (issue 14, bench).
--
-- Measured with pgbench at 8 clients running buy_resource as partner_app, alternating runs,
-- against the buy before row-level security (3c2ad1d): schema 0012 as it was 0.80 of that
-- rate; without any policy but with the name_tenant call 0.87; with the call inlined 1.01.
-- The resources policy's scalar subqueries (one InitPlan each per statement) were there for
-- the sweep's batches, which now run as the schema owner (0012), and cost the one-row
-- statements of the buy more than they saved the freeze.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        DROP POLICY tenant_rows ON resources;
        CREATE POLICY tenant_rows ON resources TO partner_app USING (
            (current_setting('partner.tenant_kind', true) = 'customer'
             AND customer_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
            OR current_setting('partner.tenant_kind', true) = 'all');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION buy_resource(
    p_customer uuid, p_resource uuid, p_type text, p_billing_mode text, p_spec jsonb, p_months integer,
    p_order uuid, p_request_id text
) RETURNS SETOF resources LANGUAGE plpgsql AS $$
DECLARE
    v_named text;
    v_status text;
    v_partner uuid;
    v_distributor uuid;
    v_resource resources;
BEGIN
    -- Names the customer (name_tenant) inline while nothing is named yet or everything is,
    -- on plain PostgreSQL: a nested function call cost the buy a tenth of its rate. Citus
    -- (its citus.version setting exists) and a narrowing from a partner or distributor take
    -- name_tenant, which propagates the setting to the workers and checks the narrowing.
    IF current_setting('citus.version', true) IS NULL
       AND coalesce(nullif(current_setting('partner.tenant_kind', true), ''), 'all') = 'all' THEN
        v_named := set_config('partner.tenant_kind', 'customer', true) || set_config('partner.tenant_id', p_customer::text, true);
    ELSE
        PERFORM name_tenant('customer', p_customer);
    END IF;
    SELECT c.status, c.partner_id, c.distributor_id INTO v_status, v_partner, v_distributor
    FROM customers c WHERE c.id = p_customer
    FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_status = 'normal' THEN
        INSERT INTO resources (customer_id, id, type, billing_mode, spec, expires_at)
        VALUES (p_customer, p_resource, p_type, p_billing_mode, p_spec,
                CASE WHEN p_billing_mode = 'prepaid' THEN now() + make_interval(months => p_months) END)
        RETURNING * INTO v_resource;
        INSERT INTO resource_data (customer_id, resource_id) VALUES (p_customer, p_resource);
        INSERT INTO orders (customer_id, id, action, resource_id, term_months, spec)
        VALUES (p_customer, p_order, 'buy', p_resource, p_months, p_spec);
        INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                                  customer_id, request_id, details, tenant_id)
        VALUES ('customer', p_customer, 'order.buy', 'resource', p_resource, v_distributor, v_partner, p_customer,
                p_request_id, jsonb_build_object('order_id', p_order, 'billing_mode', p_billing_mode, 'type', p_type),
                p_customer);
    END IF;
    RETURN NEXT v_resource;
END
$$;

CREATE OR REPLACE FUNCTION record_usage(p_customer uuid, p_resource uuid, p_quantity numeric)
RETURNS TABLE (decided_state text, recorded integer, deadline timestamptz) LANGUAGE plpgsql AS $$
DECLARE
    v_named text;
    v_state text;
    v_until timestamptz;
BEGIN
    -- Names the customer (name_tenant) inline while nothing is named yet or everything is,
    -- on plain PostgreSQL: a nested function call cost the buy a tenth of its rate. Citus
    -- (its citus.version setting exists) and a narrowing from a partner or distributor take
    -- name_tenant, which propagates the setting to the workers and checks the narrowing.
    IF current_setting('citus.version', true) IS NULL
       AND coalesce(nullif(current_setting('partner.tenant_kind', true), ''), 'all') = 'all' THEN
        v_named := set_config('partner.tenant_kind', 'customer', true) || set_config('partner.tenant_id', p_customer::text, true);
    ELSE
        PERFORM name_tenant('customer', p_customer);
    END IF;
    SELECT r.state, r.retention_until INTO v_state, v_until
    FROM resources r WHERE r.customer_id = p_customer AND r.id = p_resource;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_state = 'active' THEN
        PERFORM 1 FROM resources r WHERE r.customer_id = p_customer AND r.id = p_resource AND r.state = 'active' FOR SHARE;
        IF FOUND THEN
            INSERT INTO usage_records (customer_id, resource_id, quantity) VALUES (p_customer, p_resource, p_quantity);
            RETURN QUERY SELECT 'active'::text, 1, v_until;
            RETURN;
        END IF;
        v_state := 'frozen';
    END IF;
    RETURN QUERY SELECT v_state, 0, v_until;
END
$$;
