-- 6.824 Raft, TestCount3B, re-expressed for termscope.
-- Three servers; counts node-to-node messages.  termscope counts a request
-- and its reply as two messages, so every bound is twice the original's RPC
-- bound.  Electing the first leader may take at most 60 messages (30
-- RPCs).  Submitting 12 commands back to back at the leader, each at the
-- next index, until all three servers applied the first 11, may take at
-- most (10+1+3)*3*2 = 84 messages, provided the term stayed the same (else
-- the attempt is retried, at most five times, three virtual s apart).  A
-- second of idleness afterwards may take at most 3*20*2 = 120.
-- seed: 13
local ELECTION_TIMEOUT = 1.0
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }


local leader = c:check_one_leader()
local total1 = c:rpc_count()
assert(total1 <= 60 and total1 >= 1,
  string.format("too many or too few messages (%d) to elect the first leader", total1))

local total2
local success = false
for try = 0, 4 do
  if try > 0 then c:sleep(3) end

  leader = c:check_one_leader()
  total1 = c:rpc_count()

  local iters = 10
  local starti, term, ok = c:start("1", leader)
  if not ok then goto continue end

  do
    local cmds = {}
    for i = 1, iters + 1 do
      local x = tostring(math.random(0, 0x7fffffff))
      cmds[#cmds + 1] = x
      local index1, term1, ok1 = c:start(x, leader)
      if term1 ~= term or not ok1 then goto continue end  -- no longer leader
      assert(starti + i == index1,
        string.format("the command went to index %d, expected %d", index1, starti + i))
    end

    for i = 1, iters do
      local cmd = c:wait_applied(starti + i, N, term)
      if cmd ~= cmds[i] then
        if cmd == nil then goto continue end  -- the term moved on: retry
        error(string.format("wrong value %s applied at index %d; expected %s", cmd, starti + i, cmds[i]))
      end
    end

    for j = 1, N do
      if c:node(j).term ~= term then goto continue end
    end
    total2 = c:rpc_count()
    local limit = (iters + 1 + 3) * 3 * 2
    assert(total2 - total1 <= limit,
      string.format("too many messages (%d, at most %d) for %d entries", total2 - total1, limit, iters))
    success = true
    break
  end
  ::continue::
end
assert(success, "term changed too often")

c:sleep(ELECTION_TIMEOUT)
local total3 = c:rpc_count()
assert(total3 - total2 <= 3 * 20 * 2,
  string.format("too many messages (%d, at most %d) for 1 second of idleness", total3 - total2, 3 * 20 * 2))
