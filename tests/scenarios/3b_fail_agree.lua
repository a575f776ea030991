-- 6.824 Raft, TestFailAgree3B, re-expressed for termscope.
-- Three servers.  One follower is cut off; the other two go on agreeing
-- (across an election timeout).  When it returns it must catch up, and
-- commands submitted afterwards must be applied by all three.
-- seed: 8
local ELECTION_TIMEOUT = 1.0
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end

c:one("101", N, false)

local leader = c:check_one_leader()
local gone = peer(leader, 1)
c:isolate(gone)

c:one("102", N - 1, false)
c:one("103", N - 1, false)
c:sleep(ELECTION_TIMEOUT)
c:one("104", N - 1, false)
c:one("105", N - 1, false)

-- back again: it catches up, and everyone agrees on what follows
c:connect(gone)
c:one("106", N, true)
c:sleep(ELECTION_TIMEOUT)
c:one("107", N, true)
