-- why: once a group has seen transaction ids go backwards (a restore into a new cluster) it stays stopped until `authd events reset-snapshots`, even after the new cluster's ids pass the old ones; retention and secret purging wait for it too.
ALTER TABLE consumer_groups ADD COLUMN needs_reset boolean NOT NULL DEFAULT false;
