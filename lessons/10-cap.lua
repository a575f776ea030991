-- 10-cap.lua — five replicas of the Lab 4 key/value service, a partition,
-- and reads: a client on the minority side waits when gets go through the
-- log (linearizable, not available), and answers at once but stale when
-- they are served from a replica's own table (available, not
-- linearizable); the checker names the offending operations.  CAP as
-- Gilbert and Lynch proved it.

local function now(c) return math.floor(c:time() * 1000) end

-- what one step leaves for a later one (reset at step 1)
local M = {}

-- The two sides of the partition, from what the nodes report: the nodes
-- that can reach a majority, and those that cannot.
local function sides(c)
  local major, minor = {}, {}
  for i = 1, c:size() do
    local n = c:node(i)
    if n.quorum then major[#major + 1] = i elseif n.up then minor[#minor + 1] = i end
  end
  return major, minor
end

-- The value of the last put of `key` that returned by time t (ms; within
-- one ms the hub orders events, and a put returning in the ms a get is
-- called returned first when one task made both).
local function latest(h, key, t)
  local v, at = nil, -1
  for _, o in ipairs(h) do
    if o.key == key and o.op == "put" and o.ret and o.ret <= t and o.ret > at then v, at = o.value, o.ret end
  end
  return v
end

-- client k's last get of x since time t (nil if none returned)
local function last_get(h, k, t)
  for i = #h, 1, -1 do
    local o = h[i]
    if o.client == k and o.op == "get" and o.key == "x" and o.ret and o.call >= t then return o end
  end
end

local function list(ids) return "{" .. table.concat(ids, ", ") .. "}" end

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

return ts.lesson{
  title = "Partitions and CAP",
  summary = "Five replicas split in two: strong reads wait on the minority side, local reads answer stale.",
  cluster = { kind = "kv", nodes = 5, seed = 1010 },
  steps = {
    -- 1
    {
      text = "Five servers run the Lab 4 service: a key/value table on top of "
        .. "Raft. A client's request goes to the leader, which puts it in the "
        .. "log; once it is committed, every server applies it to its own copy "
        .. "of the table, and the leader replies.\n\n"
        .. "Gets go through the log too. A get committed in the leader's term "
        .. "proves it is still the leader, and that its table has every write "
        .. "that returned before. Three clients: k1, k2, k3. k1 has put x = 1.",
      run = function(c)
        M = {}
        _G.k1 = c:client()
        _G.k2 = c:client()
        _G.k3 = c:client{ reads = "local" }
        c:wait_leader(5)
        k1:put("x", "1")
        c:wait(function()
          for i = 1, c:size() do
            local e = c:table(i).x
            if not e or e.value ~= "1" then return false end
          end
          return true
        end, 5, "every replica to hold x = 1")
      end,
      panel = "kv",
    },
    -- 2
    {
      text = "Split the cluster: press s. The selected node and the next one "
        .. "(the leader and the next, if none is selected) become a minority "
        .. "of two; the other three, a majority. Only the links between "
        .. "servers are cut.\n\n"
        .. "Or choose the sides at the prompt:  c:partition({1, 2}, {3, 4, 5})",
      objective = "Split the cluster into a minority and a majority",
      check = function(c)
        local major, minor = sides(c)
        -- two on the minority side, as s makes them (one server alone
        -- would be cut off from the clients too, if isolated with p)
        return #minor == 2 and #major == 3 and c:leader() ~= nil and c:node(c:leader()).quorum
      end,
      hints = { "Press s. (Pick a node first with its number, to choose which two go.)" },
      auto = function(c)
        local l = c:wait_leader(5)
        local f1, f2 = l % 5 + 1, (l + 1) % 5 + 1
        local rest = {}
        for i = 1, 5 do if i ~= f1 and i ~= f2 then rest[#rest + 1] = i end end
        c:partition({ f1, f2 }, rest)
      end,
      panel = "nodes",
    },
    -- 3
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local major, minor = sides(c)
        M.major, M.minor, M.split = major, minor, now(c)
        k1:reach(major)
        k2:reach(minor)
        k3:reach(minor)
        set_text(s, string.format("Majority %s, minority %s. The lesson has confined k1 to the "
          .. "majority side, k2 and k3 to the minority side (k:reach{...}).\n\n"
          .. "k2 reads through the log. Type  k2:get(\"x\")  and wait. No answer: the "
          .. "minority cannot commit anything, not even a get. The clerk tries "
          .. "again and again, in vain.", list(major), list(minor)))
      end,
      objective = "k2, on the minority side, asks for x and waits",
      check = function(c)
        local v = k2:view()
        return v.busy and v.since ~= nil and c:time() - v.since >= 1
      end,
      hints = { "Type k2:get(\"x\") at the prompt. It does not return: that is the point." },
      auto = function() ts.go(function() k2:get("x") end) end,
      panel = "kv",
    },
    -- 4
    {
      text = "Meanwhile the majority side has a leader and a quorum. Type\n\n"
        .. "    k1:put(\"x\", \"2\")\n\n"
        .. "It returns, once the clerk has found the majority's leader: three "
        .. "servers of five can commit.",
      run = function(c, s) s.t0 = now(c) end,
      objective = "k1, on the majority side, writes x = 2",
      check = function(c, s)
        for _, o in ipairs(c:history()) do
          if o.client == 1 and o.op == "put" and o.key == "x" and o.call >= s.t0 and o.ret then return true end
        end
        return false
      end,
      hints = { "Type k1:put(\"x\", \"2\") at the prompt." },
      auto = function() k1:put("x", "2") end,
      panel = "kv",
    },
    -- 5
    {
      text = "k2 still waits. Its servers are up, and hold x in their tables.",
      question = { "Why may a minority server not just answer k2 from its table?",
        choices = { "Its table has no x yet",
                    "The majority may have written x since; it cannot know",
                    "Raft forbids a follower to look at its table" },
        answer = 2,
        why = "Cut off, it cannot tell a quiet majority from a busy one. Here "
          .. "the majority did write: x = 2, which the minority never got." },
      panel = "kv",
    },
    -- 6
    {
      text = "k3 was made with  c:client{ reads = \"local\" }: any server answers "
        .. "its gets from its own table, without the log. Type\n\n"
        .. "    k3:get(\"x\")",
      run = function(c, s) s.t0 = now(c) end,
      objective = "k3, on the minority side, reads x locally: an old value",
      check = function(c, s)
        local h = c:history()
        local o = last_get(h, 3, s.t0)
        return o ~= nil and o.out ~= latest(h, "x", o.call)
      end,
      hints = { "Type k3:get(\"x\") at the prompt: it answers, with what the minority has." },
      auto = function() k3:get("x") end,
      panel = "kv",
    },
    -- 7
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local _, text = c:check_linearizable()
        local lines = {}
        for line in text:gmatch("[^\n]+") do
          if line:match("^longest") or #lines == 4 then break end
          lines[#lines + 1] = "  " .. line:gsub("^%s+", ""):gsub("%s*%[call.-%]", "")
        end
        set_text(s, "k3 got x = 1 after k1's put of 2 had returned. The checker "
          .. "(c:check_linearizable() at the prompt, or K) says:\n\n" .. table.concat(lines, "\n"))
      end,
      panel = "kv",
    },
    {
      text = "No order of the operations explains that get.",
      question = { "Which rule does k3's read break?",
        choices = { "A read returns the last write that returned before it began",
                    "Reads must go to the leader",
                    "Each client must read its own writes" },
        answer = 1,
        why = "Linearizability respects real time: once put(x, 2) has returned, "
          .. "every get that starts later sees 2 or something newer." },
      panel = "kv",
    },
    -- 8
    {
      text = "That is CAP, as Gilbert and Lynch proved it (2002): during a "
        .. "partition, a service cannot be both linearizable and available "
        .. "(every request to a running server answered). Cut off from the "
        .. "majority, a server must wait or refuse (k2), or risk stale answers (k3).",
      question = { "What must a cut-off replica do with a get, to stay linearizable?",
        choices = { "Answer it, and refuse only writes",
                    "Hold it (or fail it) until it can reach a majority",
                    "Forward it to any server it can reach" },
        answer = 2,
        why = "Writes are not the only danger: a read served alone can miss a "
          .. "write the majority made. Pick one: consistency or availability." },
      panel = "kv",
    },
    -- 9
    {
      text = "Heal the network: press h. The minority hears from the leader "
        .. "again and catches up; k2's clerk reaches the majority; its get "
        .. "commits and returns. (h also gives every client all servers back.)",
      objective = "Heal: k2's waiting get returns the latest x",
      check = function(c)
        if k2:view().busy then return false end
        local h = c:history()
        local o = last_get(h, 2, M.split or 0)
        return o ~= nil and o.out == latest(h, "x", o.ret)
      end,
      hints = { "Press h (or c:heal() at the prompt)." },
      auto = function(c) c:heal() end,
      panel = "kv",
    },
    -- 10
    {
      text = "To sum up. Reads through the log are linearizable, and wait while "
        .. "no majority is reachable. Local reads always answer, and may be "
        .. "stale. The Raft paper (section 8) skips the log write: once a "
        .. "leader has committed an entry of its term, it confirms with a round "
        .. "of heartbeats that it still leads, then answers from its table. A "
        .. "majority must still answer.\n\n"
        .. "Next, lesson 11: crashes and failover under a writing client.",
      panel = "kv",
    },
  },
}
