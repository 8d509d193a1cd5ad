-- One customer's share of the lifecycle bench (Scripts/bench): :rows prepaid resources with
-- their data rows, of which :due are due for a transition, a third each (rounded):
--   bench.expire   active, expired a day ago              -> expired (grace runs on)
--   bench.grace    expired, grace ended a day ago         -> frozen for expiry
--   bench.release  frozen for expiry, retention ended     -> released
--   bench.idle     active, expiring in a year             -> nothing
-- The customer's level policy (set by the bench) has two days of grace and thirty days of
-- retention, so each due resource makes exactly one transition per run.
\set ON_ERROR_STOP on
INSERT INTO resources (customer_id, type, billing_mode, state, expires_at, grace_until, frozen_reason, frozen_at, retention_until)
SELECT :'customer_id', kind, 'prepaid',
       CASE kind WHEN 'bench.grace' THEN 'expired' WHEN 'bench.release' THEN 'frozen' ELSE 'active' END,
       CASE kind WHEN 'bench.idle' THEN now() + interval '1 year' WHEN 'bench.expire' THEN now() - interval '1 day'
                 WHEN 'bench.grace' THEN now() - interval '3 days' ELSE now() - interval '40 days' END,
       CASE kind WHEN 'bench.grace' THEN now() - interval '1 day' WHEN 'bench.release' THEN now() - interval '38 days' END,
       CASE kind WHEN 'bench.release' THEN 'expired' END,
       CASE kind WHEN 'bench.release' THEN now() - interval '38 days' END,
       CASE kind WHEN 'bench.release' THEN now() - interval '1 hour' END
FROM (SELECT CASE WHEN i > :due THEN 'bench.idle' WHEN i % 3 = 0 THEN 'bench.expire' WHEN i % 3 = 1 THEN 'bench.grace'
                  ELSE 'bench.release' END AS kind
      FROM generate_series(1, :rows) i) k;
INSERT INTO resource_data (customer_id, resource_id, size_bytes)
SELECT customer_id, id, 1024 FROM resources WHERE customer_id = :'customer_id';
