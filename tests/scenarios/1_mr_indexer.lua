-- 6.824 Lab 1, test-mr.sh's indexer test, re-expressed for termscope.
-- Two workers build an inverted index (lua/apps/indexer.lua: for each word,
-- how many documents hold it and which); every line of mr-out-*, sorted,
-- must be exactly `termscope mr-seq indexer`'s output, sorted.
-- seed: 1
local mrtest = require("lib.mrtest")

mrtest.main(function()
  local files = mrtest.inputs()
  local want = mrtest.reference("indexer", files)
  local c = ts.cluster{ kind = "mr", workers = 2, app = "indexer", inputs = files }
  local job = c:wait_done(120)
  assert(job.phase == "done", "the job ended in phase " .. job.phase)
  mrtest.same(mrtest.output(c), want, "indexer")
  print(string.format("indexer: %d lines, the same as mr-seq's (%.1f virtual s)", #want, c:time()))
end)
