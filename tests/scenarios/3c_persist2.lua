-- 6.824 Raft, TestPersist23C, re-expressed for termscope.
-- Five servers, five rounds.  Each round: agree on a command with all
-- five; cut off two followers and agree with the remaining three; cut off
-- the other three too, crash-restart the first two (from disk) and let
-- them back, wait an election timeout, crash-restart and reconnect a third,
-- and agree with those three -- which only works if the restarted servers
-- kept what they had accepted; then reconnect the last two.  Finally all
-- five agree on one more command.
-- seed: 15
local ELECTION_TIMEOUT = 1.0
local N = 5
local c = ts.cluster{ kind = "raft", nodes = N }
local function peer(l, k) return (l - 1 + k) % N + 1 end
local function start1(i) c:isolate(i) c:restart(i) end

local index = 1
for _ = 1, 5 do
  c:one(tostring(10 + index), N, true)
  index = index + 1

  local leader1 = c:check_one_leader()

  c:isolate(peer(leader1, 1))
  c:isolate(peer(leader1, 2))

  c:one(tostring(10 + index), N - 2, true)
  index = index + 1

  c:isolate(peer(leader1, 0))
  c:isolate(peer(leader1, 3))
  c:isolate(peer(leader1, 4))

  start1(peer(leader1, 1))
  start1(peer(leader1, 2))
  c:connect(peer(leader1, 1))
  c:connect(peer(leader1, 2))

  c:sleep(ELECTION_TIMEOUT)

  start1(peer(leader1, 3))
  c:connect(peer(leader1, 3))

  c:one(tostring(10 + index), N - 2, true)
  index = index + 1

  c:connect(peer(leader1, 4))
  c:connect(peer(leader1, 0))
end

c:one("1000", N, true)
