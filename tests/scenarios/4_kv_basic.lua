-- 6.824 kvraft, TestBasic4A, re-expressed for termscope.
-- One client on five servers, reliable network, no snapshots: three rounds
-- of appends and gets on the client's own key; every get must return
-- exactly what was appended so far, and after each round every append
-- must be in the value once, in order.  No server may snapshot, and the
-- history must be linearizable.  (Rounds of 2 virtual s, not 5.)
-- seed: 1
require("lib.kvtest").generic{ nclients = 1, nservers = 5, secs = 2 }
