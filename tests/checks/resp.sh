# The RESP gateway (--resp PORT) in front of a live 5-node key/value cluster
# in real pace, driven by redis-cli: every command, Redis's error words,
# pipelining (RESP and inline requests in one write, answered in order), a
# malformed stream closed with a protocol error, redis-benchmark, and a
# client confined to a minority getting the timeout error instead of a
# stale answer.  Then the run ends cleanly: every operation the gateway made
# is in the history and linearizable, and no process is left.
. tests/tools/checklib.sh
command -v redis-cli >/dev/null || die "redis-cli is missing (Debian: redis-tools; make test installs it)"

# ---- the command line ----------------------------------------------------
for bad in 0 65536 abc -1 ""; do
	expect_exit 2 "$TERMSCOPE" --headless --resp "$bad"
	grep -q -- "--resp needs a TCP port" "$WORK/err" || die "--resp '$bad': no hint"
done
expect_exit 2 "$TERMSCOPE" --headless --resp-timeout 3
expect_exit 2 "$TERMSCOPE" --headless --resp 6379 --resp-timeout 0
printf 'assert(ts.resp() == nil)\nprint("none")\n' >"$WORK/none.lua"
expect_exit 0 "$TERMSCOPE" run "$WORK/none.lua" --headless
grep -q none "$WORK/out" || die "ts.resp() without a gateway"

cat >"$WORK/serve.lua" <<LUA
local function exists(f) local h = io.open(f) if h then h:close() return true end end
local c = ts.cluster{ kind = "kv", nodes = 5 }
c:wait_leader(10)
-- nodes 4 and 5 are a minority; the gateway's clerks reach every node until told
c:partition({1, 2, 3}, {4, 5})
c:wait(function() local l = c:leader() return l ~= nil and l <= 3 end, 10, "a leader in the majority")
ts.resp{ timeout = 5 }                 -- (the default) the shell starts when INFO says so
while not exists("$WORK/confine") do c:sleep(0.05) end
ts.resp{ reach = {4, 5}, timeout = 1 }
while not exists("$WORK/stop") do c:sleep(0.05) end
local ok, text = c:check_linearizable()
assert(ok, text)
local r = ts.resp()
print(string.format("gateway: %d commands, %d operations, %d timeouts", r.commands, r.ops, r.timeouts))
print(text:match("^[^\n]*"))
LUA

# a free port: try a few at random
port=0
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	"$TERMSCOPE" run "$WORK/serve.lua" --headless --pace real --resp "$p" --events "$WORK/ev.jsonl" \
		>"$WORK/serve.out" 2>"$WORK/serve.err" &
	pid=$!
	up() { redis-cli -p "$p" info 2>/dev/null | grep -q termscope_version; }
	if wait_for 200 up; then port=$p; break; fi
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	grep -q "cannot listen" "$WORK/serve.err" || { cat "$WORK/serve.err"; die "the gateway did not come up"; }
done
[ "$port" -ne 0 ] || die "no free port found"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$WORK"' EXIT
# the port is taken now: a second gateway says so and stops
expect_exit 1 "$TERMSCOPE" run "$WORK/none.lua" --headless --resp "$port"
grep -q "cannot listen on 127.0.0.1:$port" "$WORK/err" || die "a taken port: no clear error"
ready() { redis-cli -p "$port" info 2>/dev/null | grep -q "^leader:[123]"; }
wait_for 400 ready || { cat "$WORK/serve.out" "$WORK/serve.err"; die "the cluster did not get ready"; }

cli() { redis-cli -p "$port" "$@" 2>&1; }
# expect WANT CMD...: the reply (redis-cli's raw output) is exactly WANT
expect() {
	want=$1; shift
	got=$(cli "$@")
	[ "$got" = "$want" ] || die "'$*' answered '$got', expected '$want'"
}
# expect_has TEXT CMD...: the reply contains TEXT
expect_has() {
	want=$1; shift
	got=$(cli "$@")
	case "$got" in *"$want"*) ;; *) die "'$*' answered '$got', expected it to contain '$want'" ;; esac
}

# ---- the commands -------------------------------------------------------
expect PONG ping
expect hello ping hello
expect OK set a 1
expect 1 get a
expect 3 append a 23
expect 123 get a
expect 124 incr a
expect 1 incr n
expect 2 incr n
expect OK set s x
expect "ERR value is not an integer or out of range" incr s
expect OK set big 9223372036854775807
expect "ERR value is not an integer or out of range" incr big
expect 3 exists a n s
expect 2 exists a nope n
expect 2 del a n nope
expect "" get a
expect 0 exists a
expect 2 append a xy
expect xy get a
expect OK set empty ""
expect 1 exists empty
expect "" get empty
expect_has "ERR unknown command 'foo', with args beginning with: 'bar'" foo bar
expect "ERR wrong number of arguments for 'get' command" get
expect "ERR wrong number of arguments for 'set' command" set k
expect_has "ERR SET options" set k v ex 10
expect OK select 0
expect_has "ERR DB index is out of range" select 1
info=$(cli info)
for f in "kind:kv" "nodes:5" "leader:" "node1:state=up" "node5:" "connected_clients:1" "clerk_reach:all"; do
	case "$info" in *"$f"*) ;; *) die "INFO lacks '$f': $info" ;; esac
