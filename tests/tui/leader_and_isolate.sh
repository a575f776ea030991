# The dashboard at 120x40: a leader is shown; isolating it with keys (its
# number, then p) marks it cut-off, the others elect a new leader in a
# higher term while the old one still thinks it leads, the network panel
# draws the cut (a row and a column of crosses), the events show the drops;
# h heals and the old leader comes back as a follower.
. tests/tools/tmuxlib.sh

# node N's row of the link matrix in the network panel, and its crosses
matrix_row() { screen | grep -E "   n$1  +(·|✗|[0-9]+/[0-9]+)" | head -n 1; }
crosses() { matrix_row "$1" | grep -o '✗' | wc -l; }

start_ui 120 40 --seed 3
live_ready
L=$(leader)
T1=$(node_word "$L" 4)
[ -n "$L" ] && [ -n "$T1" ] || die "cannot read the leader's row"
echo "node $L leads in term $T1"
wait_screen 'groups all links up' || die "the network panel does not say all links are up"

keys "$L" p
cut_off() { [ "$(node_word "$L" 2)" = cut-off ]; }
wait_until "node $L's row says cut-off after $L p" cut_off
new_leader() {
	L2=$(leader)
	[ -n "$L2" ] && [ "$L2" != "$L" ] && [ "$(node_word "$L2" 4)" -gt "$T1" ]
}
wait_until "another node leads in a term above $T1" new_leader
L2=$(leader)
echo "node $L2 leads in term $(node_word "$L2" 4)"
# the isolated one still believes it leads, in its old term
[ "$(node_word "$L" 3)" = LEADER ] || { screen; die "the isolated old leader's row should still say LEADER"; }
[ "$(node_word "$L" 4)" = "$T1" ] || { screen; die "the isolated old leader's term changed"; }

# the cut, drawn: {the others} {L}, and in the link matrix the old leader's
# row is all crosses (4) and every other row has one, in its column
wait_screen "groups \\{[0-9,]+\\} \\{$L\\}" || die "the network panel does not show {$L} alone"
for i in 1 2 3 4 5; do
	want=1
	[ "$i" = "$L" ] && want=4
	got=$(crosses "$i")
	[ "$got" -eq "$want" ] || { screen; die "link matrix row n$i has $got crosses, expected $want"; }
done
screen | grep -q '✗ cut' || { screen; die "the network panel does not show '✗ cut'"; }

# the events show the dropped messages (f: the messages filter)
keys f
wait_screen 'Events: messages' || die "f did not switch the events to messages"
wait_screen "dropped \\(partition\\)" || die "the events show no message dropped by the partition"

keys h
back() { [ "$(node_word "$L" 2)" = up ] && [ "$(node_word "$L" 3)" = follower ]; }
wait_until "node $L back up as a follower after h" back
wait_screen 'groups all links up' || die "after h the network panel does not say all links are up"
for i in 1 2 3 4 5; do
	[ "$(crosses "$i")" -eq 0 ] || { screen; die "after h the link matrix row n$i still has a cross"; }
done
[ "$(leader)" != "$L" ] || die "the old leader is marked as leader again"

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok: isolated $L, new leader $L2, healed"
