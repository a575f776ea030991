-- 6.824 Lab 2 (kvsrv, 2024), TestUnreliableOneKey2, re-expressed for
-- termscope.  The unreliable network; after a put of "" to key "k", ten
-- clients each append ten values "x me n y" to it at the same time.  The
-- final value must hold all hundred, each exactly once, each client's in
-- its order, and the history must be linearizable.
-- The lab's Append returned the old value, which had to lack the new one;
-- here appends return nothing, so each client reads the key after each
-- append and must find its value there.  Those reads also let the checker
-- decide (the lab checks no history here): with one read at the end, a
-- hundred racing appends leave it too many orders to try.  For the same
-- reason the clients start 3 ms apart: ten appends called at the same
-- instant have 10! orders to tell apart before the first read returns.
-- seed: 38
local kvtest = require("lib.kvtest")
local NCLIENT, UPTO = 10, 10
local c = ts.cluster{ kind = "kvsrv" }
c:net("unreliable")
local ck = kvtest.timed(c, c:client())

ck:put("k", "")

local clients = {}
for me = 0, NCLIENT - 1 do
  local myck = c:client()
  clients[me] = ts.go(function()
    c:sleep(me * 0.003)
    for n = 0, UPTO - 1 do
      local nv = kvtest.elem(me, n)
      myck:append("k", nv)
      local v = myck:get("k")
      assert(v:find(nv, 1, true), string.format("%d: own append %q missing after it returned", me, nv))
    end
  end)
end
for me = 0, NCLIENT - 1 do clients[me]:wait(120, c) end

local counts = {}
for i = 1, NCLIENT do counts[i] = UPTO end
local vx = ck:get("k")
kvtest.check_concurrent_appends(vx, counts)

kvtest.check_linearizable(c)
