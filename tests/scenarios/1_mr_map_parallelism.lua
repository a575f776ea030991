-- 6.824 Lab 1, test-mr.sh's map parallelism test, re-expressed for
-- termscope.  Two workers run mtiming (lua/apps/mtiming.lua): every map
-- call spends one virtual second and reports how many workers were inside
-- map during it.  As in the lab, the output must name exactly two workers
-- ("times-W" lines) and one of them must have seen 2 ("parallel-W ... 2").
-- Then the same from the outside: the events show both workers mapping at
-- one moment, and the task board two map tasks overlapping on two workers.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local c = ts.cluster{ kind = "mr", workers = 2, app = "mtiming", inputs = mrtest.inputs() }
  c:wait_done(120)
  local out = mrtest.output(c)
  local nt = #mrtest.grep(out, "^times%-")
  assert(nt == 2, string.format("saw %d workers rather than 2", nt))
  assert(#mrtest.grep(out, "^parallel.* 2") > 0,
    "map workers did not run in parallel: " .. table.concat(mrtest.grep(out, "^parallel"), " | "))
  local most, at = mrtest.most_at_once(c, "mapping")
  assert(most == 2, string.format("the events never show 2 workers mapping at once (at most %d)", most))
  local overlap = mrtest.board_overlap(c, "map")
  assert(overlap == 2, string.format("the task board shows at most %d map tasks at once", overlap))
  print(string.format("map parallelism: 2 workers mapping at once from %.3f s; %s",
    at, table.concat(mrtest.grep(out, "^parallel"), " | ")))
end)
