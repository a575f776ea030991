-- 6.824 Lab 1, test-mr.sh's word-count test, re-expressed for termscope.
-- A coordinator and three workers run wc (lua/apps/wc.lua) over the eight
-- input files, ten reduce tasks; once the coordinator has left, every line
-- of mr-out-* together, sorted, must be exactly the sequential run's
-- output (`termscope mr-seq wc`), sorted.  Nothing fails, so every task
-- ran once.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local want = mrtest.reference("wc", files)
  local c = ts.cluster{ kind = "mr", workers = 3, app = "wc", inputs = files, reduces = 10 }
  local job = c:wait_done(120)
  assert(job.phase == "done", "the job ended in phase " .. job.phase)
  mrtest.same(mrtest.output(c), want, "wc")
  for _, t in ipairs(c:tasks()) do
    assert(t.state == "done" and t.runs == 1,
      string.format("%s task %d: %s after %d runs", t.type, t.id, t.state, t.runs))
  end
  print(string.format("wc: %d lines, the same as mr-seq's; %d map and %d reduce tasks in %.1f virtual s",
    #want, job.maps, job.reduces, c:time()))
end)
