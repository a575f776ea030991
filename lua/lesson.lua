-- lesson.lua — the lesson engine.
--
-- A lesson is a plain Lua file in lessons/ that returns ts.lesson{...}:
--
--   ts.lesson{
--     title = "Leader election", summary = "...",
--     cluster = { kind = "raft", nodes = 5, seed = 3 },
--     steps = {
--       { text = "narrative",                   -- what the panel says
--         run = function(c) ... end,            -- what the lesson does first (optional)
--         pause = true,                         -- freeze time when the step starts
--                                               -- (run may also c:step() instant by instant)
--         select = 3, panel = "logs",           -- highlight a node / a panel
--         objective = "Cut the leader off",     -- the line that turns from ✗ to ✓
--         check = function(c, s) return ... end,-- holds when the objective is met
--         hints = { "first hint", "second" },   -- H shows them one by one...
--         auto = function(c, s) ... end,        -- ...then performs this, the solution
--         question = { "text", choices = {...}, answer = 2, why = "..." },
--         par = 3,                              -- a challenge: at most 3 actions
--       }, ...
--     },
--   }
--
-- The lesson runs as a task beside the live cluster.  A step with neither
-- `check` nor `question` is narrative: `n` moves on.  Going back to a step
-- (R, or resuming another day) replays the lesson's seed with every earlier
-- step's `auto`, in fast pace, on a fresh cluster: the same cluster the
-- solution would have left.  With --autopilot every `auto` is performed and
-- every objective must then hold within the step's `timeout` (virtual s).

local L = { lessons = {}, ui = nil }
ts._lesson = L

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

--- ts.lesson{...}: check the shape of a lesson and return it.
function ts.lesson(spec)
  if type(spec) ~= "table" then fail("ts.lesson: expects a table") end
  if type(spec.title) ~= "string" then fail("ts.lesson: a lesson needs a title") end
  if type(spec.steps) ~= "table" or #spec.steps == 0 then fail("ts.lesson %q: it needs steps", spec.title) end
  spec.cluster = spec.cluster or { kind = "raft", nodes = 5 }
  for i, s in ipairs(spec.steps) do
    local where = string.format("ts.lesson %q, step %d", spec.title, i)
    if type(s.text) ~= "string" then fail("%s: needs text", where) end
    if s.check and type(s.check) ~= "function" then fail("%s: check must be a function", where) end
    if s.check and not s.objective then fail("%s: a check needs an objective line", where) end
    if s.check and not s.auto then fail("%s: a check needs an auto (the solution)", where) end
    if s.question then
      local q = s.question
      if type(q[1]) ~= "string" or type(q.choices) ~= "table" or type(q.answer) ~= "number"
        or not q.choices[q.answer] then
        fail("%s: a question is { \"text\", choices = {...}, answer = N }", where)
      end
    end
  end
  spec._lesson = true
  return spec
end

-- ---- progress, under the XDG state dir ----------------------------------

