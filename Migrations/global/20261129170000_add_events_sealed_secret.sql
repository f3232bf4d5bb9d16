-- why: one-time codes travel with their event only encrypted (AES-256-GCM under the keyring, the event id as associated data) and are purged once delivered or expired (DESIGN.md §5).
ALTER TABLE events ADD COLUMN sealed_secret bytea, ADD COLUMN secret_expires_at timestamptz;
CREATE INDEX events_sealed_secret_idx ON events (secret_expires_at) WHERE sealed_secret IS NOT NULL;
