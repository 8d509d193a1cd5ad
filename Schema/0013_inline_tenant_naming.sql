-- The customer writes that run most or touch the most rows cost less under row-level
-- security (issue 14, bench): the buy and the usage report name their customer without a
-- nested call, the buy reads the customer's distributor from the customer (0012) instead of
-- a join, the resources policy reads the settings row by row like every other policy, and
-- on plain PostgreSQL the buy, the freeze and the lift run as the schema owner (end of file).
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
    v_kind constant text := coalesce(nullif(current_setting('partner.tenant_kind', true), ''), 'none');
    v_id constant uuid := nullif(current_setting('partner.tenant_id', true), '')::uuid;
    v_status text;
    v_partner uuid;
    v_distributor uuid;
    v_resource resources;
BEGIN
    -- On Citus the customer is named first (name_tenant: SET LOCAL, sent on to the workers,
    -- and the narrowing checked under the policies), so the reads below see it.
    IF current_setting('citus.version', true) IS NOT NULL THEN
        PERFORM name_tenant('customer', p_customer);
    END IF;
    -- Only a customer the transaction's tenant sees (the policy's test, made here once: on
    -- plain PostgreSQL this function runs as the schema owner, see below).
    SELECT c.status, c.partner_id, c.distributor_id INTO v_status, v_partner, v_distributor
    FROM customers c
    WHERE c.id = p_customer
      AND (v_kind IN ('none', 'all') OR (v_kind = 'customer' AND c.id = v_id)
           OR (v_kind = 'partner' AND c.partner_id = v_id) OR (v_kind = 'distributor' AND c.distributor_id = v_id))
    FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- On plain PostgreSQL it is named once seen: set inline, a nested call of name_tenant
    -- cost the buy a tenth of its rate.
    IF current_setting('citus.version', true) IS NULL THEN
        v_named := set_config('partner.tenant_kind', 'customer', true) || set_config('partner.tenant_id', p_customer::text, true);
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

-- The freeze's and the lift's first step: the customer must be one the transaction's tenant
-- sees (the policy's test, made here once: on plain PostgreSQL those two run as the schema
-- owner, see the end of this file; the services locked it under the policies already, so a
-- refusal here is a bug), and then it is named. On Citus it is named first (name_tenant:
-- SET LOCAL, sent on to the workers, and the narrowing checked under the policies), so the
-- check's read sees it; on plain PostgreSQL it is named once seen.
CREATE FUNCTION name_seen_customer(p_customer uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_kind constant text := coalesce(nullif(current_setting('partner.tenant_kind', true), ''), 'none');
    v_id constant uuid := nullif(current_setting('partner.tenant_id', true), '')::uuid;
    v_citus constant boolean := current_setting('citus.version', true) IS NOT NULL;
BEGIN
    IF v_citus THEN
        PERFORM name_tenant('customer', p_customer);
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM customers c
        WHERE c.id = p_customer
          AND (v_kind IN ('none', 'all') OR (v_kind = 'customer' AND c.id = v_id)
               OR (v_kind = 'partner' AND c.partner_id = v_id) OR (v_kind = 'distributor' AND c.distributor_id = v_id))
    ) THEN
        RAISE EXCEPTION '% % cannot change customer %', v_kind, v_id, p_customer USING ERRCODE = '42501';
    END IF;
    IF NOT v_citus THEN
        PERFORM set_config('partner.tenant_kind', 'customer', true), set_config('partner.tenant_id', p_customer::text, true);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION apply_freeze(
    p_customer uuid, p_restriction uuid, p_type text, p_reason text, p_actor_kind text, p_actor uuid,
    p_status text, p_retention_seconds double precision, p_distributor uuid, p_partner uuid, p_request_id text
) RETURNS TABLE (frozen_resources bigint, agreement_version text, retention_until timestamptz) LANGUAGE plpgsql AS $$
DECLARE
    v_agreement text;
    v_until timestamptz := CASE WHEN p_type = 'purchase_and_resources' THEN now() + make_interval(secs => p_retention_seconds) END;
    v_frozen jsonb[];
    v_count bigint;
BEGIN
    PERFORM name_seen_customer(p_customer);
    IF p_type = 'purchase_and_resources' THEN
        SELECT a.version INTO v_agreement FROM agreements a ORDER BY a.published_at DESC, a.version DESC LIMIT 1;
    END IF;
    INSERT INTO restrictions (customer_id, id, type, reason, applied_by_kind, applied_by_id, agreement_version,
                              partner_id, distributor_id)
    VALUES (p_customer, p_restriction, p_type, p_reason, p_actor_kind, p_actor, v_agreement, p_partner, p_distributor);
    UPDATE customers SET status = p_status, updated_at = now() WHERE id = p_customer;
    IF p_type = 'purchase_and_resources' THEN
        WITH frozen AS (
            UPDATE resources r
            SET state = 'frozen', frozen_at = now(), retention_until = v_until, restriction_id = p_restriction,
                retention_warned_at = NULL, updated_at = now()
            WHERE r.customer_id = p_customer AND r.state = 'active' AND r.billing_mode = 'pay_per_use'
            RETURNING r.id
        )
        SELECT sum(n), array_agg(ids ORDER BY chunk) INTO v_count, v_frozen
        FROM (SELECT chunk, count(*) AS n, jsonb_agg(id) AS ids
              FROM (SELECT id, (row_number() OVER () - 1) / 1000 AS chunk FROM frozen) numbered GROUP BY chunk) chunks;
    END IF;
    v_count := coalesce(v_count, 0);
    PERFORM append_resource_events('resources.frozen', p_distributor, p_partner, p_customer,
                                   jsonb_build_object('restriction_id', p_restriction, 'retention_until', v_until), v_frozen);
    INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                              customer_id, reason, request_id, details, tenant_id)
    VALUES (p_actor_kind, p_actor, 'customer.restricted', 'customer', p_customer, p_distributor, p_partner, p_customer,
            p_reason, p_request_id,
            jsonb_build_object('restriction_id', p_restriction, 'type', p_type, 'frozen_resources', v_count,
                               'agreement_version', v_agreement),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.restricted', p_distributor, p_partner, p_customer,
            jsonb_build_object('restriction_id', p_restriction, 'type', p_type, 'frozen_resources', v_count), p_customer);
    RETURN QUERY SELECT v_count, v_agreement, v_until;
