-- demo.lua — what `termscope` shows until you pick something else: five
-- Raft servers elect a leader, lose it to a network cut, elect another,
-- replicate a command, and take the old leader back.
local c = ts.cluster{ kind = "raft", nodes = 5 }

local l = c:wait_leader(5)
print(string.format("%6.3fs  node %d is leader in term %d", c:time(), l, c:node(l).term))

c:isolate(l)
print(string.format("%6.3fs  node %d is cut off from the others", c:time(), l))

local l2 = c:wait_leader(5)
print(string.format("%6.3fs  node %d is leader in term %d (the old leader still thinks it leads term %d)",
  c:time(), l2, c:node(l2).term, c:node(l).term))

local i = c:start("x=1")
c:wait_committed(i, 4, 5)
print(string.format("%6.3fs  \"x=1\" is committed at index %d on the 4 connected nodes", c:time(), i))

c:connect(l)
c:wait(function() return c:node(l).role == "follower" end, 5, "the old leader to step down")
c:wait_committed(i, 5, 5)
print(string.format("%6.3fs  node %d is back: a follower in term %d, with \"x=1\" applied too",
  c:time(), l, c:node(l).term))
