-- 6.824 kvraft, TestUnreliableOneKey4A, re-expressed for termscope.
-- Three servers, the unreliable network.  After a put of "" to key "k",
-- five clients each append ten values "x me n y" to that one key at the
-- same time.  The final value must hold all fifty appends, each exactly
-- once (lost replies make clerks retry: the servers must not apply a
-- retry twice) and each client's in the order it made them.  The history
-- must be linearizable.  Unlike the lab (which checks no history here),
-- each client reads the key back after every append and must find its
-- value there: fifty appends racing on one key with only one read at the
-- end leave the checker too many orders to try (it gives up, "unknown"),
-- while the reads pin the order as it goes.
-- seed: 19
local kvtest = require("lib.kvtest")
local NCLIENT, UPTO = 5, 10
local c = ts.cluster{ kind = "kv", nodes = 3 }
c:net("unreliable")
local ck = kvtest.timed(c, c:client())

kvtest.one_key(c, ck, NCLIENT, UPTO)
