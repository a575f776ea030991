# The key/value service replays too: clients retrying over a lossy network,
# a leader crash, snapshots and an InstallSnapshot give the same events file
# (but for pid and wall) and the same history on every run of one seed.
. tests/tools/checklib.sh
cat >"$WORK/s.lua" <<'LUA'
local c = ts.cluster{ kind = "kv", nodes = 3, maxraftstate = 800 }
c:net("unreliable")
local k1, k2 = c:client(), c:client()
local l = c:wait_leader(5)
local f = l % 3 + 1
c:isolate(f)
local t = ts.go(function() for i = 1, 20 do k2:append("y", tostring(i % 10)) end end)
for i = 1, 20 do k1:append("x", tostring(i % 10)) end
t:wait(30, c)
c:crash(l)
c:connect(f)
c:sleep(1)
c:restart(l)
print(k1:get("x"), k2:get("y"))
print(c:check_linearizable())
print(#c:history(), c:client_msgs())
LUA
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 7 --events "$WORK/a.jsonl"
cp "$WORK/out" "$WORK/a.out"
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 7 --events "$WORK/b.jsonl"
cmp "$WORK/a.out" "$WORK/out" || die "the script printed different things"
grep -q "^true	linearizable" "$WORK/a.out" || die "the history should be linearizable: $(cat "$WORK/a.out")"
stable "$WORK/a.jsonl" >"$WORK/a.stable"
stable "$WORK/b.jsonl" >"$WORK/b.stable"
cmp "$WORK/a.stable" "$WORK/b.stable" || { diff "$WORK/a.stable" "$WORK/b.stable" | head; die "events differ"; }
grep -q '"ev":"snapshot"' "$WORK/a.jsonl" || die "no snapshot was taken"
grep -q '"type":"InstallSnapshot"' "$WORK/a.jsonl" || die "no InstallSnapshot was sent"
grep -q '"type":"KvRequest"' "$WORK/a.jsonl" || die "no client request in the events"
grep -q '"ev":"drop","id":[0-9]*,"why":"loss"' "$WORK/a.jsonl" || die "the lossy network lost nothing"
expect_exit 0 "$TERMSCOPE" check "$WORK/a.jsonl"
echo "identical: $(wc -l <"$WORK/a.jsonl") events; ops and client messages: $(tail -n 1 "$WORK/a.out")"
