-- dashboard.lua — what the dashboard does with a person's actions.
--
-- Every key that changes the run (crash, isolate, a client request, ...)
-- and every line typed at the `:` prompt arrives here as a line of Lua,
-- run as its own task at the virtual instant it was made.  Those that
-- succeed are recorded as (virtual time, code).  That makes a recording
-- a scenario: `S` writes it as one, and rewinding is replaying it, fast,
-- on a fresh cluster up to the chosen time.
--
-- The prompt's environment is the script's globals plus `c` (the cluster
-- on screen), `client(k)` (key/value client k; the next number makes a
-- new one), `rewind(t)` and `save([file])`.
--
-- The key/value request line (k on a kv or kvsrv cluster) writes its
-- requests as client(1):put("x", "1") and so on; the check key (K) runs
-- c:check_linearizable(), whose verdict D.check keeps for the dashboard.

local D = { actions = {}, config = nil, saved = 0, clients = 0, check = nil }
ts._dash = D

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- client(c, k): key/value client k of cluster c, by number.  Clients are
-- numbered 1, 2, ... as they are made (by c:client{...} too); asking for
-- the one after the last makes it, with the default options.
function D.client(c, k)
  if not c then fail("no cluster") end
  if math.type(k) ~= "integer" or k < 1 then fail("client(k): k is a client number, 1 or more") end
  local n = #c:clients()
  if k == n + 1 then return c:client() end
  if k > n then fail("there is no client %d yet (%d so far; client(%d) makes the next one)", k, n, n + 1) end
  return setmetatable({ cluster = c, id = k }, ts._client_methods)
end

local env = setmetatable({}, { __index = function(_, k)
  if k == "c" then return ts._current end
  return _G[k]
end })
env.client = function(k) return D.client(ts._current, k) end

