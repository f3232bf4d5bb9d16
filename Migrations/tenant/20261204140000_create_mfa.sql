-- why: multi-factor authentication. A session is "MFA verified" once its owner passed a second
-- factor (or came from a trusted device); until then its tokens reach only the MFA routes.
-- authenticated_at: when its owner last proved themselves in it (login, second factor,
-- re-authentication); changing factors needs that to be recent (security requirement 22).
-- first_factor: set when the login itself was a code to an address (`email`, `sms`): that
-- channel then cannot serve as the second factor too.
ALTER TABLE sessions
    ADD COLUMN mfa_verified boolean NOT NULL DEFAULT false,
    ADD COLUMN authenticated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN first_factor text;

-- TOTP authenticators (RFC 6238): the secret sealed (AES-256-GCM under AUTH_SECRET_KEY, bound to
-- the device id), unverified until a first code proves the app holds it; last_step refuses a
-- code of a step already used (no replay within its window).
CREATE TABLE mfa_devices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    sealed_secret bytea NOT NULL,
    verified boolean NOT NULL DEFAULT false,
    last_step bigint,
    last_used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_devices_user_idx ON mfa_devices (user_id);

-- Recovery codes: only a keyed HMAC of each (the key is not in the database), each usable once;
-- a new set replaces the old.
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hmac text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code_hmac)
);

-- Trusted devices: a token (only its SHA-256 stored) that skips MFA at later logins until it
-- expires or is revoked.
CREATE TABLE trusted_devices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent text,
    ip_address text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX trusted_devices_user_idx ON trusted_devices (user_id);
