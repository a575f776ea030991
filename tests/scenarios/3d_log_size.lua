-- 6.824 Raft 3D's log-size bound (snapcommon's MAXLOGSIZE check), shown
-- on its own.  Three servers agree on 200 commands.  With a snapshot
-- every 10 applied entries the persisted Raft state (term, vote and the
-- log after the snapshot: 6.824's RaftStateSize) must stay under 2000
-- bytes after every command; without snapshots the same 200 commands must
-- take it past 2000 bytes (so the bound means something).
-- seed: 58
local MAXLOGSIZE = 2000
local N, CMDS = 3, 200
local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end
local function log_size(c)
  local m = 0
  for i = 1, N do m = math.max(m, c:node(i).raft_bytes) end
  return m
end

local c = ts.cluster{ kind = "raft", nodes = N, snapshot = 10 }
for k = 1, CMDS do
  c:one(rand_cmd(), N, true)
  local sz = log_size(c)
  assert(sz < MAXLOGSIZE, string.format("Log size too large after %d commands (%d >= %d bytes)", k, sz, MAXLOGSIZE))
end
c:stop()

local plain = ts.cluster{ kind = "raft", nodes = N }
for _ = 1, CMDS do plain:one(rand_cmd(), N, true) end
local sz = log_size(plain)
assert(sz >= MAXLOGSIZE, string.format("without snapshots %d commands take only %d bytes: the bound tests nothing", CMDS, sz))
