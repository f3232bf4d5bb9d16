-- why: revoked sessions, kept while their access tokens can still be presented, so a process
-- that missed the auth_revocations broadcast (reconnect, overflow, start) reloads them.
CREATE TABLE revocations (
    session_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expires_idx ON revocations (expires_at);
