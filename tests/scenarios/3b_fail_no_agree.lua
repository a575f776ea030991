-- 6.824 Raft, TestFailNoAgree3B, re-expressed for termscope.
-- Five servers.  With three of the four followers cut off, the leader
-- takes a command at index 2 but nobody may apply it within two election
-- timeouts.  When the three return, a leader (old or new) takes the next
-- command at index 2 or 3, and the cluster then agrees on a further one.
-- seed: 9
local ELECTION_TIMEOUT = 1.0
local N = 5
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end

c:one("10", N, false)

-- three of five cut off: the leader is in the minority
local leader = c:check_one_leader()
c:isolate(peer(leader, 1))
c:isolate(peer(leader, 2))
c:isolate(peer(leader, 3))

local index, _, ok = c:start("20", leader)
assert(ok, "the leader rejected the command")
assert(index == 2, string.format("expected index 2, got %d", index))

c:sleep(2 * ELECTION_TIMEOUT)
local n = c:committed(index)
assert(n == 0, string.format("%d servers applied index %d with no majority", n, index))

-- repair
c:connect(peer(leader, 1))
c:connect(peer(leader, 2))
c:connect(peer(leader, 3))

-- whoever leads now may or may not have "20" in its log
local leader2 = c:check_one_leader()
local index2, _, ok2 = c:start("30", leader2)
assert(ok2, "the leader rejected the command")
assert(index2 >= 2 and index2 <= 3, string.format("unexpected index %d", index2))

c:one("1000", N, true)
