-- Budgets (issue 16, DESIGN §10): the operator's price list, what each accepted usage
-- record and each prepaid order cost, a budget per customer with its alerts, and the
-- restriction a budget applies (origin 'budget', actor system) and lifts again.
--
-- Spend is kept off the hot path. A priced write (usage, a prepaid buy or renewal) stores
-- its cost on its own row and appends one narrow row to budget_charges, inserted by the
-- transaction that wrote it and touched by no other writer: concurrent usage of one customer
-- contends for no row. The settlement job (settle_budget, at least every 60 s, and inside
-- the transaction that sets a budget) drains a customer's charges into budgets.spent under
-- the customer's lock, emits each threshold once and leaves the restriction to the service.
-- Charges are appended whether or not the customer has a budget: a budget created later
-- counts the period's records in the same statement that drains the charges (one snapshot),
-- so no write is counted twice or lost, whatever commits meanwhile. README, "Budgets",
-- gives the measurements that chose this over a spend row per customer.

SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);

-- The price list (a reference table on Citus). Decimal, never floating point.
CREATE TABLE prices (
    resource_type text PRIMARY KEY,
    usage_unit_price numeric(20, 6) NOT NULL CHECK (usage_unit_price >= 0),
    monthly_price numeric(20, 6) NOT NULL CHECK (monthly_price >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE ON prices TO partner_app;

-- One budget per customer. thresholds_reached lists the alerts already sent this period
-- (75, 90, 100); spent is exact (numeric without a scale: quantity × unit price keeps every
-- digit). The freeze policy records the agreement it was accepted under, as a freeze does.
CREATE TABLE budgets (
    customer_id uuid PRIMARY KEY,
    partner_id uuid NOT NULL,
    distributor_id uuid NOT NULL,
    amount numeric(20, 2) NOT NULL CHECK (amount > 0),
    period text NOT NULL CHECK (period IN ('monthly', 'one_time')),
    on_exhaustion text NOT NULL
        CHECK (on_exhaustion IN ('notify', 'restrict_purchase', 'restrict_purchase_and_freeze_resources')),
    agreement_version text,
    period_start timestamptz NOT NULL,
    spent numeric NOT NULL DEFAULT 0 CHECK (spent >= 0),
    thresholds_reached integer[] NOT NULL DEFAULT '{}',
    set_by_kind text NOT NULL CHECK (set_by_kind IN ('distributor', 'partner')),
    set_by_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((on_exhaustion = 'restrict_purchase_and_freeze_resources') = (agreement_version IS NOT NULL))
);
GRANT SELECT, INSERT, UPDATE, DELETE ON budgets TO partner_app;

-- Costs not yet settled into a budget: appended by the priced write, deleted by the
-- settlement. Rows of customers without a budget are dropped the same way, less often.
CREATE TABLE budget_charges (
    customer_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    amount numeric NOT NULL CHECK (amount > 0),
    charged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id)
);
GRANT SELECT, INSERT, DELETE ON budget_charges TO partner_app;

ALTER TABLE verification_codes DROP CONSTRAINT verification_codes_purpose_check;
ALTER TABLE verification_codes ADD CONSTRAINT verification_codes_purpose_check
    CHECK (purpose IN ('freeze', 'unfreeze', 'settings', 'budget'));

-- Each statement on its own (EXECUTE), as in schema 0014.
DO $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY ARRAY[
        -- What a record or order cost when it was written (0: no price for its type).
        'ALTER TABLE usage_records ADD COLUMN cost numeric NOT NULL DEFAULT 0',
        'ALTER TABLE orders ADD COLUMN cost numeric NOT NULL DEFAULT 0',
        -- A budget's restriction is applied by actor system, which has no id.
        'ALTER TABLE restrictions ADD COLUMN origin text NOT NULL DEFAULT ''manual''',
        'ALTER TABLE restrictions ADD CONSTRAINT restrictions_origin_check CHECK (origin IN (''manual'', ''budget''))',
        'ALTER TABLE restrictions DROP CONSTRAINT restrictions_applied_by_kind_check',
        'ALTER TABLE restrictions ALTER COLUMN applied_by_id DROP NOT NULL',
        'ALTER TABLE restrictions ADD CONSTRAINT restrictions_applied_by_check CHECK (
             CASE origin WHEN ''manual'' THEN applied_by_kind IN (''distributor'', ''partner'') AND applied_by_id IS NOT NULL
                         ELSE applied_by_kind = ''system'' AND applied_by_id IS NULL END)'
    ] LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

