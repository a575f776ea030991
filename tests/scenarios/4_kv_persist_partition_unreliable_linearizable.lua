-- 6.824 kvraft, TestPersistPartitionUnreliableLinearizable4A, re-expressed
-- for termscope.  Fifteen clients on seven servers, random keys (appends,
-- some puts and gets on any client's key), the unreliable network, random
-- splits, and every server killed and restarted after each of three
-- rounds.  With random keys nothing can be checked per client: the whole
-- history must be linearizable.  No snapshots.  (Rounds of 2 virtual s,
-- not 5.)
-- seed: 11
require("lib.kvtest").generic{ nclients = 15, nservers = 7, unreliable = true, crash = true, partitions = true, randomkeys = true, secs = 2 }
