-- why: WebAuthn passkeys (issue 19): each credential's public key (COSE algorithm + raw key),
-- its signature counter and backup state, and the single-use ceremony challenges (stored as
-- SHA-256 digests, short-lived; user_id null for a login's usernameless challenge).
CREATE TABLE passkeys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id bytea NOT NULL,
    algorithm integer NOT NULL,
    public_key bytea NOT NULL,
    sign_count bigint NOT NULL DEFAULT 0,
    backup_eligible boolean NOT NULL,
    backed_up boolean NOT NULL,
    aaguid uuid NOT NULL,
    transports text[] NOT NULL DEFAULT '{}',
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id),
    CONSTRAINT passkeys_credential_id_length CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    CONSTRAINT passkeys_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

CREATE TABLE webauthn_challenges (
    digest bytea PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('register', 'login')),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at);
