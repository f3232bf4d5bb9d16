#!/usr/bin/env bash
# make bench: release build of the benchmark driver, a throwaway cluster, one table of figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

echo "==> building authd-bench (release)"
swift build -c release --product authd-bench
bin="$(swift build -c release --show-bin-path)/authd-bench"

dir=$(mktemp -d /var/tmp/authd-bench-XXXXXX)
cleanup() { pg_stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
port=$(free_port $((56000 + RANDOM % 4000)))
pg_init "$dir"
pg_start "$dir" "$port"
echo "==> bench cluster: $dir (port $port, durable settings)"
export AUTH_DATABASE_URL=$(pg_conninfo "$dir" "$port")
"$bin" "$@"
