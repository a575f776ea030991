-- 6.824 Raft, TestUnreliableChurn3C, re-expressed for termscope.
-- The churn test of 3c_reliable_churn.lua on the labrpc-like unreliable
-- network (0-26 ms delays, 10% of messages lost) until the repair: five
-- servers, three concurrent clients (ts.go), 20 rounds of random cuts,
-- reconnections, restarts from disk and crashes, then a repair.  Every
-- client must have seen a command of its own applied, all five servers
-- must agree on a new command and hold the whole log up to it, and every
-- command a client saw applied must be in that log.
-- seed: 21
require("lib.churn")(true)
