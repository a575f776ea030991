-- 6.824 kvraft, TestSnapshotRPC4B, re-expressed for termscope.
-- Three servers, maxraftstate 1000 bytes.  Does a server that falls
-- behind catch up through InstallSnapshot, and does the majority discard
-- committed log entries even when the minority does not answer?
--   * put a=A; cut server 3 off; 50 puts into the majority {1,2}, an
--     election timeout, put b=B: the Raft state of every server must be at
--     most 8 x maxraftstate;
--   * regroup as {1,3} | {2}: server 3 must catch up (its log was trimmed
--     away on 1: only a snapshot can bring it), puts c, d and gets of a,
--     b, 1, 49 through a clerk of {1,3} must see every value;
--   * everyone together: put e, gets of c, e, 1.
-- Also (termscope's own check): an InstallSnapshot was really sent to 3.
-- The history must be linearizable.
-- seed: 21
local kvtest = require("lib.kvtest")
local check = kvtest.check
local MAXRAFTSTATE = 1000
local c = ts.cluster{ kind = "kv", nodes = 3, maxraftstate = MAXRAFTSTATE }
local ck = kvtest.timed(c, c:client())

ck:put("a", "A")
check(c, ck, "a", "A")

-- a bunch of puts into the majority partition
c:partition({ 1, 2 }, { 3 })
do
  local ck1 = kvtest.timed(c, c:client{ reach = { 1, 2 } })
  for i = 0, 49 do ck1:put(tostring(i), tostring(i)) end
  c:sleep(kvtest.ELECTION_TIMEOUT)
  ck1:put("b", "B")
end

-- the majority has thrown away most of its log
local sz = kvtest.log_size(c)
assert(sz <= 8 * MAXRAFTSTATE, string.format("logs were not trimmed (%d > 8*%d)", sz, MAXRAFTSTATE))

-- now a group that needs the lagging server, so that it has to catch up
local t_regroup = c:time()
c:partition({ 1, 3 }, { 2 })
do
  local ck1 = kvtest.timed(c, c:client{ reach = { 1, 3 } })
  ck1:put("c", "C")
  ck1:put("d", "D")
  check(c, ck1, "a", "A")
  check(c, ck1, "b", "B")
  check(c, ck1, "1", "1")
  check(c, ck1, "49", "49")
end
local installs = 0
for _, e in ipairs(c:events_since(t_regroup, { "send" })) do
  if e.type == "InstallSnapshot" and e.to == 3 then installs = installs + 1 end
end
assert(installs > 0, "server 3 caught up without an InstallSnapshot")

-- now everybody
c:heal()
ck:put("e", "E")
check(c, ck, "c", "C")
check(c, ck, "e", "E")
check(c, ck, "1", "1")

kvtest.check_linearizable(c)
