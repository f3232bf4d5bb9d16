#!/usr/bin/env bash
# make fuzz: the OpenAPI document validated (openapi-spec-validator), then schemathesis against a
# live `authd serve` on a throwaway cluster, with a fixed seed. Fails on any 5xx, a crash, an
# answer outside the document (status, content type, body schema) or a document that does not
# validate. FUZZ_EXAMPLES (cases per operation, default 30) and FUZZ_SEED tune the run; CI runs
# it as it is (≥ 2000 requests).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

"$(dirname "$0")/ensure-deps.sh" --fuzz
# Pinned: a new schemathesis generates other cases for the same seed.
venv="$AUTHD_REPO/.build/fuzz-venv"
pypi_venv "$venv" "schemathesis==4.32.5" "openapi-spec-validator==0.7.2"

spec="$AUTHD_REPO/Sources/AuthHTTP/Resources/openapi.json"
echo "==> validating $spec"
"$venv/bin/openapi-spec-validator" "$spec"

echo "==> building authd (debug, as make test builds it: nothing is rebuilt after make test)"
swift build --build-tests
bin="$(swift build --show-bin-path)/authd"

dir=$(mktemp -d /var/tmp/authd-fuzz-XXXXXX)
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  pg_stop "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
pgport=$(free_port $((52000 + RANDOM % 2000)))
pg_init "$dir"
pg_start "$dir" "$pgport" -c fsync=off -c synchronous_commit=off
"$(pg_bin)/psql" -h "$dir" -p "$pgport" -U postgres -X -q -c "CREATE DATABASE authd" postgres

export AUTH_DATABASE_URL=$(pg_conninfo "$dir" "$pgport" authd)
export AUTH_ENV=development
export AUTH_SECRET_KEY="fuzz1:$(head -c 32 /dev/urandom | base64 -w0)"
export AUTH_HTTP_HOST=127.0.0.1
export AUTH_HTTP_PORT=$(free_port $((54000 + RANDOM % 2000)))
export AUTH_LOG_LEVEL=${AUTH_LOG_LEVEL:-error}
export AUTH_ARGON2_MEMORY_KIB=1024 AUTH_ARGON2_ITERATIONS=1
"$bin" migrate >/dev/null
base="http://127.0.0.1:$AUTH_HTTP_PORT"
"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs "$base/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/health/ready" >/dev/null || { cat "$dir/serve.log"; die "authd serve did not become ready"; }

# A user, tenant admin of the default tenant, so guarded and admin operations get past the
# guard. The operations that can end its session (logout, logout everywhere, revoking all of the
# tenant's sessions, settings such as mfaRequired, MFA toggle, password change, and the admin
# API's user changes — the fuzzer learns the user's own id and deleted it) run last, on a
# session of their own: otherwise the rest of the run would test little but the 401.
curl -fs -X POST "$base/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"fuzz@example.com","password":"correct horse battery staple"}' >/dev/null
"$bin" tenant grant default fuzz@example.com tenant_admin >/dev/null
login() {
  curl -fs -X POST "$base/auth/login" -H 'content-type: application/json' \
    -d '{"credentials":{"email":"fuzz@example.com","password":"correct horse battery staple"}}' \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])'
}
ending=(logout logoutAll revokeSession adminRevokeAllSessions adminRevokeUserSessions adminRevokeUserSession adminUpdateSettings adminUpdateUser adminDeleteUser toggleMfa changePassword)

report="$AUTHD_REPO/.build/fuzz-report"
rm -rf "$report"
seed=${FUZZ_SEED:-20261204}
echo "==> schemathesis against $base (seed $seed, ${FUZZ_EXAMPLES:-30} cases per operation)"
# Phases: examples and fuzzing (schemathesis 4.32.5's coverage phase crashes on this document
# inside hypothesis: "AST constructor recursion depth mismatch", a CPython 3.11 parser limit).
fuzz() {
  local dir=$1 token=$2; shift 2
  "$venv/bin/schemathesis" run "$spec" --url "$base" --phases examples,fuzzing \
    --seed "$seed" --max-examples "${FUZZ_EXAMPLES:-30}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --header "Authorization: Bearer $token" --generation-with-security-parameters false \
    --workers 2 --request-timeout 10 --report har,junit --report-dir "$report/$dir" --no-color "$@"
}
status=0
excluded=(); for id in "${ending[@]}"; do excluded+=(--exclude-operation-id "$id"); done
included=(); for id in "${ending[@]}"; do included+=(--include-operation-id "$id"); done
# Both sessions before either run: the fuzzer's wrong passwords (reauthenticate, …) may lock the
# account's logins, which leaves existing sessions alone. Assignments, not arguments: a failed
# login stops the run instead of fuzzing with an empty token.
main_token=$(login) && [ -n "$main_token" ] || die "the fuzz user could not log in"
ending_token=$(login) && [ -n "$ending_token" ] || die "the fuzz user could not log in"
fuzz main "$main_token" "${excluded[@]}" || status=$?
fuzz ending "$ending_token" "${included[@]}" || status=$?

alive=1
kill -0 "$server" 2>/dev/null || alive=0
summary=0
/usr/bin/python3 "$(dirname "$0")/fuzz-summary.py" "$report" "$alive" || summary=$?
[ "$status" -eq 0 ] && [ "$summary" -eq 0 ] || { echo "fuzz: FAILED (schemathesis exit $status; reports in $report; server log $dir/serve.log)"; cp "$dir/serve.log" "$report/" 2>/dev/null || true; exit 1; }
echo "fuzz: passed"
