-- Splitting big inputs (the paper's M pieces of 16-64 MB; an option here):
-- with split = 10000, each ~32 KB input file becomes parts of about 10 KB
-- cut at line ends, one map task each.  More map tasks than files, and
-- the output is still exactly the sequential run's over the whole files
-- (no word is cut in two: every part ends at a line end).
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local want = mrtest.reference("wc", files)
  local c = ts.cluster{ kind = "mr", workers = 3, app = "wc", inputs = files, reduces = 5, split = 10000 }
  local job = c:job()
  assert(job.maps > #files, string.format("%d map tasks for %d files: nothing was split", job.maps, #files))
  job = c:wait_done(120)
  assert(job.phase == "done", "the job ended in phase " .. job.phase)
  mrtest.same(mrtest.output(c), want, "wc over split inputs")
  print(string.format("split: %d files became %d map tasks; output the same as mr-seq's (%d lines)",
    #files, job.maps, #want))
end)
