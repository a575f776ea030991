-- Kind etcd: three real etcd members whose peer and client traffic runs
-- through the hub.  The same fault a termscope cluster takes, on etcd:
--   the leader is isolated: the other two elect a new leader in a higher
--     term; the old one, hearing from no majority, steps down by itself
--     (etcd's CheckQuorum) — what the nodes panel shows, polled from each
--     member's status endpoint;
--   a client that can reach only the old leader gets no answer while a
--     client on the majority side writes and reads;
--   after the heal, the stranded put completes and everyone reads it;
--   a member paused (SIGSTOP) stops answering, resumed it catches up;
--   the clients' history is linearizable.
-- Skipped, saying so, where etcd is not installed.
-- seed: 7
if not ts.have_etcd() then
  print("skip: etcd is not installed (Debian: apt-get install etcd-server)")
  return
end
local c = ts.cluster{ kind = "etcd", nodes = 3, heartbeat = 50, election = 500 }
local l = c:wait_leader(20)
local t0 = c:node(l).term
local k = c:client()
k:put("x", "1")
assert(k:get("x") == "1", "x should read 1")
-- every member commits and applies it (raft index through the status poll)
c:wait(function()
  for i = 1, 3 do if c:node(i).applied < c:node(l).commit then return false end end
  return true
end, 10, "every member to apply what the leader committed")

c:isolate(l)
local maj = {}
for i = 1, 3 do if i ~= l then maj[#maj + 1] = i end end
local l2 = c:wait(function()
  local n = c:leader()
  return n and n ~= l and n
end, 20, "a new leader among the majority")
assert(c:node(l2).term > t0, "the new leader's term is not higher")
-- CheckQuorum: the isolated leader stops calling itself leader
c:wait(function() return c:node(l).role ~= "leader" end, 10, "the isolated etcd leader to step down")

local kmin = c:client{ reach = { l } }
local kmaj = c:client{ reach = maj }
local stranded = ts.go(function() kmin:put("x", "stranded") end)
kmaj:put("y", "2")
assert(kmaj:get("y") == "2", "the majority side should read y = 2")
c:sleep(2)
assert(not stranded:done(), "a put through the isolated member completed")

c:heal()
stranded:wait(30, c)
c:wait_leader(20)
assert(k:get("x") == "stranded", "after the heal x should read the stranded put")

-- pause a follower: its process is stopped, the others go on; resumed, it catches up
local lead = c:wait_leader(10)
local f = lead % 3 + 1
c:pause(f)
k:put("z", "3")
assert(c:node(f).paused, "the member should show paused")
c:resume(f)
c:wait(function() return c:node(f).applied >= c:node(lead).commit end, 10, "the resumed member to catch up")

-- a proxied endpoint works for outside tools too
assert(c:endpoints():match("^127%.0%.0%.1:%d+,127%.0%.0%.1:%d+,127%.0%.0%.1:%d+$"), c:endpoints())

local ok, text = c:check_linearizable()
assert(ok, text)
print("etcd: isolated leader stepped down; stranded put done after heal; pause/resume; linearizable")