END
$$;

CREATE OR REPLACE FUNCTION apply_unfreeze(
    p_customer uuid, p_restriction uuid, p_actor_kind text, p_actor uuid, p_reason text, p_request_id text,
    p_distributor uuid, p_partner uuid
) RETURNS TABLE (unfrozen_resources bigint, released_resources bigint, not_recoverable uuid[]) LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
    v_unfrozen jsonb[];
    v_released bigint;
    v_not_recoverable uuid[];
    v_count bigint;
BEGIN
    PERFORM name_seen_customer(p_customer);
    UPDATE restrictions x SET lifted_at = now(), lifted_by_kind = p_actor_kind, lifted_by_id = p_actor, lift_reason = p_reason
    WHERE x.customer_id = p_customer AND x.lifted_at IS NULL
    RETURNING x.type INTO v_type;
    UPDATE customers SET status = 'normal', updated_at = now() WHERE id = p_customer;
    WITH was_frozen AS (
        SELECT r.id FROM resources r WHERE r.customer_id = p_customer AND r.state = 'frozen'
    ), unfrozen AS (
        UPDATE resources r
        SET state = 'active', frozen_at = NULL, retention_until = NULL, restriction_id = NULL,
            retention_warned_at = NULL, updated_at = now()
        WHERE r.customer_id = p_customer AND r.state = 'frozen'
        RETURNING r.id
    ), released AS (
        SELECT r.id FROM resources r WHERE r.customer_id = p_customer AND r.restriction_id = p_restriction AND r.state = 'released'
        UNION ALL
        (SELECT id FROM was_frozen EXCEPT ALL SELECT id FROM unfrozen)
    )
    SELECT (SELECT count(*) FROM unfrozen),
           (SELECT array_agg(ids ORDER BY chunk)
            FROM (SELECT chunk, jsonb_agg(id) AS ids
                  FROM (SELECT id, (row_number() OVER () - 1) / 1000 AS chunk FROM unfrozen) numbered GROUP BY chunk) chunks),
           (SELECT count(*) FROM released),
           ARRAY(SELECT id FROM released ORDER BY id LIMIT 100)
    INTO v_count, v_unfrozen, v_released, v_not_recoverable;
    PERFORM append_resource_events('resources.unfrozen', p_distributor, p_partner, p_customer,
                                   jsonb_build_object('restriction_id', p_restriction), v_unfrozen);
    INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                              customer_id, reason, request_id, details, tenant_id)
    VALUES (p_actor_kind, p_actor, 'customer.unrestricted', 'customer', p_customer, p_distributor, p_partner, p_customer,
            p_reason, p_request_id,
            jsonb_build_object('restriction_id', p_restriction, 'type', v_type,
                               'unfrozen_resources', v_count, 'released_resources', v_released),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.unrestricted', p_distributor, p_partner, p_customer,
            jsonb_build_object('restriction_id', p_restriction, 'type', v_type,
                               'unfrozen_resources', v_count, 'released_resources', v_released),
            p_customer);
    RETURN QUERY SELECT v_count, v_released, v_not_recoverable;
END
$$;

-- On plain PostgreSQL the buy, the freeze and the lift run as the schema owner, past the
-- policies, like the sweep's batches: each checks once, on the customer row, what the
-- policies would check on every row (the tenant the transaction named sees the customer),
-- and every statement in them names that customer. Under the policies a freeze of 100,000
-- resources evaluated them three times per row (the update's read, its target and its new
-- row): 1.12 of the raw statement's time against 0.81 before row-level security (bench
-- runs 4 and 8). On Citus they stay under the policies: a function running as another role
-- would open second connections to the workers inside a transaction that has already
-- written there as partner_app.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        ALTER FUNCTION buy_resource(uuid, uuid, text, text, jsonb, integer, uuid, text)
            SECURITY DEFINER SET search_path = public, pg_temp;
        ALTER FUNCTION apply_freeze(uuid, uuid, text, text, text, uuid, text, double precision, uuid, uuid, text)
            SECURITY DEFINER SET search_path = public, pg_temp;
        ALTER FUNCTION apply_unfreeze(uuid, uuid, text, uuid, text, text, uuid, uuid)
            SECURITY DEFINER SET search_path = public, pg_temp;
    END IF;
END
$$;
