-- snapshot3d.lua — the body of the 6.824 Raft 3D snapshot tests
-- (snapcommon in raft/test_test.go): 3d_snapshot_basic.lua,
-- 3d_snapshot_install*.lua.  require("lib.snapshot3d"){ disconnect =,
-- reliable =, crash = } runs it; it returns the cluster.
--
-- Three servers of kind raft that snapshot every 10 applied entries (the
-- lab's SnapShotInterval).  30 rounds: a victim (a follower, or every
-- third round the leader) is cut off or crashed while the others agree;
-- then 5-14 commands go to a sender (the leader, or in the leader-victim
-- rounds a follower, where Start may just refuse), maybe enough for a
-- snapshot, and one more must be agreed; the persisted Raft state must
-- stay under MAXLOGSIZE (2000 bytes); the victim comes back (reconnected,
-- or restarted from its data directory) and must catch up: a command
-- agreed by all three.  A victim that fell behind a snapshot can only
-- catch up through InstallSnapshot.  Returns the cluster and how many
-- InstallSnapshot messages were sent to victims while they caught up.
return function(o)
  local SNAPSHOT_INTERVAL = 10
  local MAXLOGSIZE = 2000
  local ITERS, SERVERS = o.iters or 30, 3
  local c = ts.cluster{ kind = "raft", nodes = SERVERS, snapshot = SNAPSHOT_INTERVAL }
  if not o.reliable then c:net("unreliable") end
  local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end
  local function peer(l) return l % SERVERS + 1 end
  -- 6.824's crash1 also disconnects; start1 restarts still disconnected
  local function crash1(i) c:isolate(i) c:crash(i) end
  local function start1(i) c:isolate(i) c:restart(i) end
  local function log_size()
    local m = 0
    for i = 1, SERVERS do m = math.max(m, c:node(i).raft_bytes) end
    return m
  end

  -- InstallSnapshot messages sent to node `to` since virtual time t (s)
  local function installs_since(t, to)
    local n = 0
    for _, e in ipairs(c:events_since(t, { "send" })) do
      if e.type == "InstallSnapshot" and e.to == to then n = n + 1 end
    end
    return n
  end
  local installs = 0

  c:one(rand_cmd(), SERVERS, true)
  local leader1 = c:check_one_leader()

  for i = 0, ITERS - 1 do
    local victim, sender = peer(leader1), leader1
    if i % 3 == 1 then
      sender, victim = peer(leader1), leader1
    end

    if o.disconnect then
      c:isolate(victim)
      c:one(rand_cmd(), SERVERS - 1, true)
    end
    if o.crash then
      crash1(victim)
      c:one(rand_cmd(), SERVERS - 1, true)
    end

    -- perhaps send enough to get a snapshot
    local nn = SNAPSHOT_INTERVAL // 2 + math.random(0, SNAPSHOT_INTERVAL - 1)
    for _ = 1, nn do c:start(rand_cmd(), sender) end

    -- let the appliers catch up with the Starts
    if not o.disconnect and not o.crash then
      -- all followers caught up, so no InstallSnapshot is needed (Basic)
      c:one(rand_cmd(), SERVERS, true)
    else
      c:one(rand_cmd(), SERVERS - 1, true)
    end

    local sz = log_size()
    if sz >= MAXLOGSIZE then error(string.format("Log size too large (%d >= %d bytes)", sz, MAXLOGSIZE), 0) end

    local back = c:time()
    if o.disconnect then
      -- reconnect a follower, who may be behind and need a snapshot
      c:connect(victim)
      c:one(rand_cmd(), SERVERS, true)
      leader1 = c:check_one_leader()
    end
    if o.crash then
      start1(victim)
      c:connect(victim)
      c:one(rand_cmd(), SERVERS, true)
      leader1 = c:check_one_leader()
    end
    if o.disconnect or o.crash then installs = installs + installs_since(back, victim) end
  end
  return c, installs
end
