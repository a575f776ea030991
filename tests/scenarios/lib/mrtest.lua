-- mrtest.lua — the shared body of the MapReduce scenarios (1_mr_*): 6.824's
-- test-mr.sh, Lab 1's tester, re-expressed on kind "mr".
--
--   local mrtest = require("lib.mrtest")
--   mrtest.main(function()
--     local files = mrtest.inputs()               -- the 8 input files
--     local want = mrtest.reference("wc", files)  -- mr-seq's output, sorted
--     local c = ts.cluster{ kind = "mr", workers = 3, app = "wc", inputs = files }
--     c:wait_done(60)
--     mrtest.same(mrtest.output(c), want, "wc")
--   end)
--
-- The inputs are the shipped corpus, assets/corpus/text-00..07.txt (the
-- lab's pg-*.txt), or, when it is not there, eight files that `termscope
-- corpus` writes with a fixed seed into a temporary directory.  Nothing is
-- written into the source tree: the reference outputs and generated inputs
-- go to a temporary directory, removed when mrtest.main's body ends, well
-- or not.
--
-- Differences from test-mr.sh, all forced by the setting:
--   * Workers are nodes of the cluster, started with it (test-mr.sh starts
--     the coordinator, sleeps a second, then starts them); "a process has
--     exited" is a node whose status is "exited" (or "crashed").
--   * The timing apps compare virtual times (mr.now, mr.sleep), and the
--     task board's and the events' timelines are checked too.
--   * The crash test's loop that starts a new worker when one dies is a
--     task that restarts a crashed worker a virtual second later.
local M = {}

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end   -- at the scenario's line

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run a shell command; its output, or an error with that output.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, how, code = p:close()
  if not ok then error(string.format("%s: %s %s: %s", cmd, how, tostring(code), out), 0) end
  return (out:gsub("%s+$", ""))
end

local dirs = {}

--- A fresh temporary directory (absolute, symlinks resolved), removed by
--- mrtest.cleanup().
function M.tmpdir()
  local base = os.getenv("TMPDIR")
  if not base or base == "" then base = "/tmp" end
  local d = sh("mktemp -d " .. q(base .. "/termscope-mrtest-XXXXXX"))
  d = sh("readlink -f " .. q(d))
  dirs[#dirs + 1] = d
  return d
end

--- Remove every directory mrtest.tmpdir() made.
function M.cleanup()
  for _, d in ipairs(dirs) do os.execute("rm -rf " .. q(d)) end
  dirs = {}
end

--- Run fn(); clean up after it whatever happens; rethrow its error.
function M.main(fn)
  local ok, err = pcall(fn)
  M.cleanup()
  if not ok then error(err, 0) end
end

-- The repository's root, from where this file is.
local function root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local r = src:gsub("tests/scenarios/lib/mrtest%.lua$", "")
  if r == "" then r = "./" end
  return r
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local inputs_cache

--- The eight input files, absolute paths, in order (one map task each).
--- opts.mb: the size of each generated file when the shipped corpus is
--- missing (default 0.1 MB).
function M.inputs(opts)
  if inputs_cache then return inputs_cache end
  local files = {}
  local shipped = true
  for i = 0, 7 do
    local p = string.format("%sassets/corpus/text-%02d.txt", root(), i)
    if not exists(p) then shipped = false break end
    files[#files + 1] = sh("readlink -f " .. q(p))
  end
  if not shipped then
    local d = M.tmpdir() .. "/in"
    sh(string.format("%s corpus --files 8 --mb %g --seed 1 %s", q(ts.exe()), (opts and opts.mb) or 0.1, q(d)))
    files = {}
    for i = 0, 7 do files[#files + 1] = string.format("%s/text-%02d.txt", d, i) end
  end
  inputs_cache = files
  return files
end

-- The non-empty lines of a list of lines, sorted (test-mr.sh's `sort | grep .`).
local function sorted(lines)
  local out = {}
  for _, l in ipairs(lines) do
    if l ~= "" then out[#out + 1] = l end
  end
  table.sort(out)
  return out
end

--- The sequential reference (`termscope mr-seq APP FILES`): its output's
--- lines, sorted, empty ones left out.
function M.reference(app, files)
  local out = M.tmpdir() .. "/mr-correct-" .. app:gsub("[^%w]", "_")
  local args = {}
  for i, f in ipairs(files) do args[i] = q(f) end
  sh(string.format("%s mr-seq %s %s -o %s", q(ts.exe()), q(app), table.concat(args, " "), q(out)))
  local lines = {}
  for l in io.lines(out) do lines[#lines + 1] = l end
  return sorted(lines)
end

--- Every line of the job's mr-out-* files, sorted, empty ones left out.
function M.output(c)
  return sorted(c:output())
end

--- got and want, two sorted lists of lines, must be the same, byte for byte.
function M.same(got, want, what)
  local n = math.max(#got, #want)
  for i = 1, n do
    if got[i] ~= want[i] then
      fail("%s: the output is not the same as the reference: %d lines, the reference %d; "
        .. "first difference at line %d: %q where the reference has %q",
        what, #got, #want, i, got[i] or "(end)", want[i] or "(end)")
    end
  end
end

--- The output lines that match a Lua pattern.
function M.grep(lines, pattern)
  local out = {}
  for _, l in ipairs(lines) do
    if l:find(pattern) then out[#out + 1] = l end
  end
  return out
end

--- From the events: the largest number of workers that were in the given
--- state ("mapping" or "reducing") at the same moment, and when.
function M.most_at_once(c, state)
  local now, count, most, at = {}, 0, 0, nil
  for _, e in ipairs(c:events_since(0, { "worker", "crash", "exit" })) do
    local n = e.node
    local was = now[n] == state
    if e.ev == "worker" then now[n] = e.state else now[n] = e.ev end
    local is = now[n] == state
    if is and not was then count = count + 1 elseif was and not is then count = count - 1 end
    if count > most then most, at = count, e.t / 1000 end
  end
  return most, at
end

--- From the task board: the largest number of tasks of one type ("map" or
--- "reduce") whose [started, finished) overlap at one moment, on distinct
--- workers.  (The board keeps each task's last run: exact when nothing
--- was run twice.)
function M.board_overlap(c, type)
  local edges = {}
  for _, t in ipairs(c:tasks()) do
    if t.type == type and t.state == "done" then
      edges[#edges + 1] = { t.started, 1, t.worker }
      edges[#edges + 1] = { t.finished, -1, t.worker }
    end
  end
  table.sort(edges, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]   -- an end before a start at the same instant
  end)
  local inside, most = {}, 0
  for _, e in ipairs(edges) do
    inside[e[3]] = (inside[e[3]] or 0) + e[2]
    local n = 0
    for _, k in pairs(inside) do if k > 0 then n = n + 1 end end
    most = math.max(most, n)
  end
  return most
end

--- The nodes (coordinator included) whose process has ended.
function M.gone(c)
  local ids = {}
  for i = 1, c:size() do
    local s = c:node(i).status
    if s == "exited" or s == "crashed" or s == "failed" then ids[#ids + 1] = i end
  end
  return ids
end

return M