-- Row-level security as in schema 0012: charges are one customer's rows; budgets name the
-- customer's partner and distributor, so a partner's list reads them under its own tenant.
DO $$
BEGIN
    ALTER TABLE budget_charges ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tenant_rows ON budget_charges TO partner_app USING (
        (current_setting('partner.tenant_kind', true) = 'customer'
         AND customer_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
        OR current_setting('partner.tenant_kind', true) = 'all');
    ALTER TABLE budgets ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tenant_rows ON budgets TO partner_app USING (
        (current_setting('partner.tenant_kind', true) = 'customer'
         AND customer_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
        OR (current_setting('partner.tenant_kind', true) = 'partner'
            AND partner_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
        OR (current_setting('partner.tenant_kind', true) = 'distributor'
            AND distributor_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
        OR current_setting('partner.tenant_kind', true) = 'all');
END
$$;

-- A freeze records its origin: 'manual' (a person) or 'budget' (actor system, under the
-- agreement the budget was set under). Otherwise as in schema 0014.
DROP FUNCTION apply_freeze(uuid, uuid, text, text, text, uuid, text, double precision, uuid, uuid, text, timestamptz);
CREATE FUNCTION apply_freeze(
    p_customer uuid, p_restriction uuid, p_type text, p_reason text, p_actor_kind text, p_actor uuid,
    p_status text, p_retention_seconds double precision, p_distributor uuid, p_partner uuid, p_request_id text,
    p_lift_at timestamptz, p_origin text
) RETURNS TABLE (frozen_resources bigint, agreement_version text, retention_until timestamptz) LANGUAGE plpgsql AS $$
DECLARE
    v_agreement text;
    v_until timestamptz := CASE WHEN p_type = 'purchase_and_resources' THEN now() + make_interval(secs => p_retention_seconds) END;
    v_frozen jsonb[];
    v_count bigint;
BEGIN
    PERFORM name_seen_customer(p_customer);
    -- A budget's restriction records the agreement its budget was set under; a person's
    -- freeze, the one in force now.
    IF p_origin = 'budget' THEN
        SELECT b.agreement_version INTO v_agreement FROM budgets b WHERE b.customer_id = p_customer;
    ELSIF p_type = 'purchase_and_resources' THEN
        SELECT a.version INTO v_agreement FROM agreements a ORDER BY a.published_at DESC, a.version DESC LIMIT 1;
    END IF;
    INSERT INTO restrictions (customer_id, id, type, reason, applied_by_kind, applied_by_id, agreement_version,
                              partner_id, distributor_id, lift_at, origin)
    VALUES (p_customer, p_restriction, p_type, p_reason, p_actor_kind, p_actor, v_agreement, p_partner, p_distributor, p_lift_at,
            p_origin);
    UPDATE customers SET status = p_status, updated_at = now() WHERE id = p_customer;
    IF p_type = 'purchase_and_resources' THEN
        WITH frozen AS (
            UPDATE resources r
            SET state = 'frozen', frozen_reason = 'restriction', frozen_at = now(), retention_until = v_until,
                restriction_id = p_restriction, retention_warned_at = NULL, updated_at = now()
            WHERE r.customer_id = p_customer AND r.state = 'active' AND r.billing_mode = 'pay_per_use'
            RETURNING r.id
        )
        SELECT sum(n), array_agg(ids ORDER BY chunk) INTO v_count, v_frozen
        FROM (SELECT chunk, count(*) AS n, jsonb_agg(id) AS ids
              FROM (SELECT id, (row_number() OVER () - 1) / 1000 AS chunk FROM frozen) numbered GROUP BY chunk) chunks;
    END IF;
    v_count := coalesce(v_count, 0);
    PERFORM append_resource_events('resources.frozen', p_distributor, p_partner, p_customer,
                                   jsonb_build_object('reason', 'restriction', 'restriction_id', p_restriction,
                                                      'retention_until', v_until),
                                   v_frozen);
    INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                              customer_id, reason, request_id, details, tenant_id)
    VALUES (p_actor_kind, p_actor, 'customer.restricted', 'customer', p_customer, p_distributor, p_partner, p_customer,
            p_reason, p_request_id,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', p_type, 'frozen_resources', v_count,
                                                 'agreement_version', v_agreement, 'lift_at', p_lift_at,
                                                 'origin', p_origin)),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.restricted', p_distributor, p_partner, p_customer,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', p_type, 'frozen_resources', v_count,
                                                 'lift_at', p_lift_at, 'origin', p_origin)),
            p_customer);
    RETURN QUERY SELECT v_count, v_agreement, v_until;
