-- seed: 21
-- The hub's network model, seen from the events: one-way cuts, partitions
-- into groups, a paused node whose messages wait for it, and the reason
-- recorded with every dropped message.
local c = ts.cluster{ kind = "raft", nodes = 5 }
local l = c:wait_leader(5)
local function count(filter) return #c:events(filter) end

-- a one-way cut: the leader's messages to f are dropped, f's replies are not
local f = l % 5 + 1
local before = count{ ev = "drop", why = "partition" }
c:cut(l, f)
c:sleep(0.25)  -- under the 300 ms minimum election timeout: f cannot time out yet
assert(count{ ev = "drop", why = "partition" } > before, "the cut drops the leader's heartbeats to f")
-- f hears nothing, times out, and its higher term unseats the leader
c:wait(function() return c:node(f).term > c:node(l).term or c:node(l).role ~= "leader" end,
  5, "the cut-off follower to disturb the leader")
c:heal()
l = c:wait_leader(5)

-- a partition into a majority and a minority
local order = {}
for i = 1, 5 do if i ~= l then order[#order + 1] = i end end
c:partition({ l, order[1] }, { order[2], order[3], order[4] })
local l2 = c:wait_leader(5)
assert(l2 == order[2] or l2 == order[3] or l2 == order[4], "the majority side elects")
local index, _, ok = c:start("minority", l)
assert(ok, "the old leader still accepts commands")
c:sleep(2)
assert(c:committed(index) == 0, "no commit without a majority")
c:heal()
c:wait(function() return c:node(l).role == "follower" end, 5, "the old leader steps down")
c:one("after-heal", 5, true)

-- pause: the node gets nothing and does not wake; what was sent waits
l = c:wait_leader(5)
local p = l % 5 + 1
local p_term = c:node(p).term
c:pause(p)
assert(c:node(p).status == "paused")
local i2 = c:one("while-paused", 4, false)
c:sleep(3)
assert(c:node(p).term == p_term and c:node(p).log_len < i2, "a paused node does nothing")
assert(count{ ev = "drop", why = "paused" } == 0, "nothing sent to a paused node is dropped")
c:resume(p)
c:wait_committed(i2, 5, 5)
assert(c:node(p).term == c:node(l).term, "it caught up without an election")

-- crashed receivers: drops say so
c:crash(p)
c:sleep(0.5)
assert(count{ ev = "drop", why = "crashed" } > 0, "messages to a crashed node are dropped as such")
c:restart(p)
c:one("done", 5, true)

-- bad arguments are clear errors
local okp, err = pcall(c.partition, c, { 1, 2 }, { 2, 3 })
assert(not okp and err:find("node 2 is in two groups"), err)
okp, err = pcall(c.net, c, { drop = 2 })
assert(not okp and err:find("probability"), err)
okp, err = pcall(c.net, c, { colour = 1 })
assert(not okp and err:find("unknown option 'colour'"), err)
okp, err = pcall(c.cut, c, 1, 1)
assert(not okp and err:find("cannot be cut from itself"), err)
