-- crash.lua — a job on workers that crash and straggle (6.824's
-- mrapps/crash).  Each map and reduce call draws with mr.random: a third
-- of them crash the worker on the spot (mr.crash()), a third dawdle for 0
-- to 10 virtual seconds (mr.sleep), the rest just run.  The work itself is
-- a little index and count per file; nocrash.lua is the same job without
-- the accidents, so the two outputs must be the same:
--
--   a  the files          b  their names' lengths     c  their sizes
--   d  "xyzzy" per file   w  their words (runs of letters)

local function maybe_crash()
  local r = mr.random(0, 999)
  if r < 330 then
    mr.crash()
  elseif r < 660 then
    mr.sleep(mr.random(0, 9999) / 1000)
  end
end

local function words(s)
  local n = 0
  for _ in s:gmatch("[A-Za-z]+") do n = n + 1 end
  return n
end

function map(filename, contents)
  maybe_crash()
  return {
    { "a", filename },
    { "b", tostring(#filename) },
    { "c", tostring(#contents) },
    { "d", "xyzzy" },
    { "w", tostring(words(contents)) },
  }
end

function reduce(key, values)
  maybe_crash()
  local vv = {}
  for i, v in ipairs(values) do vv[i] = v end
  table.sort(vv)  -- the values come in any order; the output must not
  return table.concat(vv, " ")
end
