-- why: account lockout (security requirement 7): after N consecutive failures the account is
-- locked until locked_until, for a duration that doubles with each lockout (`lockouts`) until a
-- successful login resets both.
ALTER TABLE credentials
    ADD COLUMN locked_until timestamptz,
    ADD COLUMN lockouts integer NOT NULL DEFAULT 0;
