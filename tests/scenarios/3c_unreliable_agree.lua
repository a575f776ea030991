-- 6.824 Raft, TestUnreliableAgree3C, re-expressed for termscope.
-- Five servers on the labrpc-like unreliable network (0-26 ms delays, 10%
-- of messages lost).  49 rounds; in each, four concurrent tasks (ts.go)
-- and the script itself each get a command agreed on by at least one
-- server, retrying as needed.  Then the network turns reliable and all
-- five servers must agree on one more command.
-- seed: 18
local N = 5
local c = ts.cluster{ kind = "raft", nodes = N }

c:net("unreliable")

for iters = 1, 49 do
  local tasks = {}
  for j = 0, 3 do
    tasks[#tasks + 1] = ts.go(function()
      c:one(tostring(100 * iters + j), 1, true)
    end)
  end
  c:one(tostring(iters), 1, true)
  for _, t in ipairs(tasks) do t:wait() end
end

c:net("reliable")

c:one("100", N, true)
