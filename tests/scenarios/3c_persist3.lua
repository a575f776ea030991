-- 6.824 Raft, TestPersist33C, re-expressed for termscope.
-- Three servers.  A follower is cut off and the other two agree on a
-- command; then those two crash.  The cut-off follower returns and the
-- old leader restarts from disk: together they must agree on a new
-- command (so the second entry must have survived on the old leader's
-- disk).  The last server restarts and all three agree on one more.
-- seed: 16
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end
local function crash1(i) c:isolate(i) c:crash(i) end
local function start1(i) c:isolate(i) c:restart(i) end

c:one("101", N, true)

local leader = c:check_one_leader()
c:isolate(peer(leader, 2))

c:one("102", 2, true)

crash1(peer(leader, 0))
crash1(peer(leader, 1))
c:connect(peer(leader, 2))
start1(peer(leader, 0))
c:connect(peer(leader, 0))

c:one("103", 2, true)

start1(peer(leader, 1))
c:connect(peer(leader, 1))

c:one("104", N, true)
