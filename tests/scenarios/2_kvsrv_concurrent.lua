-- 6.824 Lab 2 (kvsrv, 2024), TestConcurrent2, re-expressed for termscope.
-- Five clients on the single server, reliable network, three rounds of
-- 1 s: each appends to and reads its own key; gets exact, every append
-- present once and in order after each round, a linearizable history.
-- seed: 36
require("lib.kvtest").generic{ kind = "kvsrv", nclients = 5, secs = 1 }
