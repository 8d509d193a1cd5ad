-- What the application role may do: read and write data, never change the schema, never
-- rewrite history (audit events are insert-only; the outbox is append-only too).
GRANT USAGE ON SCHEMA public TO partner_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO partner_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO partner_app;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM partner_app;
REVOKE UPDATE, DELETE, TRUNCATE ON outbox_events FROM partner_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM partner_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON agreements FROM partner_app;
REVOKE UPDATE ON freeze_permission_grants FROM partner_app;
GRANT UPDATE (revoked_by_kind, revoked_by_id, revoked_at) ON freeze_permission_grants TO partner_app;
REVOKE DELETE ON freeze_permission_grants, restrictions, orders, usage_records FROM partner_app;
