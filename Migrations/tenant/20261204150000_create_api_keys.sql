-- why: API keys (`Authorization: ApiKey <public>.<secret>`): the public part finds the row, only
-- the SHA-256 of the 256-bit secret is stored (compared in constant time), the secret is shown
-- once at creation; revoked or expired keys stay listed for the owner's records.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    public_key text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
