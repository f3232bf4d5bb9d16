-- why: requirement 23 for the platform admins' own actions (tenants created, changed, deleted;
-- admins created, deleted, signed in, their passwords changed): an append-only trail in the
-- global schema, written — like a tenant's — by the outbox trigger in the transaction of the
-- change, from events of type `auth.platform.*` (which name no tenant).
CREATE TABLE platform_audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid UNIQUE,
    kind text NOT NULL,
    outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure')),
    actor jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor_id uuid,
    ip_address text,
    user_agent text,
    request_id text,
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_audit_log_created_idx ON platform_audit_log (created_at, id);

CREATE FUNCTION auth.platform_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'platform_audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER platform_audit_log_append_only BEFORE UPDATE OR DELETE ON platform_audit_log
    FOR EACH ROW EXECUTE FUNCTION auth.platform_audit_refuse_change();
CREATE TRIGGER platform_audit_log_no_truncate BEFORE TRUNCATE ON platform_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION auth.platform_audit_refuse_change();

CREATE FUNCTION auth.write_platform_audit_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO auth.platform_audit_log (event_id, kind, outcome, actor, actor_id, ip_address, user_agent, request_id, data)
    VALUES (NEW.id, NEW.type,
            CASE WHEN NEW.type = 'auth.platform.login_failed' THEN 'failure' ELSE 'success' END,
            NEW.actor, auth.event_uuid(NEW.actor->>'id'), NEW.request->>'ip', NEW.request->>'userAgent', NEW.request->>'requestId',
            NEW.data);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER events_platform_audit AFTER INSERT ON auth.events
    FOR EACH ROW WHEN (NEW.tenant_id IS NULL AND starts_with(NEW.type, 'auth.platform.')) EXECUTE FUNCTION auth.write_platform_audit_row();
