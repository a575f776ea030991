-- termscope's own: the checker catches a duplicated append.  One kvsrv
-- server with its duplicate table turned off (dedup = false) on the
-- unreliable network: when a reply is lost the clerk sends the append
-- again, and the server applies it a second time.  One client appends
-- "x 0 j y" for j = 0..49 and reads the key: some value must be in it
-- twice (the lab's checkClntAppends would say "duplicate element"), and
-- the linearizability checker must say "illegal": no order of fifty
-- appends, each taking effect once, gives that value.
-- seed: 62
local kvtest = require("lib.kvtest")
local N = 50
local c = ts.cluster{ kind = "kvsrv", dedup = false }
c:net("unreliable")
local ck = kvtest.timed(c, c:client())

for j = 0, N - 1 do ck:append("k", kvtest.elem(0, j)) end
c:net("reliable")
local v = ck:get("k")

local dups = 0
for j = 0, N - 1 do
  local wanted = kvtest.elem(0, j)
  local off = v:find(wanted, 1, true)
  assert(off, string.format("missing element %s in Append result %s", wanted, v))
  if v:find(wanted, off + 1, true) then dups = dups + 1 end
end
assert(dups > 0, "no append was applied twice: with this seed no reply was lost")

local ok, text, verdict = c:check_linearizable()
assert(not ok and verdict == "illegal",
  string.format("the checker should find the duplicated append illegal; it said %s: %s", verdict, text))
