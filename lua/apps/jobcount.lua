-- jobcount.lua — how many times did map run?  (6.824's mrapps/jobcount.)
-- Every map call leaves a file of its own in mr.dir,
--
--   mr-jobcount-<worker>-<entry ms>-<n>
--
-- and takes 2 to 5 virtual seconds.  The one key "a" reduces to the number
-- of those files: the number of map executions.  With no crashes it must
-- equal the number of input files — a framework that hands one task out
-- twice without need gets it wrong.

local count = 0

function map(filename, contents)
  count = count + 1
  local name = string.format("%s/mr-jobcount-%d-%d-%d", mr.dir, mr.worker,
                             math.floor(mr.now() * 1000 + 0.5), count)
  local f = assert(io.open(name, "w"))
  f:write("x")
  f:close()
  mr.sleep(2 + 3 * mr.random())
  return { { "a", "x" } }
end

function reduce(key, values)
  return tostring(#mr.files("mr-jobcount-"))
end
