-- why: password hashes live apart from the user row, with the failed-attempt counter they guard.
CREATE TABLE credentials (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- argon2id PHC string; never returned, never logged
    password_hash text NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0,
    last_failed_at timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
