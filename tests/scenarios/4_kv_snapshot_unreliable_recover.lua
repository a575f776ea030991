-- 6.824 kvraft, TestSnapshotUnreliableRecover4B, re-expressed for termscope.
-- 4_kv_snapshot_unreliable plus, after each of three rounds, every server
-- killed and restarted from its snapshot and log tail.  Every append
-- present once, in order; gets exact; Raft state at most 8 x
-- maxraftstate; a linearizable history.  (Rounds of 2 virtual s, not 5.)
-- seed: 15
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, crash = true, maxraftstate = 1000, secs = 2 }
