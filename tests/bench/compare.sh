#!/bin/sh
# compare.sh — termscope's replicated key/value service beside etcd and Redis,
# on loopback, with the same closed-loop load generator (build/bench/loadgen:
# N connections, one request outstanding on each, 1,000 keys, 100-byte
# values).  Figures only; nothing is asserted.
#
#   termscope  3 nodes, real pace, through the RESP gateway (--resp), with
#              fsync "always" (each input), "batch" (group commit: one fsync
#              per read of a node's connection, as safe as "always") and
#              "never" (COMPARE_FSYNC picks); in real pace the hub adds no
#              delay of its own (the script says so too: c:net{ delay = {0, 0} })
#   etcd       3 members started here, each with its own data dir in a temp
#              dir, talked to through its HTTP/JSON gateway (/v3/kv/put and
#              /v3/kv/range, linearizable reads), connections spread over the
#              members
#   redis      one instance, no persistence: the bound with no replication
#
# Each system runs alone: writes (SET / put) then reads (GET / range) at 1,
# 16 and 64 connections, COMPARE_SECS (default 3) seconds each; then, for
# the replicated ones, failover: 16 connections writing for 12 s, the leader
# SIGKILLed after 3 s, and the longest time between two acknowledged writes
# (a request may wait 10 s for its answer: etcd's own deadline, about 7 s,
# shows as its error).
# Every process started here is stopped on the way out, whatever happens.
# A system whose Debian package cannot be installed is skipped with a line
# saying so.  Prints one table; vs_etcd is ops/s over etcd's ops/s in the
# same row (conns, op); on failover rows, the gap over etcd's gap.
set -u
cd "$(dirname "$0")/../.."
TERMSCOPE=${TERMSCOPE:-./termscope}
SECS=${COMPARE_SECS:-3}
CONNS=${COMPARE_CONNS:-"1 16 64"}
KEYS=1000
VSIZE=100
FO_CONNS=16
FO_SECS=12
FO_KILL_AT=3
LG=build/bench/loadgen

T0=$(date +%s.%N)
W=$(mktemp -d "${TMPDIR:-/tmp}/termscope-compare-XXXXXX")
PIDS=""          # every server process started here

