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
    who uuid := coalesce(auth.event_uuid(NEW.subject->>'userId'),
                         CASE WHEN NEW.subject->>'type' = 'user' THEN auth.event_uuid(NEW.subject->>'id') END,
                         CASE WHEN NEW.actor->>'type' = 'user' THEN auth.event_uuid(NEW.actor->>'id') END);
    session uuid := CASE WHEN NEW.subject->>'type' = 'session' THEN auth.event_uuid(NEW.subject->>'id') END;
    outcome text := CASE WHEN NEW.type IN ('auth.login_failed', 'auth.refresh_token_reuse_detected', 'auth.account_locked')
                         THEN 'failure' ELSE 'success' END;
BEGIN
    SELECT schema_name INTO target FROM auth.tenants WHERE id = NEW.tenant_id;
    IF target IS NULL THEN
        RETURN NULL;  -- a tenant deleted in this very transaction: its schema is gone too
    END IF;
    IF (current_schemas(false))[1] = target THEN
        -- The usual case: a tenant transaction (search_path = that schema only). A static
        -- statement, planned once per connection (re-planned by PostgreSQL when the path changes).
        INSERT INTO audit_log (event_id, kind, user_id, session_id, actor, actor_id, outcome, ip_address, user_agent, request_id, data)
        VALUES (NEW.id, NEW.type, who, session, NEW.actor, auth.event_uuid(NEW.actor->>'id'), outcome,
                coalesce(NEW.request->>'ip', NEW.data->>'ip'), NEW.request->>'userAgent', NEW.request->>'requestId', NEW.data);
    ELSE
        -- An event of a tenant appended outside its schema (settings changed by the registry).
        EXECUTE format(
            'INSERT INTO %I.audit_log (event_id, kind, user_id, session_id, actor, actor_id, outcome, ip_address, user_agent, request_id, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', target)
        USING NEW.id, NEW.type, who, session, NEW.actor, auth.event_uuid(NEW.actor->>'id'), outcome,
              coalesce(NEW.request->>'ip', NEW.data->>'ip'), NEW.request->>'userAgent', NEW.request->>'requestId', NEW.data;
    END IF;
    RETURN NULL;
END
$fn$;

-- Existing tenants get the trail's new columns here, in the transaction that creates the
-- trigger: otherwise every event of a tenant whose own migration has not run yet would fail
-- until it did (the tenant migration adds them too, for tenants created later; IF NOT EXISTS).
DO $do$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT schema_name FROM auth.tenants LOOP
        IF to_regclass(format('%I.audit_log', s)) IS NOT NULL THEN
            EXECUTE format(
                'ALTER TABLE %I.audit_log ADD COLUMN IF NOT EXISTS actor jsonb NOT NULL DEFAULT ''{}''::jsonb,
                 ADD COLUMN IF NOT EXISTS actor_id uuid,
                 ADD COLUMN IF NOT EXISTS outcome text NOT NULL DEFAULT ''success'' CHECK (outcome IN (''success'', ''failure'')),
                 ADD COLUMN IF NOT EXISTS request_id text', s);
        END IF;
    END LOOP;
END
$do$;

CREATE TRIGGER events_audit AFTER INSERT ON auth.events
    FOR EACH ROW WHEN (NEW.tenant_id IS NOT NULL) EXECUTE FUNCTION auth.write_audit_row();
