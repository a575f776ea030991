# Node and time keys: select a follower, c crashes it (CRASHED), r restarts
# it (up, incarnation 2 in the detail view: Enter), z pauses and resumes it;
# space stops virtual time (PAUSED, the clock stands still), '.' runs the
# next event (the clock moves to its instant, the events written are all of
# that instant, and the clock stands still again), space lets time run.
. tests/tools/tmuxlib.sh

EV="$WORK/ev.jsonl"
lines() { wc -l <"$EV"; }
# settle FILE: wait (bounded) until FILE stops growing for 10 polls in a row
settle() {
	tries=200 still=0 last=-1
	while [ "$tries" -gt 0 ]; do
		now=$(wc -c <"$1")
		if [ "$now" = "$last" ]; then
			still=$((still + 1))
			[ "$still" -ge 10 ] && return 0
		else
			still=0 last=$now
		fi
		tries=$((tries - 1))
		sleep 0.02
	done
	return 1
}

start_ui 120 40 --seed 5 --events "$EV"
live_ready
L=$(leader)
N=1
[ "$L" = 1 ] && N=2
echo "leader $L; the node we handle: $N"

state_is() { [ "$(node_word "$N" 2)" = "$1" ]; }
keys "$N" c
wait_until "node $N CRASHED after $N c" state_is CRASHED
wait_screen "n$N crash" || die "the events panel does not show the crash"
keys r
wait_until "node $N up again after r" state_is up
wait_screen "n$N restart" || die "the events panel does not show the restart"
keys Enter
wait_screen "Node $N " || die "Enter did not open node $N's detail view"
wait_screen 'status up +incarnation 2 ' || die "the detail view does not show incarnation 2 after a restart"
keys Escape
wait_screen ' Logs ' || die "Esc did not close the detail view"
wait_gone 'incarnation' || die "Esc did not close the detail view"

keys z
wait_until "node $N paused after z" state_is paused
keys z
wait_until "node $N up after z again" state_is up

# time: runs, then stands still
T0=$(clock_ms)
moved() { [ "$(clock_ms)" != "$T0" ]; }
wait_until "the clock running (it stays at $T0 ms)" moved
keys Space
wait_screen ' PAUSED ' || die "space did not pause time (no PAUSED in the status bar)"
T1=$(clock_ms)
at() { [ "$(clock_ms)" = "$1" ]; }
holds 25 "the clock stands at $T1 ms while PAUSED" at "$T1"
# what was already due at that instant still runs and the nodes answer it;
# then nothing more is written, and nothing after the clock's time
NP=$(lines)
settle "$EV" || die "events kept being written while PAUSED"
after() { tail -n +"$(($1 + 1))" "$EV" | sed -n 's/^{"t":\([0-9]*\),.*/\1/p' | sort -nu; }
for t in $(after "$NP"); do
	[ "$t" -le "$T1" ] || { tail -n +"$((NP + 1))" "$EV"; die "an event at t=$t was written while time stood at $T1"; }
done
N0=$(lines)

keys .
wait_screen 'the next instant' || die "'.' did not say it ran the next instant"
stepped() { [ "$(clock_ms)" != "$T1" ] || [ "$(lines)" -gt "$N0" ]; }
wait_until "'.' to move the clock or write an event" stepped
settle "$EV" || die "events kept being written after '.'"
T2=$(clock_ms)
[ "$T2" -ge "$T1" ] || die "'.' moved the clock back: $T1 -> $T2 ms"
holds 25 "the clock stands at $T2 ms after '.'" at "$T2"
# everything written by the step happened at its one instant, the clock's
new=$(after "$N0")
echo "'.': $T1 -> $T2 ms, $(($(lines) - N0)) event(s) at t=$(echo $new)"
[ -n "$new" ] || [ "$T2" -gt "$T1" ] || die "'.' changed nothing"
for t in $new; do
	[ "$t" = "$T2" ] || { tail -n +"$((N0 + 1))" "$EV"; die "'.' wrote an event at t=$t, not at the clock's $T2"; }
done
screen | grep -q ' PAUSED ' || die "'.' let time run (PAUSED is gone)"

keys Space
wait_gone ' PAUSED ' || die "space did not resume time"
T3=$(clock_ms)
moved3() { [ "$(clock_ms)" -gt "$T3" ]; }
wait_until "the clock to run again after space" moved3

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok"
