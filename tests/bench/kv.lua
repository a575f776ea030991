-- kv.lua — benchmark figures for the key/value services (run by
-- tests/bench/run.sh).  Prints "name value unit" lines; asserts nothing
-- about wall time (only that the services answered and the history checked).
--   kv_seq_*       one client, one operation at a time, on a 5-node kv cluster
--   kv_5clients_*  5 concurrent clients for 10 virtual s (10 keys; 50% get,
--                  25% put, 25% append); then the checker on their history
--   kv_snap_*      the same with maxraftstate = 4000
--   kvsrv_dup_*    the duplicate table of one kvsrv as clients come
-- ts.wall() is in ms.

-- The mix both the sequential and the concurrent runs use.
local function op(k, r, key, tag)
  if r < 0.5 then
    k:get(key)
  elseif r < 0.75 then
    k:put(key, tag)
  else
    k:append(key, ".")
  end
end

local function counters(c) return c:rpc_count(), c:client_msgs() end

-- (a) sequential: one client, 300 operations
do
  local c = ts.cluster{ kind = "kv", nodes = 5, seed = 1 }
  c:wait_leader(5)
  local k = c:client()
  k:put("warm", "up")                 -- the clerk finds the leader first
  local n0, m0 = counters(c)
  local w0, v0 = ts.wall(), c:time()
  local N = 300
  for i = 1, N do op(k, math.random(), "k" .. (i % 10), "v" .. i) end
  local w1, v1 = ts.wall(), c:time()
  local n1, m1 = counters(c)
  print(string.format("kv_seq_%d_ops %.1f ms_virtual_per_op %.2f ms_wall_per_op", N,
    (v1 - v0) * 1000 / N, (w1 - w0) / N))
  print(string.format("kv_seq_%d_ops %.2f node_msgs_per_op %.2f client_msgs_per_op", N,
    (n1 - n0) / N, (m1 - m0) / N))
  c:stop()
end

-- (b) 5 concurrent clients for 10 virtual s; (c) the same with maxraftstate
local function concurrent(opts, name)
  local c = ts.cluster(opts)
  c:wait_leader(5)
  local ks = {}
  for i = 1, 5 do
    ks[i] = c:client()
    ks[i]:put("warm" .. i, "up")
  end
  local n0, m0 = counters(c)
  local w0, v0 = ts.wall(), c:time()
  local t_end = v0 + 10
  local tasks, done = {}, 0
  for i = 1, 5 do
    tasks[i] = ts.go(function()
      local n = 0
      while c:time() < t_end do
        n = n + 1
        op(ks[i], math.random(), "k" .. math.random(0, 9), "c" .. i .. "." .. n)
      end
      return n
    end)
  end
  -- with snapshots, a watcher: the largest persisted Raft state any node
  -- reports (without, it only grows: the end is the largest).  Not always:
  -- c:node() copies the node's whole log, which costs wall time on a long one.
  local raft_max, watcher = 0, nil
  if opts.maxraftstate then
    watcher = ts.go(function()
      while c:time() < t_end do
        for j = 1, c:size() do raft_max = math.max(raft_max, c:node(j).raft_bytes) end
        c:sleep(0.01)
      end
    end)
  end
  for i = 1, 5 do done = done + tasks[i]:wait() end
  if watcher then watcher:wait() end
  local w1, v1 = ts.wall(), c:time()
  local n1, m1 = counters(c)
  local snaps, snap_bytes = 0, 0
  for j = 1, c:size() do
    local nd = c:node(j)
    raft_max = math.max(raft_max, nd.raft_bytes)
    snaps = snaps + nd.snapshots
    snap_bytes = math.max(snap_bytes, nd.snapshot_bytes)
  end
  print(string.format("%s %d ops %.1f virtual_s %.1f ops_per_virtual_s %.2f wall_s", name, done,
    v1 - v0, done / (v1 - v0), (w1 - w0) / 1000))
  print(string.format("%s %.2f node_msgs_per_op %.2f client_msgs_per_op", name,
    (n1 - n0) / done, (m1 - m0) / done))
  return c, raft_max, snaps, snap_bytes
end

do
  local c, raft_max = concurrent({ kind = "kv", nodes = 5, seed = 2 }, "kv_5clients")
  print(string.format("kv_5clients %d raft_bytes_max (no snapshots)", raft_max))
  -- (e) the checker on that history
  local n = #c:history()
  local w0 = ts.wall()
  local ok, text, verdict = c:check_linearizable()
  local w1 = ts.wall()
  print(string.format("kv_check_5clients %d ops %s %.1f wall_ms", n, verdict, (w1 - w0)))
  if not ok then print(text) end
  c:stop()
end

do
  local c, raft_max, snaps, snap_bytes = concurrent({ kind = "kv", nodes = 5, seed = 3, maxraftstate = 4000 },
    "kv_snap_4000")
  print(string.format("kv_snap_4000 %d snapshots (taken or installed, 5 nodes) %d raft_bytes_max %d snapshot_bytes_max",
    snaps, raft_max, snap_bytes))
  local ok, _, verdict = c:check_linearizable()
  if not ok then print("kv_snap_4000 history: " .. verdict) end
  c:stop()
end

-- (d) the kvsrv duplicate table
do
  local c = ts.cluster{ kind = "kvsrv", seed = 4 }
  local n = 0
  for _, upto in ipairs{ 1, 10, 100, 1000 } do
    while n < upto do
      n = n + 1
      local k = c:client()
      for j = 1, 3 do k:put("k" .. (n % 10), "c" .. n .. "." .. j) end
    end
    c:sleep(0.01)
    local b = c:node(1).dup_bytes
    print(string.format("kvsrv_dup_%d_clients %d bytes %.1f bytes_per_client", n, b, b / n))
  end
  c:stop()

  c = ts.cluster{ kind = "kvsrv", seed = 5 }
  local ks = { c:client(), c:client(), c:client() }
  local w0, v0 = ts.wall(), c:time()
  local tasks = {}
  for i = 1, 3 do
    tasks[i] = ts.go(function()
      for j = 1, 3334 do ks[i]:put("k" .. (j % 10), "c" .. i .. "." .. j) end
    end)
  end
  for i = 1, 3 do tasks[i]:wait() end
  local w1, v1 = ts.wall(), c:time()
  c:sleep(0.01)
  local b = c:node(1).dup_bytes
  print(string.format("kvsrv_dup_10002_ops_3_clients %d bytes %.1f bytes_per_client", b, b / 3))
  print(string.format("kvsrv_10002_ops %.0f ops_per_virtual_s %.0f ops_per_wall_s", 10002 / (v1 - v0),
    10002 / ((w1 - w0) / 1000)))
  c:stop()
end
