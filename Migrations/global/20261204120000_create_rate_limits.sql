-- why: abuse controls shared by every authd process (a limit in one process's memory is
-- multiplied by the number of processes). One row per bucket, holding its GCRA "theoretical
-- arrival time": a bucket whose tat is in the past is as good as absent, so old rows are pruned.
-- The key is a SHA-256 of purpose, scope and subject: no e-mail address or IP is stored here.
-- `tolerance` (seconds) and `allowed` are the last request's rule and outcome, so one
-- INSERT … ON CONFLICT can both decide and report.
CREATE TABLE rate_limits (
    key bytea PRIMARY KEY,
    tat timestamptz NOT NULL,
    tolerance double precision NOT NULL,
    allowed boolean NOT NULL
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
