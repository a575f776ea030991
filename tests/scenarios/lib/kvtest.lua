-- kvtest.lua — the shared body of the key/value scenarios (2_kvsrv_*,
-- 4_kv_*): 6.824's GenericTest (kvraft/test_test.go, and kvsrv's of 2024)
-- with its append checks, its partitioner and its speed test, and the
-- Lab 2 lock test.
--
--   local kvtest = require("lib.kvtest")
--   kvtest.generic{ nclients = 5, nservers = 5, unreliable = true,
--                   crash = true, partitions = true, maxraftstate = 1000,
--                   randomkeys = false, iters = 3, secs = 5 }
--
-- Differences from the lab, all forced by the scale or by the API:
--   * `secs` (how long the clients run in each of the 3 iterations) is
--     given by each scenario, smaller than the lab's 5 s, to keep the suite
--     within its wall-clock budget; everything runs in virtual time.  So
--     that short rounds are not spent electing a leader, each starts once
--     there is one.
--   * Appends return nothing here (the 2024 kvsrv Append returned the old
--     value), so the kvsrv checks on that return are left to the
--     linearizability check, which sees every operation.
--   * `calm` (default the lab's 1 s) is how long the clients run before
--     the partitioner starts.
--   * maxraftstate nil means no snapshots (the lab's -1): then no server
--     may have a snapshot.
--
-- KVTEST_VERBOSE=1 in the environment prints one line at the end: how
-- much the clients did, the virtual time, the checker's verdict.
local M = {}

M.ELECTION_TIMEOUT = 1.0   -- the lab's generous electionTimeout (virtual s)

local function fail(fmt, ...) error(string.format(fmt, ...), 2) end   -- at the check

--- "x <clnt> <j> y": the j-th value client clnt appends.
function M.elem(clnt, j) return "x " .. clnt .. " " .. j .. " y" end

-- The lab's check of one client's appends in v: each present once, in order.
local function check_appends(clnt, v, count)
  local lastoff = -1
  for j = 0, count - 1 do
    local wanted = M.elem(clnt, j)
    local off = v:find(wanted, 1, true)
    if not off then fail("%d missing element %s in Append result %s", clnt, wanted, v) end
    if v:find(wanted, off + 1, true) then fail("duplicate element %s in Append result", wanted) end
    if off <= lastoff then fail("wrong order for element %s in Append result", wanted) end
    lastoff = off
  end
end

--- checkClntAppends: client clnt's `count` appends all in v, once, in order.
M.check_clnt_appends = check_appends

--- checkConcurrentAppends: for every client i, its counts[i+1] appends
--- all in v, once each, in the order it made them.
function M.check_concurrent_appends(v, counts)
  for i = 0, #counts - 1 do check_appends(i, v, counts[i + 1]) end
end

--- Run fn(...) as a task and wait for it at most `secs` virtual seconds
--- (an error naming `what` if it takes longer); its results.
function M.within(c, secs, what, fn, ...)
  return M.join(c, ts.go(fn, ...), secs, what)
end

--- The results of task t, waiting at most `secs` virtual s (an error
--- naming `what` if it takes longer; the task's own error if it failed).
--- (Not c:wait(function() return t:done() end): that looks again only at
--- the cluster's next event, and an idle kvsrv cluster has none.)
function M.join(c, t, secs, what)
  local res = table.pack(pcall(t.wait, t, secs, c))
  if not res[1] then
    if t:done() then error(res[2], 0) end
    fail("timed out after %g s waiting for %s", secs, what)
  end
  return table.unpack(res, 2, res.n)
end

--- Clerk k with a bound: its get, put and append fail after `secs`
--- virtual s (default 30) instead of retrying for ever, so that a scenario
--- that goes wrong fails rather than hangs.
function M.timed(c, k, secs)
  secs = secs or 30
  local t = { client = k }
  for _, name in ipairs{ "get", "put", "append" } do
    t[name] = function(_, key, ...)
      local what = string.format("%s(%s) by %s", name, key, tostring(k))
      return M.within(c, secs, what, k[name], k, key, ...)
    end
  end
  function t.reach(_, nodes) k:reach(nodes) end
  return t
end

--- check(ck, key, value): a get through ck must return value.
function M.check(c, ck, key, value)
  local v = M.within(c, 30, string.format("Get(%s)", key), ck.get, ck, key)
  if v ~= value then fail("Get(%s): expected:\n%s\nreceived:\n%s", key, value, v) end
end

--- The end of every KV scenario: the clients' history must be
--- linearizable; fails with the checker's own account.
function M.check_linearizable(c, budget)
  local ok, text, verdict = c:check_linearizable(budget)
  if not ok then fail("history is not linearizable (%s): %s", verdict, text) end
  return text
end

--- The largest persisted Raft state (6.824's cfg.LogSize()) and snapshot
--- (cfg.SnapshotSize()) over the servers.
function M.log_size(c)
  local m = 0
  for i = 1, c:size() do m = math.max(m, c:node(i).raft_bytes) end
  return m
end
function M.snapshot_size(c)
  local m = 0
  for i = 1, c:size() do m = math.max(m, c:node(i).snapshot_bytes) end
  return m
end

-- The lab's partitioner: every electionTimeout + 0-200 ms, split the
-- servers at random into two groups (node-to-node links only: clients
-- still reach every server, as in the lab).
local function partitioner(c, stop)
  local n = c:size()
  while not stop.partitioner do
    local pa = { {}, {} }
    for i = 1, n do
      local g = pa[math.random(0, 1) + 1]
      g[#g + 1] = i
    end
    c:partition(pa[1], pa[2])
    c:sleep(M.ELECTION_TIMEOUT + math.random(0, 199) / 1000)
  end
end

-- One GenericTest client: until told to stop, appends "x cli j y" (half
-- the time), or with random keys sometimes puts, or else gets and — on its
-- own key — checks it sees exactly what it appended.  Returns how many
-- values it wrote.
local function client(o, stop, cli, ck)
  local j = 0
  local last = ""   -- only used when not randomkeys
  if not o.randomkeys then ck:put(tostring(cli), last) end
  while not stop.clients do
    local key
    if o.randomkeys then key = tostring(math.random(0, o.nclients - 1)) else key = tostring(cli) end
    local nv = M.elem(cli, j)
    if math.random(0, 999) < 500 then
      ck:append(key, nv)
      if not o.randomkeys then last = last .. nv end
      j = j + 1
    elseif o.randomkeys and math.random(0, 999) < 100 then
      -- only with random keys: it would break the check after a get
      ck:put(key, nv)
      j = j + 1
    else
      local v = ck:get(key)
      if not o.randomkeys and v ~= last then
        fail("get wrong value, key %s, wanted:\n%s\n, got\n%s", key, last, v)
      end
    end
  end
  return j
end

--- GenericTest(nclients, nservers, unreliable, crash, partitions,
--- maxraftstate, randomkeys): 3 iterations of nclients running for `secs`
--- (with partitions: the partitioner starts after 1 s; afterwards the
--- network is healed and a new term given time to start; with crash:
--- every server is killed and restarted), then each client's key is read
--- and its appends checked, and with maxraftstate the Raft state must be
--- under 8 x maxraftstate.  At the end the whole history must be
--- linearizable.  Returns the cluster.
function M.generic(o)
  o.nclients = o.nclients or 1
  local kind = o.kind or "kv"
  local iters = o.iters or 3
  local secs = o.secs or 5
  local c = ts.cluster{ kind = kind, nodes = o.nservers or (kind == "kv" and 5 or 1),
                        maxraftstate = o.maxraftstate }
  if o.unreliable then c:net("unreliable") end
  local ck = c:client()
  local total = 0

  for _ = 1, iters do
    -- (not in the lab, whose 5 s rounds leave time for an election: the
    -- shorter rounds here start once a leader is elected)
    if kind == "kv" then c:wait_leader(10) end
    local stop = { clients = false, partitioner = false }
    local clients = {}
    for cli = 0, o.nclients - 1 do clients[cli] = ts.go(client, o, stop, cli, c:client()) end

    local part
    if o.partitions then
      c:sleep(o.calm or 1)   -- some operations without interruption first
      part = ts.go(partitioner, c, stop)
    end
    c:sleep(secs)
    stop.clients, stop.partitioner = true, true

    if part then
      M.join(c, part, 5, "the partitioner to stop")
      -- reconnect the network; a request submitted in a minority completes
      -- only once that server sees a new term start
      c:heal()
      c:sleep(M.ELECTION_TIMEOUT)
    end

    if o.crash then
      for i = 1, c:size() do c:crash(i) end
      c:sleep(M.ELECTION_TIMEOUT)
      for i = 1, c:size() do c:restart(i) end
    end

    for cli = 0, o.nclients - 1 do
      local j = M.join(c, clients[cli], 60, "client " .. cli .. " to finish")
      total = total + j
      local v = M.within(c, 30, "Get(" .. cli .. ") after the iteration", ck.get, ck, tostring(cli))
      if not o.randomkeys then M.check_clnt_appends(cli, v, j) end
    end

    if o.maxraftstate then
      -- after the servers processed every request and had time to snapshot
      local sz = M.log_size(c)
      if sz > 8 * o.maxraftstate then fail("logs were not trimmed (%d > 8*%d)", sz, o.maxraftstate) end
    elseif kind == "kv" then
      local ssz = M.snapshot_size(c)
      if ssz > 0 then fail("snapshot too large (%d), should not be used without maxraftstate", ssz) end
    end
  end

  if total == 0 then fail("the clients wrote nothing at all") end
  local text = M.check_linearizable(c, o.budget)
  if os.getenv("KVTEST_VERBOSE") then print(string.format("%d writes; t=%.1f s; %s", total, c:time(), text)) end
  return c
end

--- GenericTestSpeed: 1000 sequential appends by one client on 3 servers
--- must take less than a third of a heartbeat interval each (here in
--- virtual time: the hub's clock, not the wall's).
function M.speed(o)
  local nops = o.nops or 1000
  local heartbeat = 0.1
  local c = ts.cluster{ kind = "kv", nodes = 3, maxraftstate = o.maxraftstate }
  local ck = M.timed(c, c:client())
  -- wait until the first op completes: a leader is elected and serving
  ck:get("x")
  local t0 = c:time()
  for i = 0, nops - 1 do ck:append("x", "x 0 " .. i .. " y") end
  local dur = c:time() - t0
  local v = ck:get("x")
  M.check_clnt_appends(0, v, nops)
  local per_op = heartbeat / 3
  if dur > nops * per_op then
    fail("Operations completed too slowly %.1f ms/op > %.1f ms/op", dur / nops * 1000, per_op * 1000)
  end
  M.check_linearizable(c)
  return c, dur / nops
end

--- The lock tests (6.824 kvsrv1/lock/lock_test.go): one kvsrv server;
--- `nclients` clients, each with its own clerk and its own ts.lock on key
--- "l", loop for `secs` virtual s: acquire; key "l0" must read "" (no one
--- else is inside); put the client's number there at l0's version (OK or
--- ErrMaybe); wait 10 ms; put "" back at the next version; release.
--- termscope's own checks besides: a counter shared by the clients proves
--- no two are ever inside at once, and every client gets the lock (one
--- still waiting when time is up must get it once the others stop: a lock
--- that lost track of an ErrMaybe would hang here).  Ends with the
--- linearizability check.
function M.lock_test(o)
  local nclients, secs = o.nclients or 1, o.secs or 2
  local c = ts.cluster{ kind = "kvsrv", dedup = false }   -- the 2025 server: versions only
  if o.unreliable then c:net("unreliable") end
  local stop = false
  local inside = 0   -- clients between acquire and release, right now

  local function one_client(me, ck)
    local lk = ts.lock(ck, "l")
    ck:put("l0", "", 0)   -- creates l0; ErrVersion if another client did
    local n = 0
    while not stop do
      lk:acquire()
      inside = inside + 1
      if inside > 1 then fail("%d: %d clients hold the lock at once", me, inside) end

      local val, ver = ck:get("l0")
      if val ~= "" then fail("%d: two clients acquired lock %s", me, val) end
      local ok, err = ck:put("l0", tostring(me), ver)
      if not (ok or err == "ErrMaybe") then fail("%d: put failed %s", me, err) end
      c:sleep(0.01)
      ok, err = ck:put("l0", "", ver + 1)
      if not (ok or err == "ErrMaybe") then fail("%d: put failed %s", me, err) end

      inside = inside - 1
      lk:release()
      n = n + 1
    end
    return n
  end

  local clients = {}
  for me = 0, nclients - 1 do clients[me] = ts.go(one_client, me, c:client()) end
  c:sleep(secs)
  stop = true
  local total = 0
  for me = 0, nclients - 1 do
    local n = M.join(c, clients[me], 60, "client " .. me .. " to get the lock and finish")
    if n == 0 then fail("client %d never got the lock", me) end
    total = total + n
  end
  local text = M.check_linearizable(c)
  if os.getenv("KVTEST_VERBOSE") then
    local maybe = 0
    for _, op in ipairs(c:history()) do if op.err == "ErrMaybe" then maybe = maybe + 1 end end
    print(string.format("%d acquisitions, %d ErrMaybe; t=%.1f s; %s", total, maybe, c:time(), text))
  end
  return c
end

--- The one-key test (kvsrv and kvraft UnreliableOneKey): nclients append
--- upto elements each to key "k", starting `stagger` s apart; each reads
--- the key back after every append (not in the lab: its own append must be
--- there, and the value pins the order so far for the checker).  Then the
--- final value holds every append exactly once, in each client's order,
--- and the history is linearizable.
function M.one_key(c, ck, nclients, upto, stagger)
  ck:put("k", "")
  local clients = {}
  for me = 0, nclients - 1 do
    local myck = c:client()
    clients[me] = ts.go(function()
      if stagger then c:sleep(me * stagger) end
      for n = 0, upto - 1 do
        local nv = M.elem(me, n)
        myck:append("k", nv)
        local v = myck:get("k")
        assert(v:find(nv, 1, true), string.format("%d: own append %q missing after it returned", me, nv))
      end
    end)
  end
  for me = 0, nclients - 1 do clients[me]:wait(120, c) end
  local counts = {}
  for i = 1, nclients do counts[i] = upto end
  M.check_concurrent_appends(ck:get("k"), counts)
  M.check_linearizable(c)
end

return M
