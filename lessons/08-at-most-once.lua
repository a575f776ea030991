-- 08-at-most-once.lua — RPC over a network that loses messages: a lost
-- request and a lost reply look the same to the client, so it retries; a
-- server that applies every retry applies some appends twice (6.824 Lab 2).
-- The fix: a duplicate table, one record per client.
--
-- The engine runs one cluster per lesson, and a server's duplicate table
-- is fixed when its process starts (ts.cluster{ dedup = ... }).  So the
-- lesson starts on a server without one, and halfway through starts a
-- second cluster with one, which the screen then shows (it shows the
-- newest cluster) and the prompt's `c` names.  The engine keeps waiting on
-- its own cluster: `W.c` is the cluster the steps mean, and an auto that
-- works on the second one pokes the first when it is done, so that the
-- engine looks at the objective again.

local W = {}   -- this run's clusters: W.c1 (no table), W.c2 (with one), W.c (the one shown)

-- the clusters of an earlier run of this lesson (R, or the menu), stopped
_G.__lesson_at_most_once = _G.__lesson_at_most_once or {}

local function fresh(c)
  for _, old in ipairs(_G.__lesson_at_most_once) do
    if old ~= c then pcall(old.stop, old) end
  end
  _G.__lesson_at_most_once = { c }
  W = { c1 = c, c = c }
end

-- Is this step being replayed (fast) rather than played?
local function replaying(s)
  local L = ts._lesson
  if L.autopilot then return not L.watch end
  local p = L.current and L.load_progress()[L.current.name]
  return p ~= nil and (p.step or 1) > s.index
end

-- Keep the second cluster's pace with the lesson's: fast while replaying,
-- at the wall clock once the learner is watching.
local function pace(s)
  if W.c2 and not ts._lesson.autopilot and not replaying(s) and not W.live then
    W.live = true
    W.c2:_pace("paced", W.c1:_speed())
  end
end

-- Wake the engine, which waits on the first cluster's events.
local function poke()
  if not ts._lesson.autopilot then pcall(W.c1.heal, W.c1) end
end

-- What became of each of client 1's operations on cluster c: for its n-th
-- operation (seq n), how many requests and replies the network lost.
-- Read from the events, only when the client has finished something new.
local function story(c)
  local done = c:_client_view(1).done
  if W.story and W.story.c == c and W.story.done == done then return W.story end
  local kind, seq_of = {}, {}
  local lost = {}
  for _, e in ipairs(c:events()) do
    if e.ev == "send" and (e.from == 1001 or e.to == 1001) and e.seq then
      kind[e.id] = e.from == 1001 and "req" or "rep"
      seq_of[e.id] = e.seq
    elseif e.ev == "drop" and kind[e.id] then
      local n = seq_of[e.id]
      lost[n] = lost[n] or { req = 0, rep = 0 }
      lost[n][kind[e.id]] = lost[n][kind[e.id]] + 1
    end
  end
  local ops, n = {}, 0
  for _, o in ipairs(c:history()) do
    if o.client == 1 then
      n = n + 1
      local l = lost[n] or { req = 0, rep = 0 }
      ops[#ops + 1] = { op = o.op, key = o.key, value = o.value, out = o.out, out_version = o.out_version,
                        call = o.call, ret = o.ret,
                        attempts = o.attempts or 0, lost_req = l.req, lost_rep = l.rep }
    end
  end
  W.story = { c = c, done = done, ops = ops }
  return W.story
end

-- What x should hold just before time t, if every write happened once.
local function expected(ops, key, t)
  local v = ""
  for _, o in ipairs(ops) do
    if o.key == key and o.ret and o.ret <= t then
      if o.op == "put" then v = o.value elseif o.op == "append" then v = v .. o.value end
    end
  end
  return v
end

-- The appends since time t: { lost_req = n, lost_rep = n } of them with a
-- lost request, with a lost reply.
local function losses(c, t)
  local req, rep = 0, 0
  for _, o in ipairs(story(c).ops) do
    if o.op == "append" and o.call >= t and o.ret then
      if o.lost_req > 0 then req = req + 1 end
      if o.lost_rep > 0 then rep = rep + 1 end
    end
  end
  return req, rep
