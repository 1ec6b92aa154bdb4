#!/usr/bin/env bash
# idle-memory.sh: server memory per idle subscriber (BENCHMARKS.md, "15,000 idle subscribers").
#
#   bench/idle-memory.sh [BINARY] [PORT] [SUBSCRIBERS]     (from the repository root; no BINARY: build one)
#
# Starts `confab serve` on 127.0.0.1:PORT (a fresh data directory, keep-alive every 5 s, the
# per-user and per-address limits off), reads its RSS, connects SUBSCRIBERS idle subscribers
# with `confab bench` for 70 s (one send a second), samples the server's RSS every 5 s from
# 30 s after they are all connected, and prints (RSS − idle RSS) / SUBSCRIBERS: min, median and max, and the server's
# CPU time over the sampled 40 s. Environment for the server (GOMEMLIMIT=…, GODEBUG=…) is
# passed through SERVER_ENV, extra server flags (--debug-addr 127.0.0.1:6060 for a heap profile) through
# SERVER_ARGS. WAIT (default 30) and SAMPLES (default 8) shorten the run for
# `make bench-check`: the run lasts WAIT + 5 × SAMPLES s. KEEPALIVE (default 5s) is the server's
# --keepalive: a client silent for three intervals is closed, and on a very busy host the load tool,
# answering 15,000 pings, falls that far behind (the run then reports them as disconnected). RECONNECT=1 adds a second round once the
# first load tool has exited (all its subscribers disconnected): a fresh `confab bench` connects
# SUBSCRIBERS subscribers again, sampled the same way, and the script prints the second round's
# median RSS against the first's (issue #19: reconnects leave RSS within 10% of where it started).
# Linux only (/proc). The server and the load tool each hold SUBSCRIBERS sockets, so the descriptor
# limit must allow that.
set -euo pipefail

bin=${1:-}
port=${2:-18090}
subs=${3:-15000}
wait_s=${WAIT:-30}
nsamples=${SAMPLES:-8}
data=$(mktemp -d)
server=
trap 'if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$data"' EXIT
if [[ -z $bin ]]; then
	bin=$data/confab
	go build -o "$bin" ./cmd/confab
fi
ulimit -n "$(ulimit -Hn)"
env ${SERVER_ENV:-} "$bin" serve --http "127.0.0.1:$port" --data "$data" --log-level warn --keepalive "${KEEPALIVE:-5s}" \
	--signups-per-minute -1 --logins-per-minute -1 --sends-per-second -1 \
	--max-conns-per-user -1 --max-conns-per-address -1 --max-requests-per-address -1 --conversations-per-minute -1 ${SERVER_ARGS:-} >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }       # KiB
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }           # clock ticks
idle=$(rss)

# round N: a load tool with $subs idle subscribers; once every subscriber is
# live (the load tool's first "sends" progress line; on a busy host that
# takes a while) and WAIT s more, the server's RSS is sampled every 5 s into
# samples[] and its CPU time summed into ticks.
round() {
	local log=$data/bench$1.log
	"$bin" bench --url "http://127.0.0.1:$port" --subscribers "$subs" --conversations $((subs / 100)) \
		--senders 1 --rate 1 --duration $((wait_s + 5 * nsamples))s >"$log" 2>&1 &
	local load=$!
	for _ in $(seq 600); do
		grep -q 'sends [0-9]' "$log" && break
		kill -0 "$load" 2>/dev/null || break
		sleep 0.5
	done
	sleep "$wait_s"
	local cpu0
	cpu0=$(cpu)
	samples=()
	for _ in $(seq "$nsamples"); do
		samples+=("$(rss)")
		sleep 5
	done
	ticks=$(($(cpu) - cpu0))
	if ! wait "$load"; then
		tail -5 "$log" >&2
		exit 1
	fi
	grep -E '^  (deliveries|server)' "$log"
}

# median prints the median of samples[].
median() { printf '%s\n' "${samples[@]}" | sort -n | awk '{ s[NR] = $1 } END { print s[int((NR + 1) / 2)] }'; }

round 1
printf '%s\n' "${samples[@]}" | sort -n | awk -v idle="$idle" -v n="$subs" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
	{ s[NR] = $1 }
	END {
		printf "idle RSS %.1f MiB; with %d subscribers, per subscriber: min %.1f  median %.1f  max %.1f KiB\n",
			idle / 1024, n, (s[1] - idle) / n, (s[int((NR + 1) / 2)] - idle) / n, (s[NR] - idle) / n
		printf "server CPU over the %d s sampled: %.2f s\n", 5 * NR, ticks / hz
		m = (s[int((NR + 1) / 2)] - idle) / n
		printf "  check  %-42s %10.2f   target %-32s %s\n", "idle KiB per subscriber (median)", m, "<= 20", (m <= 20 ? "holds" : "MISSED")
	}'
[[ ${RECONNECT:-} == 1 ]] || exit 0

first=$(median)
round 2
awk -v a="$first" -v b="$(median)" -v n="$subs" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "after %d reconnects: median RSS %.1f MiB, before them %.1f MiB; server CPU over the %d s sampled: %.2f s\n",
		n, b / 1024, a / 1024, 5 * '"$nsamples"', ticks / hz
	printf "  check  %-42s %10.2f   target %-32s %s\n", "RSS after reconnects / before", b / a, "<= 1.10", (b / a <= 1.10 ? "holds" : "MISSED")
}'
