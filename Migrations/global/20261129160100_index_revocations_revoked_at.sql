-- why: serve processes re-read recent revocations every few seconds (a missed broadcast costs seconds, not the token's lifetime).
CREATE INDEX revocations_revoked_at_idx ON revocations (revoked_at);
