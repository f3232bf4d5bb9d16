#!/usr/bin/env bash
# A/B of the audit-trail trigger: pgbench inserting one tenant event per transaction, with the
# trigger enabled and disabled, two rounds, on a throwaway durable cluster. Needs a debug build
# (`swift build`) for `authd migrate`. Usage: Benchmarks/audit-trigger-ab.sh
set -euo pipefail
source "$(dirname "$0")/../deploy/lib.sh"
dir=$(mktemp -d /var/tmp/authd-ab-XXXXXX)
trap 'pg_stop "$dir"; rm -rf "$dir"' EXIT
port=$(free_port 57123)
pg_init "$dir" >/dev/null
pg_start "$dir" "$port" >/dev/null
url=$(pg_conninfo "$dir" "$port")
AUTH_DATABASE_URL="$url" AUTH_LOG_LEVEL=error "$AUTHD_REPO/.build/debug/authd" migrate >/dev/null
bin=$(pg_bin)
run_psql() { runuser -u postgres -- "$bin/psql" "$url" -qAt -c "$1" 2>/dev/null || "$bin/psql" "$url" -qAt -c "$1"; }
tenant=$(run_psql "SELECT id FROM auth.tenants WHERE slug='default'")
schema=$(run_psql "SELECT schema_name FROM auth.tenants WHERE slug='default'")
cat > /tmp/ab.sql <<SQL
BEGIN;
SELECT set_config('search_path', '$schema', true);
INSERT INTO auth.events (id, type, version, tenant_id, actor, subject, data) VALUES (gen_random_uuid(), 'auth.refresh_token', 1, '$tenant', '{"type":"user","id":"8c6f2a47-3b8e-4f7a-9d52-2f0b4f3c1a11"}', '{"type":"session","id":"9d6f2a47-3b8e-4f7a-9d52-2f0b4f3c1a11","userId":"8c6f2a47-3b8e-4f7a-9d52-2f0b4f3c1a11"}', '{"generation":1}');
COMMIT;
SQL
pgb() { (cd /tmp && runuser -u postgres -- "$bin/pgbench" "$url" -n -f /tmp/ab.sql -c 8 -j 2 -T 8 2>/dev/null || "$bin/pgbench" "$url" -n -f /tmp/ab.sql -c 8 -j 2 -T 8) | grep -E "^tps" | head -1; }
for round in 1 2; do
  run_psql "ALTER TABLE auth.events ENABLE TRIGGER events_audit" ; echo "round $round trigger on:  $(pgb)"
  run_psql "ALTER TABLE auth.events DISABLE TRIGGER events_audit"; echo "round $round trigger off: $(pgb)"
done
