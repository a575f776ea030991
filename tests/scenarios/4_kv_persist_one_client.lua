-- 6.824 kvraft, TestPersistOneClient4A, re-expressed for termscope.
-- One client, five servers; after each of three rounds every server is
-- killed (SIGKILL) and restarted from its data directory, so the table
-- must be rebuilt from the persisted Raft log.  The client's appends must
-- all survive, once each and in order; gets exact; no snapshots; the
-- history linearizable.  (Rounds of 2 virtual s, not 5.)
-- seed: 6
require("lib.kvtest").generic{ nclients = 1, nservers = 5, crash = true, secs = 2 }
