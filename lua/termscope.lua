-- termscope.lua — the Lua half of the scripting surface (DESIGN §6).
--
-- The C half (src/script/lua_api.c) gives the cluster object its actions
-- and queries and one way to wait, ts._block.  Everything that waits for a
-- condition is written here, in Lua, as a loop around ts._block: read it to
-- see exactly what c:wait_leader or c:one promise.  Errors raised here carry
-- no position (level 0): the runtime adds the line of the user's script.

local Cluster = ts._cluster_methods
local Task = ts._task_methods
local block = ts._block

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function check_timeout(timeout, what)
  if timeout == nil then return 10 end
  if type(timeout) ~= "number" or timeout < 0 then
    fail("%s: the timeout must be a number of virtual seconds", what)
  end
  return timeout
end

--- ts.cluster{ kind = "raft", nodes = 5, seed = 7 }: start a cluster and
--- return once every node has started.
-- every cluster of the run, by object (weak: a dropped cluster is still
-- stopped when collected), for the dashboard's w key
ts._clusters = setmetatable({}, { __mode = "k" })

function ts.cluster(opts, pace)
  local c = ts._cluster(opts, pace)
  ts._current = c
  ts._clusters[c] = true
  while not c:_started() do block("progress", c) end
  return c
end

--- c:show(): the dashboard shows this cluster (and `c` at the prompt is
--- it), when a script runs several side by side.  The w key cycles.
function Cluster:show()
  self:_show()
  ts._current = self
  return self
end

