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
-- on screen), `rewind(t)` and `save([file])`.

local D = { actions = {}, config = nil, saved = 0 }
ts._dash = D

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

local env = setmetatable({}, { __index = function(_, k)
  if k == "c" then return ts._current end
  return _G[k]
end })

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

-- A person's action: run it; if it succeeds and changes the run, record it.
function D.hand(code, record)
  local fn = compile(code)
  local c = ts._current
  local t = c and c:_now() or 0
  -- going back in time or saving is not part of the run
  if code:match("^%s*rewind%s*%(") or code:match("^%s*save%s*%(") then record = false end
  local results = table.pack(fn())
  if record and c and c == ts._current then
    D.actions[#D.actions + 1] = { t = t, code = code }
    if ts._lesson then ts._lesson.counted() end
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
    "local env = setmetatable({ c = c }, { __index = _G })",
    "local function at(t, code) c:sleep_until(t) ts.go(assert(load(\"return \" .. code, \"=action\", \"t\", env) or load(code, \"=action\", \"t\", env))) end",
  }
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
  local old = ts._current
  t = math.max(0, math.floor(t))
  local frozen = old and old:_frozen()
  local speed = old and old:_speed() or 1
  local _, acts = D.scenario(t)
  D.actions = acts
  if old then old:stop() end
  local c = ts.cluster(D.config, "fast")
  ts._current = c
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

-- The live dashboard without a script: a cluster to play with.
function D.live(cfg)
  D.config = cfg
  ts.cluster(cfg)
end

return D
