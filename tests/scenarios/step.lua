-- seed: 4
-- c:step(): time stands still and each call runs exactly the next instant:
-- every event it causes carries that one virtual time, later than the
-- last, and nothing that was due later has run.
local c = ts.cluster{ kind = "raft", nodes = 3 }
c:wait_leader(5)
local function count() return #c:events() end
local last = c:time()
for _ = 1, 30 do
  local n0 = count()
  assert(c:step(), "there is always a next heartbeat")
  local evs = c:events()
  local t = evs[#evs].t
  assert(t > math.floor(last * 1000 + 0.5) - 1, "time went forward")
  assert(#evs > n0, "the instant did something")
  for k = n0 + 1, #evs do
    assert(evs[k].t == t, string.format("event %d of this step is at %d, not %d", k, evs[k].t, t))
  end
  last = t / 1000
end
-- what a lesson does: step through an election instant by instant
local l = c:leader()
c:isolate(l)
local steps = 0
while c:leader() == nil or c:leader() == l do
  assert(c:step())
  steps = steps + 1
  assert(steps < 2000, "a new leader within 2000 instants")
end
assert(c:node(c:leader()).term > c:node(l).term)