end

-- A get of x since time t that returned what the appends put there, or
-- (doubled = true) that returned more.
local function read_back(c, t, doubled)
  local ops = story(c).ops
  for i = #ops, 1, -1 do
    local o = ops[i]
    if o.op == "get" and o.key == "x" and o.ret and o.call >= t then
      local want = expected(ops, "x", o.call)
      if doubled then
        if #o.out > #want then return o, want end
      elseif o.out == want then
        return o, want
      end
    end
  end
end

-- The appends' story since time t, for the lesson text: how many went
-- through at once, and a line for each one that was sent again.
local function tell(c, t)
  local lines, n, once = {}, 0, 0
  for _, o in ipairs(story(c).ops) do
    if o.op == "append" and o.call >= t and o.ret then
      n = n + 1
      if o.attempts <= 1 then
        once = once + 1
      elseif #lines < 8 then
        local parts = {}
        if o.lost_req > 0 then parts[#parts + 1] = string.format("%d request%s lost", o.lost_req, o.lost_req > 1 and "s" or "") end
        if o.lost_rep > 0 then parts[#parts + 1] = string.format("%d repl%s lost", o.lost_rep, o.lost_rep > 1 and "ies" or "y") end
        lines[#lines + 1] = string.format("    %q: sent %d times, %s", o.value, o.attempts, table.concat(parts, ", "))
      end
    end
  end
  return string.format("%d appends; %d went through at once; sent again:\n", n, once) .. table.concat(lines, "\n")
end

-- the first lines of the checker's explanation (the budget keeps a long
-- illegal history from taking seconds)
local function verdict(c)
  local ok, text = c:check_linearizable(200000)
  local lines, n = {}, 0
  for line in text:gmatch("[^\n]+") do
    n = n + 1
    if #lines == 3 or line:match("^longest") then break end
    if n > 1 then lines[#lines + 1] = "  " .. line:gsub("^%s+", ""):gsub("%s*%[call.-%]", "") end
  end
  return ok, table.concat(lines, "\n")
end

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

return ts.lesson{
  title = "At-most-once RPC",
  summary = "Lost requests and lost replies, retries, an append applied twice; the duplicate table that stops it.",
  cluster = { kind = "kvsrv", nodes = 1, seed = 831, dedup = false },
  steps = {
    -- 1
    {
      text = "Lab 2 of 6.824: one key/value server and its clients. Put(key, value) "
        .. "sets a key, Append(key, arg) adds to its value, Get(key) reads it.\n\n"
        .. "Each call is an RPC: the client sends a request message and waits for a "
        .. "reply message. Node 1 is the server. At the : prompt, k is a client: a "
        .. "clerk, the library an application calls. If no reply comes within "
        .. "250 ms, the clerk sends the same request again.",
      run = function(c)
        fresh(c)
        _G.k = c:client()
      end,
    },
    -- 2
    {
      text = "Try it. Press :, type  k:append(\"x\", \"hi\")  and Enter. Then the "
        .. "same with  k:get(\"x\")\n\n"
        .. "The bottom line shows what get returned: the value, and its version "
        .. "(the server counts the writes to each key). So far the network loses "
        .. "nothing: each call is one request and one reply.",
      run = function(c, s) s.t0 = math.floor(c:time() * 1000) end,
      panel = "kv",
      objective = "At the : prompt, append to x, then read x back",
      check = function(c, s)
        local o = read_back(c, s.t0)
        return o ~= nil and #o.out > 0
      end,
      hints = { "Press : (colon), type k:append(\"x\", \"hi\"), Enter; then : and k:get(\"x\")." },
      auto = function()
        k:append("x", "hi")
        k:get("x")
      end,
    },
    -- 3
    {
      text = "Real networks lose messages. A request can vanish before the server "
        .. "sees it, or the reply after the server did the work. Or the server is "
        .. "just slow.",
      question = { "The clerk sent an Append; no reply came in 250 ms. What happened?",
        choices = { "The request was lost: the server never saw it",
                    "The reply was lost: the server did the append",
                    "Either, or the server is slow: the clerk cannot tell" },
        answer = 3,
        why = "All three look the same from the client: silence. It can wait, or send "
          .. "again; it cannot know whether the server did the work." },
    },
    -- 4
    {
      text = "Make the network lossy, like the lab's: each message is lost with "
        .. "probability 0.1. Type  c:net(\"unreliable\")  then append ten digits:\n\n"
        .. "    for i = 1, 10 do k:append(\"x\", i % 10) end\n\n"
        .. "It takes a few seconds: after a loss the clerk waits 250 ms, then sends "
        .. "the request again.",
      run = function(c, s)
        s.t0 = math.floor(c:time() * 1000)
        W.t4 = s.t0
      end,
      panel = "kv",
      objective = "Lossy network: appends resent after a lost request, a lost reply",
      check = function(c, s)
        local req, rep = losses(c, s.t0)
        return req > 0 and rep > 0
      end,
      hints = { "Type c:net(\"unreliable\") at the prompt, then the for loop.",
                "Losses are random: if it is not met yet, run the loop again (up recalls it)." },
      auto = function(c, s)
        c:net("unreliable")
        for i = 1, 30 do
          k:append("x", i % 10)
          local req, rep = losses(c, s.t0)
          if i >= 10 and req > 0 and rep > 0 then break end
        end
      end,
      timeout = 30,
    },
    -- 5
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        s.t0 = math.floor(c:time() * 1000)
        set_text(s, "What the hub saw: " .. tell(c, W.t4 or 0) .. "\n\n"
          .. "This server applies every request it gets. Read x  (k:get(\"x\"))  and "
          .. "compare it with what k appended.")
      end,
      panel = "kv",
      objective = "Read x: find an append the server applied more than once",
      check = function(c, s) return read_back(c, s.t0, true) ~= nil end,
      hints = { "Type k:get(\"x\") at the prompt. Look for a digit that shows twice.",
                "An append whose reply was lost reached the server twice, and was applied twice." },
      auto = function() k:get("x") end,
    },
    -- 6
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local o, want = read_back(c, 0, true)
        local _, why = verdict(c)
        set_text(s, string.format("k appended %q\nand x holds %q (version %d).\n\n",
            want or "?", o and o.out or "?", o and o.out_version or 0)
          .. "A service is linearizable if each operation seems to take effect at one "
          .. "instant between its call and its return. termscope's checker looks for "
          .. "such an order of the calls, and finds none:\n\n" .. why)
      end,
    },
    -- 7
    {
      text = "(c:check_linearizable() runs the checker at the prompt; the key/value "
        .. "panel shows its verdict too.)",
      question = { "Why can no order of the calls explain that get?",
        choices = { "The get was sent before the last append returned",
                    "In any order each append happens once: one copy of each digit",
                    "The checker cannot see the messages that were lost" },
        answer = 2,
        why = "k called each append once. Whatever their order, x gets each digit once; "
          .. "a value with a digit twice fits no order of those calls." },
    },
    -- 8
    {
      text = "The fix: the server must recognise a retry.\n\n"
        .. "The clerk has an id (1001 here) and numbers its requests 1, 2, 3... A retry "
        .. "is the same request again: same id, same number. The server keeps a "
        .. "duplicate table: for each client, the number of the last request it "
        .. "applied, and its reply. A request already applied gets that reply again, "
        .. "and is not applied again.\n\n"
        .. "So each request takes effect at most once; with the clerk's retries, "
        .. "exactly once.",
    },
    -- 9
    {
      text = "A second server is running now, with a duplicate table, on a network as "
        .. "lossy (the screen shows it; k and c are its client and cluster). Append "
        .. "the digits again and read x:\n\n"
        .. "    for i = 1, 10 do k:append(\"x\", i % 10) end\n"
        .. "    k:get(\"x\")",
      run = function(c, s)
        if not W.c2 then
          local fast = replaying(s) and "fast" or nil
          W.c2 = ts.cluster({ kind = "kvsrv", nodes = 1, seed = 818, dedup = true }, fast)
          W.c = W.c2
          _G.__lesson_at_most_once[#_G.__lesson_at_most_once + 1] = W.c2
          _G.k = W.c2:client()
          W.c2:net("unreliable")
          W.live = not fast
        end
        pace(s)
        s.t0 = math.floor(W.c2:time() * 1000)
      end,
      panel = "kv",
      objective = "An append with a lost reply, applied once: read x back",
      check = function(_, s)
        -- a get, after an append whose reply was lost, that returned
        -- exactly what was appended
        local ops, lost = story(W.c2).ops, nil
        for _, o in ipairs(ops) do
          if o.op == "append" and o.call >= s.t0 and o.ret and o.lost_rep > 0 then lost = lost or o.ret end
          if lost and o.op == "get" and o.key == "x" and o.ret and o.call >= lost then
            local want = expected(ops, "x", o.call)
            if want ~= "" and o.out == want then return true end
          end
        end
        return false
      end,
      hints = { "Type the for loop at the prompt, then k:get(\"x\").",
                "No lost reply yet? Run the loop again: about one reply in ten is lost." },
      auto = function(_, s)
        local c = W.c2
        for i = 1, 30 do
          k:append("x", i % 10)
          local _, rep = losses(c, s.t0)
          if i >= 10 and rep > 0 then break end
        end
        k:get("x")
        poke()
      end,
      timeout = 30,
    },
    -- 10
    {
      text = "(the lesson fills this in)",
      run = function(_, s)
        pace(s)
        local c = W.c2
        local o = read_back(c, 0)
        local ok, why = verdict(c)
        set_text(s, "The hub saw: " .. tell(c, 0) .. "\n\n"
          .. string.format("x holds %q: each digit once. The checker: %s",
            o and o.out or "?", ok and "linearizable." or ("not linearizable!\n" .. why)))
      end,
    },
    -- 11
    {
      text = "The server got some appends more than once, and applied each once.",
      run = function(_, s) pace(s) end,
      question = { "What did it send back for the copies it did not apply?",
        choices = { "Nothing: a duplicate is ignored",
                    "The reply it stored for that request",
                    "An error saying the request is a duplicate" },
        answer = 2,
        why = "That copy's reply may be the first one to get through, so it must say "
          .. "what the first reply said. So the table keeps the reply too." },
    },
    -- 12
    {
      text = "What does the table cost? One record per client: its id, the number of "
        .. "its last request, and that request's reply.\n\n"
        .. "See its size with  c:node(1).dup_bytes  then send 50 more requests, and "
        .. "look again:\n\n"
        .. "    for i = 1, 50 do k:put(\"y\", i) end",
      run = function(_, s)
        pace(s)
        local c = W.c2
        s.done0 = c:_client_view(1).done
        s.dup0 = c:node(1).dup_bytes
      end,
      panel = "kv",
      objective = "50 more requests, and the duplicate table no bigger",
      check = function(_, s)
        local c = W.c2
        return s.dup0 > 0 and c:_client_view(1).done >= s.done0 + 50 and c:node(1).dup_bytes == s.dup0
      end,
      hints = { "Type the for loop (it takes a few seconds), then c:node(1).dup_bytes again." },
      auto = function()
        for i = 1, 50 do k:put("y", i) end
        poke()
      end,
      timeout = 60,
    },
    -- 13
    {
      text = "It did not grow: one record per client, however many requests. (Its "
        .. "size is room for a few clients; it doubles when many more come.)",
      run = function(_, s) pace(s) end,
      question = { "Request 8 from a client overwrites the record of its request 7. "
          .. "Why is that safe?",
        choices = { "Request 7 was applied: nothing about it matters now",
                    "The clerk sent 8 after 7's reply: it never resends 7",
                    "It is not safe, but it saves memory" },
        answer = 2,
        why = "A clerk makes one call at a time and resends only that one. A client "
          .. "with several calls in flight would need a record for each." },
    },
    -- 14
    {
      text = "To sum up. A client cannot tell a lost request from a lost reply, so it "
        .. "retries: at-least-once. A server that remembers what it applied makes "
        .. "it at-most-once. Together: each operation takes effect exactly once, "
        .. "and the history is linearizable again.\n\n"
        .. "The table is part of the server's state: a replicated service must "
        .. "replicate it and keep it in snapshots (lessons 11, 12). Next, lesson "
        .. "9: two clients racing on one key.",
      run = function(_, s) pace(s) end,
    },
  },
}
