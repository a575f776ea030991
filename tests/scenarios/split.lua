-- seed: 3
-- The README's first example: a leader cut off is replaced in a higher
-- term, the majority commits without it, and it steps down on its return.
local c = ts.cluster{ kind = "raft", nodes = 5 }
local l = c:wait_leader(5)
c:isolate(l)
local l2 = c:wait_leader(5)
assert(l2 ~= l and c:node(l2).term > c:node(l).term)
local i = c:start("x=1")
c:wait_committed(i, 4, 5)
c:connect(l)
c:wait(function() return c:node(l).role == "follower" end, 5, "old leader steps down")
