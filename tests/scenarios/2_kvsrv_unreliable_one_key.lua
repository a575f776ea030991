-- 6.824 Lab 2 (kvsrv, 2024), TestUnreliableOneKey2, re-expressed for
-- termscope.  The unreliable network; after a put of "" to key "k", ten
-- clients each append ten values "x me n y" to it at the same time.  The
-- final value must hold all hundred, each exactly once, each client's in
-- its order, and the history must be linearizable.
-- The lab's Append returned the old value, which had to lack the new one;
-- here appends return nothing, so each client reads the key after each
-- append and must find its value there.  Those reads also let the checker
-- decide (the lab checks no history here): with one read at the end, a
-- hundred racing appends leave it too many orders to try.  For the same
-- reason the clients start 3 ms apart: ten appends called at the same
-- instant have 10! orders to tell apart before the first read returns.
-- seed: 38
local kvtest = require("lib.kvtest")
local NCLIENT, UPTO = 10, 10
local c = ts.cluster{ kind = "kvsrv" }
c:net("unreliable")
local ck = kvtest.timed(c, c:client())

kvtest.one_key(c, ck, NCLIENT, UPTO, 0.003)
