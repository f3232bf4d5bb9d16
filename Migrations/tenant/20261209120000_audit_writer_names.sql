-- why: this schema's audit writer under a name of its own, the old shared name dropped (see the
-- global migration 20261209120000_audit_writer_names). Idempotent: a schema created after that
-- migration already has it.
SELECT auth.create_audit_writer(current_schema());
