-- Webhooks (issue 17, DESIGN §11): a distributor or partner subscribes a URL to its feed,
-- and the delivery worker POSTs every event of the feed there, signed, in feed order.
--
-- A subscription is its owner's, like a verification code, and its feed spans the owner's
-- customers on every shard, so on Citus both tables stay plain tables on the coordinator
-- (schema 0009's argument): the worker reads the events with the feed's own statement and
-- writes its progress here, each in a transaction of its own.
--
-- Progress lives in the subscription row: the feed position delivered up to (the events
-- at or before it are done), the attempts on the next event and when it first failed, and
-- when to try next. A worker claims a due subscription with FOR UPDATE SKIP LOCKED and
-- leases it (claimed_until, claim_token) for the time one batch may take, so no two
-- workers send to one subscription at once, and a worker that dies leaves a lease that
-- simply runs out. Every write of progress names the claim token: a worker whose lease ran
-- out and was taken over changes nothing.
CREATE TABLE webhook_subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_kind text NOT NULL CHECK (owner_kind IN ('distributor', 'partner')),
    distributor_id uuid NOT NULL,
    partner_id uuid,
    CHECK ((owner_kind = 'partner') = (partner_id IS NOT NULL)),
    url text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    -- NULL: every event type.
    event_types text[] CHECK (cardinality(event_types) BETWEEN 1 AND 32),
    -- The signing secret sealed with AES-GCM under the server's webhook key (never stored
    -- in clear: the worker needs the secret itself to sign, so a hash would not do), and
    -- its first characters to recognise it by.
    secret_sealed bytea NOT NULL,
    secret_prefix text NOT NULL,
    created_by_kind text NOT NULL,
    created_by_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    -- Delivered up to here, in the feed's order (txid, id). A new subscription starts at the
    -- oldest transaction still running: every event it would be sent commits after it was
    -- created, or in a transaction that was still running then.
    position_txid xid8 NOT NULL DEFAULT pg_snapshot_xmin(pg_current_snapshot()),
    position_id bigint NOT NULL DEFAULT 0,
    -- The next event's failed attempts, and when the first of them failed (24 h from it,
    -- the event is given up).
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    first_failed_at timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    claim_token uuid,
    -- When the oldest event not yet delivered happened, as the worker last saw it (NULL:
    -- caught up): the outbox lag metric reads it.
    pending_since timestamptz
);
CREATE INDEX webhook_subscriptions_due ON webhook_subscriptions (next_attempt_at) WHERE deleted_at IS NULL;
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (distributor_id, partner_id) WHERE deleted_at IS NULL;

-- Every attempt, as the owner reads it at GET /v1/webhooks/{id}/deliveries.
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    distributor_id uuid NOT NULL,
    partner_id uuid,
    event_id bigint NOT NULL,
    event_type text NOT NULL,
    attempt integer NOT NULL CHECK (attempt >= 1),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    status_code integer,
    error text,
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed')),
    next_retry_at timestamptz,
    CHECK ((outcome = 'retrying') = (next_retry_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
CREATE INDEX webhook_deliveries_attempted ON webhook_deliveries (attempted_at);

-- The key subscriptions' secrets are sealed under, unless WEBHOOK_SECRET_KEY is set (the
-- README says why production sets it: then a copy of the database alone opens no secret).
INSERT INTO server_secrets (name, value)
VALUES ('webhook_secret_key', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

GRANT SELECT, INSERT, UPDATE ON webhook_subscriptions TO partner_app;
-- Attempts are history: appended, and deleted only by the retention sweep.
GRANT SELECT, INSERT, DELETE ON webhook_deliveries TO partner_app;
REVOKE UPDATE ON webhook_deliveries FROM partner_app;

-- Row-level security as on schema 0012's tables: the owner's rows, or everything for the
-- `all` tenant (the delivery worker's claims and the sweep).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_subscriptions', 'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format($policy$
            CREATE POLICY tenant_rows ON %I TO partner_app USING (
                (current_setting('partner.tenant_kind', true) = 'partner'
                 AND partner_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
                OR (current_setting('partner.tenant_kind', true) = 'distributor'
                    AND distributor_id = nullif(current_setting('partner.tenant_id', true), '')::uuid)
                OR current_setting('partner.tenant_kind', true) = 'all')
            $policy$, t);
    END LOOP;
END
$$;
