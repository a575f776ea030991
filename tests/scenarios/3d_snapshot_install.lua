-- 6.824 Raft, TestSnapshotInstall3D, re-expressed for termscope.
-- Three servers that snapshot every 10 applied entries.  30 rounds: a
-- victim (a follower, or every third round the leader) is cut off while
-- the other two agree on 7-16 commands, often enough to snapshot past
-- what the victim has; reconnected, it must catch up (a command agreed by
-- all three), which then needs an InstallSnapshot.  The persisted Raft
-- state stays under 2000 bytes.  termscope's own check: InstallSnapshot
-- was sent.
-- seed: 52
local _, installs = require("lib.snapshot3d"){ disconnect = true, reliable = true, crash = false }
assert(installs > 0, "no InstallSnapshot was sent to a server catching up")
