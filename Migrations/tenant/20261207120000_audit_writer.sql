-- why: this tenant's audit writer, planned once per connection (see the global migration
-- 20261207120000_audit_writer_per_tenant, which defines it and gave existing tenants theirs).
SELECT auth.create_audit_writer(current_schema());
