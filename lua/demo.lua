-- demo.lua — what `termscope --headless` shows: a key/value service on
-- five Raft servers (the cluster the dashboard opens on).  A client writes
-- through the leader; the leader is cut off and another is elected; the
-- client's next write finds the new leader; a read sees both writes; the
-- old leader comes back, steps down and catches up; and the checker finds
-- what the client saw linearizable.
local c = ts.cluster{ kind = "kv", nodes = 5 }
local k = c:client()

-- the last operation's record: who answered, after how many attempts
local function last()
  local h = c:history()
  return h[#h]
end

local l = c:wait_leader(5)
print(string.format("%6.3fs  node %d is leader in term %d", c:time(), l, c:node(l).term))

k:put("x", "1")
print(string.format("%6.3fs  the client put x=1: node %d answered once a majority had it", c:time(), last().server))

c:isolate(l)
print(string.format("%6.3fs  node %d is cut off from the others and from the client", c:time(), l))

local l2 = c:wait_leader(5)
print(string.format("%6.3fs  node %d is leader in term %d (the old leader still thinks it leads term %d)",
  c:time(), l2, c:node(l2).term, c:node(l).term))

k:append("x", "2")
local op = last()
print(string.format("%6.3fs  the client appended 2 to x: node %d answered, after %d attempt%s", c:time(),
  op.server, op.attempts, op.attempts == 1 and "" or "s"))

local v = k:get("x")
print(string.format("%6.3fs  the client read x = %q", c:time(), v))

c:connect(l)
c:wait(function() return c:node(l).role == "follower" end, 5, "the old leader to step down")
c:wait(function()
  local e = c:table(l).x
  return e and e.value == v
end, 5, "the old leader to catch up")
print(string.format("%6.3fs  node %d is back: a follower in term %d, and its table has x = %q too",
  c:time(), l, c:node(l).term, v))

local ok, text = c:check_linearizable()
print(string.format("%6.3fs  the checker: %s", c:time(), (text:match("^[^\n]*"))))
if not ok then error("the demo's history is not linearizable", 0) end
