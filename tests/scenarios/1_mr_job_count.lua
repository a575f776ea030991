-- 6.824 Lab 1, test-mr.sh's job count test, re-expressed for termscope.
-- Four workers run jobcount (lua/apps/jobcount.lua): every map call leaves
-- a file of its own and takes 2 to 5 virtual seconds; the one reduce
-- counts the files.  Nothing fails, so no map task may run twice: the
-- output must be "a 8", one per input file — and the task board must say
-- each task ran once.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local c = ts.cluster{ kind = "mr", workers = 4, app = "jobcount", inputs = files }
  c:wait_done(120)
  local out = mrtest.output(c)
  assert(#out == 1 and out[1]:match("^a %d+$"), "expected one line \"a N\", got: " .. table.concat(out, " | "))
  local nt = tonumber(out[1]:match("^a (%d+)$"))
  assert(nt == #files, string.format("map jobs ran incorrect number of times (%d != %d)", nt, #files))
  for _, t in ipairs(c:tasks()) do
    assert(t.runs == 1, string.format("%s task %d was handed out %d times", t.type, t.id, t.runs))
  end
  print(string.format("job count: %s, %d inputs (%.1f virtual s)", out[1], #files, c:time()))
end)
