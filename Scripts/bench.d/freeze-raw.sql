-- The freeze of one customer as raw SQL: the same locks and writes the service performs
-- (restriction, status, every active pay-per-use resource, chunked outbox events, audit),
-- run through psql as the baseline of Scripts/bench.
\set ON_ERROR_STOP on
BEGIN;
SELECT c.status FROM customers c JOIN partners p ON p.id = c.partner_id JOIN distributors d ON d.id = p.distributor_id
LEFT JOIN retention_policies rp ON rp.level = c.level
WHERE c.id = :'cid' FOR UPDATE OF c FOR SHARE OF p, d;
SELECT EXISTS (SELECT 1 FROM freeze_permission_grants WHERE partner_id = :'pid' AND revoked_at IS NULL);
INSERT INTO restrictions (customer_id, id, type, reason, applied_by_kind, applied_by_id, agreement_version, partner_id, distributor_id)
VALUES (:'cid', :'rid', 'purchase_and_resources', 'bench baseline', 'distributor', :'did', '2024-01', :'pid', :'did');
UPDATE customers SET status = 'frozen', updated_at = now() WHERE id = :'cid';
WITH frozen AS (
    UPDATE resources SET state = 'frozen', frozen_reason = 'restriction', frozen_at = now(), retention_until = now() + interval '15 days',
                         restriction_id = :'rid', retention_warned_at = NULL, updated_at = now()
    WHERE customer_id = :'cid' AND state = 'active' AND billing_mode = 'pay_per_use'
    RETURNING id
)
INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
SELECT 'resources.frozen', :'did', :'pid', :'cid', jsonb_build_object('reason', 'restriction', 'restriction_id', :'rid'::uuid, 'resource_ids', jsonb_agg(id)), :'cid'
FROM (SELECT id, (row_number() OVER () - 1) / 1000 AS chunk FROM frozen) chunks GROUP BY chunk;
INSERT INTO audit_events (actor_kind, actor_id, action, target_kind, target_id, distributor_id, partner_id, customer_id, reason, details, tenant_id)
VALUES ('distributor', :'did', 'customer.restricted', 'customer', :'cid', :'did', :'pid', :'cid', 'bench baseline', '{}', :'cid');
INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data, tenant_id)
VALUES ('customer.restricted', :'did', :'pid', :'cid', jsonb_build_object('restriction_id', :'rid'::uuid), :'cid');
COMMIT;
