# At 80x24 the network panel's list of messages in flight still says where
# each message goes: every line shows its type and both ends (n3→n1).  (The
# live cluster is a key/value one: at 80x24 v shows the Raft panels.)
. tests/tools/tmuxlib.sh

start_ui 80 24 --seed 3
live_ready
keys v
wait_screen ' Network ' || die "v at 80x24 did not show the network panel"
keys Space
wait_screen ' PAUSED ' || die "space did not pause time"
# step (.) until a message is in flight; each step moves the clock on
n=0
until screen | grep -q -E 'in flight: [1-9]'; do
	n=$((n + 1))
	[ "$n" -le 30 ] || { screen; die "30 steps and never a message in flight"; }
	T=$(clock_ms)
	keys .
	stepped() { [ "$(clock_ms)" != "$T" ]; }
	wait_until "'.' to move the clock from $T ms" stepped
done
screen | grep -E '#[0-9]+ +[A-Za-z]+ ' >"$WORK/msgs"
[ -s "$WORK/msgs" ] || { screen; die "messages are in flight but none is listed"; }
cat "$WORK/msgs"
while IFS= read -r line; do
	printf '%s\n' "$line" | grep -q -E '#[0-9]+ +[A-Za-z]+ +n[1-5](→|->)n[1-5]' ||
		{ screen; die "at 80x24 an in-flight message line does not show both ends: $line"; }
done <"$WORK/msgs"
keys Space
wait_gone ' PAUSED ' || die "space did not resume time"
keys q
wait_exit 0
echo "ok"
