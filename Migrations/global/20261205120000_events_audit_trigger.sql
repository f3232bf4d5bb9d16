-- why: requirement 23 — every security event writes its tenant's audit row in the same
-- transaction as the change. Every such event already passes through the outbox in that
-- transaction (flows append it, hot statements embed its INSERT), so the row is written by a
-- trigger on the outbox: no flow can forget it, and a rolled-back change leaves neither.
-- `request` keeps where the request came from (address, user agent, request id) for the row.
ALTER TABLE auth.events ADD COLUMN request jsonb;

-- A user id out of an event's actor/subject JSON, or NULL (never a failing cast).
CREATE FUNCTION auth.event_uuid(value text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN value::uuid END
$$;

CREATE FUNCTION auth.write_audit_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    target text;
BEGIN
    SELECT schema_name INTO target FROM auth.tenants WHERE id = NEW.tenant_id;
    IF target IS NULL THEN
        RETURN NULL;  -- a tenant deleted in this very transaction: its schema is gone too
    END IF;
    EXECUTE format(
        'INSERT INTO %I.audit_log (event_id, kind, user_id, session_id, actor, actor_id, outcome, ip_address, user_agent, request_id, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', target)
    USING NEW.id, NEW.type,
        coalesce(auth.event_uuid(NEW.subject->>'userId'),
                 CASE WHEN NEW.subject->>'type' = 'user' THEN auth.event_uuid(NEW.subject->>'id') END,
                 CASE WHEN NEW.actor->>'type' = 'user' THEN auth.event_uuid(NEW.actor->>'id') END),
        CASE WHEN NEW.subject->>'type' = 'session' THEN auth.event_uuid(NEW.subject->>'id') END,
        NEW.actor,
        auth.event_uuid(NEW.actor->>'id'),
        CASE WHEN NEW.type IN ('auth.login_failed', 'auth.refresh_token_reuse_detected', 'auth.account_locked')
             THEN 'failure' ELSE 'success' END,
        coalesce(NEW.request->>'ip', NEW.data->>'ip'),
        NEW.request->>'userAgent',
        NEW.request->>'requestId',
        NEW.data;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER events_audit AFTER INSERT ON auth.events
    FOR EACH ROW WHEN (NEW.tenant_id IS NOT NULL) EXECUTE FUNCTION auth.write_audit_row();
