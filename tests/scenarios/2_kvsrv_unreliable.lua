-- 6.824 Lab 2 (kvsrv, 2024), TestUnreliable2, re-expressed for termscope.
-- As 2_kvsrv_concurrent on the unreliable network: lost requests and
-- replies make the clerks retry, and the server's duplicate table must
-- apply each append once.  Gets exact, every append present once and in
-- order after each of three rounds of 1 s, a linearizable history.
-- seed: 37
require("lib.kvtest").generic{ kind = "kvsrv", nclients = 5, unreliable = true, secs = 1 }
