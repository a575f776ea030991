-- 6.824 kvraft, TestOnePartition4A, re-expressed for termscope.
-- Five servers.  The servers are split so that the leader ends up in the
-- minority (two servers) and three form the majority; one clerk can reach
-- only the majority, two only the minority.
--   progress in majority: a put through the majority clerk completes and
--     a get there sees it;
--   no progress in minority: a put and a get through the two minority
--     clerks (in tasks) must not complete within 1 s, while the majority
--     clerk still reads "14", puts "16" and reads it back;
--   completion after heal: the network and the clerks are reconnected;
--     after an election timeout the minority put must be done within 3 s
--     (the get too, if it is done: the lab only checks it if so), and the
--     value must then be the minority put's "15".
-- The history must be linearizable.
-- seed: 20
local kvtest = require("lib.kvtest")
local ELECTION_TIMEOUT = kvtest.ELECTION_TIMEOUT
local N = 5
local c = ts.cluster{ kind = "kv", nodes = N }
local ck = kvtest.timed(c, c:client())

ck:put("1", "13")

-- progress in majority.  6.824's make_partition puts the leader in the
-- minority: p1 the majority, p2 the leader and one more.
local leader = c:wait_leader(5)
local p1, p2 = {}, { leader }
for i = 1, N do
  if i ~= leader then
    if #p2 < 2 then p2[#p2 + 1] = i else p1[#p1 + 1] = i end
  end
end
c:partition(p1, p2)

local ckp1 = kvtest.timed(c, c:client{ reach = p1 })
local ckp2a = c:client{ reach = p2 }
local ckp2b = c:client{ reach = p2 }

ckp1:put("1", "14")
kvtest.check(c, ckp1, "1", "14")

-- no progress in minority
local done0 = ts.go(function() ckp2a:put("1", "15") end)
local done1 = ts.go(function() return ckp2b:get("1") end)   -- a different clerk in p2

c:sleep(1)
assert(not done0:done(), "Put in minority completed")
assert(not done1:done(), "Get in minority completed")

kvtest.check(c, ckp1, "1", "14")
ckp1:put("1", "16")
kvtest.check(c, ckp1, "1", "16")

-- completion after heal
c:heal()
ckp2a:reach(nil)
ckp2b:reach(nil)

c:sleep(ELECTION_TIMEOUT)

local ok, err = pcall(done0.wait, done0, 3, c)
if not ok then error(done0:done() and err or "Put did not complete", 0) end
if done1:done() then done1:wait() end   -- the lab looks at the get only if it is done

kvtest.check(c, ck, "1", "15")

kvtest.check_linearizable(c)
