-- why: platform admins (issue 18 item 4) operate the whole deployment: tenants, and any
-- tenant's users. They are not users of any tenant. Their console sessions are opaque cookie
-- tokens stored only as SHA-256 digests, ended on logout and on a password change.
CREATE TABLE platform_admins (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    name text,
    password_hash text NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT platform_admins_email_key UNIQUE (email)
);
CREATE TABLE platform_admin_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    admin_id uuid NOT NULL REFERENCES platform_admins (id) ON DELETE CASCADE,
    token_digest bytea NOT NULL,
    ip_address text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_active_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT platform_admin_sessions_digest_key UNIQUE (token_digest)
);
CREATE INDEX platform_admin_sessions_admin_idx ON platform_admin_sessions (admin_id);
