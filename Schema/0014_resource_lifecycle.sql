-- The resource lifecycle (issue 15, DESIGN §9): customer levels and their retention
-- policies, prepaid expiry (expired → frozen for expiry → released), the scheduled lift of a
-- restriction, and the sweep's batch functions for the new transitions.
--
-- States of a resource:
--   pay-per-use: active → frozen (frozen_reason 'restriction', by a freeze) → active (a lift)
--                or released (the sweep, after retention_until);
--   prepaid:     active → expired (the sweep, once expires_at passed; usable, renewable,
--                grace_until = expires_at + the level's grace) → frozen (frozen_reason
--                'expired', the sweep once grace_until passed; retention_until = grace_until
--                + the level's prepaid retention) → released (the sweep); a renewal takes an
--                expired or frozen-for-expiry resource back to active, its new term running
--                on from the old expires_at.
-- A restriction never freezes a prepaid resource and a lift never reactivates one.

-- On Citus: one connection per node, so the backfills below may read what the DDL changed
-- in this transaction (a placeholder setting on plain PostgreSQL).
SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true);

-- The retention policy of each customer level (a reference table on Citus). Periods are
-- read when a transition happens, so a change applies to freezes, expiries and grace ends
-- after it, never to deadlines already set.
CREATE TABLE retention_policies (
    level text PRIMARY KEY CHECK (level IN ('v0', 'v1', 'v2', 'v3', 'v4', 'v5')),
    -- A freeze's retention when neither the partner nor the distributor set one.
    freeze_retention_seconds integer NOT NULL CHECK (freeze_retention_seconds BETWEEN 0 AND 31536000),
    -- How long an expired prepaid resource stays usable.
    prepaid_grace_seconds integer NOT NULL CHECK (prepaid_grace_seconds BETWEEN 0 AND 31536000),
    -- How long a prepaid resource frozen for expiry keeps its data.
    prepaid_retention_seconds integer NOT NULL CHECK (prepaid_retention_seconds BETWEEN 0 AND 31536000),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Huawei's international figures: 15 days of grace and 15 days of retention.
INSERT INTO retention_policies (level, freeze_retention_seconds, prepaid_grace_seconds, prepaid_retention_seconds, updated_at)
SELECT 'v' || n, 1296000, 1296000, 1296000, '2026-01-01T00:00:00Z' FROM generate_series(0, 5) n;
GRANT SELECT ON retention_policies TO partner_app;
GRANT UPDATE (freeze_retention_seconds, prepaid_grace_seconds, prepaid_retention_seconds, updated_at)
    ON retention_policies TO partner_app;


-- A frozen resource's reason, the grace deadline of an expired prepaid one, and whether the
-- warning for the prepaid step ahead (expiry while active, the end of grace while expired)
-- was sent.
ALTER DOMAIN resource_state DROP CONSTRAINT resource_state_check;
ALTER DOMAIN resource_state ADD CONSTRAINT resource_state_check CHECK (VALUE IN ('active', 'expired', 'frozen', 'released'));

-- Each statement on its own (EXECUTE): Citus sends some ALTER TABLE and CREATE INDEX forms
-- to the shards with the text of the whole query, which here is the whole file.
DO $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY ARRAY[
        -- A distributor's retention applies when it set one; new distributors start without,
        -- so the level policy decides. Existing rows keep the value they hold (an explicit 15
        -- days and the old default cannot be told apart); PATCH retention_seconds: null clears it.
        'ALTER TABLE distributors ALTER COLUMN retention_seconds DROP NOT NULL, ALTER COLUMN retention_seconds DROP DEFAULT',
        'ALTER TABLE customers ADD COLUMN level text NOT NULL DEFAULT ''v0''',
        'ALTER TABLE customers ADD CONSTRAINT customers_level_check CHECK (level IN (''v0'', ''v1'', ''v2'', ''v3'', ''v4'', ''v5''))',
        'ALTER TABLE resources ADD COLUMN frozen_reason text, ADD COLUMN grace_until timestamptz, ADD COLUMN expiry_warned_at timestamptz',
        'UPDATE resources SET frozen_reason = ''restriction'' WHERE restriction_id IS NOT NULL',
        -- Replaced by resources_lifecycle below: prepaid resources now expire, freeze and go.
        'ALTER TABLE resources DROP CONSTRAINT resources_check1, DROP CONSTRAINT resources_check2',
        -- One expression for the states' rules (PostgreSQL 15 rebuilds each CHECK per
        -- statement that writes the table, schema 0008): expired is prepaid in grace; frozen
        -- has its time and deadline, and is either a pay-per-use resource frozen by a
        -- restriction or a prepaid one frozen by its expiry.
        'ALTER TABLE resources ADD CONSTRAINT resources_lifecycle CHECK (
             CASE state
                 WHEN ''active'' THEN frozen_reason IS NULL
                 WHEN ''expired'' THEN billing_mode = ''prepaid'' AND grace_until IS NOT NULL AND frozen_reason IS NULL
                 WHEN ''frozen'' THEN frozen_at IS NOT NULL AND retention_until IS NOT NULL AND CASE frozen_reason
                     WHEN ''restriction'' THEN billing_mode = ''pay_per_use'' AND restriction_id IS NOT NULL
                     WHEN ''expired'' THEN billing_mode = ''prepaid'' AND grace_until IS NOT NULL AND restriction_id IS NULL
                     ELSE false END
                 ELSE frozen_reason IS NOT NULL
             END)',
        'ALTER TABLE restrictions ADD COLUMN lift_at timestamptz',
        'ALTER TABLE restrictions ADD CONSTRAINT restrictions_lift_at_check CHECK (lift_at > applied_at)',
        -- The batch job lifts a scheduled restriction as actor system, which has no id.
        'ALTER TABLE restrictions DROP CONSTRAINT restrictions_lifted_by_kind_check, DROP CONSTRAINT restrictions_check1',
        'ALTER TABLE restrictions ADD CONSTRAINT restrictions_lifted_by_kind_check
             CHECK (lifted_by_kind IN (''distributor'', ''partner'', ''system''))',
        'ALTER TABLE restrictions ADD CONSTRAINT restrictions_lifted_by_check
             CHECK ((lifted_at IS NULL AND lifted_by_id IS NULL) OR (lifted_at IS NOT NULL AND (lifted_by_kind = ''system'') = (lifted_by_id IS NULL)))',
        -- The sweep's work queues. Each transition lists the customers with due rows by
        -- deadline (the single-column index: a range scan over what is due, not over every
        -- active prepaid resource) and then claims one customer's rows (customer_id first:
        -- one shard on Citus).
        'CREATE INDEX resources_expiry_due ON resources (customer_id, expires_at) WHERE state = ''active'' AND expires_at IS NOT NULL',
        'CREATE INDEX resources_expiry_deadlines ON resources (expires_at) WHERE state = ''active'' AND expires_at IS NOT NULL',
        'CREATE INDEX resources_grace_due ON resources (customer_id, grace_until) WHERE state = ''expired''',
        'CREATE INDEX resources_grace_deadlines ON resources (grace_until) WHERE state = ''expired''',
        'CREATE INDEX resources_retention_deadlines ON resources (retention_until) WHERE state = ''frozen''',
        'CREATE INDEX restrictions_lift_due ON restrictions (lift_at) WHERE lifted_at IS NULL AND lift_at IS NOT NULL'
    ] LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

