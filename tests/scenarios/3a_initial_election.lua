-- 6.824 Raft, TestInitialElection3A, re-expressed for termscope.
-- Three fresh servers must settle on exactly one leader within 5 virtual
-- seconds, in a term of at least 1, with every running server agreeing on
-- that term.  Then, with nothing failing for two election timeouts, the
-- term must stay put and there must still be one leader.  (The original
-- only warns when the term moves; on termscope's deterministic, loss-free
-- network a move would be a real fault, so here it fails the run.)
-- seed: 1
local ELECTION_TIMEOUT = 1.0   -- 6.824's RaftElectionTimeout, in virtual s

local c = ts.cluster{ kind = "raft", nodes = 3 }

c:check_one_leader()

-- give followers a moment to learn the leader's term
c:sleep(0.05)
local term1 = c:check_terms()
assert(term1 >= 1, string.format("term is %d, but should be at least 1", term1))

-- quiet network, no failures: nothing should change
c:sleep(2 * ELECTION_TIMEOUT)
local term2 = c:check_terms()
assert(term1 == term2, string.format("term moved from %d to %d with no failures", term1, term2))

c:check_one_leader()
