-- 6.824 Raft, TestSnapshotInit3D, re-expressed for termscope.
-- Do servers initialise their in-memory copy of the snapshot after a
-- restart, so that later writes of their persistent state do not lose it?
-- Three servers that snapshot every 10 applied entries: 11 commands (a
-- snapshot), every server killed and restarted, one command (something
-- written back to disk), every server killed and restarted again, and one
-- more command must still be agreed by all three.
-- seed: 57
local SNAPSHOT_INTERVAL = 10
local SERVERS = 3
local c = ts.cluster{ kind = "raft", nodes = SERVERS, snapshot = SNAPSHOT_INTERVAL }
local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end
local function crash1(i) c:isolate(i) c:crash(i) end
local function start1(i) c:isolate(i) c:restart(i) end
local function crash_and_revive_all()
  for i = 1, SERVERS do crash1(i) end
  for i = 1, SERVERS do
    start1(i)
    c:connect(i)
  end
end

c:one(rand_cmd(), SERVERS, true)

-- enough ops to make a snapshot
for _ = 1, SNAPSHOT_INTERVAL + 1 do c:one(rand_cmd(), SERVERS, true) end
for i = 1, SERVERS do
  assert(c:node(i).snapshot_index > 0, string.format("server %d took no snapshot after %d commands", i, SNAPSHOT_INTERVAL + 2))
end

crash_and_revive_all()

-- a single op, to get something written back to persistent storage
c:one(rand_cmd(), SERVERS, true)

crash_and_revive_all()

-- do another op to trigger a potential bug
c:one(rand_cmd(), SERVERS, true)
