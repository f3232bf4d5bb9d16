#!/usr/bin/env bash
# make drills: reliability drills against real processes on a throwaway cluster (loopback only).
# Drill 1 — PgBouncer in transaction mode in the pool's path (AUTH_DATABASE_PREPARED_STATEMENTS=0),
# LISTEN direct (AUTH_DATABASE_LISTEN_URL): two authd serve + one authd listen; signup, login,
# refresh, a logout on one server refused by the other, events delivered; then PgBouncer is
# restarted under a stream of logins: no 5xx but 503 with Retry-After, serving again within 5 s.
# Drill 2 — PostgreSQL itself restarted under logins: the same promises, and a logout after the
# restart is still refused by the other server (its LISTEN reconnected and resynced).
# Drill 3 — kill -9 of an `authd serve` during 1000 signups: no user without its events, no event
# without its user (each signup is one transaction with its outbox rows).
# Drill 4 — nginx in front of the two servers, a second `authd listen` in the same consumer group,
# 200 signups spread across the servers: every event delivered exactly once to the group; a
# logout through nginx refused by both servers within 100 ms. And a multi-host database URL
# (a dead host first, target_session_attrs=read-write) serves.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

"$(dirname "$0")/ensure-deps.sh" --drills
echo "==> building (debug, as make test builds it)"
swift build --build-tests
bin="$(swift build --show-bin-path)/authd"

