-- Customer-scoped tables. Each carries customer_id in its primary key and foreign keys, so
-- on Citus they are distributed by customer_id and every write touches one shard (DESIGN §8).

CREATE TABLE customers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id uuid NOT NULL REFERENCES partners (id),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- Derived from the active restriction, kept on the row that purchases lock.
    status text NOT NULL DEFAULT 'normal' CHECK (status IN ('normal', 'purchase_restricted', 'frozen')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_partner ON customers (partner_id, id);
CREATE INDEX customers_partner_status ON customers (partner_id, status, id);

-- Restrictions with their history: one row per apply, closed when lifted.
CREATE TABLE restrictions (
    customer_id uuid NOT NULL REFERENCES customers (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    type text NOT NULL CHECK (type IN ('purchase', 'purchase_and_resources')),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 256 AND reason = btrim(reason)),
    applied_by_kind text NOT NULL CHECK (applied_by_kind IN ('distributor', 'partner')),
    applied_by_id uuid NOT NULL,
    agreement_version text REFERENCES agreements (version),
    applied_at timestamptz NOT NULL DEFAULT now(),
    lifted_by_kind text CHECK (lifted_by_kind IN ('distributor', 'partner')),
    lifted_by_id uuid,
    lift_reason text CHECK (length(lift_reason) BETWEEN 1 AND 256 AND lift_reason = btrim(lift_reason)),
    lifted_at timestamptz,
    PRIMARY KEY (customer_id, id),
    -- Freezing resources requires the accepted agreement.
    CHECK (type = 'purchase' OR agreement_version IS NOT NULL),
    CHECK ((lifted_at IS NULL) = (lifted_by_id IS NULL)),
    CHECK ((lifted_at IS NULL) = (lift_reason IS NULL)),
    CHECK ((lifted_at IS NULL) = (lifted_by_kind IS NULL))
);
-- One active restriction per customer.
CREATE UNIQUE INDEX restrictions_active ON restrictions (customer_id) WHERE lifted_at IS NULL;

CREATE TABLE resources (
    customer_id uuid NOT NULL REFERENCES customers (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    type text NOT NULL CHECK (length(btrim(type)) BETWEEN 1 AND 64),
    billing_mode text NOT NULL CHECK (billing_mode IN ('prepaid', 'pay_per_use')),
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'frozen', 'released')),
    spec jsonb NOT NULL DEFAULT '{}',
    -- End of the paid term of a prepaid resource.
    expires_at timestamptz,
    frozen_at timestamptz,
    retention_until timestamptz,
    released_at timestamptz,
    -- The restriction that froze it (set while frozen, kept on release). Deliberately no
    -- foreign key: freezing 10^5 resources would run 10^5 RI checks for one known row.
    restriction_id uuid,
    -- When the "retention expiring" event was emitted for the current freeze.
    retention_warned_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id),
    CHECK ((billing_mode = 'prepaid') = (expires_at IS NOT NULL)),
    -- Prepaid resources are never frozen or released (invariant 3).
    CHECK (billing_mode = 'pay_per_use' OR state = 'active'),
    -- A frozen resource has its freeze time, its restriction and a retention deadline (invariant 1).
    CHECK (state <> 'frozen' OR (frozen_at IS NOT NULL AND retention_until IS NOT NULL AND restriction_id IS NOT NULL)),
    CHECK (state = 'released' OR released_at IS NULL),
    -- Released only after the retention deadline (invariant 4).
    CHECK (state <> 'released' OR (released_at IS NOT NULL AND retention_until IS NOT NULL AND released_at >= retention_until))
);
-- The retention sweep's work queue: frozen resources by deadline.
CREATE INDEX resources_retention_due ON resources (retention_until) WHERE state = 'frozen';

-- The resource's stored data (what the retention sweep deletes).
CREATE TABLE resource_data (
    customer_id uuid NOT NULL,
    resource_id uuid NOT NULL,
    size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    content bytea,
    PRIMARY KEY (customer_id, resource_id),
    FOREIGN KEY (customer_id, resource_id) REFERENCES resources (customer_id, id)
);

CREATE TABLE orders (
    customer_id uuid NOT NULL REFERENCES customers (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    action text NOT NULL CHECK (action IN ('buy', 'renew', 'change')),
    resource_id uuid NOT NULL,
    term_months integer CHECK (term_months BETWEEN 1 AND 60),
    spec jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, resource_id) REFERENCES resources (customer_id, id)
);

CREATE TABLE usage_records (
    customer_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    resource_id uuid NOT NULL,
    quantity numeric(20, 6) NOT NULL CHECK (quantity > 0),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, resource_id) REFERENCES resources (customer_id, id)
);
