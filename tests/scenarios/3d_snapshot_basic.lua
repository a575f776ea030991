-- 6.824 Raft, TestSnapshotBasic3D, re-expressed for termscope.
-- Three servers that snapshot every 10 applied entries, no faults: 30
-- rounds of 5-14 commands submitted at the leader (every third round at
-- a follower, which refuses them) and one more agreed by all three, so
-- every follower keeps up.  The servers must compact their logs (the
-- persisted Raft state stays under 2000 bytes; termscope's own check:
-- they did take snapshots) while every server applies every command in
-- order (the hub checks each apply).
-- seed: 51
local c = require("lib.snapshot3d"){ disconnect = false, reliable = true, crash = false }
local snaps = 0
for i = 1, c:size() do snaps = snaps + c:node(i).snapshots end
assert(snaps > 0, "no server took a snapshot")