dir=$(mktemp -d /var/tmp/authd-drills-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$dir/pgbouncer.pid" ] && kill -TERM "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
  pg_stop "$dir/pg"
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/pg"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
chmod 755 "$dir"
pgport=$(free_port $((21000 + RANDOM % 2000)))
pg_init "$dir/pg"
pg_start "$dir/pg" "$pgport" -c fsync=off -c max_connections=200
"$(pg_bin)/psql" -h "$dir/pg" -p "$pgport" -U postgres -X -q -c "CREATE DATABASE authd" postgres

# PgBouncer: transaction pooling, trust on loopback (a drill, not a deployment).
bport=$(free_port $((23000 + RANDOM % 2000)))
cat >"$dir/pgbouncer.ini" <<INI
[databases]
authd = host=127.0.0.1 port=$pgport dbname=authd user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
; After PostgreSQL went away, retry its login every second (the default, 15 s, holds every
; query that long after a restart), and give up on a query waiting more than 5 s for a server
; (authd answers that 503 with Retry-After instead of holding the request).
server_login_retry = 1
query_wait_timeout = 5
pidfile = $dir/pgbouncer.pid
logfile = $dir/pgbouncer.log
unix_socket_dir =
INI
echo '"postgres" ""' >"$dir/userlist.txt"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"/pgbouncer.ini "$dir"/userlist.txt
start_bouncer() { as_pg pgbouncer -d "$dir/pgbouncer.ini"; for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$bport") 2>/dev/null && return 0; sleep 0.1; done; die "pgbouncer did not start"; }
start_bouncer

export AUTH_DATABASE_URL="host=127.0.0.1 port=$bport dbname=authd user=postgres sslmode=disable"
export AUTH_DATABASE_PREPARED_STATEMENTS=0
export AUTH_DATABASE_LISTEN_URL=$(pg_conninfo "$dir/pg" "$pgport" authd)
export AUTH_ENV=development AUTH_LOG_LEVEL=error
export AUTH_SECRET_KEY="drill1:$(head -c 32 /dev/urandom | base64 -w0)"
export AUTH_ARGON2_MEMORY_KIB=1024 AUTH_ARGON2_ITERATIONS=1
export AUTH_RATE_LIMITS=off
# Migrations take advisory locks across statements: run them direct, as the docs say.
AUTH_DATABASE_URL=$AUTH_DATABASE_LISTEN_URL "$bin" migrate >/dev/null
porta=$(free_port $((25000 + RANDOM % 2000))); portb=$(free_port $((27000 + RANDOM % 2000)))
AUTH_HTTP_PORT=$porta "$bin" serve >"$dir/a.log" 2>&1 & pids+=($!)
AUTH_HTTP_PORT=$portb "$bin" serve >"$dir/b.log" 2>&1 & pids+=($!)
"$bin" listen --consumer log --start oldest >"$dir/events.log" 2>"$dir/listen.log" & pids+=($!)
a="http://127.0.0.1:$porta"; b="http://127.0.0.1:$portb"
for url in "$a" "$b"; do
  for _ in $(seq 1 300); do curl -fs "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "$url/health/ready" >/dev/null || { tail -5 "$dir"/*.log; die "authd serve at $url did not become ready"; }
done

failures=0
check() { if [ "$2" = "$3" ]; then printf '  ok    %-58s %s\n' "$1" "$2"; else printf '  FAIL  %-58s got %s, want %s\n' "$1" "$2" "$3"; failures=$((failures + 1)); fi; }
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', ''))"; }
post() { curl -s -o "$dir/body" -w '%{http_code}' -X POST "$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2"; }
# check_refused LABEL SERVER TOKEN: SERVER answers 401 to TOKEN within 100 ms (polled up to 5 s).
check_refused() {
  local start refused=""
  start=$(date +%s%N)
  while [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ]; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$2/auth/me" -H "authorization: Bearer $3")" = 401 ] && { refused=$(( ($(date +%s%N) - start) / 1000000 )); break; }
  done
  check "$1 (ms: ${refused:-never})" "$([ -n "$refused" ] && [ "$refused" -lt 100 ] && echo yes || echo no)" yes
}
# login_stream FILE: logins on A in the background for 12 s (pid in $load), each answer's status
# and time (ms) a line of FILE; a 503 without Retry-After adds a line saying so.
login_stream() {
  local out=$1
  : >"$out"
  ( end=$(( $(date +%s) + 12 ))
    while [ "$(date +%s)" -lt "$end" ]; do
      code=$(curl -s -o /dev/null -D "$out.h" -w '%{http_code}' -X POST "$a/auth/login" -H 'content-type: application/json' \
        -d '{"credentials":{"email":"ann@example.com","password":"correct horse battery"}}')
      echo "$code $(( $(date +%s%N) / 1000000 ))" >>"$out"
      if [ "$code" = 503 ] && ! grep -qi '^retry-after:' "$out.h"; then echo "503-without-retry-after" >>"$out"; fi
    done ) &
  load=$!
}
# check_stream FILE RESTARTED WHAT: only 200s and 503s with Retry-After in FILE, and a 200 within
# 5 s of RESTARTED (ms).
check_stream() {
  local codes=$1 again
  check "answers other than 200 or 503 while $3 restarts" "$(grep -vc '^200 \|^503 ' "$codes" || true)" 0
  check "503s without Retry-After" "$(grep -c 'without' "$codes" || true)" 0
  again=$(awk -v t="$2" '$1 == 200 && $2 >= t { print $2 - t; exit }' "$codes")
  check "logins again within 5 s of $3 being back (ms: ${again:-never})" "$([ -n "$again" ] && [ "$again" -lt 5000 ] && echo yes || echo no)" yes
  echo "  $(wc -l <"$codes") logins during the drill: $(grep -c '^200 ' "$codes" || true) answered 200, $(grep -c '^503 ' "$codes" || true) answered 503"
}

echo "==> drill 1: PgBouncer (transaction mode) in the pool's path, LISTEN direct"
check "signup through PgBouncer" "$(post "$a/auth/signup" '{"email":"ann@example.com","password":"correct horse battery"}')" 200
check "login" "$(post "$a/auth/login" '{"credentials":{"email":"ann@example.com","password":"correct horse battery"}}')" 200
access=$(json accessToken <"$dir/body"); refresh=$(json refreshToken <"$dir/body")
check "refresh" "$(post "$a/auth/refresh-token" "{\"refreshToken\":\"$refresh\"}")" 200
access=$(json accessToken <"$dir/body")
check "the token on the other server" "$(curl -s -o /dev/null -w '%{http_code}' "$b/auth/me" -H "authorization: Bearer $access")" 200
check "logout on A" "$(post "$a/auth/logout" '{}' "$access")" 200
check_refused "B refuses the logged-out token" "$b" "$access"
delivered=0
for _ in $(seq 1 100); do
  delivered=$(grep -c '"auth.logged_in"\|"auth.registered"\|"auth.refresh_token"\|"auth.logged_out"' "$dir/events.log" || true)
  [ "$delivered" -ge 4 ] && break; sleep 0.1
done
check "events delivered to authd listen (registered, logged_in, refresh, logged_out)" "$([ "$delivered" -ge 4 ] && echo yes || echo "$delivered")" yes

echo "==> drill 1b: PgBouncer restarted under a stream of logins"
login_stream "$dir/codes1"
sleep 3
kill -TERM "$(cat "$dir/pgbouncer.pid")"; sleep 1
start_bouncer; restarted=$(( $(date +%s%N) / 1000000 ))
wait $load
check_stream "$dir/codes1" "$restarted" PgBouncer

echo "==> drill 2: PostgreSQL restarted under a stream of logins"
login_stream "$dir/codes2"
sleep 3
as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null
sleep 1
pg_start "$dir/pg" "$pgport" -c fsync=off -c max_connections=200; restarted=$(( $(date +%s%N) / 1000000 ))
wait $load
check_stream "$dir/codes2" "$restarted" PostgreSQL
post "$a/auth/login" '{"credentials":{"email":"ann@example.com","password":"correct horse battery"}}' >/dev/null
access=$(json accessToken <"$dir/body")
check "after the restart: the token on the other server" "$(curl -s -o /dev/null -w '%{http_code}' "$b/auth/me" -H "authorization: Bearer $access")" 200
post "$a/auth/logout" '{}' "$access" >/dev/null
check_refused "after the restart: B refuses a logged-out token" "$b" "$access"

echo "==> drill 3: kill -9 of authd serve during 1000 signups"
portc=$(free_port $((29000 + RANDOM % 2000)))
AUTH_DATABASE_URL=$AUTH_DATABASE_LISTEN_URL AUTH_DATABASE_PREPARED_STATEMENTS=256 AUTH_HTTP_PORT=$portc "$bin" serve >"$dir/c.log" 2>&1 &
victim=$!
c="http://127.0.0.1:$portc"
for _ in $(seq 1 300); do curl -fs "$c/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$c/health/ready" >/dev/null || die "the drill's third authd serve did not become ready"
seq 1 1000 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$c/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"k{}@example.com","password":"correct horse battery"}' >"$dir/signups" 2>/dev/null &
signups=$!
for _ in $(seq 1 200); do [ "$(wc -l <"$dir/signups")" -ge 300 ] && break; sleep 0.05; done
kill -9 "$victim"
wait "$signups" 2>/dev/null || true
answered=$(grep -c '^20' "$dir/signups" || true)
psql=("$(pg_bin)/psql" -h "$dir/pg" -p "$pgport" -U postgres -X -q -t -A -d authd)
schema=$("${psql[@]}" -c "SELECT schema_name FROM auth.tenants WHERE slug = 'default'")
tenant=$("${psql[@]}" -c "SELECT id FROM auth.tenants WHERE slug = 'default'")
users=$("${psql[@]}" -c "SELECT count(*) FROM $schema.users WHERE email LIKE 'k%@example.com'")
orphans=$("${psql[@]}" -c "
  SELECT (SELECT count(*) FROM $schema.users u WHERE u.email LIKE 'k%@example.com' AND NOT EXISTS (
            SELECT 1 FROM auth.events e WHERE e.type = 'auth.registered' AND e.subject->>'id' = u.id::text))
       + (SELECT count(*) FROM $schema.users u WHERE u.email LIKE 'k%@example.com' AND NOT EXISTS (
            SELECT 1 FROM auth.events e WHERE e.type = 'auth.user.created' AND e.subject->>'id' = u.id::text))
       + (SELECT count(*) FROM auth.events e WHERE e.tenant_id = '$tenant' AND e.type IN ('auth.registered', 'auth.user.created')
            AND NOT EXISTS (SELECT 1 FROM $schema.users u WHERE u.id::text = e.subject->>'id'))")
echo "  $answered signups answered 2xx before the kill, $users users exist"
check "the kill came mid-stream (100 ≤ answered < 1000)" "$([ "$answered" -ge 100 ] && [ "$answered" -lt 1000 ] && echo yes || echo no)" yes
check "users committed ≥ signups answered" "$([ "$users" -ge "$answered" ] && echo yes || echo no)" yes
check "users without their events, or events without their user" "$orphans" 0

echo "==> drill 4: nginx in front of two servers, two listeners in one consumer group"
"$bin" listen --consumer log --start oldest >"$dir/events2.log" 2>"$dir/listen2.log" & pids+=($!)
nport=$(free_port $((31000 + RANDOM % 1000)))
mkdir -p "$dir/nginx"
cat >"$dir/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  upstream authd { server 127.0.0.1:$porta; server 127.0.0.1:$portb; keepalive 16; }
  server {
    listen 127.0.0.1:$nport;
    location / {
      proxy_pass http://authd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
NGINX
nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -g 'daemon off; user root;' 2>>"$dir/nginx/error.log" & pids+=($!)
n="http://127.0.0.1:$nport"
for _ in $(seq 1 100); do curl -fs "$n/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
seq 1 200 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$n/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"n{}@example.com","password":"correct horse battery"}' >"$dir/nsignups"
check "200 signups through nginx" "$(grep -c '^200$' "$dir/nsignups" || true)" 200
# Every auth.registered event of those users once across both workers of the group.
for _ in $(seq 1 150); do
  ids=$(cat "$dir/events.log" "$dir/events2.log" | /usr/bin/python3 -c '
import json, sys
seen = {}
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    seen[e["id"]] = seen.get(e["id"], 0) + 1
print(sum(1 for v in seen.values() if v > 1), len(seen))')
  total=$(echo "$ids" | cut -d" " -f2)
  registered=$("${psql[@]}" -c "SELECT count(*) FROM auth.events WHERE tenant_id = '$tenant'")
  [ "$total" -ge "$registered" ] && break
  sleep 0.2
done
check "events of the tenant delivered to the group ($total of $registered)" "$([ "$total" -ge "$registered" ] && echo yes || echo no)" yes
check "events delivered twice within the group" "$(echo "$ids" | cut -d" " -f1)" 0
check "both workers took part" "$([ -s "$dir/events.log" ] && [ -s "$dir/events2.log" ] && echo yes || echo no)" yes
post "$n/auth/login" '{"credentials":{"email":"n1@example.com","password":"correct horse battery"}}' >/dev/null
access=$(json accessToken <"$dir/body")
post "$n/auth/logout" '{}' "$access" >/dev/null
for server in "$a" "$b"; do check_refused "logout through nginx refused by $server" "$server" "$access"; done

dead=$(free_port $((33000 + RANDOM % 500)))
portm=$(free_port $((34000 + RANDOM % 500)))
AUTH_DATABASE_URL="host=127.0.0.1,127.0.0.1 port=$dead,$pgport dbname=authd user=postgres sslmode=disable target_session_attrs=read-write connect_timeout=2" \
  AUTH_DATABASE_PREPARED_STATEMENTS=256 AUTH_DATABASE_LISTEN_URL= AUTH_HTTP_PORT=$portm "$bin" serve >"$dir/m.log" 2>&1 & pids+=($!)
m="http://127.0.0.1:$portm"
for _ in $(seq 1 100); do curl -fs "$m/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
check "multi-host URL, first host down: login" "$(post "$m/auth/login" '{"credentials":{"email":"n2@example.com","password":"correct horse battery"}}')" 200

[ "$failures" -eq 0 ] || { echo "drills: $failures FAILED (logs in $dir kept)"; trap - EXIT; for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; kill -TERM "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; pg_stop "$dir/pg"; exit 1; }
echo "drills: passed"
