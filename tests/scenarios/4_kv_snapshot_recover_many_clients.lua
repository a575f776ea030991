-- 6.824 kvraft, TestSnapshotRecoverManyClients4B, re-expressed for termscope.
-- Twenty clients, five servers, maxraftstate 1000 bytes, and after each of
-- three rounds every server killed and restarted from snapshot and log.
-- Every client's appends must survive once, in order; gets exact; the Raft
-- state at most 8 x maxraftstate; a linearizable history.  (Rounds of
-- 0.2 virtual s, not 5: twenty clients make many operations.)
-- seed: 13
require("lib.kvtest").generic{ nclients = 20, nservers = 5, crash = true, maxraftstate = 1000, secs = 0.2 }