END
$$;

-- A lift names the origin of the restriction it lifts. Otherwise as in schema 0014.
CREATE OR REPLACE FUNCTION apply_unfreeze(
    p_customer uuid, p_restriction uuid, p_actor_kind text, p_actor uuid, p_reason text, p_request_id text,
    p_distributor uuid, p_partner uuid
) RETURNS TABLE (unfrozen_resources bigint, released_resources bigint, not_recoverable uuid[]) LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
    v_lift_at timestamptz;
    v_origin text;
    v_unfrozen jsonb[];
    v_released bigint;
    v_not_recoverable uuid[];
    v_count bigint;
BEGIN
    PERFORM name_seen_customer(p_customer);
    UPDATE restrictions x SET lifted_at = now(), lifted_by_kind = p_actor_kind, lifted_by_id = p_actor, lift_reason = p_reason
    WHERE x.customer_id = p_customer AND x.lifted_at IS NULL
    RETURNING x.type, x.lift_at, x.origin INTO v_type, v_lift_at, v_origin;
    UPDATE customers SET status = 'normal', updated_at = now() WHERE id = p_customer;
    WITH was_frozen AS (
        SELECT r.id FROM resources r WHERE r.customer_id = p_customer AND r.state = 'frozen' AND r.frozen_reason = 'restriction'
    ), unfrozen AS (
        UPDATE resources r
        SET state = 'active', frozen_reason = NULL, frozen_at = NULL, retention_until = NULL, restriction_id = NULL,
            retention_warned_at = NULL, updated_at = now()
        WHERE r.customer_id = p_customer AND r.state = 'frozen' AND r.frozen_reason = 'restriction'
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
                                   jsonb_build_object('reason', 'restriction', 'restriction_id', p_restriction), v_unfrozen);
    INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                              customer_id, reason, request_id, details, tenant_id)
    VALUES (p_actor_kind, p_actor, 'customer.unrestricted', 'customer', p_customer, p_distributor, p_partner, p_customer,
            p_reason, p_request_id,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', v_type,
                               'unfrozen_resources', v_count, 'released_resources', v_released,
                               'scheduled_lift_at', CASE WHEN p_actor_kind = 'system' AND v_origin = 'manual' THEN v_lift_at END,
                               'origin', v_origin)),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.unrestricted', p_distributor, p_partner, p_customer,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', v_type,
                               'unfrozen_resources', v_count, 'released_resources', v_released,
                               'scheduled_lift_at', CASE WHEN p_actor_kind = 'system' AND v_origin = 'manual' THEN v_lift_at END,
                               'origin', v_origin)),
            p_customer);
    RETURN QUERY SELECT v_count, v_released, v_not_recoverable;
END
$$;

-- Usage costs quantity × the unit price of its resource's type now (0 without a price) and,
-- when it costs anything, appends its charge. Otherwise as in schema 0014.
CREATE OR REPLACE FUNCTION record_usage(p_customer uuid, p_resource uuid, p_quantity numeric)
RETURNS TABLE (decided_state text, recorded integer, deadline timestamptz) LANGUAGE plpgsql AS $$
DECLARE
    v_named text;
    -- The quantity as the record stores it, so the cost is that of the stored quantity.
    v_quantity numeric(20, 6) := p_quantity;
    v_state text;
    v_type text;
    v_until timestamptz;
    v_cost numeric;
