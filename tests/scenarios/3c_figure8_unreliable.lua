-- 6.824 Raft, TestFigure8Unreliable3C, re-expressed for termscope.
-- Five servers on the unreliable network; from iteration 200 on, with
-- labrpc's long reordering too (two in three replies held 200-2200 ms).
-- Over and over, a command is offered to every server, a short while
-- passes, and half the time the connected server that accepted it as
-- leader is cut off, leaving entries on only some followers; when fewer
-- than three servers are connected, a random one is let back.  The hub
-- fails the run if two servers ever apply different commands at one index
-- or a term has two leaders; at the end, all reconnected and the network
-- still unreliable, all five must agree on a new command within 10
-- virtual s.  Same 1000 iterations as the original (about 30 virtual s).
-- seed: 19
local ELECTION_TIMEOUT = 1.0
local N = 5
local ITERS = 1000
local c = ts.cluster{ kind = "raft", nodes = N }
local function rand_cmd() return tostring(math.random(0, 9999)) end

c:net("unreliable")

local connected = {}
for i = 1, N do connected[i] = true end

c:one(rand_cmd(), 1, true)

local nup = N
for iters = 0, ITERS - 1 do
  if iters == 200 then
    c:net{ unreliable = true, reorder = true }
  end

  local leader
  for i = 1, N do
    local _, _, ok = c:start(rand_cmd(), i)
    if ok and connected[i] then leader = i end
  end

  if math.random(0, 999) < 100 then
    c:sleep(math.random(0, math.floor(ELECTION_TIMEOUT * 1000 / 2) - 1) / 1000)
  else
    c:sleep(math.random(0, 12) / 1000)
  end

  if leader and math.random(0, 999) < math.floor(ELECTION_TIMEOUT * 1000) / 2 then
    c:isolate(leader)
    connected[leader] = false
    nup = nup - 1
  end

  if nup < 3 then
    local s = math.random(N)
    if not connected[s] then
      c:connect(s)
      connected[s] = true
      nup = nup + 1
    end
  end
end

for i = 1, N do
  if not connected[i] then
    c:connect(i)
    connected[i] = true
  end
end

c:one(rand_cmd(), N, true)
