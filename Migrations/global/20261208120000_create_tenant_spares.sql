-- why: tenant schemas made ahead of need. Creating a tenant's 17 tables and 40 indexes takes
-- 30–65 ms, about two fifths of it one fsync per index build; a tenant created while a spare
-- is ready takes the spare's schema (and its id) instead. Rows are claimed with SKIP LOCKED and
-- deleted in the claiming transaction, so a failed create gives its spare back. A spare records
-- the newest global and tenant files of the build that made it and is claimed only by a build
-- with the same files: one made before a global migration patched every tenant schema, or with
-- fewer tenant files, is never used (the keeper of a newer build drops it).
CREATE TABLE tenant_spares (
    id uuid PRIMARY KEY,
    schema_name text NOT NULL UNIQUE,
    global_version text NOT NULL,
    tenant_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
