-- 6.824 Raft, TestBackup3B, re-expressed for termscope.
-- Five servers.  A leader cut off with one follower piles up 50 entries
-- that can never commit; the other three elect a leader and commit 50
-- entries.  That new leader, cut off with one follower of its own, piles up
-- 50 more uncommitted entries, while the first pair plus one server
-- returns and commits 50 entries of its own.  Finally all five are joined
-- and must agree on one more command: a leader has to walk followers'
-- logs back over long runs of conflicting entries, quickly.
-- seed: 12
local ELECTION_TIMEOUT = 1.0
local N = 5
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end
local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end

c:one(rand_cmd(), N, true)

-- the leader and one follower end up in the minority
local leader1 = c:check_one_leader()
c:isolate(peer(leader1, 2))
c:isolate(peer(leader1, 3))
c:isolate(peer(leader1, 4))

-- lots of commands that won't commit
for _ = 1, 50 do c:start(rand_cmd(), leader1) end
c:sleep(ELECTION_TIMEOUT / 2)

c:isolate(peer(leader1, 0))
c:isolate(peer(leader1, 1))

-- the other three: a new leader, lots of commits
c:connect(peer(leader1, 2))
c:connect(peer(leader1, 3))
c:connect(peer(leader1, 4))
for _ = 1, 50 do c:one(rand_cmd(), 3, true) end

-- the new leader and one follower are cut off from the third
local leader2 = c:check_one_leader()
local other = peer(leader1, 2)
if leader2 == other then other = peer(leader2, 1) end
c:isolate(other)

-- lots more commands that won't commit
for _ = 1, 50 do c:start(rand_cmd(), leader2) end
c:sleep(ELECTION_TIMEOUT / 2)

-- everyone off, then the original leader, its follower and `other` back
for i = 1, N do c:isolate(i) end
c:connect(peer(leader1, 0))
c:connect(peer(leader1, 1))
c:connect(other)

-- lots of commits by the new group
for _ = 1, 50 do c:one(rand_cmd(), 3, true) end

-- all together now
for i = 1, N do c:connect(i) end
c:one(rand_cmd(), N, true)
