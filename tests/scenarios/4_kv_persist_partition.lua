-- 6.824 kvraft, TestPersistPartition4A, re-expressed for termscope.
-- Five clients, five servers, random two-way splits of the servers every
-- 1-1.2 s, and after each of three rounds a heal and every server killed
-- and restarted from disk.  Every append must survive once, in order; gets
-- exact; no snapshots; a linearizable history.  (Rounds of 0.5 s
-- before the partitioner starts and 1.2 s with it, not 1 s and 5 s.)
-- seed: 9
require("lib.kvtest").generic{ nclients = 5, nservers = 5, crash = true, partitions = true, calm = 0.5, secs = 1.2 }
