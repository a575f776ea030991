-- termscope's own: the checker catches a stale read.  Five KV servers;
-- one clerk reads "locally" (each replica answers a get from its own
-- table, without going through the Raft log) and can reach only server 4.
-- x = "1" is written and reaches server 4; then servers 4 and 5 are cut
-- off from the other three, which write x = "2" and return.  A local
-- read at server 4 after that still says "1": each operation looks fine
-- on its own, but no order of them explains a read of "1" after the
-- write of "2" had returned.  The read must return "1" and the checker
-- must say "illegal" (which is why the default, reads = "log", sends gets
-- through the log).
-- seed: 61
local kvtest = require("lib.kvtest")
local c = ts.cluster{ kind = "kv", nodes = 5 }
local ck = kvtest.timed(c, c:client())

ck:put("x", "1")
c:wait(function()
  local e = c:table(4).x
  return e and e.value == "1"
end, 5, "server 4 to apply x = 1")

c:partition({ 1, 2, 3 }, { 4, 5 })
local majority = kvtest.timed(c, c:client{ reach = { 1, 2, 3 } })
majority:put("x", "2")

local stale = kvtest.timed(c, c:client{ reach = { 4 }, reads = "local" })
local v = stale:get("x")
assert(v == "1", string.format("the local read at server 4 returned %q, expected the stale \"1\"", v))

local ok, text, verdict = c:check_linearizable()
assert(not ok and verdict == "illegal",
  string.format("the checker should find the stale read illegal; it said %s: %s", verdict, text))
assert(text:find("x", 1, true), "the checker's account does not name key x: " .. text)
