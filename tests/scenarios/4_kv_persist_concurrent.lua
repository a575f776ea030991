-- 6.824 kvraft, TestPersistConcurrent4A, re-expressed for termscope.
-- As 4_kv_persist_one_client with five clients: after each of three
-- rounds all five servers are killed and restarted from disk; every
-- client's appends must survive once each and in order, gets must be
-- exact, no server may snapshot, and the history must be linearizable.
-- (Rounds of 0.6 virtual s, not 5.)
-- seed: 7
require("lib.kvtest").generic{ nclients = 5, nservers = 5, crash = true, secs = 0.6 }
