-- why: an append-only audit trail per tenant (written by consumers such as the example login listener).
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the outbox event this row records, so a redelivered event writes it once
    event_id uuid UNIQUE,
    kind text NOT NULL,
    user_id uuid,
    session_id uuid,
    ip_address text,
    user_agent text,
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, created_at);
