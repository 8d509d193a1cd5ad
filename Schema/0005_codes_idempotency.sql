-- Verification codes and idempotency records.

-- One current code per principal and purpose: issuing a new one replaces the old (upsert).
CREATE TABLE verification_codes (
    principal_kind text NOT NULL CHECK (principal_kind IN ('distributor', 'partner')),
    principal_id uuid NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('freeze', 'unfreeze')),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts BETWEEN 0 AND 5),
    consumed_at timestamptz,
    PRIMARY KEY (principal_kind, principal_id, purpose)
);

-- The first answer to a mutating request sent with an Idempotency-Key. A row whose
-- status_code is NULL is a request still in progress.
CREATE TABLE idempotency_keys (
    principal_kind text NOT NULL,
    principal_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status_code integer,
    response_body text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_kind, principal_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