stop_pids() {    # TERM, a short grace, then KILL
	[ -n "$PIDS" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $PIDS 2>/dev/null
	i=0
	while [ $i -lt 30 ]; do
		alive=""
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
}
cleanup() {
	[ -n "${LGPID:-}" ] && kill -TERM "$LGPID" 2>/dev/null
	stop_pids
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "== compare: termscope, etcd and Redis on loopback ($(nproc) cores; $KEYS keys, $VSIZE-byte values, ${SECS} s per row)"

if ! MAKEFLAGS= make -s --no-print-directory "$LG" >"$W/make.log" 2>&1; then
	echo "skipped: compare (build/bench/loadgen did not build: $(tail -n 1 "$W/make.log"))"
	exit 0
fi

# ---- ports: free ones below the ephemeral range ---------------------------
port_busy() {
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" 'NR > 1 { n = split($2, a, ":"); if (a[n] == p) f = 1 } END { exit !f }'
}
NEXT_PORT=$((20000 + ($$ % 1000) * 10))
port() {         # a free port, into $PORT
	while port_busy "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
	PORT=$NEXT_PORT
	NEXT_PORT=$((NEXT_PORT + 1))
}

# ---- measuring -------------------------------------------------------------
ROWS="$W/rows"
: >"$ROWS"
NOTES="$W/notes"
: >"$NOTES"
# row SYSTEM CONFIG CONNS OP LOADGEN-ARGS...: one run, one row
row() {
	sys=$1 cfg=$2 conns=$3 op=$4
	shift 4
	# in the background, so that a signal to this script is handled at once
	"$LG" --conns "$conns" --keys "$KEYS" --value-size "$VSIZE" "$@" >"$W/lg.out" 2>"$W/lg.err" &
	LGPID=$!
	wait "$LGPID"
	st=$?
	LGPID=
	if [ $st -ne 0 ]; then
		echo "(compare: $sys $cfg, $conns conns, $op: loadgen failed: $(tail -n 1 "$W/lg.err"))"
		return 1
	fi
	line=$(grep '^loadgen op=all' "$W/lg.out")
	echo "$sys|$cfg|$conns|$op|$line" >>"$ROWS"
	grep '^loadgen: problems:' "$W/lg.err" | sed -n '1,3p' |
		sed "s/^loadgen: problems: /  $sys $cfg, $conns conns, $op: /" >>"$NOTES"
	return 0
}
# rows SYSTEM CONFIG LOADGEN-ARGS...: writes then reads at each connection count
rows() {
	sys=$1 cfg=$2
	shift 2
	for c in $CONNS; do
		row "$sys" "$cfg" "$c" set "$@" --writes 100 --reads 0 --duration "$SECS" --seed "$c"
	done
	pre=--preload   # the first read run writes every key once first
	for c in $(echo "$CONNS" | tr ' ' '\n' | sort -rn); do
		row "$sys" "$cfg" "$c" get "$@" --writes 0 --reads 100 --duration "$SECS" --seed "$c" $pre
		pre=
	done
}
# failover SYSTEM CONFIG KILLFN LOADGEN-ARGS...: writes; KILLFN kills the leader
# after FO_KILL_AT seconds (and says which in $KILLED)
failover() {
	sys=$1 cfg=$2 killfn=$3
	shift 3
	"$LG" --conns "$FO_CONNS" --keys "$KEYS" --value-size "$VSIZE" --writes 100 --reads 0 \
		--duration "$FO_SECS" --timeout 10 "$@" >"$W/lg.out" 2>"$W/lg.err" &
	LGPID=$!
	sleep "$FO_KILL_AT"
	KILLED="(no leader found)"
	$killfn
	wait "$LGPID"
	st=$?
	LGPID=
	line=$(grep '^loadgen op=all' "$W/lg.out")
	if [ $st -ne 0 ] || [ -z "$line" ]; then
		echo "(compare: $sys $cfg failover: loadgen failed: $(tail -n 1 "$W/lg.err"))"
		return 1
	fi
	echo "$sys|$cfg|$FO_CONNS|failover|$line" >>"$ROWS"
	echo "$line" | awk -v s="$sys $cfg" -v k="$KILLED" -v at="$FO_KILL_AT" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "  %s failover: killed %s at %s s; no write acknowledged from %.2f s to %.2f s\n", s, k, at,
		       f["gap_at_s"], f["gap_at_s"] + f["max_write_gap_ms"] / 1000 }' >>"$NOTES"
	grep '^loadgen: problems:' "$W/lg.err" | sed -n '1,4p' |
		sed "s/^loadgen: problems: /  $sys $cfg failover: /" >>"$NOTES"
}

wait_until() {   # wait_until SECONDS CMD...: until CMD succeeds, for SECONDS of wall time at most
	end=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
ready_or_dead() {  # ready_or_dead PID FILE: FILE there (0), or PID gone (1)
	[ -f "$2" ] && return 0
	kill -0 "$1" 2>/dev/null || return 0
	return 1
}

have_pkgs() {    # have_pkgs COMMAND PACKAGE...: COMMAND there, or its packages installed
	cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	sh tests/tools/deps.sh "$@" >"$W/deps.log" 2>&1 && command -v "$cmd" >/dev/null 2>&1
}

# ---- termscope ---------------------------------------------------------------
# The gateway serves the first key/value cluster a script starts; this script
# starts one (3 nodes, real pace, the fsync policy in TS_BENCH_FSYNC, no
# simulated network delay: c:net{ delay = {0, 0} }), says so
# in $CTL/ready, and then waits: a file $CTL/kill makes it SIGKILL the leader
# (c:crash) and say which in $CTL/killed; $CTL/stop ends it.
cat >"$W/ts-bench.lua" <<'LUA'
local ctl = os.getenv("TS_BENCH_CTL")
local function exists(name)
	local f = io.open(ctl .. "/" .. name, "r")
	if f then f:close() end
	return f ~= nil
end
local function say(name, text)
	local f = assert(io.open(ctl .. "/" .. name .. ".tmp", "w"))
	f:write(text, "\n")
	f:close()
	assert(os.rename(ctl .. "/" .. name .. ".tmp", ctl .. "/" .. name))
end
local c = ts.cluster({ kind = "kv", nodes = 3, fsync = os.getenv("TS_BENCH_FSYNC") }, "real")
-- the hub adds no delay of its own to the nodes' messages in real pace;
-- said here too, so that the rows mean loopback, as etcd and Redis have
c:net{ delay = { 0, 0 } }
say("ready", "leader " .. c:wait_leader(10))
while not exists("stop") do
	if exists("kill") then
		os.remove(ctl .. "/kill")
		local l = c:leader()
		if l then
			local pid = c:node(l).pid
			c:crash(l)
			say("killed", string.format("the leader, node %d (pid %s)", l, tostring(pid)))
		else
			say("killed", "nothing (no leader at that moment)")
		end
	end
	c:sleep(0.05)
end
LUA
ts_leader_kill() {
	touch "$CTL/kill"
	i=0
	while [ ! -f "$CTL/killed" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$CTL/killed" ] && KILLED=$(cat "$CTL/killed")
}
termscope_rows() {
	if [ ! -x "$TERMSCOPE" ]; then
		echo "skipped: termscope ($TERMSCOPE is not built)"
		return
	fi
	if ! "$TERMSCOPE" --help 2>&1 | grep -q -e '--resp'; then
		echo "skipped: termscope (its RESP gateway, --resp, is not in this build)"
		return
	fi
	for fs in ${COMPARE_FSYNC:-always batch never}; do
		CTL="$W/ts-$fs"
		mkdir -p "$CTL"
		port
		tp=$PORT
		TS_BENCH_CTL="$CTL" TS_BENCH_FSYNC="$fs" "$TERMSCOPE" run "$W/ts-bench.lua" --headless --pace real \
			--resp "$tp" --seed 1 >"$CTL/out" 2>&1 &
		TSPID=$!
		PIDS="$PIDS $TSPID"
		wait_until 30 ready_or_dead "$TSPID" "$CTL/ready"
		if [ ! -f "$CTL/ready" ] || ! wait_until 10 "$LG" --proto resp --port "$tp" --ops 1 --timeout 2; then
			echo "skipped: termscope fsync=$fs (the cluster or its gateway did not come up: $(tail -n 1 "$CTL/out"))"
			stop_pids
			continue
		fi
		rows termscope "fsync=$fs" --proto resp --port "$tp"
		failover termscope "fsync=$fs" ts_leader_kill --proto resp --port "$tp"
		touch "$CTL/stop"
		# the script ends by itself (and stops its nodes); TERM after 10 s
		i=0
		while kill -0 "$TSPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		stop_pids
		if [ -s "$CTL/out" ]; then
			sed -n '1,3p' "$CTL/out" | sed "s/^/  termscope fsync=$fs said: /" >>"$NOTES"
		fi
	done
}

# ---- etcd ------------------------------------------------------------------
etcd_leader_kill() {
	i=1
	for cp in $ETCD_CPORTS; do
		st=$(ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$cp" --command-timeout 2s endpoint status -w json 2>/dev/null)
		id=$(printf '%s' "$st" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
		leader=$(printf '%s' "$st" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
		if [ -n "$id" ] && [ "$id" = "$leader" ]; then
			pid=$(echo "$ETCD_PIDS" | cut -d' ' -f"$i")
			kill -KILL "$pid" 2>/dev/null
			KILLED="the leader, member m$i (pid $pid)"
			return 0
		fi
		i=$((i + 1))
	done
}
etcd_rows() {
	if ! have_pkgs etcd etcd-server etcd-client || ! command -v etcdctl >/dev/null 2>&1; then
		echo "skipped: etcd (the Debian packages etcd-server and etcd-client could not be installed: $(tail -n 1 "$W/deps.log" 2>/dev/null))"
		return
	fi
	ver=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p')
	ETCD_CPORTS="" ETCD_PIDS="" cluster="" pports=""
	for i in 1 2 3; do
		port; ETCD_CPORTS="$ETCD_CPORTS $PORT"
		port; pports="$pports $PORT"
		cluster="$cluster${cluster:+,}m$i=http://127.0.0.1:$PORT"
	done
	ETCD_CPORTS=${ETCD_CPORTS# }
	i=1
	for cp in $ETCD_CPORTS; do
		pp=$(echo "$pports" | cut -d' ' -f$((i + 1)))
		etcd --name "m$i" --data-dir "$W/etcd-m$i" \
			--listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
			--listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
			--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "termscope-bench-$$" \
			--logger zap --log-level error >"$W/etcd-m$i.log" 2>&1 &
		ETCD_PIDS="$ETCD_PIDS${ETCD_PIDS:+ }$!"
		PIDS="$PIDS $!"
		i=$((i + 1))
	done
	eps=$(echo "$ETCD_CPORTS" | sed 's/\([0-9][0-9]*\)/127.0.0.1:\1/g; s/ /,/g')
	if ! wait_until 30 env ETCDCTL_API=3 etcdctl --endpoints "$eps" --command-timeout 2s endpoint health; then
		echo "skipped: etcd (the 3 members were not healthy within 30 s: $(tail -n 1 "$W/etcd-m1.log"))"
		stop_pids
		return
	fi
	ports=$(echo "$ETCD_CPORTS" | tr ' ' ',')
	rows etcd "3 members" --proto etcd --port "$ports"
	failover etcd "3 members" etcd_leader_kill --proto etcd --port "$ports"
	stop_pids
	ETCD_VERSION=$ver
}

# ---- Redis -----------------------------------------------------------------
redis_rows() {
	if ! have_pkgs redis-server redis-server; then
		echo "skipped: redis (the Debian package redis-server could not be installed: $(tail -n 1 "$W/deps.log" 2>/dev/null))"
		return
	fi
	port
	rp=$PORT
	mkdir -p "$W/redis"
	redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
		--dir "$W/redis" --logfile "$W/redis/log" >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_until 10 "$LG" --proto resp --port "$rp" --ops 1 --writes 0 --reads 1; then
		echo "skipped: redis (redis-server did not answer within 10 s: $(tail -n 1 "$W/redis/log" 2>/dev/null))"
		stop_pids
		return
	fi
	REDIS_VERSION=$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')
	rows redis "no persistence" --proto resp --port "$rp"
	stop_pids
}

ETCD_VERSION="" REDIS_VERSION=""
termscope_rows
etcd_rows
redis_rows

# ---- the table -------------------------------------------------------------
T1=$(date +%s.%N)
awk -F'|' -v secs="$SECS" '
function field(line, k,    n, i, a, kv) {
	n = split(line, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] }
	return ""
}
{
	n++
	sys[n] = $1; cfg[n] = $2; conns[n] = $3; op[n] = $4
	ops[n] = field($5, "ops_s"); p50[n] = field($5, "p50_ms"); p99[n] = field($5, "p99_ms")
	mx[n] = field($5, "max_ms"); gap[n] = field($5, "max_write_gap_ms")
	err[n] = field($5, "errors") + field($5, "conn_errors") + field($5, "timeouts") + field($5, "protocol_errors")
	miss[n] = field($5, "misses")
	if (sys[n] == "etcd") { eops[conns[n] SUBSEP op[n]] = ops[n]; egap[conns[n] SUBSEP op[n]] = gap[n] }
}
END {
	if (n == 0) { print "(compare: no rows)"; exit }
	printf "%-10s %-15s %5s %-8s %9s %8s %8s %9s %8s %7s %9s\n", "system", "fsync/config", "conns", "op", "ops/s", "p50_ms", "p99_ms", "max_ms", "vs_etcd", "errors", "gap_ms"
	norder = split("set get failover", order, " ")
	for (o = 1; o <= norder; o++)
		for (c = 1; c <= 4096; c++)
			for (i = 1; i <= n; i++) {
				if (op[i] != order[o] || conns[i] + 0 != c) continue
				k = conns[i] SUBSEP op[i]
				if (op[i] == "failover")
					ratio = (k in egap && egap[k] > 0) ? sprintf("%.2fx", gap[i] / egap[k]) : "-"
				else
					ratio = (k in eops && eops[k] > 0) ? sprintf("%.2fx", ops[i] / eops[k]) : "-"
				g = op[i] == "get" ? "-" : sprintf("%.1f", gap[i])
				e = err[i] + 0
				if (miss[i] + 0 > 0) e = e " m" miss[i]
				printf "%-10s %-15s %5d %-8s %9.0f %8.3f %8.3f %9.3f %8s %7s %9s\n", sys[i], cfg[i], conns[i], op[i], ops[i], p50[i], p99[i], mx[i], ratio, e, g
			}
}' "$ROWS"
echo "  (set: SET / etcd put; get: GET / etcd range, linearizable; failover: $FO_CONNS conns writing ${FO_SECS} s, the leader SIGKILLed at ${FO_KILL_AT} s."
echo "   vs_etcd: ops/s over etcd's in the same conns and op (failover: the gap over etcd's gap)."
echo "   errors: error replies + dropped connections + timeouts (m: reads that found no value); gap_ms: longest time between two acknowledged writes."
echo "   termscope: no simulated network delay. etcd: connections spread over the 3 members. loadgen shares the $(nproc) cores with the servers.${ETCD_VERSION:+ etcd $ETCD_VERSION.}${REDIS_VERSION:+ redis $REDIS_VERSION.})"
if [ -s "$NOTES" ]; then
	echo "  notes:"
	cat "$NOTES"
fi
awk -v a="$T0" -v b="$T1" 'BEGIN { printf "compare_wall_s %.0f\n", b - a }'
