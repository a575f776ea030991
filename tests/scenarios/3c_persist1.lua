-- 6.824 Raft, TestPersist13C, re-expressed for termscope.
-- Three servers; crashes are real SIGKILLs and restarts recover from the
-- data directory.  After every server is crashed and restarted at once,
-- the cluster must still agree (the committed entry survives).  Then the
-- leader is crashed and restarted alone; then a leader is cut off while the
-- other two agree, and is crashed, restarted and reconnected; then a
-- follower likewise.  Each time the cluster must go on agreeing, which
-- requires term, vote and log to have been persisted.
-- seed: 14
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end

-- 6.824's crash1 also disconnects the server; start1 restarts it from its
-- persisted state, still disconnected until connect().
local function crash1(i) c:isolate(i) c:crash(i) end
local function start1(i) c:isolate(i) c:restart(i) end

c:one("11", N, true)

-- crash and restart all
for i = 1, N do start1(i) end
for i = 1, N do
  c:isolate(i)
  c:connect(i)
end

c:one("12", N, true)

local leader1 = c:check_one_leader()
c:isolate(leader1)
start1(leader1)
c:connect(leader1)

c:one("13", N, true)

local leader2 = c:check_one_leader()
c:isolate(leader2)
c:one("14", N - 1, true)
start1(leader2)
c:connect(leader2)

c:wait_committed(4, N, 10)  -- let leader2 catch up before the next crash

local i3 = peer(c:check_one_leader(), 1)
c:isolate(i3)
c:one("15", N - 1, true)
start1(i3)
c:connect(i3)

c:one("16", N, true)
