-- 6.824 Raft, TestConcurrentStarts3B, re-expressed for termscope.
-- Three servers.  Five commands are submitted to the leader at once, from
-- five concurrent tasks (ts.go).  If the term stays the same throughout,
-- every command the leader accepted must be applied by all three servers,
-- and all five must be among them.  If the term moves, the attempt is
-- void and is retried (at most five attempts, three virtual s apart);
-- running out of attempts fails the run.
-- seed: 10
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }


local success = false
for try = 0, 4 do
  if try > 0 then c:sleep(3) end   -- give the cluster time to settle

  local leader = c:check_one_leader()
  local _, term, ok = c:start("1", leader)
  if not ok then goto continue end

  do
    local tasks = {}
    for ii = 0, 4 do
      tasks[#tasks + 1] = ts.go(function()
        local i, term1, ok1 = c:start(tostring(100 + ii), leader)
        if term1 ~= term or not ok1 then return nil end
        return i
      end)
    end
    local indices = {}
    for _, t in ipairs(tasks) do
      local i = t:wait(5, c)
      if i then indices[#indices + 1] = i end
    end

    for j = 1, N do
      if c:node(j).term ~= term then goto continue end  -- the term moved on
    end

    local cmds = {}
    for _, index in ipairs(indices) do
      local cmd = c:wait_applied(index, N, term)
      if cmd == nil then goto continue end  -- a later term: Starts may be lost
      cmds[#cmds + 1] = cmd
    end

    for ii = 0, 4 do
      local want, found = tostring(100 + ii), false
      for _, x in ipairs(cmds) do
        if x == want then found = true end
      end
      assert(found, string.format("command %s missing from %s", want, table.concat(cmds, " ")))
    end
    success = true
    break
  end
  ::continue::
end

assert(success, "term changed too often")
