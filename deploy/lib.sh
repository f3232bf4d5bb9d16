# Shared helpers for the make targets: PostgreSQL binaries, private clusters, free ports.
# Sourced, not run. Every function prints nothing on success unless it returns a value.

AUTHD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "error: $*" >&2; exit 1; }

# The newest PostgreSQL server binaries (Debian puts them off PATH).
pg_bin() {
  local best
  # Sort by version, not as text (9.6 would sort after 15).
  best=$(for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && echo "$d"; done \
    | sort -t/ -k4,4 -V | tail -1)
  [ -n "$best" ] && echo "$best"
}

# postgres refuses to run as root: run server commands as the postgres user when root.
as_pg() {
  # From / : the checkout may be a directory the postgres user cannot enter (a clone under /root).
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# True when the postgres user can reach (traverse) directory $1.
pg_can_reach() {
  [ "$(id -u)" != 0 ] && return 0
  runuser -u postgres -- test -x "$1/." 2>/dev/null
}

# Where this checkout keeps its PostgreSQL data: .data/ when the postgres user can reach it and
# the path is short enough for a unix socket, else a per-checkout folder under /var/tmp.
data_root() {
  # An explicit folder wins (tests, several checkouts sharing one cluster).
  if [ -n "${AUTHD_DATA:-}" ]; then echo "$AUTHD_DATA"; return; fi
  local dir="$AUTHD_REPO/.data"
  if pg_can_reach "$AUTHD_REPO" && [ ${#dir} -lt 80 ]; then
    echo "$dir"
  else
    echo "/var/tmp/authd-$(printf '%s' "$AUTHD_REPO" | sha1sum | cut -c1-12)"
  fi
}

# A TCP port on 127.0.0.1 that nobody listens on, starting the search at $1.
free_port() {
  local p=${1:-55480}
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# pg_init DIR: a new cluster in DIR/data (DIR is created and given to the postgres user).
pg_init() {
  local dir=$1 bin
  bin=$(pg_bin) || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C -N \
    >"$dir/initdb.log" 2>&1 </dev/null || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
}

# pg_start DIR PORT [extra postgres -c options…]: starts the cluster, socket in DIR.
pg_start() {
  local dir=$1 port=$2 bin; shift 2
  bin=$(pg_bin)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start >/dev/null </dev/null \
    || { tail -20 "$dir/server.log" >&2; die "PostgreSQL did not start (log: $dir/server.log)"; }
}

# pg_running DIR: true when the cluster in DIR is up.
pg_running() {
  [ -f "$1/data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# pg_port DIR: the port a running cluster listens on (from postmaster.pid).
pg_port() { sed -n 4p "$1/data/postmaster.pid"; }

pg_stop() {
  local dir=$1
  pg_running "$dir" || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 </dev/null || true
}

# The conninfo of the cluster in DIR on PORT for database DB.
pg_conninfo() { echo "host=$1 port=$2 user=postgres dbname=${3:-postgres} sslmode=disable"; }

# pypi_venv DIR REQUIREMENT…: a virtualenv in DIR holding exactly these pinned PyPI packages,
# made again when the list changes (a new pin is picked up, not silently ignored).
pypi_venv() {
  local venv=$1; shift
  if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$*" ]; then
    echo "==> installing $* (PyPI) into $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
    echo "$*" >"$venv/.requirements"
  fi
}
