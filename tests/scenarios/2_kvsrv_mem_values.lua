-- 6.824 Lab 2 (kvsrv, 2024), TestMemGet2, TestMemPut2 and TestMemAppend2,
-- re-expressed for termscope.  Does the server keep copies of values it
-- no longer needs (say, every reply in its duplicate table)?  The lab
-- measured the Go heap around 10 MiB values; here a value is as large as
-- one request can carry (48 KiB) and the server's memory is what it
-- reports: its table (keys and values) plus its duplicate table.  Each
-- part runs on a fresh server with two clients:
--   get:    put a big value; gets by both clients return all of it; put
--           "0": the server must hold less than one big value;
--   put:    put a big value, the other client puts "": less than one;
--   append: each client appends a big value: at most three of them.
-- Each history must be linearizable.
-- seed: 42
local kvtest = require("lib.kvtest")
local MEM = 48 * 1024   -- bytes: KV_MAX_VALUE, the largest value a request carries

local function rand_value(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(97, 122)) end
  return table.concat(t)
end

-- what the server holds: its table's keys and values, and its duplicate table
local function server_bytes(c)
  local n = c:node(1).dup_bytes
  for k, e in pairs(c:table(1)) do n = n + #k + #e.value end
  return n
end

do -- TestMemGet2
  local c = ts.cluster{ kind = "kvsrv" }
  local ck0, ck1 = kvtest.timed(c, c:client()), kvtest.timed(c, c:client())
  local rd = rand_value(MEM)
  ck0:put("k", rd)
  local v = ck0:get("k")
  assert(#v == #rd, string.format("error: incorrect len %d", #v))
  v = ck1:get("k")
  assert(#v == #rd, string.format("error: incorrect len %d", #v))
  ck0:put("k", "0")
  local m = server_bytes(c)
  assert(m < MEM, string.format("error: server using too much memory %d (>= %d) after get", m, MEM))
  kvtest.check_linearizable(c)
  c:stop()
end

do -- TestMemPut2
  local c = ts.cluster{ kind = "kvsrv" }
  local ck0, ck1 = kvtest.timed(c, c:client()), kvtest.timed(c, c:client())
  ck0:put("k", rand_value(MEM))
  ck1:put("k", "")
  local m = server_bytes(c)
  assert(m < MEM, string.format("error: server using too much memory %d (>= %d) after put", m, MEM))
  kvtest.check_linearizable(c)
  c:stop()
end

do -- TestMemAppend2
  local c = ts.cluster{ kind = "kvsrv" }
  local ck0, ck1 = kvtest.timed(c, c:client()), kvtest.timed(c, c:client())
  ck0:append("k", rand_value(MEM))
  ck1:append("k", rand_value(MEM))
  local m = server_bytes(c)
  assert(m <= 3 * MEM, string.format("error: server using too much memory %d (> %d) after append", m, 3 * MEM))
  kvtest.check_linearizable(c)
  c:stop()
end
