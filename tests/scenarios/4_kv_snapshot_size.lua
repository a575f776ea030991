-- 6.824 kvraft, TestSnapshotSize4B, re-expressed for termscope.
-- Three servers, maxraftstate 1000 bytes, one client: 200 rounds of
-- put x=0, get x, put x=1, get x, each get exact.  Afterwards every
-- server's persisted Raft state must be at most 8 x maxraftstate (the log
-- was trimmed) and every snapshot at most 500 bytes (a generous bound for
-- one key and one client's duplicate record).  The history must be
-- linearizable.
-- seed: 22
local kvtest = require("lib.kvtest")
local check = kvtest.check
local MAXRAFTSTATE, MAXSNAPSHOTSTATE = 1000, 500
local c = ts.cluster{ kind = "kv", nodes = 3, maxraftstate = MAXRAFTSTATE }
local ck = kvtest.timed(c, c:client())

for _ = 1, 200 do
  ck:put("x", "0")
  check(c, ck, "x", "0")
  ck:put("x", "1")
  check(c, ck, "x", "1")
end

-- the servers have thrown away most of their logs
local sz = kvtest.log_size(c)
assert(sz <= 8 * MAXRAFTSTATE, string.format("logs were not trimmed (%d > 8*%d)", sz, MAXRAFTSTATE))

-- and the snapshots are not unreasonably large
local ssz = kvtest.snapshot_size(c)
assert(ssz > 0, "no server took a snapshot")
assert(ssz <= MAXSNAPSHOTSTATE, string.format("snapshot too large (%d > %d)", ssz, MAXSNAPSHOTSTATE))

kvtest.check_linearizable(c)
