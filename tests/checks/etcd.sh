# Kind etcd from the outside: the RESP gateway in front of three real etcd
# members (redis-cli: SET/GET/DEL/EXISTS work, APPEND and INCR are refused
# in words), etcdctl through the members' proxied endpoints (a write and a
# read; an isolated member's endpoint gets no answer), --kind errors, and
# no etcd process outliving its controller, even one that is SIGKILLed.
# Skipped, saying so, where etcd is not installed.
. tests/tools/checklib.sh
command -v etcd >/dev/null 2>&1 || { echo "skip: etcd is not installed (Debian: apt-get install etcd-server)"; exit 0; }
command -v redis-cli >/dev/null || die "redis-cli is missing (Debian: redis-tools; make test installs it)"

# ---- the command line -----------------------------------------------------
expect_exit 2 "$TERMSCOPE" --kind nope
grep -q -- "--kind is kv, raft or etcd" "$WORK/err" || die "--kind nope: no hint"
printf 'print(1)\n' >"$WORK/one.lua"
expect_exit 2 "$TERMSCOPE" run "$WORK/one.lua" --kind etcd
grep -q "is for the live cluster" "$WORK/err" || die "--kind with a script: no hint"

# ---- a live etcd cluster behind the gateway ---------------------------------
cat >"$WORK/serve.lua" <<LUA
local function exists(f) local h = io.open(f) if h then h:close() return true end end
local c = ts.cluster{ kind = "etcd", nodes = 3, heartbeat = 50, election = 500 }
c:wait_leader(20)
local f = assert(io.open("$WORK/endpoints", "w"))
f:write(c:endpoints(), "\n")
for i = 1, 3 do f:write(i, " ", c:node(i).endpoint, " ", c:node(i).pid, "\n") end
f:close()
ts.resp{ timeout = 5 }
while not exists("$WORK/isolate") do c:sleep(0.05) end
local l = c:leader()
c:isolate(l)
f = assert(io.open("$WORK/isolated", "w"))
f:write(c:node(l).endpoint, "\n")
f:close()
while not exists("$WORK/stop") do c:sleep(0.05) end
c:heal()
local ok, text = c:check_linearizable()
assert(ok, text)
print("etcd served; history linearizable")
LUA
port=0
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	"$TERMSCOPE" run "$WORK/serve.lua" --headless --resp "$p" --events "$WORK/ev.jsonl" \
		>"$WORK/serve.out" 2>"$WORK/serve.err" &
	pid=$!
	up() { redis-cli -p "$p" info 2>/dev/null | grep -q "^leader:[123]"; }
	if wait_for 600 up; then port=$p; break; fi
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	grep -q "cannot listen" "$WORK/serve.err" || { cat "$WORK/serve.out" "$WORK/serve.err"; die "the etcd gateway did not come up"; }
done
[ "$port" -ne 0 ] || die "no free port found"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$WORK"' EXIT
cli() { redis-cli -p "$port" "$@" 2>&1; }
expect() {
	want=$1; shift
	got=$(cli "$@")
	[ "$got" = "$want" ] || die "'$*' answered '$got', expected '$want'"
}
expect OK set a 1
expect 1 get a
expect 1 exists a
expect 1 del a
expect "" get a
expect 0 exists a
case "$(cli append a x)" in *"etcd has no append"*) ;; *) die "APPEND on etcd: $(cli append a x)" ;; esac
case "$(cli incr n)" in *"etcd has no incr"*) ;; *) die "INCR on etcd: $(cli incr n)" ;; esac
cli info | grep -q "^kind:etcd" || die "INFO does not say kind etcd"

# ---- etcdctl through the hub ------------------------------------------------
if command -v etcdctl >/dev/null 2>&1; then
	eps=$(head -n 1 "$WORK/endpoints")
	ETCDCTL_API=3 etcdctl --endpoints "$eps" --command-timeout 5s put viactl hello >/dev/null ||
		die "etcdctl put through the proxied endpoints failed"
	# read back with etcdctl too: the gateway's history must hold only what
	# its clerks did, or the checker could not explain the read
	got=$(ETCDCTL_API=3 etcdctl --endpoints "$eps" --command-timeout 5s get viactl --print-value-only)
	[ "$got" = hello ] || die "etcdctl read back '$got'"
	touch "$WORK/isolate"
	wait_for 200 test -s "$WORK/isolated" || die "the leader was not isolated"
	iso=$(cat "$WORK/isolated")
	# the isolated member's endpoint: the hub stalls its traffic, no answer
	if ETCDCTL_API=3 etcdctl --endpoints "$iso" --command-timeout 2s get viactl >"$WORK/ctl.out" 2>&1; then
		die "etcdctl answered through an isolated member: $(cat "$WORK/ctl.out")"
	fi
else
	touch "$WORK/isolate"
fi

# ---- the end: nothing left behind --------------------------------------------
pids=$(sed -n '2,$p' "$WORK/endpoints" | awk '{print $3}')
touch "$WORK/stop"
wait $pid || { cat "$WORK/serve.out" "$WORK/serve.err"; die "the served run failed"; }
grep -q "history linearizable" "$WORK/serve.out" || die "no verdict"
none_alive() { for p in $pids; do alive "$p" && return 1; done; return 0; }
wait_for 100 none_alive || die "an etcd member outlived a normal end"
expect_exit 0 "$TERMSCOPE" check "$WORK/ev.jsonl"

# SIGKILL of the controller: the members die with it (termscope child ties them)
cat >"$WORK/long.lua" <<LUA
local c = ts.cluster{ kind = "etcd", nodes = 3 }
local f = assert(io.open("$WORK/pids", "w"))
for i = 1, 3 do f:write(c:node(i).pid, "\n") end
f:close()
c:sleep(3600)
LUA
"$TERMSCOPE" run "$WORK/long.lua" --headless >"$WORK/long.out" 2>&1 &
ctl=$!
wait_for 600 test -s "$WORK/pids" || { kill -9 $ctl; cat "$WORK/long.out"; die "the etcd cluster did not start"; }
pids=$(cat "$WORK/pids")
for p in $pids; do alive "$p" || die "member $p is not running before the SIGKILL"; done
kill -9 $ctl
wait $ctl 2>/dev/null
wait_for 100 none_alive || die "an etcd member survived SIGKILL of the controller"
echo "etcd: gateway, etcdctl through the hub, isolation, no orphans"
