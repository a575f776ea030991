# Real pace: the nodes work side by side on the wall clock.  A MapReduce
# job gives the sequential run's output; a key/value cluster that loses its
# leader under writes keeps every acknowledged write and stays
# linearizable; pausing a node stops its process (SIGSTOP) and resuming
# continues it; the events pass the invariant checks.  (Real pace is not
# deterministic: these assert outcomes, never timings.)
. tests/tools/checklib.sh
"$TERMSCOPE" corpus --files 4 --mb 0.25 "$WORK/in" >/dev/null || die "corpus failed"
"$TERMSCOPE" mr-seq wc "$WORK"/in/*.txt -o "$WORK/seq" || die "mr-seq failed"
cat >"$WORK/mr.lua" <<LUA
local c = ts.cluster({ kind = "mr", workers = 2, app = "wc", inputs = "$WORK/in/*.txt", reduces = 4 }, "real")
local j = c:wait_done(120)
assert(j.phase == "done", "the job ended in phase " .. j.phase)
local f = assert(io.open("$WORK/out", "w"))
for _, line in ipairs(c:output()) do f:write(line, "\n") end
f:close()
LUA
expect_exit 0 "$TERMSCOPE" run "$WORK/mr.lua" --headless --events "$WORK/mr.jsonl"
LC_ALL=C sort "$WORK/seq" >"$WORK/seq.sorted"
LC_ALL=C sort "$WORK/out" | cmp -s - "$WORK/seq.sorted" || die "the real-pace job's output is not mr-seq's"
cat >"$WORK/kv.lua" <<'LUA'
local c = ts.cluster({ kind = "kv", nodes = 3 }, "real")
local l = c:wait_leader(10)
local k1, k2 = c:client(), c:client()
local t = ts.go(function() for i = 1, 50 do k2:append("y", "b") end end)
for i = 1, 25 do k1:append("x", "a") end
c:crash(l)
for i = 1, 25 do k1:append("x", "a") end
t:wait(60, c)
assert(k1:get("x") == string.rep("a", 50), "x lost or doubled an append across the crash")
assert(k2:get("y") == string.rep("b", 50), "y lost or doubled an append across the crash")
local ok, text = c:check_linearizable()
assert(ok, text)
-- pausing a node in real pace stops its process (SIGSTOP); resuming continues it
local function state(i)
  local f = assert(io.open("/proc/" .. c:node(i).pid .. "/status"))
  local s = f:read("a"):match("State:%s*(%S+)")
  f:close()
  return s
end
local f
for i = 1, 3 do if c:node(i).up and i ~= c:leader() then f = i end end
assert(f, "no running follower to pause")
c:pause(f)
c:wait(function() return state(f) == "T" end, 5, "the paused node's process to be stopped")
c:resume(f)
c:wait(function() return state(f) ~= "T" end, 5, "the resumed node's process to run again")
print("ok")
LUA
expect_exit 0 "$TERMSCOPE" run "$WORK/kv.lua" --headless --events "$WORK/kv.jsonl"
grep -q '^ok$' "$WORK/out" || die "the key/value run did not finish"
expect_exit 0 "$TERMSCOPE" check "$WORK/kv.jsonl"
expect_exit 0 "$TERMSCOPE" check "$WORK/mr.jsonl"
echo "real pace: MapReduce output = mr-seq's; key/value across a leader crash linearizable"
