-- 6.824 Raft, TestManyElections3A, re-expressed for termscope.
-- Seven servers.  Ten times over, three servers chosen at random (perhaps
-- the same one twice) are cut off; the remaining four or more form a
-- majority and must have exactly one leader (never two in a term); then
-- the three are let back.  A leader must exist at the end too.
-- seed: 3
local N = 7
local c = ts.cluster{ kind = "raft", nodes = N }

c:check_one_leader()

for _ = 1, 10 do
  local i1, i2, i3 = math.random(N), math.random(N), math.random(N)
  c:isolate(i1)
  c:isolate(i2)
  c:isolate(i3)
  -- whether or not the leader was among them, the majority elects one
  c:check_one_leader()
  c:connect(i1)
  c:connect(i2)
  c:connect(i3)
end

c:check_one_leader()
