-- why: the outbox trigger wrote each tenant's audit row with a static INSERT on `audit_log`
-- resolved through the caller's search path. PostgreSQL re-plans a cached statement whenever
-- the search path differs from the one it was planned under, so with tenants alternating on a
-- connection nearly every event re-planned the trigger's statements (a third of the server's
-- CPU in a refresh benchmark over 400 tenants). Now each tenant schema has its own writer,
-- `write_audit_row(auth.events)`, whose search path is fixed to that schema: its INSERT is
-- planned once per connection and tenant. The trigger itself runs with a fixed path too, and
-- calls the writer with a one-line dynamic statement.

-- Creates (or replaces) a tenant schema's audit writer. Called here for the existing tenants,
-- and by the tenant migration of the same name for tenants created later.
CREATE FUNCTION auth.create_audit_writer(schema_name text) RETURNS void LANGUAGE plpgsql AS $create$
BEGIN
    EXECUTE format($def$
        CREATE OR REPLACE FUNCTION %1$I.write_audit_row(e auth.events) RETURNS void LANGUAGE plpgsql
        SET search_path = %1$I, pg_temp AS $fn$
        DECLARE
            who uuid := coalesce(auth.event_uuid(e.subject->>'userId'),
                                 CASE WHEN e.subject->>'type' = 'user' THEN auth.event_uuid(e.subject->>'id') END,
                                 CASE WHEN e.actor->>'type' = 'user' THEN auth.event_uuid(e.actor->>'id') END);
            session uuid := CASE WHEN e.subject->>'type' = 'session' THEN auth.event_uuid(e.subject->>'id') END;
            outcome text := CASE WHEN e.type IN ('auth.login_failed', 'auth.refresh_token_reuse_detected', 'auth.account_locked')
                                 THEN 'failure' ELSE 'success' END;
        BEGIN
            INSERT INTO audit_log (event_id, kind, user_id, session_id, actor, actor_id, outcome, ip_address, user_agent, request_id, data)
            VALUES (e.id, e.type, who, session, e.actor, auth.event_uuid(e.actor->>'id'), outcome,
                    coalesce(e.request->>'ip', e.data->>'ip'), e.request->>'userAgent', e.request->>'requestId', e.data);
        END
        $fn$
    $def$, schema_name);
END
$create$;

-- (pg_temp last in both paths: a session's temporary table cannot stand in for a name here.)
CREATE OR REPLACE FUNCTION auth.write_audit_row() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target text;
    has_writer boolean;
BEGIN
    SELECT t.schema_name, to_regprocedure(format('%I.write_audit_row(auth.events)', t.schema_name)) IS NOT NULL
      INTO target, has_writer
      FROM auth.tenants t WHERE t.id = NEW.tenant_id;
    IF target IS NULL THEN
        RETURN NULL;  -- a tenant deleted in this very transaction: its schema is gone too
    END IF;
    IF has_writer THEN
        EXECUTE format('SELECT %I.write_audit_row($1)', target) USING NEW;
    ELSE
        -- A schema not yet migrated this far (created by an older build during a rolling
        -- deploy): the row is still written, planned on every call.
        EXECUTE format(
            'INSERT INTO %I.audit_log (event_id, kind, user_id, session_id, actor, actor_id, outcome, ip_address, user_agent, request_id, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', target)
        USING NEW.id, NEW.type,
              coalesce(auth.event_uuid(NEW.subject->>'userId'),
                       CASE WHEN NEW.subject->>'type' = 'user' THEN auth.event_uuid(NEW.subject->>'id') END,
                       CASE WHEN NEW.actor->>'type' = 'user' THEN auth.event_uuid(NEW.actor->>'id') END),
              CASE WHEN NEW.subject->>'type' = 'session' THEN auth.event_uuid(NEW.subject->>'id') END,
              NEW.actor, auth.event_uuid(NEW.actor->>'id'),
              CASE WHEN NEW.type IN ('auth.login_failed', 'auth.refresh_token_reuse_detected', 'auth.account_locked')
                   THEN 'failure' ELSE 'success' END,
              coalesce(NEW.request->>'ip', NEW.data->>'ip'), NEW.request->>'userAgent', NEW.request->>'requestId', NEW.data;
    END IF;
    RETURN NULL;
END
$fn$;

-- Existing tenants get their writer in the transaction that changes the trigger.
DO $do$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT schema_name FROM auth.tenants LOOP
        IF to_regclass(format('%I.audit_log', s)) IS NOT NULL THEN
            PERFORM auth.create_audit_writer(s);
        END IF;
    END LOOP;
END
$do$;