-- One line of results, for the screen.
local function brief(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if depth > 1 then return "{...}" end
  local parts, n = {}, 0
  for i, x in ipairs(v) do
    n = n + 1
    if n > 12 then parts[#parts + 1] = "..." break end
    parts[#parts + 1] = brief(x, depth + 1)
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k > #v or math.type(k) ~= "integer" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    n = n + 1
    if n > 16 then parts[#parts + 1] = "..." break end
    parts[#parts + 1] = tostring(k) .. "=" .. brief(v[k], depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A sentence for the screen, shown as it is (not as a Lua value).
local Message = {}
local function message(fmt, ...) return setmetatable({ text = string.format(fmt, ...) }, Message) end

-- w: the next cluster on screen; its answer is a message, not a string
local show_next = ts._show_next
function ts._show_next() return message("%s", show_next()) end

function D.show(results)
  if results.n == 0 then return "" end
  if results.n == 1 and getmetatable(results[1]) == Message then return results[1].text end
  local out = {}
  for i = 1, results.n do out[i] = brief(results[i]) end
  return table.concat(out, ", ")
end

-- Compile a line: as an expression first (so `c:node(1)` shows a value),
-- then as a statement.
local function compile(code)
  local fn = load("return " .. code, "=prompt", "t", env)
  if fn then return fn end
  local err
  fn, err = load(code, "=prompt", "t", env)
  if not fn then fail("%s", (err:gsub("^prompt:%d+: ", ""))) end
  return fn
end

-- Text for the screen: printable, cut short.
local function shown(s, max)
  s = tostring(s):gsub("[^\32-\126]", "?")
  if #s > max then s = s:sub(1, max - 3) .. "..." end
  return s
end

local function ms(n)
  if n < 1000 then return string.format("%d ms", n) end
  return string.format("%.1f s", n / 1000)
end

-- What became of a client's request, from the history's last operation of
-- that client: "c1 put x=1: OK in 23 ms (n3)", "c2 get x: "1" (version 1) ...".
local function op_result(c, k)
  local h = c:history()
  local op
  for i = #h, 1, -1 do
    if h[i].client == k then op = h[i] break end
  end
  if not op or not op.ret then return nil end
  local key, what = shown(op.key, 24)
  if op.op == "get" then
    what = string.format("c%d get %s: \"%s\" (version %d)", k, key, shown(op.out or "", 40), op.out_version or 0)
  elseif op.op == "vput" then
    what = string.format("c%d put %s=%s if version %d: %s", k, key, shown(op.value, 24), op.version, op.err)
  elseif op.op == "append" then
    what = string.format("c%d append %s+=%s: %s", k, key, shown(op.value, 24), op.err)
  elseif op.op == "del" then
    what = string.format("c%d del %s: %s", k, key, op.err == "OK" and "removed" or "there was no such key")
  elseif op.op == "incr" then
    what = string.format("c%d incr %s: %s", k, key, op.out or op.err)
  else
    what = string.format("c%d put %s=%s: %s", k, key, shown(op.value, 24), op.err)
  end
  local how = { string.format("n%d", op.server) }
  if op.attempts > 1 then how[#how + 1] = string.format("%d tries", op.attempts) end
  if op["local"] then how[#how + 1] = "a local read" end
  return message("%s in %s (%s)", what, ms(op.ret - op.call), table.concat(how, ", "))
end

-- The client a line's request goes to, if the line is one request:
-- client(2):put(...), or k2:get(...) for a client object k2.
local ops = { put = true, get = true, append = true, del = true, incr = true }
local function client_op(code)
  local k, op = code:match("^%s*client%((%d+)%):(%a+)%(")
  if k and ops[op] then return tonumber(k) end
  local var
  var, op = code:match("^%s*([%a_][%w_]*):(%a+)%(")
  if not var or not ops[op] then return nil end
  local o = rawget(env, var)
  if o == nil then o = _G[var] end
  if type(o) == "table" and getmetatable(o) == ts._client_methods then return o.id end
end

-- A person's action: run it; if it succeeds and changes the run, record it.
-- A client's request is part of the run from its call on, even if it never
-- returns (a client cut off from the majority): it is recorded as it starts.
function D.hand(code, record)
  local fn = compile(code)
  local c = ts._current
  local t = c and c:_now() or 0
  -- going back in time or saving is not part of the run
  if code:match("^%s*rewind%s*%(") or code:match("^%s*save%s*%(") then record = false end
  local kclient = client_op(code)
  local entry
  if record and c and kclient then
    entry = { t = t, code = code }
    D.actions[#D.actions + 1] = entry
    if ts._lesson then ts._lesson.counted() end
  end
  local results
  if entry then
    results = table.pack(pcall(fn))
    if not results[1] then
      for i = #D.actions, 1, -1 do
        if D.actions[i] == entry then table.remove(D.actions, i) break end
      end
      error(results[2], 0)
    end
    results = table.pack(table.unpack(results, 2, results.n))
    if c == ts._current then
      local m = op_result(c, kclient)
      if m then return m end
    end
    return table.unpack(results, 1, results.n)
  end
  results = table.pack(fn())
  if record and c and c == ts._current then
    D.actions[#D.actions + 1] = { t = t, code = code }
    if ts._lesson then ts._lesson.counted() end
  end
  -- a check: the dashboard shows its verdict until the history changes
  if c and code:match("^%s*c:check_linearizable%(%d*%)%s*$") then
    local h = c:history()
    local done = 0
    for _, op in ipairs(h) do if op.ret then done = done + 1 end end
    D.check = { port = c:port(), verdict = results[3], text = results[2], n = #h, done = done }
    local first = tostring(results[2]):match("^[^\n]*")
    return message("%s", first)
  end
  -- a client request says what became of it
  local cmd = code:match('^c:start%("([^"]*)"%)$')
  if cmd then
    local index, term, ok = results[1], results[2], results[3]
    if ok then return message("%s: the leader put it at index %d in term %d", cmd, index, term) end
    return message("%s: no leader took it", cmd)
  end
  return table.unpack(results, 1, results.n)
end

-- The recording as a scenario that reproduces this run.
function D.scenario(upto)
  local cfg = D.config
  local lines = {
    "-- Recorded with termscope: replay with",
    string.format("--   termscope run FILE.lua --seed %d", cfg.seed),
    "-- Each action runs as its own task at the virtual time it was made.",
    string.format("local c = ts.cluster{ kind = %q, nodes = %d, seed = %d }", cfg.kind, cfg.nodes, cfg.seed),
  }
  for _ = 1, D.clients do lines[#lines + 1] = "c:client()" end
  for _, l in ipairs{
    "local env = setmetatable({ c = c, client = function(k) return ts._dash.client(c, k) end }, { __index = _G })",
    "local function at(t, code) c:sleep_until(t) ts.go(assert(load(\"return \" .. code, \"=action\", \"t\", env) or load(code, \"=action\", \"t\", env))) end",
  } do lines[#lines + 1] = l end
  local acts = {}
  for _, a in ipairs(D.actions) do
    if not upto or a.t <= upto then acts[#acts + 1] = a end
  end
  table.sort(acts, function(a, b) return a.t < b.t end)
  for _, a in ipairs(acts) do
    lines[#lines + 1] = string.format("at(%.3f, %q)", a.t / 1000, a.code)
  end
  lines[#lines + 1] = string.format("c:sleep_until(%.3f)", (upto or (ts._current and ts._current:_now() or 0)) / 1000)
  return table.concat(lines, "\n") .. "\n", acts
end

function D.save(path)
  if not D.config then fail("only the live cluster can be saved (run termscope without a script)") end
  if D.config.kind == "etcd" then fail("etcd keeps its own time: a run on it cannot be saved as a scenario that replays") end
  if not path then
    D.saved = D.saved + 1
    path = string.format("termscope-seed%d-%d.lua", D.config.seed, D.saved)
  end
  local f, err = io.open(path, "w")
  if not f then fail("cannot save: %s", err) end
  local text, acts = D.scenario()
  f:write(text)
  f:close()
  return message("saved %d actions to %s", #acts, path)
end

-- Go back to virtual time t (ms): a fresh cluster, the same seed, the
-- recorded actions up to t replayed in fast pace; then live again from
-- there.  Actions after t are forgotten: this is a new branch.
function D.rewind(t)
  if not D.config then fail("rewind works on the live cluster (run termscope without a script)") end
  if D.config.kind == "etcd" then fail("etcd keeps its own time: a run on it cannot be replayed, so not rewound") end
  local old = ts._current
  t = math.max(0, math.floor(t))
  local frozen = old and old:_frozen()
  local speed = old and old:_speed() or 1
  local _, acts = D.scenario(t)
  D.actions = acts
  if old then old:stop() end
  local c = D.boot("fast")
  D.check = nil
  for _, a in ipairs(acts) do
    c:sleep_until(a.t / 1000)
    ts.go(function() compile(a.code)() end)
  end
  c:sleep_until(t / 1000)
  c:_pace("paced", speed)
  if frozen then c:_freeze(true) end
  return message("rewound to %.3f s (%d actions replayed)", t / 1000, #acts)
end

env.rewind = function(t)
  local c = ts._current
  if not c then fail("no cluster") end
  if t == nil then t = c:time() - 5 end
  return D.rewind(t * 1000)
end
env.save = function(path) return D.save(path) end

-- The live cluster as it starts: the configuration, and its clients.
function D.boot(pace)
  local c = ts.cluster(D.config, pace)
  ts._current = c
  for _ = 1, D.clients do c:client() end
  return c
end

-- The live dashboard without a script: a cluster to play with.  It is a
-- key/value service on five Raft servers (DESIGN §9): every Raft view works
-- on it, and one client is ready for requests (k).  --kind raft gives five
-- bare Raft peers; --kind etcd three real etcd members (real pace: etcd
-- keeps its own time, so b cannot rewind it and S cannot save it).
function D.live(cfg)
  cfg.kind = cfg.kind or "kv"
  cfg.nodes = cfg.kind == "etcd" and 3 or 5
  D.config = cfg
  D.clients = cfg.kind == "raft" and 0 or 1
  D.boot()
end

return D
