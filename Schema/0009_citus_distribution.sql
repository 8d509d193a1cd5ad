-- Where every row lives on Citus (DESIGN §8), and the same schema on plain PostgreSQL.
--
-- On a coordinator that has the citus extension this file distributes the schema; on plain
-- PostgreSQL the distribution step does nothing. Everything else here applies to both.
--
-- Customer-scoped tables are distributed by the customer's id, all in one colocation group,
-- so each customer's rows share one shard and every write for one customer is a
-- single-shard transaction (one worker, no two-phase commit):
--   customers (id), restrictions, resources, resource_data, orders, usage_records
--   (customer_id), audit_events and outbox_events (tenant_id, below).
-- Small tenant tables are reference tables, a copy on every node, so a customer's shard
-- joins them locally: operators, distributors, partners, freeze_permission_grants,
-- api_keys, agreements.
-- Verification codes and idempotency records stay plain tables on the coordinator. They
-- belong to a principal (a partner or distributor answers for many customers), so no
-- customer's shard is theirs: as reference tables every write would commit in two phases
-- on every node; distributed by principal they would sit on another shard than the
-- customer a freeze changes. A coordinator table joins a customer's transaction without a
-- second phase: the worker commits first, then the coordinator. schema_migrations stays
-- there too.

-- The distribution column of the audit log and the outbox: the customer a row belongs to,
-- else the partner, else the distributor, else the acting operator. Citus needs a value
-- in every row (customer_id is NULL for tenant-level rows) and a primary key that holds
-- it. Writers set it; a customer's rows thereby land on that customer's shard.
ALTER TABLE audit_events ADD COLUMN tenant_id uuid;
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete;
UPDATE audit_events
SET tenant_id = COALESCE(customer_id, partner_id, distributor_id, actor_id, '00000000-0000-0000-0000-000000000000');
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete;
ALTER TABLE audit_events
    ALTER COLUMN tenant_id SET NOT NULL,
    DROP CONSTRAINT audit_events_pkey,
    ADD PRIMARY KEY (tenant_id, id);

ALTER TABLE outbox_events ADD COLUMN tenant_id uuid;
UPDATE outbox_events SET tenant_id = COALESCE(customer_id, partner_id, distributor_id);
ALTER TABLE outbox_events
    ALTER COLUMN tenant_id SET NOT NULL,
    DROP CONSTRAINT outbox_events_pkey,
    ADD PRIMARY KEY (tenant_id, id);

-- The sweep claims work one customer at a time (a claim that names one customer_id is a
-- single-shard statement on Citus); this index finds a customer's due resources.
DROP INDEX resources_retention_due;
CREATE INDEX resources_retention_due ON resources (customer_id, retention_until) WHERE state = 'frozen';

-- Distributes the given tables when the citus extension is present, and does nothing on
-- plain PostgreSQL. Later migrations call it for their own new tables. Foreign keys among
-- the tables are dropped first and added back afterwards: Citus turns a table that a
-- reference table's foreign key touches into a coordinator-local table, which can then not
-- be distributed. Tables that are already distributed are left alone, so a rerun changes
-- nothing.
--   reference_tables:     copied to every node
--   distributed_tables:   distributed in the customers colocation group ...
--   distribution_columns: ... by these columns (same order); customers itself goes first
CREATE FUNCTION distribute_on_citus(reference_tables text[], distributed_tables text[], distribution_columns text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tables regclass[];
    foreign_key record;
    restore text[] := '{}';
    statement text;
    i integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    -- Distribution inside one transaction: one connection per node, in order.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    -- The audit log's append-only triggers run on each shard; Citus asks to be told.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    SELECT array_agg(t::regclass) INTO tables
    FROM unnest(reference_tables || distributed_tables) t
    WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = t::regclass);
    IF tables IS NULL THEN
        RETURN;
    END IF;
    FOR foreign_key IN
        SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS definition
        FROM pg_constraint
        WHERE contype = 'f' AND (conrelid = ANY (tables) OR confrelid = ANY (tables))
    LOOP
        restore := restore || format('ALTER TABLE %s ADD CONSTRAINT %I %s', foreign_key.tbl, foreign_key.conname, foreign_key.definition);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', foreign_key.tbl, foreign_key.conname);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(reference_tables, 1), 0) LOOP
        IF reference_tables[i]::regclass = ANY (tables) THEN
            EXECUTE 'SELECT create_reference_table($1)' USING reference_tables[i];
        END IF;
    END LOOP;
    IF 'customers'::regclass = ANY (tables) THEN
        EXECUTE 'SELECT create_distributed_table(''customers'', ''id'', colocate_with => ''none'')';
    END IF;
    FOR i IN 1 .. coalesce(array_length(distributed_tables, 1), 0) LOOP
        IF distributed_tables[i]::regclass = ANY (tables) AND distributed_tables[i] <> 'customers' THEN
            EXECUTE 'SELECT create_distributed_table($1, $2, colocate_with => ''customers'')'
                USING distributed_tables[i], distribution_columns[i];
        END IF;
    END LOOP;
    FOREACH statement IN ARRAY restore LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

SELECT distribute_on_citus(
    ARRAY['operators', 'distributors', 'partners', 'freeze_permission_grants', 'api_keys', 'agreements'],
    ARRAY['customers', 'restrictions', 'resources', 'resource_data', 'orders', 'usage_records', 'audit_events', 'outbox_events'],
    ARRAY['id', 'customer_id', 'customer_id', 'customer_id', 'customer_id', 'customer_id', 'tenant_id', 'tenant_id']);
