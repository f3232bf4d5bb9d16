-- why: the transactional outbox; a flow appends its events in its own transaction (DESIGN.md §5).
CREATE TABLE events (
    id uuid PRIMARY KEY,
    type text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    tenant_id uuid,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor jsonb NOT NULL DEFAULT '{}'::jsonb,
    subject jsonb NOT NULL DEFAULT '{}'::jsonb,
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- the writing transaction: consumer groups use it with snapshots, so late commits are never skipped
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_txid_idx ON events (txid);
CREATE INDEX events_type_occurred_idx ON events (type, occurred_at);
