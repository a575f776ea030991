-- 6.824 Lab 2 (kvsrv, 2024), TestMemManyAppends, re-expressed for
-- termscope.  One client appends a 1000-byte value 1000 times to one key.
-- The lab bounded the Go heap by 3 x the data (a server that kept every
-- append's reply would hold about N^2/2 bytes); here the server reports
-- its memory: its table plus its duplicate table must stay under 3 x
-- 1000 x 1000 bytes, and the duplicate table must not grow with the
-- number of operations (one record per client: the same size after the
-- last append as after the first).  The value must then hold all of it.
-- The history must be linearizable.
-- seed: 43
local kvtest = require("lib.kvtest")
local N, MEM = 1000, 1000
local c = ts.cluster{ kind = "kvsrv" }
local ck = kvtest.timed(c, c:client())

local t = {}
for i = 1, MEM do t[i] = string.char(math.random(97, 122)) end
local rd = table.concat(t)

ck:append("k", rd)
local dup1 = c:node(1).dup_bytes
for _ = 2, N do ck:append("k", rd) end
local dup = c:node(1).dup_bytes
assert(dup == dup1, string.format("the duplicate table grew with the operations: %d bytes after 1 append, %d after %d", dup1, dup, N))

local m = dup
for k, e in pairs(c:table(1)) do m = m + #k + #e.value end
assert(m < 3 * MEM * N, string.format("error: server using too much memory %d (>= %d)", m, 3 * MEM * N))

local v = ck:get("k")
assert(#v == N * MEM, string.format("the value is %d bytes, expected %d", #v, N * MEM))

kvtest.check_linearizable(c)
