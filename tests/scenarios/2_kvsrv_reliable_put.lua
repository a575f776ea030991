-- 6.824 Lab 2 (kvsrv1, 2025), TestReliablePut, re-expressed for termscope.
-- One client, reliable network, versioned puts:
--   put k = "6.5840" at version 0 creates it: OK;
--   get k returns "6.5840" at version 1;
--   put k at version 0 again: ErrVersion (k is at version 1);
--   put y at version 1: ErrNoKey (y does not exist);
--   get y: the lab's ErrNoKey, here "" at version 0.
-- The history must be linearizable.
-- As in the 2025 lab the server keeps no duplicate table (dedup = false):
-- versions alone make each put take effect at most once, and a retry of a
-- put that did take effect answers ErrVersion, which the clerk reports as
-- ErrMaybe.
-- seed: 39
local kvtest = require("lib.kvtest")
local VAL, VER = "6.5840", 0
local c = ts.cluster{ kind = "kvsrv", dedup = false }
local ck = kvtest.timed(c, c:client())

local ok, err = ck:put("k", VAL, VER)
assert(ok, string.format("Put err %s", tostring(err)))

local val, ver = ck:get("k")
assert(val == VAL, string.format("Get value err %q; expected %q", val, VAL))
assert(ver == VER + 1, string.format("Get wrong version %d; expected %d", ver, VER + 1))

ok, err = ck:put("k", VAL, 0)
assert(not ok and err == "ErrVersion", string.format("expected Put to fail with ErrVersion; got err=%s", tostring(err or "OK")))

ok, err = ck:put("y", VAL, 1)
assert(not ok and err == "ErrNoKey", string.format("expected Put to fail with ErrNoKey; got err=%s", tostring(err or "OK")))

val, ver = ck:get("y")
assert(val == "" and ver == 0, string.format("expected Get of a missing key to give \"\" at 0; got %q at %d", val, ver))

kvtest.check_linearizable(c)
