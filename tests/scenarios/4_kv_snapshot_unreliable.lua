-- 6.824 kvraft, TestSnapshotUnreliable4B, re-expressed for termscope.
-- Five clients, five servers, maxraftstate 1000 bytes, the unreliable
-- network: retries must not duplicate appends across snapshots (the
-- duplicate table must be in the snapshot).  Every append present once,
-- in order; gets exact; Raft state at most 8 x maxraftstate; a
-- linearizable history.  (Rounds of 2 virtual s, not 5.)
-- seed: 14
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, maxraftstate = 1000, secs = 2 }
