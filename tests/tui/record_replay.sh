# Record and replay: what a person does with keys on the live dashboard
# (isolate a node, a client request with k — the live cluster is a
# key/value one, so k opens the request line — heal, crash a node) is
# recorded; S saves
# it as a scenario; that scenario run headless with the same seed gives the
# same events file as the live run, up to the time the recording ends.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 9 --events "$WORK/live.jsonl"
live_ready
L=$(leader)
A=1 B=2
[ "$L" = 1 ] && A=3
[ "$L" = 2 ] && B=3
echo "leader $L; isolate $A, crash $B"

state_is() { [ "$(node_word "$1" 2)" = "$2" ]; }
keys "$A" p
wait_until "node $A cut-off after $A p" state_is "$A" cut-off
keys k
wait_screen '^client 1> ' || die "k did not open the request line"
keys 'put x 1' Enter
wait_screen '^ c1 put x=1: OK in [0-9]+ ms' || die "k, put x 1 did not report the put done"
keys h
wait_until "node $A up after h" state_is "$A" up
keys "$B" c
wait_until "node $B CRASHED after $B c" state_is "$B" CRASHED
wait_screen ' 4 recorded' || die "the status bar does not count 4 recorded actions"

keys S
wait_screen 'saved [0-9]+ actions to ' || die "S did not say where it saved the recording"
msg=$(bottom)
echo "$msg"
n=$(printf '%s\n' "$msg" | sed -n -E 's/.*saved ([0-9]+) actions to .*/\1/p')
f=$(printf '%s\n' "$msg" | sed -n -E 's/.*saved [0-9]+ actions to ([^" ]+).*/\1/p')
[ "$n" = 4 ] || die "S saved $n actions, expected 4"
keys q
wait_exit 0
restored || die "the terminal was not restored after q"
case "$f" in /*) ;; *) f="$WORK/$f" ;; esac
[ -f "$f" ] || die "the saved file $f does not exist"
cat "$f"
for code in "c:isolate($A)" 'client(1):put(\"x\", \"1\")' 'c:heal()' "c:crash($B)"; do
	grep -q -F "\"$code\"" "$f" || die "the saved scenario lacks the action $code"
done

# replayed headless, the same run
expect_exit 0 "$TERMSCOPE" run "$f" --headless --seed 9 --events "$WORK/replay.jsonl"
T=$(sed -n -E 's/^c:sleep_until\(([0-9.]+)\)$/\1/p' "$f" | tail -n 1)
[ -n "$T" ] || die "the saved scenario does not end with c:sleep_until(T)"
ms=$(echo "$T" | awk '{ printf "%d", $1 * 1000 + 0.5 }')
# events strictly before the end of the recording, pid and wall blanked
upto() { stable "$1" | awk -v T="$ms" '{ t = $0; sub(/^\{"t":/, "", t); sub(/,.*/, "", t); if (t + 0 < T) print }'; }
upto "$WORK/live.jsonl" >"$WORK/live.upto"
upto "$WORK/replay.jsonl" >"$WORK/replay.upto"
echo "comparing $(wc -l <"$WORK/live.upto") events before t=${ms} ms"
grep -q '"ev":"crash"' "$WORK/live.upto" || die "the live events before t=$ms ms do not include the crash"
if ! cmp -s "$WORK/live.upto" "$WORK/replay.upto"; then
	echo "--- live run vs headless replay of $f (events with t < $ms):"
	diff "$WORK/live.upto" "$WORK/replay.upto" | head -n 30
	die "the replayed recording gave different events than the live run"
fi
echo "ok: identical"
