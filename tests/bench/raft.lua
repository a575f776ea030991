-- raft.lua — benchmark figures for the runtime (run by tests/bench/run.sh).
-- Prints "name value unit" lines; asserts nothing about wall time.
local function rss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or 0
end

local c = ts.cluster{ kind = "raft", nodes = 5, seed = 1 }
c:wait_leader(5)

-- an idle cluster: heartbeats only
local w0, v0 = ts.wall(), c:time()
c:sleep(600)
local w1, v1 = ts.wall(), c:time()
print(string.format("idle_5_nodes %.0f virtual_s_per_wall_s", (v1 - v0) / ((w1 - w0) / 1000)))

-- 1,000 commands, submitted as fast as the leader takes them
local l = c:wait_leader(5)
local n0 = c:rpc_count()
w0, v0 = ts.wall(), c:time()
local last
for i = 1, 1000 do
  local index, _, ok = c:start("cmd" .. i, l)
  assert(ok, "the leader changed during the benchmark")
  last = index
end
c:wait_committed(last, 5, 60)
w1, v1 = ts.wall(), c:time()
print(string.format("commit_1000_virtual_s %.3f s", v1 - v0))
print(string.format("commit_1000_wall_s %.3f s", (w1 - w0) / 1000))
print(string.format("commit_1000 %.1f virtual_s_per_wall_s", (v1 - v0) / ((w1 - w0) / 1000)))
print(string.format("commit_1000 %.0f commands_per_wall_s", 1000 / ((w1 - w0) / 1000)))
print(string.format("messages_per_command %.2f messages", (c:rpc_count() - n0) / 1000))

-- one at a time: submit, wait for all five to apply, next
n0 = c:rpc_count()
w0, v0 = ts.wall(), c:time()
for i = 1, 200 do c:one("seq" .. i, 5, false) end
w1, v1 = ts.wall(), c:time()
print(string.format("sequential_200 %.2f messages_per_command", (c:rpc_count() - n0) / 200))
print(string.format("sequential_200 %.1f ms_virtual_per_command", (v1 - v0) * 1000 / 200))

local peak = 0
for i = 1, 5 do peak = math.max(peak, rss_kb(c:node(i).pid)) end
print(string.format("node_peak_rss %d KiB", peak))
print(string.format("controller_peak_rss %d KiB", rss_kb("self")))
