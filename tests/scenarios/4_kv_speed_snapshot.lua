-- 6.824 kvraft, TestSpeed4B, re-expressed for termscope.
-- 4_kv_speed with snapshots (maxraftstate 1000 bytes): 1000 appends one
-- after the other on three servers must still take less than a third of
-- a 100 ms heartbeat interval each (in virtual time), snapshotting as
-- they go; the value must hold all of them once, in order, and the
-- history must be linearizable.
-- seed: 23
require("lib.kvtest").speed{ nops = 1000, maxraftstate = 1000 }
