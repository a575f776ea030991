-- 6.824 Raft, TestSnapshotAllCrash3D, re-expressed for termscope.
-- Do the servers persist their snapshots and restart from snapshot plus
-- log tail?  Three servers that snapshot every 10 applied entries; five
-- times: 5-14 commands agreed by all, one more at index1, then every
-- server killed and restarted from its data directory; the next command
-- agreed by all must land after index1 (nothing committed was lost).
-- seed: 56
local SNAPSHOT_INTERVAL = 10
local SERVERS, ITERS = 3, 5
local c = ts.cluster{ kind = "raft", nodes = SERVERS, snapshot = SNAPSHOT_INTERVAL }
local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end
local function crash1(i) c:isolate(i) c:crash(i) end
local function start1(i) c:isolate(i) c:restart(i) end

c:one(rand_cmd(), SERVERS, true)

for _ = 1, ITERS do
  -- perhaps enough to get a snapshot
  local nn = SNAPSHOT_INTERVAL // 2 + math.random(0, SNAPSHOT_INTERVAL - 1)
  for _ = 1, nn do c:one(rand_cmd(), SERVERS, true) end

  local index1 = c:one(rand_cmd(), SERVERS, true)

  for i = 1, SERVERS do crash1(i) end     -- crash all
  for i = 1, SERVERS do                  -- revive all
    start1(i)
    c:connect(i)
  end

  local index2 = c:one(rand_cmd(), SERVERS, true)
  assert(index2 >= index1 + 1, string.format("index decreased from %d to %d", index1, index2))
end

local snaps = 0
for i = 1, SERVERS do snaps = math.max(snaps, c:node(i).snapshot_index) end
assert(snaps > 0, "no server has a snapshot after the last restart")
