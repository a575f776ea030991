-- 6.824 Raft, TestSnapshotInstallCrash3D, re-expressed for termscope.
-- Three servers that snapshot every 10 applied entries.  30 rounds: a
-- victim is killed (SIGKILL) while the other two agree and snapshot, then
-- restarted from its data directory (its own snapshot and log tail) and
-- must catch up: a command agreed by all three.  The persisted Raft state
-- stays under 2000 bytes.  termscope's own check: InstallSnapshot was sent.
-- seed: 54
local _, installs = require("lib.snapshot3d"){ disconnect = false, reliable = true, crash = true }
assert(installs > 0, "no InstallSnapshot was sent to a server catching up")
