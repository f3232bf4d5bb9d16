-- why: durable delivery of outbox events to named consumer groups (DESIGN.md §5, PgQ's snapshot rule).
CREATE TABLE consumer_groups (
    name text PRIMARY KEY,
    -- event types; '*' for all, 'auth.user.*' for a prefix
    subscriptions text[] NOT NULL DEFAULT '{*}',
    -- events whose transaction is visible here were already turned into delivery rows
    last_snapshot pg_snapshot NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consumer_groups_name_format CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    CONSTRAINT consumer_groups_status_check CHECK (status IN ('active', 'stale'))
);
CREATE TABLE event_deliveries (
    group_name text NOT NULL REFERENCES consumer_groups (name) ON DELETE CASCADE,
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner text,
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz,
    PRIMARY KEY (group_name, event_id),
    CONSTRAINT event_deliveries_status_check CHECK (status IN ('pending', 'done', 'dead'))
);
CREATE INDEX event_deliveries_due_idx ON event_deliveries (group_name, next_attempt_at) WHERE status = 'pending';
CREATE INDEX event_deliveries_event_idx ON event_deliveries (event_id);
