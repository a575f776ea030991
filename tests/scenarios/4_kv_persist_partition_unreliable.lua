-- 6.824 kvraft, TestPersistPartitionUnreliable4A, re-expressed for termscope.
-- 4_kv_persist_partition on the unreliable network: five clients, five
-- servers, random splits, lost and reordered messages, every server killed
-- and restarted after each of three rounds.  Every append must survive
-- once, in order; gets exact; no snapshots; a linearizable history.
-- (Rounds of 2 virtual s, not 5.)
-- seed: 10
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, crash = true, partitions = true, secs = 2 }
