# Record and replay of actions taken while time stands still: pause (space),
# run the next instant (.), then crash a node and isolate another at that very
# instant; resume, save (S).  The saved scenario, replayed headless with the
# same seed, must give the same events as the live run: the actions come
# after the events of the instant they were made at, as they did live.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 9 --events "$WORK/live.jsonl"
live_ready
L=$(leader)
A=1 B=2
[ "$L" = 1 ] && A=3
[ "$L" = 2 ] && B=3
state_is() { [ "$(node_word "$1" 2)" = "$2" ]; }

keys Space
wait_screen ' PAUSED ' || die "space did not pause time"
T=$(clock_ms)
keys .
stepped() { [ "$(clock_ms)" != "$T" ]; }
wait_until "'.' to move the clock from $T ms" stepped
TS=$(clock_ms)
keys "$B" c
wait_until "node $B CRASHED after $B c" state_is "$B" CRASHED
keys "$A" p
wait_until "node $A cut-off after $A p" state_is "$A" cut-off
[ "$(clock_ms)" = "$TS" ] || die "time moved while PAUSED"
echo "leader $L; at $TS ms, paused after one step: crashed $B, isolated $A"
keys Space
wait_gone ' PAUSED ' || die "space did not resume time"
later() { [ "$(clock_ms)" -gt $((TS + 300)) ]; }
wait_until "the clock to run past $((TS + 300)) ms" later

keys S
wait_screen 'saved [0-9]+ actions to ' || die "S did not say where it saved the recording"
f=$(bottom | sed -n -E 's/.*saved [0-9]+ actions to ([^" ]+).*/\1/p')
keys q
wait_exit 0
case "$f" in /*) ;; *) f="$WORK/$f" ;; esac
[ -f "$f" ] || die "the saved file $f does not exist"
cat "$f"

expect_exit 0 "$TERMSCOPE" run "$f" --headless --seed 9 --events "$WORK/replay.jsonl"
T=$(sed -n -E 's/^c:sleep_until\(([0-9.]+)\)$/\1/p' "$f" | tail -n 1)
ms=$(echo "$T" | awk '{ printf "%d", $1 * 1000 + 0.5 }')
upto() { stable "$1" | awk -v T="$ms" '{ t = $0; sub(/^\{"t":/, "", t); sub(/,.*/, "", t); if (t + 0 < T) print }'; }
upto "$WORK/live.jsonl" >"$WORK/live.upto"
upto "$WORK/replay.jsonl" >"$WORK/replay.upto"
echo "comparing $(wc -l <"$WORK/live.upto") events before t=${ms} ms"
if ! cmp -s "$WORK/live.upto" "$WORK/replay.upto"; then
	echo "--- live run vs headless replay of $f (events with t < $ms):"
	diff "$WORK/live.upto" "$WORK/replay.upto" | head -n 30
	echo "--- the live events around $TS ms:"
	grep -E "^\\{\"t\":($TS|$((TS + 1))|$((TS + 2))|$((TS + 3))|$((TS + 4))|$((TS + 5))|$((TS + 6))|$((TS + 7))|$((TS + 8))|$((TS + 9))|$((TS + 10))|$((TS - 1))|$((TS - 2))|$((TS - 3)))," "$WORK/live.upto" | head -n 30
	die "the replayed recording gave different events than the live run"
fi
echo "ok: identical"