GRANT UPDATE (level) ON customers TO partner_app;
GRANT UPDATE (frozen_reason, grace_until, expiry_warned_at) ON resources TO partner_app;

-- A freeze with its optional scheduled lift; it freezes pay-per-use resources only, marked
-- frozen for the restriction. Otherwise as in schema 0013.
DROP FUNCTION apply_freeze(uuid, uuid, text, text, text, uuid, text, double precision, uuid, uuid, text);
CREATE FUNCTION apply_freeze(
    p_customer uuid, p_restriction uuid, p_type text, p_reason text, p_actor_kind text, p_actor uuid,
    p_status text, p_retention_seconds double precision, p_distributor uuid, p_partner uuid, p_request_id text,
    p_lift_at timestamptz
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
                              partner_id, distributor_id, lift_at)
    VALUES (p_customer, p_restriction, p_type, p_reason, p_actor_kind, p_actor, v_agreement, p_partner, p_distributor, p_lift_at);
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
                                                 'agreement_version', v_agreement, 'lift_at', p_lift_at)),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.restricted', p_distributor, p_partner, p_customer,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', p_type, 'frozen_resources', v_count,
                                                 'lift_at', p_lift_at)),
            p_customer);
    RETURN QUERY SELECT v_count, v_agreement, v_until;
END
$$;

