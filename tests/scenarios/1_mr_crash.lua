-- 6.824 Lab 1, test-mr.sh's crash test, re-expressed for termscope.
-- Three workers run crash (lua/apps/crash.lua): a third of the map and
-- reduce calls kill the worker on the spot, a third dawdle up to ten
-- virtual seconds — as long as the coordinator's timeout, so some tasks
-- are handed to another worker while the first one is still on it.  As
-- test-mr.sh's loops start a new worker when one dies, a task here
-- restarts a crashed worker a virtual second later, until the job is done.
-- The output must be exactly nocrash's sequential output, and the run must
-- really have had crashes and re-executed tasks.
--
-- Note: a worker restarted soon (in wall time) after its app crashed it
-- may come up "failed" ("connection closed"): the hub takes the old
-- process's connection closing for the new one's.  The restarter then
-- restarts it again, and says how often it had to.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local want = mrtest.reference("nocrash", files)
  local c = ts.cluster{ kind = "mr", workers = 3, app = "crash", inputs = files, timeout = 10 }
  local restarts, refailed = 0, 0
  local done = false
  local restarter = ts.go(function()
    local down = {}   -- worker -> when it was first seen down
    while not done and c:node(1).status == "up" do
      for _, w in ipairs(c:workers()) do
        -- "failed": a restart the hub lost (see the note above)
        local n = c:node(w.id)
        local lost = w.status == "failed" and n.why == "connection closed"
        if w.status == "crashed" or lost then
          down[w.id] = down[w.id] or c:time()
          if c:time() >= down[w.id] + 1 then
            if lost then refailed = refailed + 1 end
            c:restart(w.id)
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
  if refailed > 0 then print(string.format("note: %d restarts came up failed and were restarted again", refailed)) end
end)
