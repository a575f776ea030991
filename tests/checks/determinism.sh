# Same seed + same script => the same events file, byte for byte, but for
# the pid and wall fields, in fast and in paced time.  A lossy, duplicating,
# crashing run, three times.
. tests/tools/checklib.sh
cat >"$WORK/s.lua" <<'LUA'
local c = ts.cluster{ kind = "raft", nodes = 5 }
c:net{ unreliable = true, dup = 0.05, reorder = true }
local l = c:wait_leader(5)
for i = 1, 5 do c:start("a" .. i) end
c:crash(l)
c:sleep(1)
c:restart(l)
c:partition({1, 2}, {3, 4, 5})
for i = 1, 5 do c:start("b" .. i) end
c:sleep(2)
c:heal()
c:sleep(math.random() * 2)
print(c:time(), c:rpc_count())
LUA
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 42 --events "$WORK/a.jsonl"
cp "$WORK/out" "$WORK/a.out"
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 42 --events "$WORK/b.jsonl"
cmp "$WORK/a.out" "$WORK/out" || die "the script printed different things"
stable "$WORK/a.jsonl" >"$WORK/a.stable"
stable "$WORK/b.jsonl" >"$WORK/b.stable"
cmp "$WORK/a.stable" "$WORK/b.stable" || { diff "$WORK/a.stable" "$WORK/b.stable" | head; die "events differ"; }
[ "$(wc -l <"$WORK/a.jsonl")" -gt 500 ] || die "suspiciously few events"
grep -q '"ev":"drop","id":[0-9]*,"why":"loss"' "$WORK/a.jsonl" || die "the lossy network lost nothing"
grep -q '"ev":"dup"' "$WORK/a.jsonl" || die "nothing was duplicated"
# paced (virtual time tied to the wall clock, here 20x) is the same run too
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 42 --pace paced --speed 20 --events "$WORK/p.jsonl"
stable "$WORK/p.jsonl" >"$WORK/p.stable"
cmp "$WORK/a.stable" "$WORK/p.stable" || { diff "$WORK/a.stable" "$WORK/p.stable" | head; die "paced differs from fast"; }
# and another seed is another run
expect_exit 0 "$TERMSCOPE" run "$WORK/s.lua" --headless --seed 43 --events "$WORK/c.jsonl"
stable "$WORK/c.jsonl" >"$WORK/c.stable"
cmp -s "$WORK/a.stable" "$WORK/c.stable" && die "seeds 42 and 43 gave the same run"
echo "identical: $(wc -l <"$WORK/a.jsonl") events"