done

# ---- pipelining: many requests in one write, answered in order ----------
# (bash: /dev/tcp; RESP arrays and inline commands mixed, quotes included)
printf 'SET p 1\r\n*3\r\n$6\r\nAPPEND\r\n$1\r\np\r\n$2\r\n23\r\nGET p\r\nINCR p\r\nPING "two words"\r\nDEL p\r\nEXISTS p\r\nQUIT\r\n' \
	>"$WORK/pipe.in"
bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat '$WORK/pipe.in' >&3; timeout 10 cat <&3" >"$WORK/pipe.out" ||
	die "the pipelined requests were not all answered"
printf '+OK\r\n:3\r\n$3\r\n123\r\n:124\r\n$9\r\ntwo words\r\n:1\r\n:0\r\n+OK\r\n' >"$WORK/pipe.want"
cmp -s "$WORK/pipe.out" "$WORK/pipe.want" || { od -c "$WORK/pipe.out" | head; die "pipelined replies differ"; }
# redis-cli --pipe: 300 writes in one stream
i=0
while [ $i -lt 300 ]; do printf 'SET pipe:%d %d\r\n' $i $i; i=$((i + 1)); done >"$WORK/mass.in"
redis-cli -p "$port" --pipe <"$WORK/mass.in" >"$WORK/mass.out" 2>&1 || { cat "$WORK/mass.out"; die "redis-cli --pipe failed"; }
grep -q "errors: 0, replies: 300" "$WORK/mass.out" || { cat "$WORK/mass.out"; die "redis-cli --pipe: not 300 replies"; }
expect 299 get pipe:299

# ---- a malformed stream: a protocol error, then the connection closes ----
printf 'PING\r\n*1\r\n!3\r\nfoo\r\nPING\r\n' >"$WORK/bad.in"
bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat '$WORK/bad.in' >&3; timeout 10 cat <&3" >"$WORK/bad.out" ||
	die "a malformed stream did not end the connection"
printf "+PONG\r\n-ERR Protocol error: expected '\$', got '!'\r\n" >"$WORK/bad.want"
cmp -s "$WORK/bad.out" "$WORK/bad.want" || { od -c "$WORK/bad.out" | head; die "wrong answer to a malformed stream"; }
printf 'GET "unbalanced\r\n' >"$WORK/bad2.in"
bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat '$WORK/bad2.in' >&3; timeout 10 cat <&3" >"$WORK/bad2.out"
grep -q "Protocol error: unbalanced quotes" "$WORK/bad2.out" || die "unbalanced quotes were not refused"
expect PONG ping

# ---- redis-benchmark runs against it -------------------------------------
timeout 120 redis-benchmark -p "$port" -t set,get -n 1000 -c 10 -q >"$WORK/bench.out" 2>&1 ||
	{ cat "$WORK/bench.out"; die "redis-benchmark failed"; }
grep -q "SET: .* requests per second" "$WORK/bench.out" && grep -q "GET: .* requests per second" "$WORK/bench.out" ||
	{ cat "$WORK/bench.out"; die "redis-benchmark did not finish both tests"; }

# ---- a client confined to the minority: a timeout, not a stale answer ----
expect OK set m before
touch "$WORK/confine"
confined() { cli info | grep -q "clerk_reach:4,5" && cli info | grep -q "request_timeout_ms:1000"; }
wait_for 200 confined || die "the gateway's clerks were not confined"
expect "ERR timeout: no majority answered within 1 s" get m
expect "ERR timeout: no majority answered within 1 s; the request may still take effect" set m after
expect_has "timeouts:2" info

# ---- the end: a clean exit, a linearizable history, nothing left ---------
touch "$WORK/stop"
wait $pid
rc=$?
trap 'rm -rf "$WORK"' EXIT
[ $rc -eq 0 ] || { cat "$WORK/serve.out" "$WORK/serve.err"; die "termscope exited $rc"; }
! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/serve.err" || { cat "$WORK/serve.err"; die "sanitizer report"; }
grep -q "linearizable:" "$WORK/serve.out" || { cat "$WORK/serve.out"; die "no linearizability verdict"; }
grep -q "2 timeouts" "$WORK/serve.out" || { cat "$WORK/serve.out"; die "the gateway did not count 2 timeouts"; }
"$TERMSCOPE" check "$WORK/ev.jsonl" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; die "invariant check failed"; }
pids=$(sed -n 's/.*"ev":"spawn".*"pid":\([0-9]*\).*/\1/p' "$WORK/ev.jsonl")
[ -n "$pids" ] || die "no node was spawned?"
gone() { ! alive "$pid" && for p in $pids; do alive "$p" && return 1; done; return 0; }
wait_for 100 gone || die "a termscope or node process outlived the run"
redis-cli -p "$port" ping >/dev/null 2>&1 && die "the gateway still answers after the run"
echo "resp gateway: commands, errors, pipelining, redis-benchmark, minority timeouts; $(tail -n 1 "$WORK/serve.out")"
