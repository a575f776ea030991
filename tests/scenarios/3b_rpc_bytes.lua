-- 6.824 Raft, TestRPCBytes3B, re-expressed for termscope.
-- Three servers.  After a first small command, ten commands of 5000 random
-- bytes each are agreed on, each landing at the next index.  Each should
-- travel to each follower about once: the bytes of all node-to-node
-- messages (requests and replies) sent meanwhile may not exceed three
-- times the command bytes plus 50000 bytes of slack, as in the original.
-- seed: 5
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }

local function random_string(len)
  local chars = {}
  for i = 1, len do chars[i] = string.char(math.random(97, 122)) end
  return table.concat(chars)
end

c:one("99", N, false)
local bytes0 = c:rpc_bytes()

local sent = 0
for index = 2, 11 do
  local cmd = random_string(5000)
  local got = c:one(cmd, N, false)
  assert(got == index, string.format("command went to index %d, expected %d", got, index))
  sent = sent + #cmd
end

local got = c:rpc_bytes() - bytes0
local expected = N * sent
assert(got <= expected + 50000,
  string.format("too many RPC bytes: %d for %d bytes of commands (at most %d)", got, sent, expected + 50000))
