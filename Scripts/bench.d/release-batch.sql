-- One batch of the retention sweep as raw SQL (the baseline of Scripts/bench): claim due
-- resources with SKIP LOCKED, delete their data, release them, audit and outbox.
WITH due AS (
    SELECT customer_id, id FROM resources
    WHERE state = 'frozen' AND retention_until <= now()
    ORDER BY retention_until LIMIT 1000
    FOR UPDATE SKIP LOCKED
), erased AS (
    DELETE FROM resource_data d USING due WHERE d.customer_id = due.customer_id AND d.resource_id = due.id
), released AS (
    UPDATE resources r SET state = 'released', released_at = now(), updated_at = now()
    FROM due WHERE r.customer_id = due.customer_id AND r.id = due.id
    RETURNING r.customer_id, r.id, r.restriction_id, r.retention_until
), scoped AS (
    SELECT rel.customer_id, rel.id, rel.restriction_id, rel.retention_until, c.partner_id, p.distributor_id
    FROM released rel JOIN customers c ON c.id = rel.customer_id JOIN partners p ON p.id = c.partner_id
), audit AS (
    INSERT INTO audit_events (actor_kind, action, target_kind, target_id, distributor_id, partner_id, customer_id, details)
    SELECT 'system', 'resource.released', 'resource', id, distributor_id, partner_id, customer_id,
           jsonb_build_object('restriction_id', restriction_id, 'retention_until', retention_until)
    FROM scoped
), events AS (
    INSERT INTO outbox_events (type, distributor_id, partner_id, customer_id, data)
    SELECT 'resource.released', distributor_id, partner_id, customer_id,
           jsonb_build_object('resource_ids', jsonb_agg(id ORDER BY id), 'restriction_id', restriction_id)
    FROM scoped GROUP BY distributor_id, partner_id, customer_id, restriction_id
)
SELECT count(*) FROM scoped;
