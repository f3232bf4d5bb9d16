-- why: this schema's audit writer under a name of its own, the old shared name dropped (see the
-- global migration 20261209120000_audit_writer_names). Idempotent: a schema created after that
-- migration already has it. Refuses to run before that global migration (a tenant created by a
-- new binary ahead of `authd migrate`): it would record itself done with the old writer in place.
DO $$
BEGIN
    IF to_regprocedure('auth.audit_writer_name(text)') IS NULL THEN
        RAISE EXCEPTION 'the global migration 20261209120000_audit_writer_names has not run: run authd migrate first';
    END IF;
END
$$;
SELECT auth.create_audit_writer(current_schema());
