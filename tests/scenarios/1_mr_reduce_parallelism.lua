-- 6.824 Lab 1, test-mr.sh's reduce parallelism test, re-expressed for
-- termscope.  Two workers run rtiming (lua/apps/rtiming.lua): every reduce
-- call spends one virtual second and answers how many workers were inside
-- reduce during it.  As in the lab, at least two keys must answer 2
-- ("c 2").  Then the same from the outside: the events show both workers
-- reducing at one moment, and the task board two reduce tasks overlapping.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local c = ts.cluster{ kind = "mr", workers = 2, app = "rtiming", inputs = mrtest.inputs() }
  c:wait_done(120)
  local out = mrtest.output(c)
  local nt = #mrtest.grep(out, "^[a-z] 2")
  assert(nt >= 2, string.format("too few parallel reduces (%d): %s", nt, table.concat(out, " | ")))
  local most = mrtest.most_at_once(c, "reducing")
  assert(most == 2, string.format("the events never show 2 workers reducing at once (at most %d)", most))
  local overlap = mrtest.board_overlap(c, "reduce")
  assert(overlap == 2, string.format("the task board shows at most %d reduce tasks at once", overlap))
  print(string.format("reduce parallelism: %d keys reduced beside another worker: %s", nt, table.concat(out, " | ")))
end)
