-- 6.824 Raft, TestSnapshotInstallUnCrash3D, re-expressed for termscope.
-- 3d_snapshot_install_crash on the unreliable network: 30 rounds of
-- killing a victim while the other two agree and snapshot, restarting it
-- from disk, and requiring it to catch up with messages lost and
-- delayed.  The persisted Raft state stays under 2000 bytes.
-- seed: 55
local _, installs = require("lib.snapshot3d"){ disconnect = false, reliable = false, crash = true }
assert(installs > 0, "no InstallSnapshot was sent to a server catching up")
