-- why: access-token signing keys; private keys only sealed under the keyring (DESIGN.md §6).
CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL,
    public_key bytea NOT NULL,
    -- AES-256-GCM under a keyring key, bound to this row's kid
    private_key_sealed bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- signing starts here; published in JWKS from creation ("next" key)
    activates_at timestamptz NOT NULL DEFAULT now(),
    -- verification stops here (NULL while current)
    retires_at timestamptz,
    CONSTRAINT signing_keys_algorithm_check CHECK (algorithm IN ('EdDSA'))
);
