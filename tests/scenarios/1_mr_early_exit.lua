-- 6.824 Lab 1, test-mr.sh's early exit test, re-expressed for termscope.
-- Three workers run early_exit (lua/apps/early_exit.lua), whose reduce of
-- one key (text-03's) takes three virtual seconds longer than the rest.
-- No process may exit before the job is done: the output taken the moment
-- the first process (a worker or the coordinator) exits must be the final
-- output, and every "exit" event must come after the last reduce task was
-- reported done.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local c = ts.cluster{ kind = "mr", workers = 3, app = "early_exit", inputs = files }
  -- wait -n: the first process to end
  c:wait(function() return #mrtest.gone(c) > 0 end, 120, "a process to exit")
  local first = mrtest.gone(c)
  local initial = mrtest.output(c)
  local t_first = c:time()
  -- wait for the others
  c:wait_done(60)
  c:wait(function() return #mrtest.gone(c) == c:size() end, 60, "every worker to exit")
  local final = mrtest.output(c)
  mrtest.same(initial, final, "output changed after node " .. first[1] .. " exited")
  assert(#final == #files, string.format("%d output lines for %d input files", #final, #files))
  for _, l in ipairs(final) do
    assert(l:match(" 1$"), "each file is one key counted once: " .. l)
  end
  -- the same in the events: the last reduce done, then the first exit
  local last_done, first_exit
  for i, e in ipairs(c:events_since(0, { "task", "exit", "crash" })) do
    if e.ev == "task" and e.type == "reduce" and e.state == "done" then last_done = i end
    if (e.ev == "exit" or e.ev == "crash") and not first_exit then first_exit = i end
  end
  assert(last_done, "no reduce task was ever done")
  assert(first_exit and first_exit > last_done, "a process exited before the last reduce task was done")
  for _, t in ipairs(c:tasks()) do assert(t.state == "done", t.type .. " task " .. t.id .. " is " .. t.state) end
  print(string.format("early exit: node %d left first, at %.3f s; the output (%d lines) was final then",
    first[1], t_first, #final))
end)
