-- rtiming.lua — does the framework run reduce tasks in parallel?  (6.824's
-- mrapps/rtiming.)  map emits the ten keys a..j once per file; every reduce
-- call takes one virtual second (mr.sleep(1)), leaves a note in mr.dir:
--
--   mr-timing-reduce-<worker>-<entry ms>-<n>   holding "worker entry exit" (seconds)
--
-- and answers how many workers, itself included, were inside reduce at some
-- moment of that second.  Output lines like "c 2": a reduce of c ran beside
-- another worker's.  A checker wants at least two keys with a 2.

local calls = 0

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
  local kvs = {}
  for c in ("abcdefghij"):gmatch(".") do
    kvs[#kvs + 1] = { c, "1" }
  end
  return kvs
end

function reduce(key, values)
  local _, n = inside("reduce")
  return tostring(n)
end
