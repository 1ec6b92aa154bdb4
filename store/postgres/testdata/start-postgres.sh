#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the store/postgres tests on 127.0.0.1
# (port $PGPORT, default 55432, data under /tmp) and creates the confab_test
# database. Idempotent: a server already answering on the port is reused.
# Needs the Debian postgresql package (apt-get install -y postgresql); run as
# root (it switches to the postgres user) or as the postgres user itself.
# Then:
#   export CONFAB_TEST_POSTGRES='postgres://postgres@127.0.0.1:55432/confab_test?sslmode=disable'
set -euo pipefail

PGPORT="${PGPORT:-55432}"
PGDATA="${PGDATA:-/tmp/confab-pg-$PGPORT}"
PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if ! as_postgres "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    install -d -o postgres -g postgres -m 700 "$PGDATA"
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # Durability settings stay at their defaults (fsync on): the store's
  # guarantees are tested against a real engine.
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
fi

if ! as_postgres "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'confab_test'" | grep -q 1; then
  as_postgres "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres confab_test
fi
echo "postgres://postgres@127.0.0.1:$PGPORT/confab_test?sslmode=disable"
