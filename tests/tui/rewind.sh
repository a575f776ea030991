# b rewinds 5 virtual seconds: a fresh cluster replays the seed and the
# actions made before that time, then runs live again.  After it the clock
# is lower than before, a leader is shown, what was done before the rewind
# point is still done (a crashed node is still CRASHED) and what was done
# after it is forgotten (an isolated node is connected again).
. tests/tools/tmuxlib.sh

# 5x, so that more than 5 virtual seconds pass quickly
start_ui 120 40 --seed 9 --speed 5
live_ready
L=$(leader)
A=1 B=2
[ "$L" = 1 ] && A=3
[ "$L" = 2 ] && B=3
state_is() { [ "$(node_word "$1" 2)" = "$2" ]; }
keys "$B" c
wait_until "node $B CRASHED after $B c" state_is "$B" CRASHED
TC=$(clock_ms)
past() { [ "$(clock_ms)" -ge $((TC + 6000)) ]; }
wait_until "the clock to pass $((TC + 6000)) ms" past
keys "$A" p
wait_until "node $A cut-off after $A p" state_is "$A" cut-off
wait_screen ' 2 recorded' || die "the status bar does not count 2 recorded actions"

T0=$(clock_ms)
keys b
wait_screen 'rewound to [0-9.]+ s' || die "b did not say it rewound"
T1=$(clock_ms)
bottom
to=$(bottom | sed -n -E 's/.*rewound to ([0-9.]+) s.*/\1/p' | awk '{ printf "%d", $1 * 1000 + 0.5 }')
echo "clock $T0 ms, b: rewound to $to ms, clock now $T1 ms (crash at $TC ms)"
[ "$T1" -lt "$T0" ] || die "after b the clock ($T1 ms) is not lower than before ($T0 ms)"
[ "$to" -le $((T0 - 4500)) ] && [ "$to" -gt "$TC" ] ||
	die "b rewound to $to ms: expected about 5 s before $T0 ms, after the crash at $TC ms"
wait_screen '^(x|│) \*[1-5] up +LEADER ' || die "after the rewind no leader is shown"
state_is "$B" CRASHED || { screen; die "after the rewind node $B, crashed before that time, is not CRASHED"; }
state_is "$A" up || { screen; die "after the rewind node $A, isolated after that time, is not simply up"; }
wait_screen ' 1 recorded' || die "after the rewind the recording should hold the 1 action before that time"
# and it runs on live
later() { [ "$(clock_ms)" -gt "$T1" ]; }
wait_until "the clock to run on after the rewind" later

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok"
