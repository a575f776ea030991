-- 6.824 Raft, TestLeaderFailure3B, re-expressed for termscope.
-- Three servers.  With the leader cut off, the other two elect a new
-- leader and keep agreeing.  With that second leader cut off as well, a
-- command submitted at every server (each may or may not take it) must not
-- be applied anywhere within two election timeouts: no majority, no commit.
-- seed: 7
local ELECTION_TIMEOUT = 1.0
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }

c:one("101", N, false)

-- the first leader is cut off
local leader1 = c:check_one_leader()
c:isolate(leader1)
c:one("102", N - 1, false)
c:sleep(ELECTION_TIMEOUT)
c:one("103", N - 1, false)

-- and the new leader too: one server left connected
local leader2 = c:check_one_leader()
c:isolate(leader2)

for i = 1, N do c:start("104", i) end

c:sleep(2 * ELECTION_TIMEOUT)
local n = c:committed(4)
assert(n == 0, string.format("%d servers applied index 4 with no majority", n))
