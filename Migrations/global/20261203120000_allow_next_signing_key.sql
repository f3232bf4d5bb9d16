-- why: JWKS publishes the next signing key before it signs (API.md: current + next); a next key has no activation time until a rotation schedules it.
ALTER TABLE signing_keys ALTER COLUMN activates_at DROP NOT NULL, ALTER COLUMN activates_at DROP DEFAULT;
