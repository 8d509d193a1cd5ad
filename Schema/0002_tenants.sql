-- Tenants and authority: operators, distributors (tier 1), partners (tier 2), the
-- freeze-permission grants between them, API keys, and the agreement partners accept.
-- These are small reference tables (replicated to every node on Citus, DESIGN §8).

CREATE TABLE operators (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE distributors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- How long frozen pay-per-use resources keep their data: 15 days unless set.
    retention_seconds integer NOT NULL DEFAULT 1296000 CHECK (retention_seconds BETWEEN 0 AND 31536000),
    verification_code_required boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE partners (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    distributor_id uuid NOT NULL REFERENCES distributors (id),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- A partner-specific retention period; NULL uses the distributor's.
    retention_seconds integer CHECK (retention_seconds BETWEEN 0 AND 31536000),
    verification_code_required boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partners_distributor ON partners (distributor_id, id);

-- "Restrict purchases and freeze resources" granted by a distributor to one of its
-- partners. Rows are never deleted: a revoke closes the row, so the history stays.
CREATE TABLE freeze_permission_grants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partner_id uuid NOT NULL REFERENCES partners (id),
    distributor_id uuid NOT NULL REFERENCES distributors (id),
    granted_by_kind text NOT NULL CHECK (granted_by_kind IN ('operator', 'distributor')),
    granted_by_id uuid NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    revoked_by_kind text CHECK (revoked_by_kind IN ('operator', 'distributor')),
    revoked_by_id uuid,
    revoked_at timestamptz,
    CHECK ((revoked_at IS NULL) = (revoked_by_id IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by_kind IS NULL)),
    CHECK (revoked_at IS NULL OR revoked_at >= granted_at)
);
-- At most one active grant per partner.
CREATE UNIQUE INDEX freeze_permission_grants_active ON freeze_permission_grants (partner_id)
    WHERE revoked_at IS NULL;
CREATE INDEX freeze_permission_grants_history ON freeze_permission_grants (partner_id, granted_at DESC);

-- API keys: only the SHA-256 of the token is stored; the prefix identifies a key in lists.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    principal_kind text NOT NULL CHECK (principal_kind IN ('operator', 'distributor', 'partner', 'customer')),
    principal_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_principal ON api_keys (principal_kind, principal_id);

-- "Agreement for Partners to Manage Customer Budgets": the newest published version is
-- the one a freeze must accept, and its version is recorded on the restriction.
CREATE TABLE agreements (
    version text PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO agreements (version, title, body, published_at) VALUES (
    '2024-01',
    'Agreement for Partners to Manage Customer Budgets',
    'By restricting purchases and freezing resources for a customer account, the partner '
    'confirms that it manages this customer''s budget under its partner agreement; that the '
    'customer will not be able to buy, renew or change resources while the restriction is in '
    'place; that the customer''s pay-per-use resources become unusable and enter a retention '
    'period, after which their stored data is deleted and the resources are released and cannot '
    'be recovered; that prepaid (yearly/monthly) resources stay usable; and that the partner has '
    'informed the customer and bears responsibility for the consequences of the restriction.',
    '2024-01-01T00:00:00Z'
);
