-- Hardening (issue 14): idempotency records that commit with the work, API key expiry,
-- verification codes for the settings, a cap on issued codes, the secret codes are keyed
-- with, and column grants so the application role cannot rewrite history.

-- An idempotency record now belongs to the tenant its request names: the customer of the
-- path, else the caller. The work's own transaction stores the answer, so on Citus the
-- record sits on the customer's shard and the commit stays one shard, one phase.
--
-- A claim carries a token and a lease. A request that died (a crashed server) leaves a
-- claim without an answer; once its lease has run out, a retry with the same request
-- takes it over under a new token. The work's transaction stores its answer only while its
-- own token still holds the claim, else it rolls back: whichever request commits first is
-- the only one whose work happens.
ALTER TABLE idempotency_keys
    ADD COLUMN tenant_id uuid,
    ADD COLUMN claim_token uuid,
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now(),
    -- A batch checked (and used up) its verification code: a taken-over batch does not ask again.
    ADD COLUMN code_verified boolean NOT NULL DEFAULT false;
UPDATE idempotency_keys SET tenant_id = principal_id, claim_token = gen_random_uuid();
ALTER TABLE idempotency_keys
    ALTER COLUMN tenant_id SET NOT NULL,
    ALTER COLUMN claim_token SET NOT NULL,
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (tenant_id, principal_kind, principal_id, key);

-- One customer's outcome inside an idempotent batch, committed with that customer's change:
-- a batch taken over after a crash replays the outcomes that committed and does the rest.
CREATE TABLE idempotency_batch_items (
    tenant_id uuid NOT NULL,  -- the customer
    principal_kind text NOT NULL,
    principal_id uuid NOT NULL,
    key text NOT NULL,
    outcome text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, principal_kind, principal_id, key)
);
CREATE INDEX idempotency_batch_items_created ON idempotency_batch_items (created_at);

-- Claims a key, takes over a claim whose lease ran out, or reports the record there is.
-- Each statement names the tenant, so on Citus each goes to one shard.
CREATE FUNCTION claim_idempotency_key(
    p_tenant uuid, p_kind text, p_principal uuid, p_key text, p_hash bytea, p_token uuid, p_lease_seconds double precision
) RETURNS TABLE (o_claimed boolean, o_request_hash bytea, o_status_code integer, o_response_body text, o_code_verified boolean)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_keys (tenant_id, principal_kind, principal_id, key, request_hash, claim_token, lease_until)
    VALUES (p_tenant, p_kind, p_principal, p_key, p_hash, p_token, now() + make_interval(secs => p_lease_seconds))
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN QUERY SELECT true, p_hash, NULL::integer, NULL::text, false;
        RETURN;
    END IF;
    RETURN QUERY
        UPDATE idempotency_keys k SET claim_token = p_token, lease_until = now() + make_interval(secs => p_lease_seconds)
        WHERE k.tenant_id = p_tenant AND k.principal_kind = p_kind AND k.principal_id = p_principal AND k.key = p_key
          AND k.status_code IS NULL AND k.lease_until < now() AND k.request_hash = p_hash
        RETURNING true, k.request_hash, NULL::integer, NULL::text, k.code_verified;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT false, k.request_hash, k.status_code, k.response_body, k.code_verified FROM idempotency_keys k
        WHERE k.tenant_id = p_tenant AND k.principal_kind = p_kind AND k.principal_id = p_principal AND k.key = p_key;
END
$$;

-- Keys may expire; an expired key authenticates nothing.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- Turning the verification-code setting off needs a code of its own purpose.
ALTER TABLE verification_codes DROP CONSTRAINT verification_codes_purpose_check;
ALTER TABLE verification_codes ADD CONSTRAINT verification_codes_purpose_check
    CHECK (purpose IN ('freeze', 'unfreeze', 'settings'));

-- Codes issued per principal in the current hour: the cap on how many a caller may ask for.
CREATE TABLE verification_code_quota (
    principal_kind text NOT NULL,
    principal_id uuid NOT NULL,
    window_start timestamptz NOT NULL,
    issued integer NOT NULL CHECK (issued >= 0),
    PRIMARY KEY (principal_kind, principal_id)
);

-- Secrets generated when the database is set up: the key verification codes are stored
-- under (HMAC-SHA-256), 32 bytes from two random UUIDs (gen_random_uuid draws from the
-- server's strong random source). Set VERIFICATION_CODE_SECRET to keep the key out of the
-- database altogether.
CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO server_secrets (name, value)
VALUES ('verification_code_hmac', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_batch_items, verification_code_quota TO partner_app;
GRANT SELECT ON server_secrets TO partner_app;

-- History is not rewritten: orders and usage records are insert-only, and of a
-- restriction, a customer and a resource only the columns that change over its life can be
-- updated.
REVOKE UPDATE ON orders, usage_records, restrictions, customers, resources, resource_data FROM partner_app;
GRANT UPDATE (lifted_by_kind, lifted_by_id, lift_reason, lifted_at) ON restrictions TO partner_app;
GRANT UPDATE (status, updated_at) ON customers TO partner_app;
GRANT UPDATE (state, spec, expires_at, frozen_at, retention_until, released_at, retention_warned_at, restriction_id, updated_at)
    ON resources TO partner_app;
GRANT UPDATE (size_bytes, content) ON resource_data TO partner_app;

SELECT distribute_on_citus(
    ARRAY[]::text[], ARRAY['idempotency_keys', 'idempotency_batch_items'], ARRAY['tenant_id', 'tenant_id']);
