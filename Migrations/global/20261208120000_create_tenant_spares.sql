-- why: tenant schemas made ahead of need. Creating a tenant's 17 tables and 40 indexes takes
-- 30–65 ms, about two fifths of it one fsync per index build; a tenant created while a spare
-- is ready takes the spare's schema (and its id) instead. Rows are claimed with SKIP LOCKED and
-- deleted in the claiming transaction, so a failed create gives its spare back. A spare records
-- the files of the build that made it (a digest of every global and tenant file, and the newest
-- version of each) and is claimed only by a build with the same files: one made before a global
-- migration patched every tenant schema, or with other tenant files, is never used (the keeper
-- of a build at least as new drops it; an older build makes none while a newer one's exist).
CREATE TABLE tenant_spares (
    id uuid PRIMARY KEY,
    schema_name text NOT NULL UNIQUE,
    files_digest text NOT NULL,
    global_version text NOT NULL,
    tenant_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
