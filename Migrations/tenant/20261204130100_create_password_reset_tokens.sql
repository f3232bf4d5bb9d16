-- why: reset tokens handed out after a verified forgot-password code. Only their SHA-256 is
-- stored; each works once, expires, is replaced by a newer request, and is void once the
-- password changes after it was made (credentials.password_changed_at).
CREATE TABLE password_reset_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);
