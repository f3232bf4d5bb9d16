#!/usr/bin/env bash
# make test: debug build, a throwaway PostgreSQL cluster, swift test, cluster stopped and removed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

"$(dirname "$0")/ensure-deps.sh" --browser
echo "==> building (debug, with tests)"
swift build --build-tests

dir=$(mktemp -d /var/tmp/authd-test-XXXXXX)
cleanup() { pg_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
port=$(free_port $((56000 + RANDOM % 4000)))
pg_init "$dir"
# Durability is pointless for a throwaway cluster; connections: parallel suites run many runtimes
# at once (pool of 4, LISTEN, notifier each), and 500 was seen exhausted (503s in a signup).
pg_start "$dir" "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000
echo "==> test cluster: $dir (port $port)"

export AUTH_TEST_DATABASE_URL=$(pg_conninfo "$dir" "$port")
export AUTHD_BIN="$(swift build --show-bin-path)/authd"
export AUTH_TEST_PG_BIN=$(pg_bin)
# Files tests leave for a person to look at (the admin page's screenshot).
export AUTHD_TEST_ARTIFACTS="${AUTHD_TEST_ARTIFACTS:-$AUTHD_REPO/.build/test-artifacts}"
swift test --skip-build "$@"
