#!/usr/bin/env bash
# check.sh: issue #19's shapes, short, each against its ceiling in the same run (`make bench-check`).
#
#   bench/check.sh [BINARY] [PORT]     (from the repository root; no BINARY: build one)
#
# Prints the host's load average and synced-write time, then, against one fresh `confab serve` on
# 127.0.0.1:PORT (SQLite, limits off): durable sends (64 senders) next to the durable-send
# ceiling, the chat shape (2,000 subscribers, 200 conversations, 1,000 sends/s) on both protocols
# and fan-out (5,000 subscribers, one conversation) next to the WebSocket broadcaster, and 15,000
# idle subscribers on a server of their own, then as many reconnects (bench/idle-memory.sh,
# shortened, RECONNECT=1). Each figure comes
# with its ratio, its target and whether it holds ("check" lines). About 3 minutes; DURATION
# (default 4s) sets each timed phase. Figures are only as good as the host is quiet: compare
# ratios, and rerun before believing a miss.
set -euo pipefail

bin=${1:-}
port=${2:-18190}
dur=${DURATION:-4s}
data=$(mktemp -d)
server=
trap 'if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$data"' EXIT
if [[ -z $bin ]]; then
	bin=$data/confab
	go build -o "$bin" ./cmd/confab
fi
ulimit -n "$(ulimit -Hn)"

host() {
	echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
		"synced 4 KiB write: $(dd if=/dev/zero of="$data/fsync" bs=4k count=500 oflag=dsync 2>&1 | awk '/copied/ {printf "%.3f ms", $(NF-3) / 500 * 1000}')"
	rm -f "$data/fsync"
}
host

"$bin" serve --http "127.0.0.1:$port" --data "$data/db" --log-level warn \
	--signups-per-minute -1 --logins-per-minute -1 --sends-per-second -1 --max-conns-per-user -1 \
	--max-conns-per-address -1 --max-requests-per-address -1 --conversations-per-minute -1 >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done

shape() {
	echo
	echo "== $1"
	shift
	"$bin" bench --url "http://127.0.0.1:$port" --duration "$dur" --ceiling "$@" 2>/dev/null
}
shape "durable sends, 64 senders" --subscribers 0 --conversations 64 --senders 64 --rate 0
shape "chat shape, graphql-transport-ws" --subscribers 2000 --conversations 200 --senders 16 --rate 1000
shape "chat shape, AppSync" --subscribers 2000 --conversations 200 --senders 16 --rate 1000 --protocol appsync
shape "fan-out, 5,000 subscribers, one conversation" --subscribers 5000 --conversations 1 --senders 8 --rate 50
kill "$server"
wait "$server" 2>/dev/null || true
server=

echo
echo "== 15,000 idle subscribers, default runtime settings"
WAIT=15 SAMPLES=3 RECONNECT=1 bench/idle-memory.sh "$bin" $((port + 1)) 15000
echo
host
