-- 6.824 kvraft, TestConcurrent4A, re-expressed for termscope.
-- Five clients on five servers, reliable network, no snapshots: each
-- appends to and reads its own key; every get must return exactly what
-- that client appended so far, and after each of three rounds all its
-- appends must be in the value once, in order.  No server may snapshot;
-- the history must be linearizable.  (Rounds of 0.6 virtual s, not 5.)
-- seed: 2
require("lib.kvtest").generic{ nclients = 5, nservers = 5, secs = 0.6 }