BEGIN
    IF current_setting('citus.version', true) IS NULL
       AND coalesce(nullif(current_setting('partner.tenant_kind', true), ''), 'all') = 'all' THEN
        v_named := set_config('partner.tenant_kind', 'customer', true) || set_config('partner.tenant_id', p_customer::text, true);
    ELSE
        PERFORM name_tenant('customer', p_customer);
    END IF;
    SELECT r.state, r.type, r.retention_until INTO v_state, v_type, v_until
    FROM resources r WHERE r.customer_id = p_customer AND r.id = p_resource;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_state IN ('active', 'expired') THEN
        SELECT r.state INTO v_state FROM resources r
        WHERE r.customer_id = p_customer AND r.id = p_resource AND r.state IN ('active', 'expired') FOR SHARE;
        IF FOUND THEN
            SELECT v_quantity * p.usage_unit_price INTO v_cost FROM prices p WHERE p.resource_type = v_type;
            v_cost := coalesce(v_cost, 0);
            INSERT INTO usage_records (customer_id, resource_id, quantity, cost) VALUES (p_customer, p_resource, v_quantity, v_cost);
            IF v_cost > 0 THEN
                INSERT INTO budget_charges (customer_id, amount) VALUES (p_customer, v_cost);
            END IF;
            RETURN QUERY SELECT v_state, 1, v_until;
            RETURN;
        END IF;
        -- Lost the race to a freeze: the state that refuses is read again.
        SELECT r.state, r.retention_until INTO v_state, v_until
        FROM resources r WHERE r.customer_id = p_customer AND r.id = p_resource;
        v_state := CASE WHEN v_state = 'released' THEN 'released' ELSE 'frozen' END;
    END IF;
    RETURN QUERY SELECT v_state, 0, v_until;
END
$$;

-- A prepaid buy costs the type's monthly price × its months and appends its charge; a
-- pay-per-use buy costs nothing (its usage does). Otherwise as in schema 0013.
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
    v_cost numeric := 0;
BEGIN
    IF current_setting('citus.version', true) IS NOT NULL THEN
        PERFORM name_tenant('customer', p_customer);
    END IF;
    SELECT c.status, c.partner_id, c.distributor_id INTO v_status, v_partner, v_distributor
    FROM customers c
    WHERE c.id = p_customer
      AND (v_kind IN ('none', 'all') OR (v_kind = 'customer' AND c.id = v_id)
           OR (v_kind = 'partner' AND c.partner_id = v_id) OR (v_kind = 'distributor' AND c.distributor_id = v_id))
    FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF current_setting('citus.version', true) IS NULL THEN
        v_named := set_config('partner.tenant_kind', 'customer', true) || set_config('partner.tenant_id', p_customer::text, true);
    END IF;
    IF v_status = 'normal' THEN
        IF p_billing_mode = 'prepaid' THEN
            SELECT p.monthly_price * p_months INTO v_cost FROM prices p WHERE p.resource_type = p_type;
            v_cost := coalesce(v_cost, 0);
        END IF;
        INSERT INTO resources (customer_id, id, type, billing_mode, spec, expires_at)
        VALUES (p_customer, p_resource, p_type, p_billing_mode, p_spec,
                CASE WHEN p_billing_mode = 'prepaid' THEN now() + make_interval(months => p_months) END)
        RETURNING * INTO v_resource;
        INSERT INTO resource_data (customer_id, resource_id) VALUES (p_customer, p_resource);
        INSERT INTO orders (customer_id, id, action, resource_id, term_months, spec, cost)
        VALUES (p_customer, p_order, 'buy', p_resource, p_months, p_spec, v_cost);
        IF v_cost > 0 THEN
            INSERT INTO budget_charges (customer_id, amount) VALUES (p_customer, v_cost);
        END IF;
        INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id,
                                  customer_id, request_id, details, tenant_id)
        VALUES ('customer', p_customer, 'order.buy', 'resource', p_resource, v_distributor, v_partner, p_customer,
                p_request_id, jsonb_build_object('order_id', p_order, 'billing_mode', p_billing_mode, 'type', p_type),
                p_customer);
    END IF;
    RETURN NEXT v_resource;
END
$$;

