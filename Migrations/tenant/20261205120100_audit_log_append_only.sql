-- why: requirement 23 — audit rows are written in the transaction of the change they record
-- (by the outbox trigger `auth.write_audit_row`) and can be neither updated nor deleted by the
-- application: UPDATE, DELETE and TRUNCATE raise. Who acted (`actor`), the outcome and the
-- request id join what the row already had. Rows outlive their user (no foreign key).
-- (An existing tenant got these columns from the global migration that made the trigger.)
ALTER TABLE audit_log
    ADD COLUMN IF NOT EXISTS actor jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN IF NOT EXISTS actor_id uuid,
    ADD COLUMN IF NOT EXISTS outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure')),
    ADD COLUMN IF NOT EXISTS request_id text;
CREATE INDEX audit_log_created_idx ON audit_log (created_at, id);
CREATE INDEX audit_log_kind_idx ON audit_log (kind, created_at);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
