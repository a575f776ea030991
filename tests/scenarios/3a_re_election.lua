-- 6.824 Raft, TestReElection3A, re-expressed for termscope.
-- Three servers.  Cutting the leader off must produce a new leader among
-- the other two; letting the old leader back must not disturb that.  Then
-- with two of three servers cut off, the lone remaining server must not
-- become leader (no majority), and once one of them returns, and then the
-- other, there must again be exactly one leader.
-- seed: 2
local ELECTION_TIMEOUT = 1.0
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end  -- 6.824's (l+k)%n

local leader1 = c:check_one_leader()

-- the leader loses its links: someone else takes over
c:isolate(leader1)
c:check_one_leader()

-- the old leader returns: it must not disrupt the new one
c:connect(leader1)
local leader2 = c:check_one_leader()

-- two of three gone: no quorum, no leader
c:isolate(leader2)
c:isolate(peer(leader2, 1))
c:sleep(2 * ELECTION_TIMEOUT)
c:check_no_leader()
local lone = peer(leader2, 2)
assert(c:node(lone).role ~= "leader",
  string.format("node %d leads though it reaches no majority", lone))

-- a quorum again: a leader is elected
c:connect(peer(leader2, 1))
c:check_one_leader()

-- the last one back changes nothing
c:connect(leader2)
c:check_one_leader()