-- A renewal's order (PurchaseGate, under the customer's FOR SHARE lock and the resource's
-- FOR UPDATE): the months at the type's monthly price, and its charge. Answers the cost.
CREATE FUNCTION record_renewal_order(
    p_customer uuid, p_order uuid, p_resource uuid, p_type text, p_months integer
) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    v_cost numeric;
BEGIN
    SELECT p.monthly_price * p_months INTO v_cost FROM prices p WHERE p.resource_type = p_type;
    v_cost := coalesce(v_cost, 0);
    INSERT INTO orders (customer_id, id, action, resource_id, term_months, cost)
    VALUES (p_customer, p_order, 'renew', p_resource, p_months, v_cost);
    IF v_cost > 0 THEN
        INSERT INTO budget_charges (customer_id, amount) VALUES (p_customer, v_cost);
    END IF;
    RETURN v_cost;
END
$$;

-- What the customer spent since p_since, counted from its records and orders, with its
-- unsettled charges deleted by the same statement: one snapshot, so a write committed before
-- it is counted here (and its charge gone), one committed after it keeps its charge for the
-- next settlement. Used when a budget starts a period of its own (set, or its period changed).
CREATE FUNCTION budget_recount(p_customer uuid, p_since timestamptz) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    v_spent numeric;
BEGIN
    WITH drained AS (
        DELETE FROM budget_charges c WHERE c.customer_id = p_customer RETURNING c.id
    )
    SELECT coalesce((SELECT sum(u.cost) FROM usage_records u WHERE u.customer_id = p_customer AND u.recorded_at >= p_since), 0)
         + coalesce((SELECT sum(o.cost) FROM orders o WHERE o.customer_id = p_customer AND o.created_at >= p_since), 0)
    INTO v_spent;
    RETURN v_spent;
END
$$;

