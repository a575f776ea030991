-- seed: 5
-- What a node finds on disk after a crash.  A torn tail of its log (a record
-- half written, or garbage after the last record) is cut off and reported;
-- the node recovers the valid prefix and takes part again.  A
-- damaged meta file (term and vote) is a clear error naming the file: that
-- node is reported as failed and the run goes on without it.
local c = ts.cluster{ kind = "raft", nodes = 3 }
c:wait_leader(5)
for i = 1, 5 do c:one("cmd" .. i, 3, false) end

-- pick a follower and crash it
local l = c:leader()
local f = (l % 3) + 1
c:crash(f)
local log = c:dir(f) .. "/log"
local fh = assert(io.open(log, "rb"))
local bytes = fh:read("a")
fh:close()
assert(#bytes > 0, "the follower wrote its log")

-- a crash in the middle of an append leaves half a record after the last
-- good one (it was never fsync'd, so never acknowledged): a header that
-- promises 100 bytes of payload, and only some of them
fh = assert(io.open(log, "ab"))
fh:write(string.pack("<I4I4I8I8", 100, 0xdeadbeef, 1, 6), "only part of a payload")
fh:close()

c:restart(f)
local notes = c:events{ ev = "note", node = f }
assert(#notes == 1, "one recovery note, got " .. #notes)
assert(notes[1].text:find("truncated", 1, true), notes[1].text)
assert(notes[1].text:find(log, 1, true), "the note names the file: " .. notes[1].text)
assert(notes[1].text:find("record 5", 1, true), "the torn record is the sixth (0-based 5): " .. notes[1].text)
assert(c:node(f).log_len == 5, "the five good records survive, got " .. c:node(f).log_len)
fh = assert(io.open(log, "rb"))
assert(#fh:read("a") == #bytes, "the file is cut back to its good records")
fh:close()
-- and it takes part in agreement again
c:one("cmd6", 3, false)

-- now damage the meta file of the same follower
c:crash(f)
fh = assert(io.open(c:dir(f) .. "/meta", "r+b"))
fh:seek("set", 9)
fh:write("\42")
fh:close()
c:restart(f)
local nd = c:node(f)
assert(nd.status == "failed", "a damaged meta fails the node, got " .. nd.status)
assert(nd.why:find(c:dir(f) .. "/meta", 1, true), "the error names the file: " .. nd.why)
-- the other two go on
c:one("cmd7", 2, false)
assert(#c:events{ ev = "error", node = f } == 1)
