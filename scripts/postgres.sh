#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL server for the tests, on 127.0.0.1 only, and
# prints its URL. Data lives in target/postgres (or in /tmp, if the `postgres` user cannot
# reach the checkout); `scripts/postgres.sh stop` stops it.
#
#   export TEST_DATABASE_URL=$(scripts/postgres.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] || { echo "PostgreSQL is not installed (scripts/setup.sh test installs it)" >&2; exit 1; }

# PostgreSQL refuses to run as root: run it as the `postgres` user Debian's package creates.
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# That user must be able to reach the data directory. A checkout under a private folder
# (/root, say) is out of its reach, so the data then goes to a folder in /tmp named after the
# checkout, which `stop` finds again the same way.
DATA=$PWD/target/postgres
if ! as_pg test -x "$PWD"; then
  DATA=/tmp/team-tasks-postgres-$(printf %s "$PWD" | md5sum | cut -c1-12)
fi

if [ "${1:-}" = stop ]; then
  [ -d "$DATA" ] && as_pg "$BIN/pg_ctl" -D "$DATA" stop -m fast >/dev/null 2>&1 || true
  exit 0
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-sync >/dev/null
fi
# A running server's port comes from its own postmaster.pid (line 4); a new one takes the
# first free port from 55432 (another checkout's test server may hold that one).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PORT=$(sed -n 4p "$DATA/postmaster.pid")
else
  PORT=${TEST_PG_PORT:-55432}
  while port_in_use "$PORT"; do PORT=$((PORT + 1)); done
  # Loopback TCP only and durability off: this server holds test data. No Unix socket: its
  # path would sit under the checkout, and PostgreSQL refuses a socket path over 107 bytes,
  # which a deep checkout (a CI runner's, say) exceeds. pg_ctl -w watches postmaster.pid, not
  # the socket, so it still waits for the server to be ready.
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k '' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null; then
    echo "PostgreSQL did not start; the end of $DATA/server.log:" >&2
    tail -n 20 "$DATA/server.log" >&2 || true
    exit 1
  fi
fi
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