-- A lift reactivates what the restriction froze, never a prepaid resource frozen for its
-- expiry (only a renewal does). Otherwise as in schema 0013; `p_actor` is NULL for the
-- batch job's scheduled lift (actor system).
CREATE OR REPLACE FUNCTION apply_unfreeze(
    p_customer uuid, p_restriction uuid, p_actor_kind text, p_actor uuid, p_reason text, p_request_id text,
    p_distributor uuid, p_partner uuid
) RETURNS TABLE (unfrozen_resources bigint, released_resources bigint, not_recoverable uuid[]) LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
    v_lift_at timestamptz;
    v_unfrozen jsonb[];
    v_released bigint;
    v_not_recoverable uuid[];
    v_count bigint;
BEGIN
    PERFORM name_seen_customer(p_customer);
    UPDATE restrictions x SET lifted_at = now(), lifted_by_kind = p_actor_kind, lifted_by_id = p_actor, lift_reason = p_reason
    WHERE x.customer_id = p_customer AND x.lifted_at IS NULL
    RETURNING x.type, x.lift_at INTO v_type, v_lift_at;
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
                               'scheduled_lift_at', CASE WHEN p_actor_kind = 'system' THEN v_lift_at END)),
            p_customer);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('customer.unrestricted', p_distributor, p_partner, p_customer,
            jsonb_strip_nulls(jsonb_build_object('restriction_id', p_restriction, 'type', v_type,
                               'unfrozen_resources', v_count, 'released_resources', v_released,
                               'scheduled_lift_at', CASE WHEN p_actor_kind = 'system' THEN v_lift_at END)),
            p_customer);
    RETURN QUERY SELECT v_count, v_released, v_not_recoverable;
END
$$;

-- Usage of an expired prepaid resource (in its grace period) is accepted like an active
-- one's. Otherwise as in schema 0013: `recorded` says whether it was.
CREATE OR REPLACE FUNCTION record_usage(p_customer uuid, p_resource uuid, p_quantity numeric)
RETURNS TABLE (decided_state text, recorded integer, deadline timestamptz) LANGUAGE plpgsql AS $$
DECLARE
    v_named text;
    v_state text;
    v_until timestamptz;
BEGIN
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
    IF v_state IN ('active', 'expired') THEN
        SELECT r.state INTO v_state FROM resources r
        WHERE r.customer_id = p_customer AND r.id = p_resource AND r.state IN ('active', 'expired') FOR SHARE;
        IF FOUND THEN
            INSERT INTO usage_records (customer_id, resource_id, quantity) VALUES (p_customer, p_resource, p_quantity);
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

-- The sweep's batches of the prepaid lifecycle, one customer each (a single-shard
-- transaction on Citus), claimed with FOR UPDATE SKIP LOCKED in deadline order, as the
-- release (schema 0010). They run as the schema owner, like the release (schema 0012), and
-- touch only the customer they are given. Each answers how many resources it moved.

-- Warnings ahead of the prepaid steps: 'expiry' for active resources whose expires_at is
-- within p_window seconds (resource.expiring), 'grace' for expired ones whose grace ends
-- within it (resource.grace_expiring). One event per batch, naming its resources.
CREATE FUNCTION warn_prepaid_batch(p_customer uuid, p_step text, p_limit integer, p_window double precision)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_ids uuid[];
    v_first timestamptz;
    v_partner uuid;
    v_distributor uuid;
BEGIN
    IF p_step = 'expiry' THEN
        WITH soon AS (
            SELECT r.id FROM resources r
            WHERE r.customer_id = p_customer AND r.state = 'active' AND r.expires_at IS NOT NULL AND r.expiry_warned_at IS NULL
              AND r.expires_at > now() AND r.expires_at <= now() + make_interval(secs => p_window)
            ORDER BY r.expires_at LIMIT p_limit
            FOR UPDATE SKIP LOCKED
        ), warned AS (
            UPDATE resources r SET expiry_warned_at = now()
            FROM soon WHERE r.customer_id = p_customer AND r.id = soon.id
            RETURNING r.id, r.expires_at AS deadline
        )
        SELECT array_agg(id ORDER BY id), min(deadline) INTO v_ids, v_first FROM warned;
    ELSIF p_step = 'grace' THEN
        WITH soon AS (
            SELECT r.id FROM resources r
            WHERE r.customer_id = p_customer AND r.state = 'expired' AND r.expiry_warned_at IS NULL
              AND r.grace_until > now() AND r.grace_until <= now() + make_interval(secs => p_window)
            ORDER BY r.grace_until LIMIT p_limit
            FOR UPDATE SKIP LOCKED
        ), warned AS (
            UPDATE resources r SET expiry_warned_at = now()
            FROM soon WHERE r.customer_id = p_customer AND r.id = soon.id
            RETURNING r.id, r.grace_until AS deadline
        )
        SELECT array_agg(id ORDER BY id), min(deadline) INTO v_ids, v_first FROM warned;
    ELSE
        RAISE EXCEPTION 'warn_prepaid_batch: no step %', p_step USING ERRCODE = '22023';
    END IF;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    SELECT c.partner_id, c.distributor_id INTO v_partner, v_distributor FROM customers c WHERE c.id = p_customer;
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES (CASE p_step WHEN 'expiry' THEN 'resource.expiring' ELSE 'resource.grace_expiring' END,
            v_distributor, v_partner, p_customer,
            jsonb_build_object('resource_ids', to_jsonb(v_ids),
                               CASE p_step WHEN 'expiry' THEN 'expires_at' ELSE 'grace_until' END, v_first),
            p_customer);
    RETURN cardinality(v_ids);
