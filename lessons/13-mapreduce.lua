-- 13-mapreduce.lua — MapReduce (Dean and Ghemawat, OSDI 2004; 6.824 Lab
-- 1) on live processes: a coordinator (node 1) and three workers run word
-- count over eight files.  Map tasks in parallel; a worker killed in the
-- middle of a map, its task back to idle after the timeout and run again
-- elsewhere; the intermediate files mr-X-Y and the shuffle; a straggler
-- (a paused worker) whose reduce task is handed to another worker, the
-- first to finish winning; why outputs are written to a temporary name and
-- renamed; and the output, equal to the sequential run's.
--
-- Timing.  At 1x a map takes under 2 virtual seconds (a 32 KiB file at
-- 20 KiB/s, plus 0.1 s) and a reduce 3 to 7 (56 to 129 KiB of pairs); the
-- coordinator's timeout is the lab's 10 s, well above both.  The steps where the learner acts start with time frozen
-- (pause = true) and let it run again once the objective holds (`thaw`);
-- the steps that watch the job end by freezing it (`hold`), so the next
-- phase waits while the learner reads.  Freezing does nothing at fast pace
-- (the autopilot, the replay of earlier steps).
--
-- The checks read the live task board and workers (c:tasks(), c:workers()),
-- never the events log (it outlives a restarted step); the files in the
-- job's directory are read once per step, not per event.

local R = 8            -- reduce tasks
local TIMEOUT = 10     -- virtual seconds before a task is handed to another worker

-- ---- the inputs ------------------------------------------------------------

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function have_corpus(dir)
  for i = 0, 7 do
    local f = io.open(string.format("%s/text-%02d.txt", dir, i), "r")
    if not f then return false end
    f:close()
  end
  return true
end

