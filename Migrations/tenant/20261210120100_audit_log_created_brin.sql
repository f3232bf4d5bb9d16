-- why: audit rows are only appended, so created_at rises with the table; a BRIN index serves
-- reads by time (an export, an operator's query) at a fraction of a btree's cost on every
-- insert, and every event writes one row. The admin API's list goes by id (the primary key).
DROP INDEX audit_log_created_idx;
CREATE INDEX audit_log_created_brin ON audit_log USING brin (created_at);