-- The w key: the next running cluster, in the order they were made.
function ts._show_next()
  local list = {}
  for c in pairs(ts._clusters) do
    if c:_running() then list[#list + 1] = c end
  end
  if #list < 2 then return "w: only one cluster runs (a script can start more: ts.cluster{...})" end
  table.sort(list, function(a, b) return a:number() < b:number() end)
  local at = 1
  for i, c in ipairs(list) do if c == ts._current then at = i end end
  local nxt = list[at % #list + 1]
  nxt:show()
  return string.format("showing cluster %d of %d: kind %s", nxt:number(), #list, nxt:kind())
end

--- c:restart(i): a new incarnation of node i recovers from its data dir;
--- returns once it has started (or failed to: see c:node(i).status).
function Cluster:restart(id)
  self:_restart(id)
  while self:_node(id).status == "starting" do block("progress", self) end
end

--- c:node(i): what node i last reported; `log` is read on first use.
function Cluster:node(id)
  local t = self:_node(id)
  local c = self
  return setmetatable(t, { __index = function(tbl, k)
    if k == "log" then
      local l = c:_log(tbl.id)
      rawset(tbl, "log", l)
      return l
    end
  end })
end

--- c:endpoints(): kind etcd: the members' client endpoints, through the
--- hub ("127.0.0.1:P1,127.0.0.1:P2,..."), for etcdctl --endpoints.
function Cluster:endpoints()
  if self:kind() ~= "etcd" then fail("endpoints: only an etcd cluster has them (this one is %s)", self:kind()) end
  local eps = {}
  for i = 1, self:size() do eps[i] = self:_node(i).endpoint end
  return table.concat(eps, ",")
end

function Cluster:nodes()
  local all = {}
  for i = 1, self:size() do all[i] = self:node(i) end
  return all
end

--- c:sleep(seconds): let `seconds` of virtual time pass.
function Cluster:sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 then
    fail("sleep: seconds must be a number >= 0")
  end
  block("time", self, self:_now() + math.floor(seconds * 1000 + 0.5))
end

--- c:sleep_until(t): let virtual time pass until the cluster's clock
--- reads t seconds (at once if it already does).
function Cluster:sleep_until(t)
  if type(t) ~= "number" or t < 0 then fail("sleep_until: t must be a number of seconds >= 0") end
  local at = math.floor(t * 1000 + 0.5)
  if at > self:_now() then block("time", self, at) end
end

--- c:step(): freeze virtual time (if it runs) and run the next instant:
--- what happens at the next millisecond something is due, like the
--- dashboard's `.` key.  Returns false if nothing at all is left to happen.
function Cluster:step()
  local any, at = self:_step_one()
  if not any then return false end
  -- the rest of that millisecond runs too (as it does behind the `.` key)
  while self:_busy() or self:_next_time() == at do block("progress", self) end
  return true
end

--- c:wait(fn, timeout, description): wait until fn() is true, checking after
--- every event; an error naming `description` after `timeout` virtual s.
function Cluster:wait(fn, timeout, description)
  if type(fn) ~= "function" then fail("wait: the first argument must be a function") end
  timeout = check_timeout(timeout, "wait")
  local deadline = self:_now() + math.floor(timeout * 1000 + 0.5)
  while true do
    local v = fn()
    if v then return v end
    if self:_now() >= deadline then
      fail("timed out after %g s waiting for %s", timeout, description or "the condition")
    end
    block("progress", self, deadline)
  end
end

--- c:events_since(t, kinds): this cluster's events from virtual time t
--- (seconds) on whose `ev` is one of `kinds` (a list, e.g. {"crash",
--- "restart"}; all kinds if nil), oldest first.
function Cluster:events_since(t, kinds)
  local want
  if kinds then
    want = {}
    for _, k in ipairs(kinds) do want[k] = true end
  end
  local t0 = math.floor(t * 1000 + 0.5)
  local out = {}
  for _, e in ipairs(self:events()) do
    if e.t >= t0 and (not want or want[e.ev]) then out[#out + 1] = e end
  end
  return out
end

--- c:wait_leader(timeout): the leader, once there is one (error otherwise).
function Cluster:wait_leader(timeout)
  timeout = check_timeout(timeout, "wait_leader")
  return self:wait(function() return self:leader() end, timeout, "a leader")
end

--- c:wait_committed(index, n, timeout): wait until n nodes applied index;
--- returns the command.
function Cluster:wait_committed(index, n, timeout)
  timeout = check_timeout(timeout, "wait_committed")
  n = n or self:size()
  local data
  self:wait(function()
    local count, d = self:committed(index)
    data = d
    return count >= n
  end, timeout, string.format("index %d to be committed by %d nodes", index, n))
  return data
end

--- c:one(cmd, n, retry): the 6.824 tester's one(): submit cmd at whichever
--- node accepts it as leader and wait until n nodes applied it; with retry,
--- submit again if a leader loses it.  Returns the index.  Like the tester,
--- it only asks nodes that are connected (here: that can reach a majority),
--- trying a different node first each round, and gives up after 10 virtual s.
function Cluster:one(cmd, n, retry)
  n = n or self:size()
  local size = self:size()
  local t0 = self:_now()
  local first = 0
  while self:_now() - t0 < 10000 do
    local index
    for _ = 1, size do
      first = first % size + 1
      local nd = self:_node(first)
      if nd.quorum then
        local ix, _, ok = self:start(cmd, first)
        if ok then index = ix break end
      end
    end
    if index then
      local t1 = self:_now()
      while self:_now() - t1 < 2000 do
        local count, data = self:committed(index)
        if count > 0 and count >= n and data == cmd then return index end
        self:sleep(0.02)
      end
      if not retry then
        fail("one(%q) failed to reach agreement (%d nodes needed)", cmd, n)
      end
    else
      self:sleep(0.05)
    end
  end
  fail("one(%q) failed to reach agreement within 10 s (%d nodes needed)", cmd, n)
end

--- c:wait_applied(index, n, start_term): the 6.824 tester's wait(): poll
--- until n nodes applied index, backing off from 10 ms to 1 s (about 23
--- virtual s in all); nil if a running node moved past start_term (the
--- attempt is void), an error if too few nodes applied it.  Returns the
--- command.
function Cluster:wait_applied(index, n, start_term)
  local to = 0.01
  for _ = 1, 30 do
    if self:committed(index) >= n then break end
    self:sleep(to)
    if to < 1 then to = to * 2 end
    if start_term then
      for i = 1, self:size() do
        local s = self:_node(i)
        if s.up and s.term > start_term then return nil end
      end
    end
  end
  local count, cmd = self:committed(index)
  if count < n then
    fail("only %d nodes applied index %d; wanted %d", count, index, n)
  end
  return cmd
end

--- c:check_one_leader(): the 6.824 checkOneLeader: looks several times over
--- ~5 s for leaders among running, connected nodes; fails if a term has two.
function Cluster:check_one_leader()
  for _ = 1, 10 do
    self:sleep(0.45 + math.random() * 0.1)
    local by_term, last = {}, 0
    for i = 1, self:size() do
      local nd = self:_node(i)
      if nd.up and not nd.paused and nd.role == "leader" then
        local t = by_term[nd.term] or {}
        t[#t + 1] = i
        by_term[nd.term] = t
        if nd.term > last then last = nd.term end
      end
    end
    for term, ids in pairs(by_term) do
      if #ids > 1 then fail("term %d has %d (>1) leaders", term, #ids) end
    end
    local l = self:leader()
    if l then return l end
  end
  fail("expected one leader, got none")
end

--- c:check_terms(): the term all running nodes agree on (error if not).
function Cluster:check_terms()
  local term
  for i = 1, self:size() do
    local nd = self:_node(i)
    if nd.up and not nd.paused then
      if term == nil then term = nd.term
      elseif term ~= nd.term then fail("servers disagree on term") end
    end
  end
  return term
end

--- c:check_no_leader(): error if any running node that can reach a majority
--- thinks it leads.
function Cluster:check_no_leader()
  local l = self:leader()
  if l then fail("expected no leader among connected servers, but node %d claims to be leader", l) end
end

--- t:wait(timeout): the results of a ts.go task, or its error.
function Task:wait(timeout, cluster)
  if not self:done() then
    if timeout then
      if not cluster then fail("task:wait(timeout, cluster): a timeout needs a cluster's clock") end
      local deadline = cluster:_now() + math.floor(timeout * 1000 + 0.5)
      while not self:done() do
        if cluster:_now() >= deadline then fail("timed out after %g s waiting for a task", timeout) end
        block("join", self, cluster, deadline)
      end
    else
      while not self:done() do block("join", self) end
    end
  end
  return self:_results()
end

-- ---- key/value clients (kinds kv and kvsrv) --------------------------------

local Client = {}
Client.__index = Client

--- c:client{ reach = {1, 2}, reads = "local" }: a clerk.  It finds the
--- leader, retries on a wrong leader or no answer, and numbers its requests
--- so that the servers apply each write once.  `reach` confines it to those
--- nodes (default: all); `reads` overrides the cluster's read mode.
function Cluster:client(opts)
  opts = opts or {}
  if type(opts) ~= "table" then fail("client{ reach = {...}, reads = ... }: options are a table") end
  for k in pairs(opts) do
    if k ~= "reach" and k ~= "reads" then fail("client: unknown option '%s' (known: reach, reads)", tostring(k)) end
  end
  local id = self:_client_new(opts.reach, opts.reads)
  return setmetatable({ cluster = self, id = id }, Client)
end

--- c:clients(): what every client is doing, for display.
function Cluster:clients()
  local all, i = {}, 1
  while true do
    local ok, v = pcall(self._client_view, self, i)
    if not ok then break end
    all[i] = v
    i = i + 1
  end
  return all
end

--- k:get(key) -> value, version ("" and 0 for a missing key).
function Client:get(key)
  local _, value, version = self.cluster:_op(self.id, "get", key)
  return value, version
end

--- k:put(key, value): unconditional; returns true.
--- k:put(key, value, version): conditional; true, or false and "ErrVersion" |
--- "ErrNoKey" | "ErrMaybe" (a retry met ErrVersion: the put may have happened;
--- with the servers' duplicate table on, a retry gets the first attempt's
--- answer instead, so ErrMaybe comes with dedup = false, as in Lab 2).
function Client:put(key, value, version)
  if version == nil then
    self.cluster:_op(self.id, "put", key, value)
    return true
  end
  local err = self.cluster:_op(self.id, "vput", key, value, version)
  if err == "OK" then return true end
  return false, err
end

--- k:append(key, value): returns true.
function Client:append(key, value)
  self.cluster:_op(self.id, "append", key, value)
  return true
end

--- k:del(key): remove the key; true if it was there, false if not.
function Client:del(key)
  local err = self.cluster:_op(self.id, "del", key)
  return err == "OK"
end

--- k:incr(key) -> the new value: the value read as a 64-bit integer (a
--- missing key counts as 0) plus one, through the log like any write; nil
--- and "ErrNotInteger" when the value is not an integer's decimal text
--- (Redis's rule: no '+', no leading zero, no space) or is the largest.
function Client:incr(key)
  local err, _, _, _, _, n = self.cluster:_op(self.id, "incr", key)
  if err ~= "OK" then return nil, err end
  return n
end

--- k:reach{...}: confine the client to these nodes (nil: all of them).
function Client:reach(nodes)
  self.cluster:_client_reach(self.id, nodes)
end

--- k:view(): { reach, reads, busy, since, done, started, leader }.
function Client:view()
  return self.cluster:_client_view(self.id)
end

function Client:__tostring()
  return string.format("client %d", self.id)
end

ts._client_methods = Client

-- ---- MapReduce (kind mr) -------------------------------------------------------

--- c:wait_done(timeout): wait until the job is done and the coordinator has
--- left (virtual seconds; an error after `timeout`).  Returns c:job().
function Cluster:wait_done(timeout)
  timeout = check_timeout(timeout, "wait_done")
  self:wait(function() return self:_node(1).status == "exited" end, timeout, "the MapReduce job to finish")
  return self:job()
end

--- c:output(): every line of every mr-out-* file, sorted (what 6.824's
--- test script compares against the sequential run).
function Cluster:output()
  local dir = self:job().dir
  local lines = {}
  for r = 0, self:job().reduces - 1 do
    local f = io.open(string.format("%s/mr-out-%d", dir, r), "r")
    if f then
      for line in f:lines() do lines[#lines + 1] = line end
      f:close()
    end
  end
  table.sort(lines)
  return lines
end

return ts
