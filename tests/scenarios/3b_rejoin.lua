-- 6.824 Raft, TestRejoin3B, re-expressed for termscope.
-- Three servers.  The leader is cut off and, alone, takes three commands
-- that can never commit.  The other two elect a leader and agree on a
-- command.  That leader is cut off in turn and the first comes back: it
-- must give up its uncommitted entries and agree with the remaining
-- server.  Finally all three are together and agree on one more command.
-- seed: 11
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }

c:one("101", N, true)

-- the leader is partitioned off and takes commands nobody will commit
local leader1 = c:check_one_leader()
c:isolate(leader1)
c:start("102", leader1)
c:start("103", leader1)
c:start("104", leader1)

-- a new leader commits at index 2 meanwhile
c:one("103", 2, true)

-- the new leader is cut off, the old one returns
local leader2 = c:check_one_leader()
c:isolate(leader2)
c:connect(leader1)

c:one("104", 2, true)

-- all together
c:connect(leader2)
c:one("105", N, true)
