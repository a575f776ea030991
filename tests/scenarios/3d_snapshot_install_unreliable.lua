-- 6.824 Raft, TestSnapshotInstallUnreliable3D, re-expressed for termscope.
-- 3d_snapshot_install on the unreliable network (10% of messages lost,
-- 0-26 ms delays): 30 rounds of cutting off a victim while the others
-- agree and snapshot, then reconnecting it; it must catch up, through
-- InstallSnapshot (which may itself be lost and must be resent).  The
-- persisted Raft state stays under 2000 bytes.
-- seed: 53
local _, installs = require("lib.snapshot3d"){ disconnect = true, reliable = false, crash = false }
assert(installs > 0, "no InstallSnapshot was sent to a server catching up")
