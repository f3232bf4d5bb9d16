-- why: the refresh-token format names the keyring key of its tag; eviction scans by last activity.
ALTER TABLE sessions ADD COLUMN refresh_key_id text;
CREATE INDEX sessions_user_last_active_idx ON sessions (user_id, last_active_at) WHERE revoked_at IS NULL;
