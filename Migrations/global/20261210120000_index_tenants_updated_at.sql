-- why: every serve process reads the tenants changed in the last seconds every 2 s (a tenant broadcast gone astray costs seconds, not the tenant cache's 60 s); without this it scans every tenant (0.4 ms at 10 000 rows, measured).
CREATE INDEX tenants_updated_at_idx ON tenants (updated_at);
