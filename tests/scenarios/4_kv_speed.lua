-- 6.824 kvraft, TestSpeed4A, re-expressed for termscope.
-- One client, three servers, no faults: after a first get (a leader is
-- elected and serving), 1000 appends one after the other, then one get
-- whose value must hold all 1000 appends once each, in order.  The lab
-- requires at least 3 operations per 100 ms heartbeat interval of real
-- time; here the same bound is on virtual time: a server must not wait
-- for the next heartbeat to replicate or commit.  History linearizable.
-- seed: 18
require("lib.kvtest").speed{ nops = 1000 }
