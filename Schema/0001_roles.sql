-- The application's database role. Migrations run as the owner of the schema; the server
-- and the retention sweep connect as partner_app, which gets data privileges only (0006):
-- no DDL, and no rewriting of audit events. Login and password are a deployment concern
-- (Scripts/db app-url sets them for the embedded cluster).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'partner_app') THEN
        CREATE ROLE partner_app NOLOGIN;
    END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
