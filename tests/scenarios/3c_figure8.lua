-- 6.824 Raft, TestFigure83C, re-expressed for termscope.
-- Five servers, reliable network, the Figure 8 hazard: over and over, a
-- command is offered to every running server, a short while passes
-- (mostly under 13 ms, sometimes up to half an election timeout), and the
-- server that accepted it as leader is crashed (a real SIGKILL), so that
-- leaders keep dying with entries replicated to only some followers.
-- Whenever fewer than three servers run, a random one is restarted from
-- disk.  The hub fails the run if two servers ever apply different
-- commands at one index or a term has two leaders; at the end, with all
-- servers back, the cluster must still agree on a new command.
-- Same 1000 iterations as the original.
-- seed: 17
local ELECTION_TIMEOUT = 1.0
local N = 5
local ITERS = 1000
local c = ts.cluster{ kind = "raft", nodes = N }
local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end

-- which servers are running (6.824: rafts[i] ~= nil)
local alive = {}
for i = 1, N do alive[i] = true end
local function crash1(i) c:isolate(i) c:crash(i) alive[i] = false end
local function start1(i) c:isolate(i) c:restart(i) alive[i] = true end

c:one(rand_cmd(), 1, true)

local nup = N
for _ = 1, ITERS do
  local leader
  for i = 1, N do
    if alive[i] then
      local _, _, ok = c:start(rand_cmd(), i)
      if ok then leader = i end
    end
  end

  if math.random(0, 999) < 100 then
    c:sleep(math.random(0, math.floor(ELECTION_TIMEOUT * 1000 / 2) - 1) / 1000)
  else
    c:sleep(math.random(0, 12) / 1000)
  end

  if leader then
    crash1(leader)
    nup = nup - 1
  end

  if nup < 3 then
    local s = math.random(N)
    if not alive[s] then
      start1(s)
      c:connect(s)
      nup = nup + 1
    end
  end
end

for i = 1, N do
  if not alive[i] then
    start1(i)
    c:connect(i)
  end
end

c:one(rand_cmd(), N, true)
