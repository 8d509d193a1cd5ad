-- Puts the lifecycle bench's resources (customers :cids) back as lifecycle-setup.sql made
-- them, so the sweep and its raw-SQL baseline make the same transitions.
\set ON_ERROR_STOP on
INSERT INTO resource_data (customer_id, resource_id, size_bytes)
SELECT customer_id, id, 1024 FROM resources
WHERE state = 'released' AND customer_id = ANY (string_to_array(:'cids', ',')::uuid[]);
UPDATE resources
SET state = CASE type WHEN 'bench.grace' THEN 'expired' WHEN 'bench.release' THEN 'frozen' ELSE 'active' END,
    grace_until = CASE type WHEN 'bench.grace' THEN now() - interval '1 day' WHEN 'bench.release' THEN now() - interval '38 days' END,
    frozen_reason = CASE type WHEN 'bench.release' THEN 'expired' END,
    frozen_at = CASE type WHEN 'bench.release' THEN now() - interval '38 days' END,
    retention_until = CASE type WHEN 'bench.release' THEN now() - interval '1 hour' END,
    released_at = NULL, expiry_warned_at = NULL, retention_warned_at = NULL
WHERE customer_id = ANY (string_to_array(:'cids', ',')::uuid[]) AND type <> 'bench.idle';
VACUUM ANALYZE resources;
VACUUM ANALYZE resource_data;
