-- mtiming.lua — does the framework run map tasks in parallel?  (6.824's
-- mrapps/mtiming.)  Workers share no clock but the virtual one, so every map
-- call takes one virtual second (mr.sleep(1)) and leaves a note in mr.dir:
--
--   mr-timing-map-<worker>-<entry ms>-<n>    holding "worker entry exit" (seconds)
--
-- and counts the workers whose notes overlap its own [entry, exit): itself
-- included, how many were inside map at once.  The output:
--
--   times-<worker>     the entry times of that worker's map calls
--   parallel-<worker>  the counts it saw; a 2 somewhere means two workers
--                      mapped at the same time
--
-- A checker can also read the notes themselves.

local calls = 0

-- Spend one virtual second in `phase`; the entry time and how many workers
-- (this one included) were in that phase at some moment of it.
local function inside(phase)
  local entry = mr.now()
  mr.sleep(1)
  local exit = mr.now()
  local prefix = "mr-timing-" .. phase .. "-"
  local seen, n = {}, 1
  for _, name in ipairs(mr.files(prefix)) do
    local f = io.open(mr.dir .. "/" .. name)
    if f then
      local w, t0, t1 = f:read("n", "n", "n")
      f:close()
      if w and t1 and w ~= mr.worker and not seen[w] and t0 < exit and entry < t1 then
        seen[w] = true
        n = n + 1
      end
    end
  end
  calls = calls + 1
  local note = string.format("%s/%s%d-%d-%d", mr.dir, prefix, mr.worker,
                             math.floor(entry * 1000 + 0.5), calls)
  local f = assert(io.open(note, "w"))
  f:write(string.format("%d %.3f %.3f\n", mr.worker, entry, exit))
  f:close()
  return entry, n
end

function map(filename, contents)
  local entry, n = inside("map")
  return {
    { "times-" .. mr.worker, string.format("%.1f", entry) },
    { "parallel-" .. mr.worker, tostring(n) },
  }
end

function reduce(key, values)
  local vv = {}
  for i, v in ipairs(values) do vv[i] = v end
  table.sort(vv)
  return table.concat(vv, " ")
end
