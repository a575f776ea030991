# The command line: help, version, bad usage (exit 2 with a one-line hint),
# scripts that fail (exit 1 with FILE:LINE: message), runaway scripts.
. tests/tools/checklib.sh
expect_exit 0 "$TERMSCOPE" --help
grep -q "termscope run FILE.lua" "$WORK/out" || die "--help does not show run"
expect_exit 0 "$TERMSCOPE" --version
grep -q "^termscope [0-9]" "$WORK/out" || die "--version"
expect_exit 2 "$TERMSCOPE" --frobnicate
grep -q "unknown option --frobnicate (try termscope --help)" "$WORK/err" || die "bad option hint"
[ "$(wc -l <"$WORK/err")" -eq 1 ] || die "the hint is one line"
expect_exit 2 "$TERMSCOPE" run
expect_exit 2 "$TERMSCOPE" run /nonexistent.lua
grep -q "cannot read the script" "$WORK/err" || die "missing file"
expect_exit 2 "$TERMSCOPE" --seed abc
expect_exit 2 "$TERMSCOPE" --seed -1
expect_exit 2 "$TERMSCOPE" --speed 100
expect_exit 2 "$TERMSCOPE" --pace warp
expect_exit 2 "$TERMSCOPE" frob
expect_exit 2 "$TERMSCOPE" node --id 1

printf 'local x = = 1\n' >"$WORK/syntax.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/syntax.lua" --headless
grep -q "syntax.lua:1:" "$WORK/err" || die "syntax errors name FILE:LINE"

printf 'local c = ts.cluster{nodes=3}\n\nc:crash(9)\n' >"$WORK/bad.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/bad.lua" --headless --seed 1
grep -q "bad.lua:3: no node 9 (the cluster has nodes 1-3)" "$WORK/err" || die "API errors name FILE:LINE"

printf 'local c = ts.cluster{nodes=3, colour="red"}\n' >"$WORK/opt.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/opt.lua" --headless --seed 1
grep -q "opt.lua:1: ts.cluster: unknown option 'colour'" "$WORK/err" || die "unknown cluster option"

printf 'local c = ts.cluster{nodes=3}\nc:isolate(1)\nc:isolate(2)\nc:isolate(3)\nc:wait_leader(2)\n' >"$WORK/timeout.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/timeout.lua" --headless --seed 1
grep -q "timeout.lua:5: timed out after 2 s waiting for a leader" "$WORK/err" || die "wait timeout message"
grep -q "replay this run with --seed 1" "$WORK/err" && die "a given seed needs no replay hint"

# a runaway loop is stopped, and pcall cannot swallow the stop
printf 'local c = ts.cluster{nodes=1}\nwhile true do pcall(function() while true do end end) end\n' >"$WORK/loop.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/loop.lua" --headless --seed 1
grep -q "without waiting" "$WORK/err" || die "runaway scripts are stopped with a clear message"

# an error in a ts.go task nobody waits for still fails the run
printf 'local c = ts.cluster{nodes=1}\nts.go(function() error("in a task") end)\nc:sleep(1)\n' >"$WORK/task.lua"
expect_exit 1 "$TERMSCOPE" run "$WORK/task.lua" --headless --seed 1
grep -q "task.lua:2: in a task" "$WORK/err" || die "task errors reach the user"

# task results come back through t:wait
printf 'local c = ts.cluster{nodes=3}\nlocal t = ts.go(function(a) c:sleep(1) return a + 1, "x" end, 41)\nlocal a, b = t:wait(5, c)\nassert(a == 42 and b == "x")\nassert(c:time() >= 1)\nprint("joined")\n' >"$WORK/join.lua"
expect_exit 0 "$TERMSCOPE" run "$WORK/join.lua" --headless --seed 1
grep -q joined "$WORK/out" || die "t:wait"

# the events file cannot be written: a clear error, exit 2
expect_exit 2 "$TERMSCOPE" run "$WORK/join.lua" --headless --events /nonexistent/dir/ev.jsonl
grep -q "/nonexistent/dir/ev.jsonl" "$WORK/err" || die "events file errors name the file"
# run data: removed at exit, kept with --keep (and its place said)
printf 'local c = ts.cluster{nodes=1}\nprint(c:dir(1))\n' >"$WORK/dir.lua"
expect_exit 0 "$TERMSCOPE" run "$WORK/dir.lua" --headless --seed 1
d=$(cat "$WORK/out")
case "$d" in "${TMPDIR:-/tmp}"/termscope-*) ;; *) die "run data is not in a temp dir: $d" ;; esac
[ -e "$d" ] && die "run data was left behind: $d"
expect_exit 0 "$TERMSCOPE" run "$WORK/dir.lua" --headless --seed 1 --keep
d=$(cat "$WORK/out")
[ -f "$d/meta" ] || [ -f "$d/log" ] || die "--keep did not keep $d"
grep -q "run data kept in" "$WORK/err" || die "--keep says where"
rm -rf "${d%/c1/node-1}"
# lessons: the list, a missing lesson, --autopilot only with a lesson
export XDG_STATE_HOME="$WORK/state"
expect_exit 0 "$TERMSCOPE" lessons
grep -q "^ 1  tour " "$WORK/out" || die "termscope lessons lists lesson 1"
expect_exit 1 "$TERMSCOPE" lesson 99 --autopilot --headless
grep -q 'no lesson "99"' "$WORK/err" || die "a missing lesson is named"
expect_exit 2 "$TERMSCOPE" lesson
expect_exit 2 "$TERMSCOPE" run "$WORK/join.lua" --autopilot
# a dashboard needs a terminal: a clear error, not a crash
expect_exit 2 "$TERMSCOPE" run "$WORK/join.lua" </dev/null
grep -q "needs a terminal" "$WORK/err" || die "no terminal: say so"
echo "cli ok"
