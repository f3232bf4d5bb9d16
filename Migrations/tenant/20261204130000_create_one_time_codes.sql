-- why: one-time codes (e-mail/phone verification, password reset, passwordless login, MFA
-- challenges), one mechanism for all: only an HMAC of the code is stored, bound to user,
-- purpose, channel and recipient; one live code per user and purpose (a new one replaces the
-- old); attempts are counted and capped; the row goes when the code is used.
CREATE TABLE one_time_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL,
    channel text NOT NULL,
    recipient text NOT NULL,
    code_hmac text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, purpose)
);
CREATE INDEX one_time_codes_expires_idx ON one_time_codes (expires_at);
