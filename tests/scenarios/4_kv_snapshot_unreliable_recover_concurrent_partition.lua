-- 6.824 kvraft, TestSnapshotUnreliableRecoverConcurrentPartition4B,
-- re-expressed for termscope.  Five clients, five servers, maxraftstate
-- 1000, the unreliable network, random splits every 1-1.2 s, and every
-- server killed and restarted after each of three rounds.  Every append
-- present once, in order; gets exact; Raft state at most 8 x
-- maxraftstate; a linearizable history.  (Rounds of 2 virtual s, not 5.)
-- seed: 16
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, crash = true, partitions = true, maxraftstate = 1000, secs = 2 }
