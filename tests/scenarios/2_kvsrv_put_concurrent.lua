-- 6.824 Lab 2 (kvsrv1, 2025), TestPutConcurrentReliable, re-expressed for
-- termscope.  Ten clients race for 1 virtual s to put to the same key "k"
-- (kvtest's OneClientPut/OnePut): each puts "me:ver" at the version it
-- last saw and reads the key back; on OK it counts a put (and if no one
-- wrote since, the value read must be its own), on ErrVersion it retries
-- at the version read.  On a reliable network no put may be lost or
-- doubled: the key's final version must equal the number of OK puts
-- (CheckPutConcurrent).  The history must be linearizable.
-- As in the 2025 lab the server keeps no duplicate table (dedup = false):
-- versions alone make each put take effect at most once, and a retry of a
-- put that did take effect answers ErrVersion, which the clerk reports as
-- ErrMaybe.
-- seed: 40
local kvtest = require("lib.kvtest")
local NCLNT, NSEC = 10, 1
local c = ts.cluster{ kind = "kvsrv", dedup = false }

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- OnePut: put until OK or ErrMaybe; the new version, and whether it was OK
local function one_put(me, ck, key, ver)
  while true do
    local ok, err = ck:put(key, me .. ":" .. ver, ver)
    if not (ok or err == "ErrVersion" or err == "ErrMaybe") then fail("Wrong error %s", err) end
    local val, ver0 = ck:get(key)
    if ok and ver0 == ver + 1 and val ~= me .. ":" .. ver then   -- my put, and no other since
      fail("Wrong value %q (expected %q)", val, me .. ":" .. ver)
    end
    ver = ver0
    if ok or err == "ErrMaybe" then return ver, ok end
  end
end

local stop = false
local function one_client_put(me, ck)
  local res = { nok = 0, nmaybe = 0 }
  local ver = 0
  while not stop do
    local ok
    ver, ok = one_put(me, ck, "k", ver)
    if ok then res.nok = res.nok + 1 else res.nmaybe = res.nmaybe + 1 end
  end
  return res
end

local clients = {}
for me = 0, NCLNT - 1 do clients[me] = ts.go(one_client_put, me, c:client()) end
c:sleep(NSEC)
stop = true

-- CheckPutConcurrent, reliable: the version counts every OK put
local nok, nmaybe = 0, 0
for me = 0, NCLNT - 1 do
  local r = clients[me]:wait(30, c)
  nok, nmaybe = nok + r.nok, nmaybe + r.nmaybe
end
local _, ver0 = kvtest.timed(c, c:client()):get("k")
assert(ver0 == nok, string.format("Reliable: Wrong number of puts: server %d clnts %d OK, %d maybe", ver0, nok, nmaybe))
assert(nok > 0, "no put succeeded")

kvtest.check_linearizable(c)
