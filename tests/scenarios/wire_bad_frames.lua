-- seed: 11
-- Strangers and broken frames on the hub's port: each connection is closed
-- with a logged reason, and the cluster goes on electing and committing as
-- if nothing happened.
local c = ts.cluster{ kind = "raft", nodes = 3 }
local l = c:wait_leader(5)

local function u32(n) return string.pack("<I4", n) end
local function frame(ftype, payload) return u32(#payload) .. string.char(ftype) .. payload end

local cases = {
  -- what we send, what the hub must say when it hangs up
  { "", "connection closed before HELLO" },
  { "\1\0", "in the middle of a frame" },
  { u32(0xffffffff) .. "\1", "exceeds the limit" },
  { frame(200, "x"), "unknown frame type 200" },
  { frame(9, string.pack("<I8", 1)), "first frame is not HELLO" },
  { frame(1, string.pack("<I2", 1) .. string.rep("\0", 16) .. u32(1) .. u32(1) .. u32(42)), "bad token" },
  { frame(1, string.pack("<I2", 99) .. string.rep("\0", 16) .. u32(1) .. u32(1) .. u32(42)), "protocol version" },
  { frame(1, "\1"), "truncated" },
}
for i, case in ipairs(cases) do
  local why = c:probe(case[1])
  assert(why:find(case[2], 1, true),
    string.format("case %d: expected the hub to say %q, it said %q", i, case[2], why))
end
assert(#c:events{ ev = "reject" } == #cases, "every rejected connection is in the events")

-- the nodes never noticed
for i = 1, 3 do assert(c:node(i).up, "node " .. i .. " is still up") end
local index = c:one("after-the-noise", 3, false)
assert(index == 1)
assert(c:leader() ~= nil)
