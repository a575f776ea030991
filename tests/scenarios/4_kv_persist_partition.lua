-- 6.824 kvraft, TestPersistPartition4A, re-expressed for termscope.
-- Five clients, five servers, random two-way splits of the servers every
-- 1-1.2 s, and after each of three rounds a heal and every server killed
-- and restarted from disk.  Every append must survive once, in order; gets
-- exact; no snapshots; a linearizable history.  (Rounds of 1 virtual s,
-- not 5.)
-- seed: 9
require("lib.kvtest").generic{ nclients = 5, nservers = 5, crash = true, partitions = true, secs = 1 }
