-- Puts the bench's released resources back to "frozen and due", with their data rows, so
-- the sweep and its raw-SQL baseline release the same rows.
\set ON_ERROR_STOP on
INSERT INTO resource_data (customer_id, resource_id, size_bytes)
SELECT customer_id, id, 1024 FROM resources WHERE state = 'released' AND customer_id = ANY (string_to_array(:'cids', ',')::uuid[]);
UPDATE resources SET state = 'frozen', released_at = NULL
WHERE state = 'released' AND customer_id = ANY (string_to_array(:'cids', ',')::uuid[]);
VACUUM ANALYZE resources;
VACUUM ANALYZE resource_data;
