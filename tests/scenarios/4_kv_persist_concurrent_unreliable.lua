-- 6.824 kvraft, TestPersistConcurrentUnreliable4A, re-expressed for termscope.
-- Five clients, five servers, the unreliable network, and after each of
-- three rounds every server killed and restarted from disk.  Every
-- client's appends must survive once each and in order (retries must not
-- duplicate them, before or after a restart), gets must be exact, no
-- snapshots, and the history linearizable.  (Rounds of 2 virtual s, not 5.)
-- seed: 8
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, crash = true, secs = 2 }
