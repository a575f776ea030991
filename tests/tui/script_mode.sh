# `termscope run FILE.lua` without --headless: the dashboard shows while the
# scenario drives the cluster ("scenario FILE" in the status bar); when it
# ends the bottom line says so and the cluster runs on until q (exit 0).  A
# failing script says "the script failed" with FILE:LINE, and q exits 1.
. tests/tools/tmuxlib.sh

start_ui 120 40 run "$PWD/tests/scenarios/split.lua" --seed 3
wait_screen '^ termscope .* scenario .*split\.lua' || die "the status bar does not name the scenario"
wait_screen '^(x|│) \*[1-5] up +LEADER ' || die "no leader was shown while the scenario ran"
wait_screen '^ the script finished' || die "the bottom line never said the script finished"
screen | head -n 1 | grep -q 'split\.lua (ended)' || { screen; die "the status bar does not say the scenario ended"; }
# the cluster runs on: the clock moves, a leader is shown
T=$(clock_ms)
later() { [ "$(clock_ms)" -gt "$T" ]; }
wait_until "the clock to run on after the script finished" later
[ -n "$(leader)" ] || { screen; die "after the script no leader is shown"; }
keys q
wait_exit 0
restored || die "the terminal was not restored after q"
stop_ui

# a failing script
cat >"$WORK/fails.lua" <<'LUA'
local c = ts.cluster{ kind = "raft", nodes = 5 }
c:wait_leader(5)
error("nope")
LUA
start_ui 120 40 run "$WORK/fails.lua" --seed 3
wait_screen '^ the script failed: .*fails\.lua:3: nope' || die "the bottom line does not say the script failed at fails.lua:3"
screen | head -n 1 | grep -q 'fails\.lua (failed)' || { screen; die "the status bar does not say the scenario failed"; }
keys q
wait_exit 1
restored || die "the terminal was not restored after q"
screen | grep -q 'fails\.lua:3: nope' || { screen; die "after exit the failure is not printed on the terminal"; }
echo "ok"
