-- why: every tenant's audit writer was named `write_audit_row`, in its own schema. PostgreSQL
-- finds a function by name first and by schema second, so each lookup of one writer walked the
-- writers of every tenant: the trigger looks its tenant's writer up twice per event (does it
-- exist, then the call), 6.4–6.8 µs per event at 1000 tenants and 61–63 µs at 10 000 (20 000
-- calls in a DO loop), against 11.5 µs with names of their own. Now each writer is named after
-- its schema (`auth.audit_writer_name`), and a lookup finds one candidate whatever the number
-- of tenants.
--
-- This file changes the definitions only. Each schema gets its renamed writer (and loses the
-- old one) from the tenant migration of the same name, which `authd migrate` commits schema by
-- schema: one transaction over every schema would hold a lock per function dropped, and the
-- shared lock table holds about `max_locks_per_transaction` × connections (some 7 800 by
-- default). Until its tenant migration has run, a schema's rows go through the trigger's
-- dynamic fallback (correct, planned on every call).

-- Tenant schemas are named `t_` and 32 hex digits, so this stays within the 63 bytes of a name
-- (a longer one would be cut the same way wherever it is used). No hash: md5 is refused by
-- servers in FIPS mode, and this runs for every event.
CREATE FUNCTION auth.audit_writer_name(schema_name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'write_audit_row_' || schema_name;

-- Creates (or replaces) a tenant schema's audit writer under its own name, and drops the writer
-- of the shared name if the schema still has one. Called by the tenant migrations
-- 20261207120000_audit_writer (a schema created from now on) and 20261209120000_audit_writer_names
-- (every schema made before).
CREATE OR REPLACE FUNCTION auth.create_audit_writer(schema_name text) RETURNS void LANGUAGE plpgsql AS $create$
BEGIN
    EXECUTE format($def$
        CREATE OR REPLACE FUNCTION %1$I.%2$I(e auth.events) RETURNS void LANGUAGE plpgsql
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
    $def$, schema_name, auth.audit_writer_name(schema_name));
    EXECUTE format('DROP FUNCTION IF EXISTS %I.write_audit_row(auth.events)', schema_name);
END
$create$;

-- The trigger: as before, but the writer is found by its own name.
CREATE OR REPLACE FUNCTION auth.write_audit_row() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    target text;
    writer text;
BEGIN
    SELECT t.schema_name INTO target FROM auth.tenants t WHERE t.id = NEW.tenant_id;
    IF target IS NULL THEN
        RETURN NULL;  -- a tenant deleted in this very transaction: its schema is gone too
    END IF;
    writer := auth.audit_writer_name(target);
    IF to_regprocedure(format('%I.%I(auth.events)', target, writer)) IS NOT NULL THEN
        EXECUTE format('SELECT %I.%I($1)', target, writer) USING NEW;
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
