-- why: audit rows are only appended, so created_at rises with the table; a BRIN index serves
-- time-range filters at a fraction of the btree's cost on every insert (each event writes one
-- row, in every request that changes something). Lists go by id (the primary key).
DROP INDEX audit_log_created_idx;
CREATE INDEX audit_log_created_brin ON audit_log USING brin (created_at);