local function list(dir)
  local files = {}
  for i = 0, 7 do files[#files + 1] = string.format("%s/text-%02d.txt", dir, i) end
  return files
end

-- The eight files of assets/corpus: beside the working directory or the
-- binary, else the same files (`termscope corpus` writes them, seed 1)
-- generated once into the user's cache.
local function corpus()
  local exe = ts.exe()
  local bin = exe:match("^(.*)/[^/]*$") or "."
  for _, dir in ipairs{ "assets/corpus", bin .. "/assets/corpus", bin .. "/../../assets/corpus" } do
    if have_corpus(dir) then return list(dir) end
  end
  local cache = os.getenv("XDG_CACHE_HOME")
  if not cache or cache == "" then
    local home = os.getenv("HOME")
    cache = (home and home ~= "") and (home .. "/.cache") or (os.getenv("TMPDIR") or "/tmp")
  end
  local dir = cache .. "/termscope/corpus"
  if not have_corpus(dir) then
    os.execute(string.format("mkdir -p %s && %s corpus %s >/dev/null 2>&1", q(dir), q(exe), q(dir)))
  end
  return list(dir)
end

-- The cluster's inputs are found when the lesson starts, not each time the
-- lesson menu loads this file.
local CLUSTER = setmetatable(
  { kind = "mr", workers = 3, app = "wc", reduces = R, timeout = TIMEOUT, rate = 20480, seed = 1313 },
  { __index = function(t, k)
      if k ~= "inputs" then return nil end
      local files = corpus()
      rawset(t, "inputs", files)
      return files
    end })

-- ---- helpers -------------------------------------------------------------------

-- What one step leaves for a later one (reset at step 1).
local M = {}

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

-- In a step that starts frozen: once the objective holds, let time run.
local function thaw(c, ok)
  if ok and not ts._lesson.autopilot and c:_frozen() then c:_freeze(false) end
  return ok
end

-- In a step that watches the job: once the objective holds, stop time, so
-- that the job waits while the learner reads.
local function hold(c, ok)
  if ok and not ts._lesson.autopilot and not c:_frozen() then c:_freeze(true) end
  return ok
end

local function task(c, type, id)
  for _, t in ipairs(c:tasks()) do
    if t.type == type and t.id == id then return t end
  end
end

-- The workers (up, not paused) in the given state ("mapping", "reducing").
local function in_state(c, state)
  local out = {}
  for _, w in ipairs(c:workers()) do
    if w.status == "up" and w.state == state then out[#out + 1] = w end
  end
  return out
end

-- The map tasks done, and the most of them that ran at one moment (their
-- [started, finished) overlapping, on distinct workers).
local function maps_side_by_side(c)
  local done, most = {}, 0
  for _, t in ipairs(c:tasks()) do
    if t.type == "map" and t.state == "done" then done[#done + 1] = t end
  end
  for _, a in ipairs(done) do
    local at, workers, n = a.started, {}, 0
    for _, b in ipairs(done) do
      if b.started <= at and at < b.finished and not workers[b.worker] then
        workers[b.worker] = true
        n = n + 1
      end
    end
    most = math.max(most, n)
  end
  return #done, most
end

-- The reduce task a key goes to: FNV-1a (32 bits) mod R, as the workers do.
local function partition(key)
  local h = 2166136261
  for i = 1, #key do h = ((h ~ key:byte(i)) * 16777619) & 0xffffffff end
  return h % R
end

-- The pairs of an intermediate file: records u32 length, key, u32 length, value.
local function read_pairs(path)
  local f = io.open(path, "rb")
  if not f then return {} end
  local data = f:read("a")
  f:close()
  local out, pos = {}, 1
  while pos <= #data do
    local k, v
    k, v, pos = string.unpack("<s4s4", data, pos)
    out[#out + 1] = { k, v }
  end
  return out
end

local function lines_of(path)
  local out = {}
  local f = io.open(path, "r")
  if not f then return out end
  for l in f:lines() do out[#out + 1] = l end
  f:close()
  return out
end

local function base(path) return path:match("([^/]*)$") end

-- The sequential run's output (termscope mr-seq wc INPUTS), sorted; once.
local function reference(c)
  if M.ref then return M.ref end
  local out = os.tmpname()
  local args = {}
  for i, f in ipairs(CLUSTER.inputs) do args[i] = q(f) end
  local ok = os.execute(string.format("%s mr-seq wc %s -o %s >/dev/null 2>&1", q(ts.exe()),
    table.concat(args, " "), q(out)))
  local ref = ok and lines_of(out) or nil
  os.remove(out)
  if ref then table.sort(ref) end
  M.ref = ref
  return ref
end

-- ---- the lesson ----------------------------------------------------------------
--
-- Texts are short: at 80x24 the lesson panel shows about three lines of
-- narrative above an objective, and a question leaves room only for itself,
-- its choices and a one-line answer.

local FINAL = "So a crashed or duplicate run never shows under the real name. Let the job "
  .. "end (space if time is frozen); the lesson then runs it in one process (termscope mr-seq "
  .. "wc) and compares."

-- The straggler's reduce task: done by another worker, and the straggler
-- resumed and past it.
local function backup_done(c)
  local t = task(c, "reduce", M.rtask)
  if t.state ~= "done" or t.worker == M.slow or t.runs < 2 then return false end
  if c:node(M.slow).paused then return false end
  for _, w in ipairs(c:workers()) do
    if w.id == M.slow and w.state == "reducing" and w.task == M.rtask then return false end
  end
  return true
end

-- mr-out-Y holds exactly the sequential run's lines whose key goes to Y,
-- and no temporary file is left: computed once (the file is final).
local function out_right(c, s, y)
  if s.verdict == nil then
    local ref = reference(c)
    if not ref then return false end
    local want = {}
    for _, l in ipairs(ref) do
      local key = l:match("^(%S+) ")
      if key and partition(key) == y then want[#want + 1] = l end
    end
    local got = lines_of(string.format("%s/mr-out-%d", c:job().dir, y))
    table.sort(got)
    local same = #got == #want and #got > 0
    for i = 1, #want do if got[i] ~= want[i] then same = false break end end
    local p = io.popen("ls " .. q(c:job().dir))
    local tmp = 0
    for name in p:lines() do if name:find("%.tmp%-") then tmp = tmp + 1 end end
    p:close()
    s.verdict = same and tmp == 0
  end
  return s.verdict
end

return ts.lesson{
  title = "MapReduce",
  summary = "Map, shuffle, reduce (6.824 Lab 1): tasks in parallel, a dead worker's task run again, a straggler, rename.",
  cluster = CLUSTER,
  steps = {
    -- 1
    {
      text = "MapReduce: you write map (a file -> key/value pairs) and reduce (a key and all its "
        .. "values -> a result); the library runs them on many machines and survives their "
        .. "failures. Here n1 is the coordinator and n2-n4 are workers, real processes. Time is "
        .. "frozen; press n.",
      run = function(c)
        M = {}
        c:wait(function() return #in_state(c, "mapping") == 3 end, 5, "three workers mapping")
      end,
      pause = true,
      panel = "mr",
    },
    -- 2
    {
      text = "The job counts the words of 8 files: 8 map tasks, one per file, then " .. R .. " reduce "
        .. "tasks. A worker asks n1 for a task, does it, reports, and asks again. The board shows "
        .. "every task: three maps are in progress, one on each worker.",
      pause = true,
      panel = "mr",
    },
    -- 3
    {
      text = "Press space to let time run; it stops once three maps are done. A map needs only "
        .. "its own file, so maps run side by side: 8 workers could do all 8 at once.",
      pause = true,
      objective = "Three maps finish side by side, and the next three begin",
      check = function(c)
        local done, most = maps_side_by_side(c)
        return hold(c, done >= 3 and most >= 3 and #in_state(c, "mapping") >= 2)
      end,
      hints = { "Press space: time runs, and stops again once the first three maps are done." },
      auto = function(c)
        thaw(c, true)
        c:wait(function()
          local done, most = maps_side_by_side(c)
          return done >= 3 and most >= 3 and #in_state(c, "mapping") >= 2
        end, 10, "three maps done side by side")
      end,
      timeout = 10,
      panel = "mr",
    },
    -- 4
    {
      text = "Machines fail. Select a worker that is mapping (2-4) and press c: it dies at once "
        .. "(SIGKILL), in the middle of its task. Nothing tells the coordinator.",
      run = function(c)
        c:wait(function() return #in_state(c, "mapping") >= 1 end, 5, "a worker mapping")
      end,
      pause = true,
      objective = "Crash a worker in the middle of a map",
      check = function(c)
        for _, t in ipairs(c:tasks()) do
          if t.type == "map" and t.state == "in progress" and t.worker
            and c:node(t.worker).status == "crashed" then
            M.victim, M.task = t.worker, t.id
            return thaw(c, true)
          end
        end
        return false
      end,
      hints = { "Press 2, 3 or 4 (a row that says mapping), then c." },
      auto = function(c)
        c:crash(in_state(c, "mapping")[1].id)
      end,
      panel = "mr",
    },
    -- 5
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        set_text(s, string.format("n%d died holding map %d; the board still says in progress: the "
          .. "coordinator cannot tell dead from slow. After %d s (the lab's timeout) the task goes "
          .. "back to idle, and the next worker to ask does it again. Wait.",
          M.victim, M.task, TIMEOUT))
      end,
      objective = "The dead worker's map task runs again, to the end (runs 2)",
      check = function(c)
        local t = task(c, "map", M.task)
        return hold(c, t.state == "done" and t.runs >= 2)
      end,
      hints = { "Just wait: 10 s for the timeout, 2 s for the map (+ speeds time up)." },
      auto = function(c)
        thaw(c, true)
        c:wait(function() return task(c, "map", M.task).state == "done" end, 3 * TIMEOUT, "the map task done")
      end,
      timeout = 3 * TIMEOUT,
      panel = "mr",
    },
    -- 6
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        c:wait(function() return c:job().phase ~= "map" end, 10, "the map phase over")
        local dir, names = c:job().dir, {}
        for i, f in ipairs(CLUSTER.inputs) do names[i] = base(f) end
        -- the commonest word of the first file, and where its pairs went
        local count, word = {}, nil
        for y = 0, R - 1 do
          for _, p in ipairs(read_pairs(string.format("%s/mr-0-%d", dir, y))) do
            count[p[1]] = (count[p[1]] or 0) + 1
            if not word or count[p[1]] > count[word] or (count[p[1]] == count[word] and p[1] < word) then
              word = p[1]
            end
          end
        end
        word = word or "the"
        local y = partition(word)
        local n = {}
        for x = 0, 1 do
          n[x] = 0
          for _, p in ipairs(read_pairs(string.format("%s/mr-%d-%d", dir, x, y))) do
            if p[1] == word then n[x] = n[x] + 1 end
          end
        end
        set_text(s, string.format("Maps done. Each wrote %d files mr-X-Y: X the map task, Y = "
          .. "hash(key) mod %d, the reduce task its pairs are for. So all pairs of a word meet in "
          .. "one Y: \"%s\" is in %d; mr-0-%d holds %d pairs (%s, 1) from %s, mr-1-%d %d from %s, ...",
          R, R, word, y, y, n[0], word, names[1] or "text-00", y, n[1], names[2] or "text-01"))
      end,
      pause = true,
      panel = "mr",
    },
    -- 7
    {
      text = "Now the reduce tasks can start.",
      pause = true,
      question = { "Reduce task 5 starts. Which files does it read?",
        choices = { "mr-5-0 to mr-5-7", "mr-0-5 to mr-7-5", "mr-5-5 only" },
        answer = 2,
        why = "One per map task: no reduce starts before the last map ends." },
      panel = "mr",
    },
    -- 8
    {
      text = "One file from each map task, so no reduce starts before the last map is done. "
        .. "Reduce task Y sorts its pairs by key, calls reduce once per key with all its values "
        .. "(this regrouping is the shuffle), and writes the results to mr-out-Y.",
      pause = true,
      panel = "mr",
    },
    -- 9
    {
      text = "Before the reduces start, bring the dead worker back: select it and press r. A new "
        .. "process joins just by asking for work.",
      pause = true,
      objective = "Restart the dead worker for the reduce phase",
      check = function(c) return c:node(M.victim).status == "up" end,
      hints = { "Press the number of the CRASHED row, then r." },
      auto = function(c) c:restart(M.victim) end,
      panel = "mr",
    },
    -- 10
    {
      text = "Reduces run in parallel too. Now a straggler (paper, 3.6): a worker that is slow, not "
        .. "dead. Select a worker that is reducing and press z: it stops, holding its task.",
      run = function(c)
        c:wait(function() return #in_state(c, "reducing") >= 2 end, 5, "two workers reducing")
      end,
      pause = true,
      objective = "Pause a worker in the middle of a reduce",
      check = function(c)
        for _, t in ipairs(c:tasks()) do
          if t.type == "reduce" and t.state == "in progress" and t.worker and c:node(t.worker).paused then
            M.slow, M.rtask = t.worker, t.id
            return thaw(c, true)
          end
        end
        return false
      end,
      hints = { "Press the number of a row that says reducing, then z." },
      auto = function(c)
        c:pause(in_state(c, "reducing")[1].id)
      end,
      panel = "mr",
    },
    -- 11
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        s.text = string.format("After %d s the coordinator gives reduce %d to the next worker to "
          .. "ask, which finishes first. Then resume n%d (z): its late report is ignored, as the "
          .. "task is done. The first to finish wins.", TIMEOUT, M.rtask, M.slow)
        set_text(s, s.text)
      end,
      objective = "Another worker finishes the task; then resume the straggler",
      check = function(c, s)
        local t = task(c, "reduce", M.rtask)
        if t.state == "done" and t.worker == M.slow and not s.early then
          s.early = true
          set_text(s, string.format("n%d was resumed before the timeout and finished the task "
            .. "itself. R restarts this step.", M.slow))
        end
        return backup_done(c)
      end,
      hints = { "Wait until the board shows the task done by another worker (+ speeds time "
                .. "up); then select the paused worker and press z." },
      auto = function(c)
        thaw(c, true)
        c:wait(function()
          local t = task(c, "reduce", M.rtask)
          return t.state == "done" and t.worker ~= M.slow
        end, 3 * TIMEOUT, "the reduce task done by another worker")
        c:resume(M.slow)
        c:wait(function() return backup_done(c) end, 5, "the straggler's late report")
      end,
      timeout = 3 * TIMEOUT,
      panel = "mr",
    },
    -- 12
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        M.winner = task(c, "reduce", M.rtask).worker
        set_text(s, string.format("n%d and n%d both wrote mr-out-%d, each to a name of its own "
          .. "first (n%d: mr-out-%d.tmp-%d-%d), renamed once complete. rename is atomic: the name "
          .. "is one whole file or the other, never half of one.",
          M.slow, M.winner, M.rtask, M.winner, M.rtask, M.winner, c:node(M.winner).incarnation))
        if ts._lesson.view and ts._lesson.step == s then
          ts._lesson.view.objective = string.format("mr-out-%d: each of its words once, counted right", M.rtask)
        end
      end,
      pause = true,
      objective = "mr-out-Y: each of its words once, counted right",
      check = function(c, s) return out_right(c, s, M.rtask) end,
      hints = { "Nothing to do: the lesson checks mr-out-Y against the sequential run." },
      auto = function() end,
      panel = "mr",
    },
    -- 13
    {
      text = "(termscope runs map and reduce the moment a task arrives, so no file here is ever "
        .. "half-written. In the lab, writing takes time, and a worker can die in the middle.)",
      pause = true,
      question = { "Why a temporary name and rename, not mr-out-Y written in place?",
        choices = { "rename is faster than writing",
                    "Readers see one whole execution's output, whatever crashed or reran",
                    "So the coordinator knows which execution came first" },
        answer = 2,
        why = "Paper 3.3: the final file holds one execution's data." },
      panel = "mr",
    },
    -- 14
    {
      text = FINAL,
      objective = "The job is done, and its output is the sequential run's",
      check = function(c, s)
        if c:node(1).status ~= "exited" then return false end
        if s.same == nil then
          local got, want = c:output(), reference(c)
          s.same = want ~= nil and #got == #want
          for i = 1, #got do if s.same and got[i] ~= want[i] then s.same = false end end
          set_text(s, string.format("The coordinator told each worker to exit, and left. mr-out-0 "
            .. "to mr-out-%d: %d lines; mr-seq wc: %d lines; the same, line for line: %s.",
            R - 1, #got, want and #want or 0, s.same and "yes" or "NO"))
        end
        return s.same
      end,
      hints = { "Press space if time is frozen, and wait." },
      auto = function(c) thaw(c, true) c:wait_done(60) end,
      timeout = 60,
      panel = "mr",
    },
    -- 15
    {
      text = "A worker died and another stalled; two tasks ran twice.",
      question = { "Yet the output is the sequential run's. Why?",
        choices = { "The coordinator merges all executions' outputs",
                    "map, reduce deterministic; each output committed once, whole",
                    "Failed tasks are rerun in order at the end" },
        answer = 2,
        why = "Paper 3.3: then the output is a faultless sequential run's." },
      panel = "mr",
    },
    -- 16
    {
      text = "With deterministic map and reduce, the output is a faultless sequential run's (paper, "
        .. "3.3). That is Lab 1: tasks asked for, a 10 s timeout, mr-X-Y, reduces after the last "
        .. "map, rename; test-mr.sh checks it (wc, indexer, parallelism, job count, early exit, "
        .. "crash).",
      panel = "mr",
    },
  },
}
