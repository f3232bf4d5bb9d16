#!/usr/bin/env bash
# make run: build, a private PostgreSQL under the data folder, migrate, then authd serve in the
# foreground. Ctrl-C stops authd and the cluster.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

config=debug; [ -n "${RELEASE:-}" ] && [ "${RELEASE}" != 0 ] && config=release
echo "==> building authd ($config)"
swift build -c "$config" --product authd
bin="$(swift build -c "$config" --show-bin-path)/authd"

data=$(data_root)
mkdir -p "$data"
pgdir="$data/pg"
[ -d "$pgdir/data" ] || pg_init "$pgdir"
started_here=0
if pg_running "$pgdir"; then
  port=$(pg_port "$pgdir")
  echo "==> PostgreSQL already running in $pgdir (port $port)"
else
  port=$(free_port "${AUTH_PG_PORT:-55480}")
  pg_start "$pgdir" "$port"
  started_here=1
  echo "==> PostgreSQL started in $pgdir (port $port)"
fi
stop_pg() { [ "$started_here" = 1 ] && pg_stop "$pgdir"; return 0; }
trap stop_pg EXIT

psql=("$(pg_bin)/psql" -h "$pgdir" -p "$port" -U postgres -X -q -t -A)
if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'authd'")" != 1 ]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE authd"
fi

# A development keyring, created once and kept with the data (never used in production).
keyfile="$data/dev-secret-key"
if [ ! -s "$keyfile" ]; then
  (umask 077; printf 'dev1:%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" >"$keyfile")
  echo "==> created a development keyring in $keyfile"
fi

export AUTH_DATABASE_URL=$(pg_conninfo "$pgdir" "$port" authd)
export AUTH_ENV=${AUTH_ENV:-development}
export AUTH_SECRET_KEY=${AUTH_SECRET_KEY:-$(cat "$keyfile")}
export AUTH_HTTP_HOST=${AUTH_HTTP_HOST:-127.0.0.1}
export AUTH_HTTP_PORT=${AUTH_HTTP_PORT:-8080}
# Passkeys on this machine: browsers treat http://localhost as a secure origin.
export AUTH_PASSKEY_RP_ID=${AUTH_PASSKEY_RP_ID:-localhost}
export AUTH_PASSKEY_ORIGINS=${AUTH_PASSKEY_ORIGINS:-http://localhost:$AUTH_HTTP_PORT}

# The same settings for the CLI beside the server: `deploy/authd tenant create acme` loads them.
envfile="$data/authd.env"
(umask 077
 for name in AUTH_DATABASE_URL AUTH_ENV AUTH_SECRET_KEY AUTH_HTTP_HOST AUTH_HTTP_PORT AUTH_PASSKEY_RP_ID AUTH_PASSKEY_ORIGINS; do
   printf '%s=%q\n' "$name" "${!name}"
 done
 printf 'AUTHD_BIN=%q\n' "$bin") >"$envfile"

echo "==> migrating"
"$bin" migrate

url="http://$AUTH_HTTP_HOST:$AUTH_HTTP_PORT"
cat <<MSG
==> authd is starting at $url (Ctrl-C stops it and PostgreSQL)
    try:  curl -s $url/health/ready
    database: $AUTH_DATABASE_URL
    the CLI with these settings, in another terminal:  deploy/authd tenant list
MSG
# A listener worker prints every event as a JSON line (consumer group "log") and, as a local
# mail catcher would, every one-time code with its recipient (group "mailcatcher", development
# only); kill it and start `authd listen` again: it catches up on what it missed.
# (Through a process substitution, not a pipe: $! is then authd listen itself, which the traps
# below must stop before PostgreSQL goes — with a pipe it was sed, and a TERM to this script
# alone left the listener retrying against a stopped cluster.)
"$bin" listen --consumer log --consumer mailcatcher --start oldest > >(sed -u 's/^/[event] /') &
listener=$!
echo "==> authd listen prints events below, prefixed [event]; codes sent by e-mail or SMS appear as [mail] lines"
# Not exec: the EXIT trap must stop PostgreSQL after authd ends. authd handles SIGINT/SIGTERM.
"$bin" serve &
child=$!
trap 'kill -TERM $child $listener 2>/dev/null || true' INT TERM
wait $child || true
wait $child 2>/dev/null || true
kill -TERM $listener 2>/dev/null || true
wait $listener 2>/dev/null || true
