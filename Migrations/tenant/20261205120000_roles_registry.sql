-- why: roles become a registry (reference §7): a guard namespace (a portal's roles apart from the
-- web app's), a system flag (seeded roles cannot be deleted or renamed), an active flag (an
-- inactive role grants nothing); permissions get a registry with categories; the two roles
-- every tenant starts with are seeded here, so a new tenant has them from its first migration.
ALTER TABLE roles
    ADD COLUMN guard text NOT NULL DEFAULT 'web',
    ADD COLUMN is_system boolean NOT NULL DEFAULT false,
    ADD COLUMN is_active boolean NOT NULL DEFAULT true,
    -- NOT VALID: roles made before (by hooks, with any name) stay usable; new names are checked.
    ADD CONSTRAINT roles_name_format CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$') NOT VALID,
    ADD CONSTRAINT roles_guard_format CHECK (guard ~ '^[a-z0-9_-]{1,32}$');
ALTER TABLE roles DROP CONSTRAINT roles_name_key;
ALTER TABLE roles ADD CONSTRAINT roles_name_guard_key UNIQUE (name, guard);

CREATE TABLE permissions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.:*-]{1,255}$'),
    guard text NOT NULL DEFAULT 'web' CHECK (guard ~ '^[a-z0-9_-]{1,32}$'),
    category text,
    description text,
    is_system boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT permissions_name_guard_key UNIQUE (name, guard)
);

INSERT INTO permissions (name, category, description, is_system) VALUES
    ('auth.admin', 'admin', 'Use the tenant admin API and page', true),
    ('auth.users.read', 'users', 'List and read users', true),
    ('auth.users.write', 'users', 'Create, update, disable and delete users', true),
    ('auth.sessions.read', 'sessions', 'List sessions', true),
    ('auth.sessions.revoke', 'sessions', 'Revoke sessions', true),
    ('auth.roles.read', 'roles', 'List roles and permissions', true),
    ('auth.roles.write', 'roles', 'Create, change and delete roles and permissions', true),
    ('auth.audit.read', 'audit', 'Read the audit log', true),
    ('auth.events.read', 'events', 'Read event deliveries and dead letters', true),
    ('auth.events.retry', 'events', 'Retry dead-lettered deliveries', true),
    ('auth.settings.write', 'settings', 'Change the tenant''s settings', true),
    ('users.invite', 'users', 'Invite users (POST /auth/invite)', true);

INSERT INTO roles (name, description, is_system, permissions)
SELECT 'tenant_admin', 'Administers this tenant: every auth.* permission', true, array_agg(name ORDER BY name)
FROM permissions WHERE guard = 'web'
ON CONFLICT (name, guard) DO NOTHING;  -- a tenant's own role of that name is left as it was
INSERT INTO roles (name, description, is_system) VALUES ('member', 'A member of this tenant', true)
ON CONFLICT (name, guard) DO NOTHING;