-- When the period of a budget of kind p_period that contains p_at starts: 00:00 UTC on the
-- 1st for a monthly budget; a one-time budget's period starts when it is set (p_at). The one
-- definition of a month, for setting a budget, settling it and listing the ones to roll over.
CREATE FUNCTION budget_period_start(p_period text, p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_period = 'monthly' THEN date_trunc('month', p_at, 'UTC') ELSE p_at END
$$;

-- Appends one budget.threshold_reached event per threshold in p_crossed.
CREATE FUNCTION append_budget_alerts(p_budget budgets, p_crossed integer[], p_spent numeric, p_period_start timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_threshold integer;
BEGIN
    FOREACH v_threshold IN ARRAY p_crossed LOOP
        INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
        VALUES ('budget.threshold_reached', p_budget.distributor_id, p_budget.partner_id, p_budget.customer_id,
                jsonb_build_object('percent', v_threshold, 'spent', trim_scale(p_spent)::text,
                                   'amount', p_budget.amount::text, 'period_start', p_period_start),
                p_budget.customer_id);
    END LOOP;
END
$$;

-- The thresholds p_spent reaches of p_amount that are not in p_reached, in order.
CREATE FUNCTION budget_thresholds_crossed(p_spent numeric, p_amount numeric, p_reached integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(t ORDER BY t), '{}') FROM unnest(ARRAY[75, 90, 100]) t
    WHERE p_spent * 100 >= t * p_amount AND NOT t = ANY (p_reached)
$$;

-- Settles one customer's charges (the caller holds the customer's FOR UPDATE lock, which
-- setting a budget takes too). Without a budget the charges are dropped. With one, each
-- charge counts in the period its write happened in: when a monthly period has ended, the
-- old period's last charges are added to it first (its remaining alerts are sent, under its
-- own period_start), then the period p_now is in starts with its own charges and no
-- threshold reached. Every threshold crossed and not yet reached is recorded and announced
-- once. p_now is the database's clock unless a test gives one (NULL: now()).
-- Answers, after settling, whether the budget is exhausted (spent >= amount), how many
-- alerts were sent, whether the current period's 100 % was crossed just now, whether the
-- period rolled over, and the policy and setter the service enforces; no row without a
-- budget.
CREATE FUNCTION settle_budget(p_customer uuid, p_now timestamptz)
RETURNS TABLE (exhausted boolean, alerts integer, crossed_limit boolean, rolled boolean, on_exhaustion text,
               set_by_kind text, set_by_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_budget budgets;
    v_start timestamptz;
    v_rolled boolean;
    v_old numeric;
    v_new numeric;
    v_spent numeric;
    v_reached integer[];
    v_crossed integer[];
    v_alerts integer := 0;
BEGIN
    SELECT * INTO v_budget FROM budgets b WHERE b.customer_id = p_customer FOR UPDATE;
    IF NOT FOUND THEN
        DELETE FROM budget_charges c WHERE c.customer_id = p_customer;
        RETURN;
    END IF;
    -- A one-time budget never rolls over; a monthly one starts the month p_now is in.
    v_start := CASE WHEN v_budget.period = 'monthly'
                    THEN greatest(v_budget.period_start, budget_period_start('monthly', coalesce(p_now, now())))
                    ELSE v_budget.period_start END;
    v_rolled := v_start > v_budget.period_start;
    WITH drained AS (
        DELETE FROM budget_charges c WHERE c.customer_id = p_customer RETURNING c.amount, c.charged_at
    )
    SELECT coalesce(sum(d.amount) FILTER (WHERE d.charged_at >= v_budget.period_start AND d.charged_at < v_start), 0),
           coalesce(sum(d.amount) FILTER (WHERE d.charged_at >= v_start), 0)
    INTO v_old, v_new FROM drained d;
    v_spent := v_budget.spent;
    v_reached := v_budget.thresholds_reached;
    IF v_rolled THEN
        -- The old period's last charges, and the alerts they reach in it.
        v_spent := v_spent + v_old;
        v_crossed := budget_thresholds_crossed(v_spent, v_budget.amount, v_reached);
        PERFORM append_budget_alerts(v_budget, v_crossed, v_spent, v_budget.period_start);
        v_alerts := cardinality(v_crossed);
        v_spent := 0;
        v_reached := '{}';
    END IF;
    v_spent := v_spent + v_new;
    v_crossed := budget_thresholds_crossed(v_spent, v_budget.amount, v_reached);
    IF v_rolled OR v_new > 0 OR cardinality(v_crossed) > 0 THEN
        v_reached := v_reached || v_crossed;
        UPDATE budgets b SET spent = v_spent, thresholds_reached = v_reached, period_start = v_start, updated_at = now()
        WHERE b.customer_id = p_customer;
    END IF;
    PERFORM append_budget_alerts(v_budget, v_crossed, v_spent, v_start);
    RETURN QUERY SELECT v_spent >= v_budget.amount, v_alerts + cardinality(v_crossed), 100 = ANY (v_crossed), v_rolled,
                        v_budget.on_exhaustion, v_budget.set_by_kind, v_budget.set_by_id;
END
$$;

-- On plain PostgreSQL the buy, the freeze and the lift run as the schema owner (schema 0013
-- explains why); CREATE OR REPLACE reset the buy's and the lift's attributes.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        ALTER FUNCTION buy_resource(uuid, uuid, text, text, jsonb, integer, uuid, text)
            SECURITY DEFINER SET search_path = public, pg_temp;
        ALTER FUNCTION apply_freeze(uuid, uuid, text, text, text, uuid, text, double precision, uuid, uuid, text, timestamptz, text)
            SECURITY DEFINER SET search_path = public, pg_temp;
        ALTER FUNCTION apply_unfreeze(uuid, uuid, text, uuid, text, text, uuid, uuid)
            SECURITY DEFINER SET search_path = public, pg_temp;
    END IF;
END
$$;

SELECT distribute_on_citus(ARRAY['prices'], ARRAY['budgets', 'budget_charges'], ARRAY['customer_id', 'customer_id']);

-- The budget's foreign keys, once it is distributed (Citus refuses a key from a local table
-- to a distributed one): its customer on the same shard, its agreement on every node.
DO $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY ARRAY[
        'ALTER TABLE budgets ADD CONSTRAINT budgets_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id)',
        'ALTER TABLE budgets ADD CONSTRAINT budgets_agreement_version_fkey FOREIGN KEY (agreement_version) REFERENCES agreements (version)'
    ] LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
