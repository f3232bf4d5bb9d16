#!/usr/bin/env bash
# make bench: release builds of authd and the benchmark driver, a throwaway cluster with
# durable settings, one run printing every table (see Benchmarks/authd-bench).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

# wrk drives the GET rows; it is optional (those rows say n/a without it).
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1; } || true
fi

echo "==> building authd and authd-bench (release; the first build takes several minutes)"
swift build -c release --product authd
swift build -c release --product authd-bench
bindir="$(swift build -c release --show-bin-path)"

dir=$(mktemp -d /var/tmp/authd-bench-XXXXXX)
cleanup() { pg_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
port=$(free_port $((56000 + RANDOM % 4000)))
pg_init "$dir"
# shared_buffers as a database server would have it (the default 128 MB is sized for a laptop):
# at a thousand tenants the hot pages of every tenant's tables no longer fit in 128 MB.
# AUTH_BENCH_PG_OPTIONS: more server settings to compare (`-c wal_compression=lz4 -c …`).
# shellcheck disable=SC2086
pg_start "$dir" "$port" -c max_connections=200 -c "shared_buffers=${AUTH_BENCH_SHARED_BUFFERS:-1GB}" ${AUTH_BENCH_PG_OPTIONS:-}
"$(pg_bin)/psql" -h "$dir" -p "$port" -U postgres -X -q -d postgres -c "CREATE DATABASE authd"
echo "==> bench cluster: $dir (port $port, durable settings)"
export AUTH_DATABASE_URL=$(pg_conninfo "$dir" "$port" authd)
AUTH_LOG_LEVEL=warning "$bindir/authd" migrate >/dev/null
export AUTHD_BIN="$bindir/authd"
export AUTH_TEST_PG_BIN=$(pg_bin)
"$bindir/authd-bench" "$@"
