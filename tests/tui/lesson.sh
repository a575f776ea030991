# Lesson 2 (leader election) at 120x40, by real key presses: the first
# step's objective shows ✗, H shows a hint, . runs the next instant (the
# first candidate appears), space lets the election finish and the objective
# turns ✓; n moves on; n before an objective holds is refused; a follower
# made leader with its number and t turns the next objective ✓; q halfway,
# then `lesson 2` again resumes at the saved step (the panel title says
# "step 3 of 8"), and progress.lua is under $XDG_STATE_HOME/termscope/; a
# wrong answer is refused, the right one taken, n moves on.
. tests/tools/tmuxlib.sh

# Progress goes to a state dir of our own, never the user's: exported (the
# tmux server inherits it) and on termscope's command line too.
XDG_STATE_HOME="$WORK/state"
export XDG_STATE_HOME
START_ENV="LC_ALL=C.UTF-8 XDG_STATE_HOME=$WORK/state"
PROGRESS="$XDG_STATE_HOME/termscope/progress.lua"

start_ui 120 40 lesson 2
wait_screen 'Lesson: Leader election +\(step 1 of 8\)' || die "lesson 2 did not open at step 1"
wait_screen '✗ Let the first election run to the end' || die "step 1's objective is not shown as ✗"
wait_screen 'PAUSED' || die "step 1 should start with time frozen"

# H: the first hint
keys H
wait_screen 'Press \. again and again: each press runs' || die "H showed no hint"

# . runs the next instant while time stands still: the first timer fires
keys .
wait_screen ' candidate +1 ' || die ". did not make the first candidate of term 1"
screen | grep -q 'PAUSED' || { screen; die "time should still stand still after ."; }

# space: time runs, a leader is elected, the objective turns ✓
keys Space
wait_screen '✓ Let the first election run to the end' || die "the objective did not turn ✓ after space"
wait_screen 'paced' || die "time does not run after the first election"
[ -n "$(leader)" ] || { screen; die "the objective is met but no leader is shown"; }

keys n
wait_screen 'Lesson: Leader election +\(step 2 of 8\)' || die "n did not move to step 2"
wait_screen '✗ Make a follower take over as leader with t' || die "step 2's objective is not shown as ✗"

# n before the objective holds is refused
keys n
wait_screen 'not yet' || die "n before the objective was not refused"
screen | grep -q 'step 2 of 8' || { screen; die "n before the objective moved on anyway"; }

# a follower, selected by its number, times out with t and takes over
has_leader() { L=$(leader); [ -n "$L" ]; }
wait_until "a leader in step 2" has_leader
T=$(node_word "$L" 4)
F=$((L % 5 + 1))
echo "node $L leads in term $T; making node $F take over"
keys "$F" t
wait_screen '✓ Make a follower take over as leader with t' || die "the objective did not turn ✓ after $F t"
took_over() { [ "$(leader)" = "$F" ] && [ "$(node_word "$F" 4)" -gt "$T" ]; }
wait_until "node $F leads in a term above $T" took_over

keys n
wait_screen 'Lesson: Leader election +\(step 3 of 8\)' || die "n did not move to step 3"

# quit halfway: the progress is saved under the state dir
keys q
wait_exit 0
[ -f "$PROGRESS" ] || die "no $PROGRESS after quitting"
grep -q '"leader-election"\] = { step = 3, done = false }' "$PROGRESS" || {
	cat "$PROGRESS"; die "progress.lua does not say step 3 of leader-election"; }

# again: it resumes at the saved step, replaying the earlier ones
stop_ui
start_ui 120 40 lesson 2
wait_screen 'Lesson: Leader election +\(step 3 of 8\)' || die "lesson 2 did not resume at step 3"
wait_screen '1\) Yes: a server may vote for every candidate' || die "step 3's question is not shown"
resumed_at() { screen | sed -n -E 's/.*\(step ([0-9]+) of 8\).*/\1/p' | head -n 1; }
K=$(resumed_at)
[ -n "$K" ] && [ "$K" -gt 1 ] || { screen; die "the panel title does not say step K of 8 with K > 1"; }

# a wrong answer is refused, the right one taken, n moves on
keys 1
wait_screen 'Not quite' || die "a wrong answer was not refused"
keys 2
wait_screen 'Right\. One vote per term' || die "the right answer was not taken"
keys n
wait_screen 'Lesson: Leader election +\(step 4 of 8\)' || die "n did not move to step 4"
grep -q '"leader-election"\] = { step = 4, done = false }' "$PROGRESS" || {
	cat "$PROGRESS"; die "progress.lua does not say step 4 after n"; }

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok: lesson 2 by keys: hint, the next instant, ✗ to ✓ twice, resumed at step $K, progress saved"
