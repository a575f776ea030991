# Snapshots on a key/value cluster made at the prompt with maxraftstate:
# after enough puts every node compacts its log (the events say "nN
# snapshot at I (taken, B B)") and the logs panel draws the compacted
# entries as a snapshot block ending in ▓┃; a follower crashed meanwhile
# and restarted is sent the leader's snapshot ("installed"); its detail
# view shows the snapshot's index, and its log list starts with the
# snapshot line.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 3 --events "$WORK/ev.jsonl"
live_ready
keys : 'c = ts.cluster{kind="kv", maxraftstate=2000}' Enter
wait_screen ' Key/value: 0 keys, 0 clients ' || die "the new kv cluster is not on the screen"
wait_screen '^(x|│) \*[1-5] up +LEADER ' || die "the new cluster elected no leader"
keys : 'for i = 1, 40 do client(1):put("k" .. i % 9, "value" .. i) end' Enter
wait_screen '^(x|│)n[1-5] +(░|▓| snapshot ≤ [0-9]+ )*▓┃' 1500 || die "after 40 puts the logs panel draws no snapshot block"
grep -q '"ev":"snapshot".*"how":"taken"' "$WORK/ev.jsonl" || die "the logs panel draws a snapshot block but no snapshot was taken"
wait_screen ' 40 idle' 1500 || die "the 40 puts did not all complete"
screen | grep -E '^(x|│)n[1-5] ' | head -n 2

L=$(leader)
F=$((L % 5 + 1))
state_is() { [ "$(node_word "$1" 2)" = "$2" ]; }
keys "$F" c
wait_until "node $F CRASHED" state_is "$F" CRASHED
keys : 'for i = 41, 100 do client(1):put("k" .. i % 9, "value" .. i) end' Enter
wait_screen " 100 idle" 3000 || die "the 60 puts did not all complete"
keys r
installed() { grep -q "\"ev\":\"snapshot\",\"node\":$F,.*\"how\":\"installed\"" "$WORK/ev.jsonl"; }
wait_until "the restarted node $F to be sent the leader's snapshot" installed
keys Enter
wait_screen "Node $F " || die "Enter did not open node $F's detail"
wait_screen 'snapshot: up to index [0-9]+ \(term [0-9]+\), [0-9]+ B' || die "the detail view does not show node $F's snapshot"
# the one it was sent, not the one it had before the crash
I=$(screen | sed -n -E 's/.*snapshot: up to index ([0-9]+) .*/\1/p')
want=$(grep "\"ev\":\"snapshot\",\"node\":$F,.*\"how\":\"installed\"" "$WORK/ev.jsonl" | tail -n 1 | sed -n -E 's/.*"index":([0-9]+).*/\1/p')
[ "$I" = "$want" ] || die "the detail view shows node $F's snapshot at $I, not the installed one at $want"
keys PPage PPage PPage
wait_screen '^(x|│) +[0-9]+ ▓ snapshot \(term [0-9]+, [0-9]+ B\)' || die "the detail view's log does not start with the snapshot line"
keys Escape
keys q
wait_exit 0
echo "ok"
