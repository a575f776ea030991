-- 6.824 kvraft, TestUnreliable4A, re-expressed for termscope.
-- As 4_kv_concurrent (five clients, five servers, three rounds, each
-- client's appends checked in order and gets exact) on the 6.824
-- unreliable network: requests and replies lost, delayed and reordered,
-- so clerks retry and servers must apply each append once.  No snapshots;
-- the history must be linearizable.  (Rounds of 2 virtual s, not 5.)
-- seed: 3
require("lib.kvtest").generic{ nclients = 5, nservers = 5, unreliable = true, secs = 2 }
