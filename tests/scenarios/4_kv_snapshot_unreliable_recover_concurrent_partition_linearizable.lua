-- 6.824 kvraft,
-- TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B,
-- re-expressed for termscope.  Fifteen clients on seven servers with
-- random keys, maxraftstate 1000, the unreliable network, random splits,
-- every server killed and restarted after each of three rounds.  The Raft
-- state must stay under 8 x maxraftstate and the whole history must be
-- linearizable.  (Rounds of 2 virtual s, not 5.)
-- seed: 17
require("lib.kvtest").generic{ nclients = 15, nservers = 7, unreliable = true, crash = true, partitions = true, maxraftstate = 1000, randomkeys = true, secs = 2 }
