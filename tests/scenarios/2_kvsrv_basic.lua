-- 6.824 Lab 2 (kvsrv, 2024), TestBasic2, re-expressed for termscope.
-- One client on the single server, reliable network: three rounds of 1 s
-- of appends and gets on its own key; every get must return exactly what
-- it appended so far, and after each round every append must be in the
-- value once, in order.  The history must be linearizable.
-- seed: 35
require("lib.kvtest").generic{ kind = "kvsrv", nclients = 1, secs = 1 }
