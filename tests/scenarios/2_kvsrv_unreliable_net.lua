-- 6.824 Lab 2 (kvsrv1, 2025), TestUnreliableNet, re-expressed for
-- termscope.  One client, the unreliable network, 100 tries: at try t it
-- puts i = 0, 1, 2 ... at version t until a put does not answer ErrMaybe;
-- such a retry must answer ErrVersion (the first put did happen: a put may
-- not take effect twice).  Then k must hold "0" at version t + 1.  The
-- clerk must have answered ErrMaybe at least once (a retry of a put whose
-- reply was lost), and the history must be linearizable.
-- As in the 2025 lab the server keeps no duplicate table (dedup = false):
-- versions alone make each put take effect at most once, and a retry of a
-- put that did take effect answers ErrVersion, which the clerk reports as
-- ErrMaybe.
-- seed: 41
local kvtest = require("lib.kvtest")
local NTRY = 100
local c = ts.cluster{ kind = "kvsrv", dedup = false }
c:net("unreliable")
local ck = kvtest.timed(c, c:client())

local retried = false
for try = 0, NTRY - 1 do
  local i = 0
  while true do
    local ok, err = ck:put("k", tostring(i), try)
    if ok or err ~= "ErrMaybe" then
      assert(i == 0 or err == "ErrVersion",
        string.format("Put shouldn't have happen more than once %s", ok and "OK" or err))
      break
    end
    -- try the put again; it should fail with ErrVersion
    retried = true
    i = i + 1
  end
  local v, ver = ck:get("k")
  assert(ver == try + 1, string.format("Wrong version %d expect %d", ver, try + 1))
  assert(v == "0", string.format("Wrong value %s expect %d", v, 0))
end
assert(retried, "Clerk.Put never returned ErrMaybe")

kvtest.check_linearizable(c)
