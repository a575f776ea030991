-- 11-kv-failover.lua — the Lab 4 service under a writing client: the
-- leader crashes and the clerk finds the new one; a leader cut off from
-- the others strands a request it can never commit, and the clerk retries
-- elsewhere; a reply lost with its crashed leader is answered, on retry,
-- from the new leader's duplicate table.  Each append shows once.

local function now(c) return math.floor(c:time() * 1000) end

-- what one step leaves for a later one (reset at step 1)
local M = {}

-- The writer: k appends "1 ", "2 ", ... to key w, one every 0.2 s, until
-- the lesson stops it (or a newer run of the lesson starts its own).
local function start_writer(c)
  local me = {}
  M.writer = me
  me.task = ts.go(function()
    pcall(function()
      local i = 0
      while M.writer == me and not me.stop do
        i = i + 1
        k:append("w", i .. " ")
        me.done = i
        c:sleep(0.2)
      end
    end)
    me.finished = true
  end)
end

-- Ask the writer to stop after the append it is making (which may wait
-- for the cluster to recover).
local function stop_writer()
  if M.writer then M.writer.stop = true end
end

-- Node i's w as a list of numbers, and whether each shows once, in order.
local function tokens(c, i)
  local e = c:table(i).w
  local list = {}
  for n in (e and e.value or ""):gmatch("%d+") do list[#list + 1] = tonumber(n) end
  local ok = true
  for j, n in ipairs(list) do
    if n ~= j then ok = false break end
  end
  return list, ok
end

-- client 1's operations, numbered as its clerk numbered them (seq)
local function ops(c)
  local out = {}
  for _, o in ipairs(c:history()) do
    if o.client == 1 then
      out[#out + 1] = o
      o.seq = #out
    end
  end
  return out
end

-- How the clerk got request `seq` done: one entry per attempt, in order.
local function tries(c, seq)
  local out, reply = {}, {}
  for _, e in ipairs(c:events()) do
    if e.ev == "send" and e.from == 1001 and e.seq == seq then
      out[#out + 1] = { to = e.to, what = "no answer" }
    elseif e.ev == "send" and e.to == 1001 and e.seq == seq then
      for i = #out, 1, -1 do
        if out[i].to == e.from then
          out[i].what = e.err
          reply[e.id] = out[i]
          break
        end
      end
    elseif e.ev == "drop" and reply[e.id] then
      reply[e.id].what = reply[e.id].what .. " (reply lost)"
    end
  end
  local parts = {}
  for _, a in ipairs(out) do parts[#parts + 1] = string.format("n%d %s", a.to, a.what) end
  return table.concat(parts, "; "), out
end

-- The first append called since t that needed more than one attempt.
local function retried(c, t, server_not)
  for _, o in ipairs(ops(c)) do
    if o.op == "append" and o.call >= t and o.ret and (o.attempts or 0) > 1 and o.server ~= server_not then
      return o
    end
  end
end

local function others(c, i)
  local t = {}
  for j = 1, c:size() do if j ~= i then t[#t + 1] = j end end
  return t
end

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

return ts.lesson{
  title = "Fault-tolerant key/value service",
  summary = "Failover under a writing client: a new leader, a stranded request, a lost reply; every append once.",
  cluster = { kind = "kv", nodes = 5, seed = 1111 },
  steps = {
    -- 1
    {
      text = "Lab 4: a key/value service on Raft. The clerk sends each request "
        .. "to the server it thinks leads. The leader puts it in its log "
        .. "(Start), waits until that entry is applied, and replies. A "
        .. "follower answers ErrWrongLeader, naming the leader it knows of.\n\n"
        .. "The client k (c1 in the key/value panel) is appending 1, 2, 3... "
        .. "to key w, one every 0.2 s, and keeps on through this lesson.",
      run = function(c)
        M = {}
        _G.k = c:client()
        c:wait_leader(5)
        start_writer(c)
      end,
      panel = "kv",
    },
    -- 2
    {
      text = "Crash the leader: select it (the row with *) and press c.\n\n"
        .. "An append in flight gets no answer. After 250 ms the clerk sends "
        .. "it to the next server; a follower turns it away, naming the "
        .. "leader it knows of, until the others elect a new one.",
      run = function(c, s) s.old = c:wait_leader(5) end,
      objective = "Crash the leader; the writes go on, at a new leader",
      check = function(c, s)
        if c:node(s.old).status ~= "crashed" then return false end
        s.crash_t = s.crash_t or now(c)
        local o = retried(c, s.crash_t - 300, s.old)
        M.crash_seq = o and o.seq
        return o ~= nil
      end,
      hints = { "Press the number of the row marked * (the leader), then c." },
      auto = function(c, s)
        c:sleep(1)
        c:crash(s.old)
      end,
      timeout = 10,
      panel = "nodes",
    },
    -- 3
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local o = ops(c)[M.crash_seq or 0] or retried(c, 0)
        local story = o and tries(c, o.seq) or "?"
        set_text(s, string.format("The append %q, by attempts: %s.", o and o.value or "?", story))
      end,
      question = { "How did the clerk find the new leader?",
        choices = { "The new leader told every client it had won",
                    "It tried servers in turn; followers named the leader",
                    "It waited for the crashed leader to restart" },
        answer = 2,
        why = "Clients are not part of Raft: no one tells them anything. A "
          .. "clerk that hears nothing, or ErrWrongLeader, tries elsewhere." },
      panel = "kv",
    },
    -- 4
    {
      text = "Restart the crashed server: select it, press r. It reads its log "
        .. "from disk, learns from the leader how far it is committed, and "
        .. "applies it all again to rebuild its table. (Lesson 12 shortens "
        .. "that replay with snapshots.)",
      run = function(c, s)
        for i = 1, c:size() do
          if c:node(i).status == "crashed" then s.down = i end
        end
        local l = c:wait_leader(5)
        s.target = c:node(l).commit
      end,
      objective = "Restart the crashed server and let it catch up",
      check = function(c, s)
        if not s.down then return true end
        local n = c:node(s.down)
        return n.status == "up" and n.incarnation > 1 and n.applied >= s.target
      end,
      hints = { "Select the CRASHED row and press r." },
      auto = function(c, s) if s.down then c:restart(s.down) end end,
      panel = "nodes",
    },
    -- 5
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        s.l = c:wait_leader(5)
        s.cmd = string.format("c:partition({%d}, {%s})", s.l, table.concat(others(c, s.l), ", "))
        set_text(s, "Now cut the leader, n" .. s.l .. ", off from the other servers but not "
          .. "from k. Type\n\n    " .. s.cmd .. "\n\n"
          .. "k sends its next append to n" .. s.l .. ", which puts it in its log but "
          .. "can never commit it, so never replies. After 250 ms the clerk "
          .. "tries elsewhere, and finds the leader the others elect.")
      end,
      objective = "An append stranded at the cut-off leader, done by the next one",
      check = function(c, s)
        if c:node(s.l).quorum then return false end
        s.split_t = s.split_t or now(c)
        return retried(c, s.split_t, s.l) ~= nil
      end,
      hints = { "Type the c:partition line shown, with the leader alone in the first group.",
                "(s puts two servers in the minority: k's clerk then goes back and forth between "
                  .. "them. Use c:partition.)" },
      auto = function(c, s)
        c:sleep(0.5)
        c:partition({ s.l }, others(c, s.l))
      end,
      timeout = 10,
      panel = "logs",
    },
    -- 6
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local o = retried(c, 0)
        local last
        for _, x in ipairs(ops(c)) do
          if x.op == "append" and (x.attempts or 0) > 1 then last = x end
        end
        o = last or o
        set_text(s, string.format("The append %q, by attempts: %s.\n\nThe cut-off leader still "
          .. "holds it in its log, never committed.", o and o.value or "?", o and tries(c, o.seq) or "?"))
      end,
      question = { "The network heals. Does the stranded entry get applied too?",
        choices = { "Yes: the old leader commits it once it can",
                    "No: the new leader's log replaces it",
                    "Yes, but the duplicate table then ignores it" },
        answer = 2,
        why = "It was never committed. The old leader steps down on seeing the "
          .. "newer term, and takes the new leader's entries at those indexes." },
      panel = "logs",
    },
    -- 7
    {
      text = "Heal the network: press h. The old leader hears the newer term, "
        .. "steps down, and its log is repaired: the stranded entries go.",
      run = function(c, s)
        for i = 1, c:size() do
          if not c:node(i).quorum and c:node(i).up then s.cut = i end
        end
        s.t0 = c:time()
      end,
      objective = "Heal: the old leader drops its stranded entries",
      check = function(c, s)
        if not s.cut then return true end
        local n = c:node(s.cut)
        if not n.quorum or n.role ~= "follower" then return false end
        if not s.truncated then
          s.truncated = #c:events_since(s.t0, { "truncate" }) > 0
        end
        return s.truncated
      end,
      hints = { "Press h (or c:heal())." },
      auto = function(c) c:heal() end,
      timeout = 10,
      panel = "logs",
    },
    -- 8
    {
      text = "The hardest case: the leader applies an append and crashes before "
        .. "its reply reaches k. Type\n\n"
        .. "    lose_reply()\n\n"
        .. "It waits for the leader's next reply to k, drops it (c:drop), and "
        .. "crashes the leader. k hears nothing, and resends the append to the "
        .. "next leader. Will w get it twice?",
      run = function(c, s)
        s.t0 = now(c)
        function _G.lose_reply()
          local l = c:wait_leader(5)
          local id = c:wait(function()
            for _, m in ipairs(c:inflight()) do
              if m.from == l and m.to == 1001 then return m.id end
            end
          end, 5, "a reply from the leader to k")
          c:drop(id)
          c:crash(l)
          return string.format("dropped reply %d, crashed n%d", id, l)
        end
      end,
      objective = "An append applied, its reply lost with the leader; resent",
      check = function(c, s)
        -- an append answered OK by a server whose reply never arrived,
        -- then answered again elsewhere
        local o = retried(c, s.t0)
        if not o then return false end
        if s.seq ~= o.seq then
          s.seq = o.seq
          local _, t = tries(c, o.seq)
          s.lost = false
          for _, a in ipairs(t) do
            if a.what == "OK (reply lost)" then s.lost = true end
          end
        end
        return s.lost
      end,
      hints = { "Type lose_reply() at the prompt.",
                "By hand: space freezes time; . steps until the leader's KvReply to c1 is in flight; "
                  .. "m selects it, x drops it; select the leader, c; space." },
      auto = function() lose_reply() end,
      timeout = 10,
      panel = "kv",
    },
    -- 9
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local o
        for _, x in ipairs(ops(c)) do
          if x.op == "append" and (x.attempts or 0) > 1 then
            local story = tries(c, x.seq)
            if story:find("reply lost", 1, true) then o = x end
          end
        end
        local l = c:wait_leader(5)
        local list, ok = tokens(c, l)
        local count = 0
        for _, n in ipairs(list) do if o and tostring(n) .. " " == o.value then count = count + 1 end end
        set_text(s, string.format("The append %q went: %s. w holds it %s%s.",
          o and o.value or "?", o and tries(c, o.seq) or "?", count == 1 and "once" or (count .. " times"),
          ok and "; every append shows once" or ""))
      end,
      question = { "How did the new leader know not to apply it again?",
        choices = { "It asked the old leader, which had crashed",
                    "Its duplicate table, built from the same log, had it",
                    "The clerk marked the request as a retry" },
        answer = 2,
        why = "The first copy was committed, so the new leader applied it too, "
          .. "and noted k's request number there, as every replica did." },
      panel = "kv",
    },
    -- 10
    {
      text = "Last, bring every server back (select the crashed one, r). The "
        .. "lesson stops the writer. All five tables must end the same, with "
        .. "each append once.",
      run = function() stop_writer() end,
      objective = "All five up, all five tables equal, each append once",
      check = function(c)
        if M.writer and not M.writer.finished then return false end
        local first
        for i = 1, c:size() do
          local n = c:node(i)
          if n.status ~= "up" or not n.quorum then return false end
          local list, ok = tokens(c, i)
          if not ok then return false end
          if first and #list ~= first then return false end
          first = #list
        end
        return first ~= nil and first == (M.writer and M.writer.done or first)
          and first > 0
      end,
      hints = { "Select the CRASHED row and press r; press h if anything is still cut off." },
      auto = function(c)
        c:heal()
        for i = 1, c:size() do
          if c:node(i).status == "crashed" then c:restart(i) end
        end
      end,
      timeout = 10,
      panel = "kv",
    },
    -- 11
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local ok = c:check_linearizable()
        local l = c:wait_leader(5)
        local list = tokens(c, l)
        set_text(s, string.format("w holds 1 to %d, each once, on all five. The checker: %s\n\n",
            #list, ok and "linearizable." or "NOT linearizable.")
          .. "A leader replies only once the entry is applied; a clerk retries "
          .. "until it hears back; the duplicate table is part of the state "
          .. "every replica builds from the log. So each operation takes effect "
          .. "once, whichever server ends up applying it.\n\n"
          .. "Next, lesson 12: snapshots.")
      end,
      panel = "kv",
    },
  },
}
