-- 6.824 Lab 1, test-mr.sh's crash test, re-expressed for termscope.
-- Three workers run crash (lua/apps/crash.lua): a third of the map and
-- reduce calls kill the worker on the spot, a third dawdle up to ten
-- virtual seconds — as long as the coordinator's timeout, so some tasks
-- are handed to another worker while the first one is still on it.  As
-- test-mr.sh's loops start a new worker when one dies, a task here
-- restarts a crashed worker a virtual second later, until the job is done.
-- The output must be exactly nocrash's sequential output, and the run must
-- really have had crashes and re-executed tasks, and every restarted
-- worker must come up (a restart right after an app crash once came up
-- "failed": the old connection's close was blamed on the new process).
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local want = mrtest.reference("nocrash", files)
  local c = ts.cluster{ kind = "mr", workers = 3, app = "crash", inputs = files, timeout = 10 }
  local restarts = 0
  local done = false
  local restarter = ts.go(function()
    local down = {}   -- worker -> when it was first seen down
    while not done and c:node(1).status == "up" do
      for _, w in ipairs(c:workers()) do
        assert(w.status ~= "failed", string.format("worker %d failed: %s", w.id, tostring(c:node(w.id).why)))
        if w.status == "crashed" then
          down[w.id] = down[w.id] or c:time()
          if c:time() >= down[w.id] + 1 then
            c:restart(w.id)
            assert(c:node(w.id).status == "up", string.format("worker %d did not come back up: %s",
              w.id, tostring(c:node(w.id).why)))
            restarts = restarts + 1
            down[w.id] = nil
          end
        end
      end
      c:sleep(0.25)
    end
  end)
  c:wait_done(600)
  done = true
  restarter:wait(5, c)
  mrtest.same(mrtest.output(c), want, "crash")
  local crashes = #c:events{ ev = "crash", why = "its app crashed it" }
  assert(crashes > 0, "no worker crashed")
  local again = {}
  for _, t in ipairs(c:tasks()) do
    if t.runs > 1 then again[#again + 1] = string.format("%s %d x%d", t.type, t.id, t.runs) end
  end
  assert(#again > 0, "no task was handed out twice")
  print(string.format("crash: %d crashes, %d restarts; re-executed: %s; output the same as nocrash's (%.1f virtual s)",
    crashes, restarts, table.concat(again, ", "), c:time()))
end)
