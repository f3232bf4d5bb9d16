-- why: HOT updates. A row version that changes no indexed column and fits on its page is a
-- HOT update: no index is touched. Every refresh rewrites last_active_at; while an index held
-- that column, each rotation wrote a new entry into each of the sessions table's three indexes,
-- in pages of the tenant's own. A user's sessions are found by sessions_user_id_idx, and their
-- few rows sorted in memory (eviction, session lists). The fill factors leave room on each new
-- page for the next versions of its rows: sessions rotate on every refresh, and every login
-- rewrites its user's credentials and users rows.
DROP INDEX sessions_user_last_active_idx;
ALTER TABLE sessions SET (fillfactor = 80);
ALTER TABLE users SET (fillfactor = 90);
ALTER TABLE credentials SET (fillfactor = 90);
