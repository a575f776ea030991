# No node process outlives its controller: not after a normal end, a script
# error, Ctrl-C (SIGINT), or SIGKILL of the controller itself.
. tests/tools/checklib.sh
pids_of() { sed -n 's/.*"ev":"spawn".*"pid":\([0-9]*\).*/\1/p' "$1"; }
none_alive() { for p in $(pids_of "$1"); do alive "$p" && return 1; done; return 0; }
ups() { [ "$(grep -c '"ev":"up"' "$1" 2>/dev/null)" -ge "$2" ]; }

# a script error: exit 1, nodes gone
printf 'local c = ts.cluster{nodes=3}\nc:wait_leader(5)\nerror("boom")\n' >"$WORK/err.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/err.lua" --headless --seed 1 --events "$WORK/e1.jsonl"
grep -q "err.lua:3: boom" "$WORK/err" || die "the error does not say FILE:LINE: message"
[ "$(pids_of "$WORK/e1.jsonl" | wc -l)" -eq 3 ] || die "expected 3 spawned nodes"
wait_for 100 none_alive "$WORK/e1.jsonl" || die "a node survived a script error"

# a long paced run, stopped by SIGINT and then by SIGKILL
printf 'local c = ts.cluster{nodes=3}\nc:sleep(3600)\n' >"$WORK/long.lua"
for sig in INT KILL; do
	ev="$WORK/$sig.jsonl"
	"$TERMSCOPE" run "$WORK/long.lua" --headless --pace paced --seed 1 --events "$ev" >"$WORK/$sig.out" 2>&1 &
	ctl=$!
	wait_for 200 ups "$ev" 3 || { kill -9 $ctl; die "the nodes did not start"; }
	for p in $(pids_of "$ev"); do alive "$p" || die "node $p is not running before the $sig"; done
	kill -$sig $ctl
	wait $ctl
	rc=$?
	[ $sig = INT ] && [ $rc -ne 130 ] && die "SIGINT: exit $rc, expected 130"
	wait_for 100 none_alive "$ev" || die "a node survived SIG$sig of the controller"
done
echo "no orphans after an error, SIGINT and SIGKILL"
