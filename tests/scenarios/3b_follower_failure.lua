-- 6.824 Raft, TestFollowerFailure3B, re-expressed for termscope.
-- Three servers.  With one follower cut off, the other two keep agreeing
-- (before and after an election timeout).  With the leader's two
-- followers cut off, the leader still accepts a command at index 4, but
-- after two election timeouts no server may have applied it: nothing
-- commits without a majority.
-- seed: 6
local ELECTION_TIMEOUT = 1.0
local N = 3
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end

c:one("101", N, false)

-- one follower gone: two of three still agree
local leader1 = c:check_one_leader()
c:isolate(peer(leader1, 1))
c:one("102", N - 1, false)
c:sleep(ELECTION_TIMEOUT)
c:one("103", N - 1, false)

-- both followers gone
local leader2 = c:check_one_leader()
c:isolate(peer(leader2, 1))
c:isolate(peer(leader2, 2))

local index, _, ok = c:start("104", leader2)
assert(ok, "the leader rejected the command")
assert(index == 4, string.format("expected index 4, got %d", index))

c:sleep(2 * ELECTION_TIMEOUT)
local n = c:committed(index)
assert(n == 0, string.format("%d servers applied index %d with no majority", n, index))
