-- 6.824 Lab 2 (kvsrv, 2024), TestMemGetManyClients and
-- TestMemPutManyClients, re-expressed for termscope.  Many clients (1000
-- here, 100,000 in the lab) each talk to the server once; its duplicate
-- table may grow with the number of clients, but only by a small record
-- each:
--   every client gets "k" (a get need not be remembered): the duplicate
--   table grows by at most 10 bytes a client;
--   every client puts a 1000-byte value: at most 200 bytes a client (the
--   lab's bound; the value itself must not be kept per client);
--   every client puts again: it does not grow at all (one record per
--   client, however many operations).
-- The history must be linearizable.
-- seed: 44
local kvtest = require("lib.kvtest")
local NCLIENT, MEM = 1000, 1000
local c = ts.cluster{ kind = "kvsrv" }
local function dup() return c:node(1).dup_bytes end

local t = {}
for i = 1, MEM do t[i] = string.char(math.random(97, 122)) end
local v = table.concat(t)

local cks = {}
for i = 1, NCLIENT do cks[i] = kvtest.timed(c, c:client()) end

local m0 = dup()
for i = 1, NCLIENT do cks[i]:get("k") end
local m1 = dup()
assert(m1 <= m0 + NCLIENT * 10,
  string.format("error: server using too much memory after gets %d %d (%.2f per client)", m0, m1, (m1 - m0) / NCLIENT))

for i = 1, NCLIENT do cks[i]:put("k", v) end
local m2 = dup()
assert(m2 <= m1 + NCLIENT * 200,
  string.format("error: server using too much memory after puts %d %d (%.2f per client)", m1, m2, (m2 - m1) / NCLIENT))

for i = 1, NCLIENT do cks[i]:put("k", v) end
local m3 = dup()
assert(m3 == m2, string.format("the duplicate table grew from %d to %d bytes on a second put per client", m2, m3))

kvtest.check_linearizable(c)