END
$$;

-- One system audit event per resource a batch moved (`p_action`, with that resource's
-- details), each an INSERT … VALUES from a cached plan: on Citus each routes to the
-- customer's shard, where an INSERT … SELECT FROM unnest(…) would be copied through the
-- coordinator in two phases (schema 0010 measured the loop against one statement).
CREATE FUNCTION append_resource_audits(
    p_action text, p_distributor uuid, p_partner uuid, p_customer uuid, p_ids uuid[], p_details jsonb[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. cardinality(p_ids) LOOP
        INSERT INTO audit_events (actor_kind, action, target_kind, target_id, distributor_id, partner_id, customer_id,
                                  details, tenant_id)
        VALUES ('system', p_action, 'resource', p_ids[i], p_distributor, p_partner, p_customer, p_details[i], p_customer);
    END LOOP;
END
$$;

-- Expiry: active prepaid resources past expires_at become expired, usable until
-- grace_until = expires_at + the grace of the customer's level (15 days without a policy).
-- One audit event per resource, one resource.expired event per batch. Values an INSERT
-- needs are carried in variables (Citus routes no subquery inside an INSERT).
CREATE FUNCTION expire_prepaid_batch(p_customer uuid, p_limit integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_grace double precision;
    v_partner uuid;
    v_distributor uuid;
    v_ids uuid[];
    v_details jsonb[];
    v_first timestamptz;
BEGIN
    SELECT c.partner_id, c.distributor_id, coalesce(p.prepaid_grace_seconds, 1296000)
    INTO v_partner, v_distributor, v_grace
    FROM customers c LEFT JOIN retention_policies p ON p.level = c.level WHERE c.id = p_customer;
    -- The new deadline is computed in the claim, not in SET: Citus refuses a STABLE
    -- expression (timestamptz + interval) over a column in an UPDATE's SET clause.
    WITH due AS (
        SELECT r.id, r.expires_at + make_interval(secs => v_grace) AS deadline FROM resources r
        WHERE r.customer_id = p_customer AND r.state = 'active' AND r.expires_at IS NOT NULL AND r.expires_at <= now()
        ORDER BY r.expires_at LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), expired AS (
        UPDATE resources r
        SET state = 'expired', grace_until = due.deadline, expiry_warned_at = NULL, updated_at = now()
        FROM due WHERE r.customer_id = p_customer AND r.id = due.id
        RETURNING r.id, r.expires_at, r.grace_until
    )
    SELECT array_agg(id ORDER BY id),
           array_agg(jsonb_build_object('expires_at', expires_at, 'grace_until', grace_until) ORDER BY id), min(grace_until)
    INTO v_ids, v_details, v_first FROM expired;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM append_resource_audits('resource.expired', v_distributor, v_partner, p_customer, v_ids, v_details);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('resource.expired', v_distributor, v_partner, p_customer,
            jsonb_build_object('resource_ids', to_jsonb(v_ids), 'grace_until', v_first),
            p_customer);
    RETURN cardinality(v_ids);
END
$$;

-- The end of grace: expired resources past grace_until are frozen for their expiry,
-- retained until grace_until + the prepaid retention of the customer's level. One audit
-- event per resource, one resources.frozen event (reason expired) per batch.
CREATE FUNCTION freeze_expired_batch(p_customer uuid, p_limit integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_retention double precision;
    v_partner uuid;
    v_distributor uuid;
    v_ids uuid[];
    v_details jsonb[];
    v_first timestamptz;
BEGIN
    SELECT c.partner_id, c.distributor_id, coalesce(p.prepaid_retention_seconds, 1296000)
    INTO v_partner, v_distributor, v_retention
    FROM customers c LEFT JOIN retention_policies p ON p.level = c.level WHERE c.id = p_customer;
    WITH due AS (
        SELECT r.id, r.grace_until + make_interval(secs => v_retention) AS deadline FROM resources r
        WHERE r.customer_id = p_customer AND r.state = 'expired' AND r.grace_until <= now()
        ORDER BY r.grace_until LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), frozen AS (
        UPDATE resources r
        SET state = 'frozen', frozen_reason = 'expired', frozen_at = now(), retention_until = due.deadline,
            retention_warned_at = NULL, updated_at = now()
        FROM due WHERE r.customer_id = p_customer AND r.id = due.id
        RETURNING r.id, r.retention_until
    )
    SELECT array_agg(id ORDER BY id),
           array_agg(jsonb_build_object('reason', 'expired', 'retention_until', retention_until) ORDER BY id),
           min(retention_until)
    INTO v_ids, v_details, v_first FROM frozen;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM append_resource_audits('resource.frozen', v_distributor, v_partner, p_customer, v_ids, v_details);
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
    VALUES ('resources.frozen', v_distributor, v_partner, p_customer,
            jsonb_build_object('reason', 'expired', 'resource_ids', to_jsonb(v_ids), 'retention_until', v_first),
            p_customer);
    RETURN cardinality(v_ids);
END
$$;

-- The release, as in schema 0012, for both reasons a resource is frozen: audit events and
-- resource.released events name the reason; released events group by restriction and reason.
CREATE OR REPLACE FUNCTION release_retention_batch(p_customer uuid, p_limit integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_ids uuid[];
    v_restrictions uuid[];
    v_reasons text[];
    v_details jsonb[];
    v_partner uuid;
    v_distributor uuid;
    v_event record;
BEGIN
    WITH due AS (
        SELECT r.id FROM resources r
        WHERE r.customer_id = p_customer AND r.state = 'frozen' AND r.retention_until <= now()
        ORDER BY r.retention_until
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), erased AS (
        DELETE FROM resource_data d USING due WHERE d.customer_id = p_customer AND d.resource_id = due.id
    ), released AS (
        UPDATE resources r SET state = 'released', released_at = now(), updated_at = now()
        FROM due WHERE r.customer_id = p_customer AND r.id = due.id
        RETURNING r.id, r.restriction_id, r.frozen_reason, r.retention_until
    )
    SELECT array_agg(id), array_agg(restriction_id), array_agg(frozen_reason),
           array_agg(jsonb_build_object('restriction_id', restriction_id, 'reason', frozen_reason,
                                        'retention_until', retention_until))
    INTO v_ids, v_restrictions, v_reasons, v_details FROM released;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    SELECT c.partner_id, c.distributor_id INTO v_partner, v_distributor FROM customers c WHERE c.id = p_customer;
    PERFORM append_resource_audits('resource.released', v_distributor, v_partner, p_customer, v_ids, v_details);
    FOR v_event IN
        SELECT restriction, reason, jsonb_agg(id ORDER BY id) AS ids
        FROM unnest(v_ids, v_restrictions, v_reasons) AS t(id, restriction, reason) GROUP BY restriction, reason
    LOOP
        INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
        VALUES ('resource.released', v_distributor, v_partner, p_customer,
                jsonb_strip_nulls(jsonb_build_object('resource_ids', v_event.ids, 'reason', v_event.reason,
                                                     'restriction_id', v_event.restriction)),
                p_customer);
    END LOOP;
    RETURN cardinality(v_ids);
END
$$;

REVOKE ALL ON FUNCTION warn_prepaid_batch(uuid, text, integer, double precision), expire_prepaid_batch(uuid, integer),
    freeze_expired_batch(uuid, integer), append_resource_audits(text, uuid, uuid, uuid, uuid[], jsonb[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION warn_prepaid_batch(uuid, text, integer, double precision), expire_prepaid_batch(uuid, integer),
    freeze_expired_batch(uuid, integer) TO partner_app;

-- On plain PostgreSQL the freeze and the lift run as the schema owner (schema 0013 explains
-- why); CREATE OR REPLACE reset the lift's attributes, so both are set again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        ALTER FUNCTION apply_freeze(uuid, uuid, text, text, text, uuid, text, double precision, uuid, uuid, text, timestamptz)
            SECURITY DEFINER SET search_path = public, pg_temp;
        ALTER FUNCTION apply_unfreeze(uuid, uuid, text, uuid, text, text, uuid, uuid)
            SECURITY DEFINER SET search_path = public, pg_temp;
    END IF;
END
$$;

SELECT distribute_on_citus(ARRAY['retention_policies'], ARRAY[]::text[], ARRAY[]::text[]);
