-- why: `authd events reset-snapshots` re-bases groups after a restore; it needs when each group last advanced (last_seen_at also moves when a worker merely starts).
ALTER TABLE consumer_groups ADD COLUMN last_advanced_at timestamptz;
UPDATE consumer_groups SET last_advanced_at = last_seen_at;