local function state_dir()
  local base = os.getenv("XDG_STATE_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.local/state"
  end
  return base .. "/termscope"
end

function L.load_progress()
  local dir = state_dir()
  if not dir then return {} end
  local f = io.open(dir .. "/progress.lua")
  if not f then return {} end
  local text = f:read("a")
  f:close()
  local fn = load(text, "=progress", "t", {})
  local ok, t = pcall(fn or function() end)
  if ok and type(t) == "table" then return t end
  return {}
end

function L.save_progress(name, step, done)
  local dir = state_dir()
  if not dir or L.autopilot then return end
  os.execute(string.format("mkdir -p '%s'", dir:gsub("'", "'\\''")))
  local p = L.load_progress()
  local old = p[name] or {}
  p[name] = { step = step, done = done or old.done or false }
  local lines = { "return {" }
  local names = {}
  for k in pairs(p) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = p[k]
    lines[#lines + 1] = string.format("  [%q] = { step = %d, done = %s },", k, v.step or 1, tostring(v.done == true))
  end
  lines[#lines + 1] = "}"
  local tmp = dir .. "/progress.lua.tmp"
  local f = io.open(tmp, "w")
  if not f then return end
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  os.rename(tmp, dir .. "/progress.lua")
end

-- ---- the running lesson --------------------------------------------------

-- What the dashboard's lesson panel draws (read every frame; cheap).
L.view = nil

local function pcheck(step, c, s)
  local ok, v = pcall(step.check, c, s)
  return ok and v and true or false
end

-- One step.  `fast`: performed by its auto, nobody watching (autopilot, or
-- the replay up to a step).
local function run_step(les, i, c, fast)
  local step = les.steps[i]
  local s = { index = i, actions = 0, hints = 0, met = false, answered = nil, next = false,
              started = c:time(), lesson = les }
  L.step = s
  L.view = {
    title = les.title, index = i, count = #les.steps, text = step.text,
    objective = step.objective, met = false, hint = nil, par = step.par,
    question = step.question, answered = nil, select = step.select, panel = step.panel,
    narrative = not step.check and not step.question, done = false,
  }
  if step.run then step.run(c, s) end
  if step.pause and not fast then c:_freeze(true) end
  -- a question
  if step.question then
    local q = step.question
    if fast then
      s.answered = q.answer
    else
      c:wait(function() return s.answered == q.answer end, 1e9, "an answer")
    end
    L.view.answered = q.answer
  end
  -- an objective
  if step.check then
    if fast then
      if not pcheck(step, c, s) then step.auto(c, s) end
      c:wait(function() return pcheck(step, c, s) end, step.timeout or 20,
        string.format("lesson %q step %d: %q", les.title, i, step.objective))
    else
      c:wait(function()
        if L.view.par and s.actions > L.view.par and not s.solved then return false end
        return pcheck(step, c, s)
      end, 1e9, "the objective")
    end
  end
  s.met = true
  L.view.met = true
  if not fast then
    if not step.check and not step.question then L.view.met = nil end
    c:wait(function() return s.next end, 1e9, "n")
  end
  if step.pause and not fast then c:_freeze(false) end
end

-- Run a lesson from step `from` (earlier steps are replayed fast first).
function L.run(les, name, from, autopilot)
  from = math.max(1, math.min(from or 1, #les.steps))
  L.autopilot = autopilot
  L.current = { lesson = les, name = name }
  local fast = autopilot or from > 1
  local c = ts.cluster(les.cluster, (fast and not L.watch) and "fast" or nil)
  for i = 1, from - 1 do run_step(les, i, c, true) end
  if not autopilot and from > 1 then c:_pace("paced", 1) end
  for i = from, #les.steps do
    if not autopilot then L.save_progress(name, i, false) end
    run_step(les, i, c, autopilot)
  end
  L.view.done = true
  L.view.text = "Lesson complete. L opens the lesson menu; q quits."
  L.view.objective = nil
  if not autopilot then L.save_progress(name, #les.steps, true) end
  return c
end

-- ---- the catalogue ---------------------------------------------------------

-- The lessons built into termscope (lessons/NN-name.lua), in order.
function L.catalog()
  local list = {}
  for _, f in ipairs(ts._embedded("lessons/")) do
    local num, slug = f.name:match("^lessons/(%d+)%-(.-)%.lua$")
    if num then
      local fn, err = load(f.source, "@" .. f.name, "t")
      if not fn then fail("%s", err) end
      local ok, spec = pcall(fn)
      if not ok then fail("%s", spec) end
      list[#list + 1] = { number = tonumber(num), name = slug, file = f.name, lesson = spec }
    end
  end
  table.sort(list, function(a, b) return a.number < b.number end)
  return list
end

-- A lesson by number, by name, or from a file.
function L.find(which)
  for _, e in ipairs(L.catalog()) do
    if tostring(e.number) == which or e.name == which or string.format("%02d", e.number) == which then
      return e.lesson, e.name
    end
  end
  if which:match("%.lua$") then
    local fn, err = loadfile(which)
    if not fn then fail("%s", err) end
    local spec = fn()
    if type(spec) ~= "table" or not spec._lesson then fail("%s does not return ts.lesson{...}", which) end
    return spec, which:match("([^/]+)%.lua$")
  end
  local names = {}
  for _, e in ipairs(L.catalog()) do names[#names + 1] = e.number .. " " .. e.name end
  fail("no lesson %q (there are: %s)", which, table.concat(names, ", "))
end

-- The menu's lines: number, title, progress.
function L.menu_entries()
  local p, out = L.load_progress(), {}
  for _, e in ipairs(L.catalog()) do
    local pr = p[e.name]
    out[#out + 1] = { number = e.number, title = e.lesson.title,
      progress = pr and (pr.done and "done" or string.format("at step %d of %d", pr.step, #e.lesson.steps)) or "" }
  end
  return out
end

-- termscope lessons
function L.print_list()
  local p = L.load_progress()
  for _, e in ipairs(L.catalog()) do
    local pr = p[e.name]
    local mark = pr and (pr.done and "done" or string.format("at step %d of %d", pr.step, #e.lesson.steps)) or ""
    print(string.format("%2d  %-16s %-32s %s", e.number, e.name, e.lesson.title, mark))
  end
  print("\nStart one with: termscope lesson NUMBER")
end

-- Start a lesson in the dashboard (from the menu, or `termscope lesson`),
-- where it left off unless `from` says otherwise.  The previous run, if any,
-- is abandoned: its cluster stops and its task ends quietly.
function L.open(which, from)
  local les, name = L.find(which)
  L.which = which
  if not from then
    local pr = L.load_progress()[name]
    from = pr and not pr.done and pr.step or 1
  end
  L.gen = (L.gen or 0) + 1
  local gen = L.gen
  L.menu = false
  if ts._current then ts._current:stop() end
  L.view = { title = les.title, index = from, count = #les.steps,
             text = from > 1 and "Replaying the earlier steps..." or "Starting the cluster...", met = false }
  ts._dash.config = nil
  ts.go(function()
    local ok, err = pcall(L.run, les, name, from, false)
    if not ok and gen == L.gen and L.view then
      L.view.text = "The lesson stopped: " .. tostring(err)
      L.view.objective = nil
      -- leave the cluster at the wall clock's pace, not racing on alone
      local c = ts._current
      if c then pcall(c._pace, c, "paced", 1) end
    end
  end)
end

-- The headless autopilot: every step by its solution; errors fail the run.
function L.autopilot_run(which)
  local les, name = L.find(which)
  L.run(les, name, 1, true)
  print(string.format("lesson %q: all %d steps passed on autopilot", les.title, #les.steps))
end

-- ---- what the keys do ----------------------------------------------------

-- R: back to the start of the current step
function L.restart_step()
  if not L.current or not L.step then fail("no lesson is running") end
  L.open(L.which or L.current.name, L.step.index)
end

-- n: next step, once the objective holds
function L.next()
  local s = L.step
  if not s then return end
  if not s.met then fail("not yet: %s", L.view.objective or "answer the question first") end
  s.next = true
end

-- H: the next hint; after the last one, the solution, performed
function L.hint()
  local s, les = L.step, L.current and L.current.lesson
  if not s or not les then return end
  local step = les.steps[s.index]
  local hints = step.hints or {}
  if s.met then L.view.hint = "Done: press n for the next step." return end
  if s.hints < #hints then
    s.hints = s.hints + 1
    L.view.hint = hints[s.hints]
  elseif step.auto then
    s.solved = true
    L.view.hint = "The solution, performed for you..."
    local c = ts._current
    ts.go(function() step.auto(c, s) end)
  elseif step.question then
    L.view.hint = "The answer is " .. step.question.answer .. "."
  end
end

-- 1-9 while a question is open: an answer
function L.answer(k)
  local s, les = L.step, L.current and L.current.lesson
  if not s or not les then return end
  local q = les.steps[s.index].question
  if not q or s.answered == q.answer then return end
  if k == q.answer then
    s.answered = k
    L.view.answered = k
    L.view.hint = q.why and ("Right. " .. q.why) or "Right."
  else
    L.view.wrong = k
    L.view.hint = "Not quite. Think again (H for a hint)."
  end
end

-- Every action by hand counts toward a step's par.
function L.counted()
  if L.step then L.step.actions = L.step.actions + 1 end
end

return L
