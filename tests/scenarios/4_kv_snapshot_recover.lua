-- 6.824 kvraft, TestSnapshotRecover4B, re-expressed for termscope.
-- One client, five servers, maxraftstate 1000 bytes: servers snapshot and
-- trim their logs; after each of three rounds every server is killed and
-- restarted, recovering from snapshot plus log tail.  Appends must all
-- survive once, in order; gets exact; the persisted Raft state at most 8 x
-- maxraftstate; a linearizable history.  (Rounds of 2 virtual s, not 5.)
-- seed: 12
require("lib.kvtest").generic{ nclients = 1, nservers = 5, crash = true, maxraftstate = 1000, secs = 2 }
