-- 6.824 Raft, TestBasicAgree3B, re-expressed for termscope.
-- Three servers, no faults.  Three commands are submitted one after the
-- other; before each is submitted no server may have applied its index,
-- and each must be applied by all three servers at the next index: 1, 2, 3.
-- seed: 4
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }

for index = 1, 3 do
  local n = c:committed(index)
  assert(n == 0, string.format("%d servers applied index %d before it was submitted", n, index))
  local got = c:one(tostring(index * 100), N, false)
  assert(got == index, string.format("command went to index %d, expected %d", got, index))
end
