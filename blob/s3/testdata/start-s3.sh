#!/usr/bin/env bash
# Starts a throwaway SeaweedFS (master, volume, filer and its S3 gateway) for
# the blob/s3 tests and the S3 end-to-end test, and prints the URL to export
# as CONFAB_TEST_S3: http://KEY:SECRET@127.0.0.1:$S3_PORT. Idempotent: a
# server already answering on the port is reused.
#
# Why SeaweedFS: an open-source (Apache-2.0) S3-compatible store written in
# Go, so it comes from the Go module proxy like the rest of the build (no
# prebuilt binary to download), it checks SigV4 signatures, presigned
# expiry and signed headers as S3 does, and it runs as one process. Its
# module has replace directives, which `go install pkg@version` refuses,
# so the script builds it inside the module's own source tree, once, into
# a cache directory outside the repository (the build takes minutes).
#
#   export CONFAB_TEST_S3=$(bash blob/s3/testdata/start-s3.sh)
#   kill "$(cat /tmp/confab-s3-18333.pid)"   # to stop it
set -euo pipefail

S3_PORT="${S3_PORT:-18333}"
WEED_VERSION="${WEED_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
CACHE="${WEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confab-seaweedfs}"
BIN="$CACHE/bin/weed-$WEED_VERSION"
DATA="${S3_DATA:-/tmp/confab-s3-$S3_PORT}"
PIDFILE="/tmp/confab-s3-$S3_PORT.pid"
LOG="/tmp/confab-s3-$S3_PORT.log"
KEY=confabtest
SECRET=confabtestsecret

# answers reports whether something speaks HTTP on the port (an anonymous
# request gets an S3 error document, which is enough).
answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/"; }
# writable reports whether the master can place a file: a volume server has
# joined (the S3 gateway answers before that).
writable() { curl -s --max-time 5 "http://127.0.0.1:$((S3_PORT + 1000))/dir/assign" | grep -q '"fid"'; }

if ! answers; then
  if [ ! -x "$BIN" ]; then
    src=$(go mod download -json "github.com/seaweedfs/seaweedfs@$WEED_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$src" ] || { echo "go mod download of seaweedfs@$WEED_VERSION failed" >&2; exit 1; }
    rm -rf "$CACHE/src" && mkdir -p "$CACHE/bin"
    cp -r "$src" "$CACHE/src" && chmod -R u+w "$CACHE/src"
    echo "building SeaweedFS $WEED_VERSION into $BIN (once; minutes)" >&2
    (cd "$CACHE/src" && GOFLAGS=-mod=mod go build -o "$BIN.tmp" ./weed) >&2
    mv "$BIN.tmp" "$BIN"
  fi
  rm -rf "$DATA" && mkdir -p "$DATA"
  # One identity with every action: the tests' access key and secret.
  cat >"$DATA/s3.json" <<JSON
{"identities":[{"name":"confab","credentials":[{"accessKey":"$KEY","secretKey":"$SECRET"}],"actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
  nohup "$BIN" server -dir="$DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port=$((S3_PORT + 1000)) -volume.port=$((S3_PORT + 1001)) -filer.port=$((S3_PORT + 1002)) \
    -s3 -s3.port="$S3_PORT" -s3.config="$DATA/s3.json" -volume.max=0 -master.volumeSizeLimitMB=64 -master.telemetry=false \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 240); do
    answers && writable && break
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "SeaweedFS exited; see $LOG" >&2; tail -n 20 "$LOG" | cut -c1-300 >&2; exit 1
    fi
    sleep 0.5
  done
  answers && writable || { echo "SeaweedFS did not answer on port $S3_PORT, or place a file, within 120 s; see $LOG" >&2; exit 1; }
fi
echo "http://$KEY:$SECRET@127.0.0.1:$S3_PORT"
