-- 06-persistence.lua — crash, pause and restart: what a Raft server keeps
-- on disk (Figure 2's persistent state), why the vote is part of it, and
-- what it has to rebuild after a restart (commit index, applied index).

-- ---- helpers (checks run after every event: keep them cheap) ------------

local function follower(c)
  local l = c:wait_leader(5)
  for k = 1, c:size() - 1 do
    local i = (l + k - 1) % c:size() + 1
    if c:node(i).up then return i end
  end
end

-- every node crashed right now
local function all_down(c)
  for i = 1, c:size() do
    if c:node(i).status ~= "crashed" then return false end
  end
  return true
end

-- Were all nodes down at one moment since the step began?  Watched live
-- (s.down), and, for actions typed as one prompt line (crashes and
-- restarts with no event between them), read back from the events: the
-- first restart came after every node's crash.
local function went_all_down(c, s)
  if s.down then return true end
  if all_down(c) then s.down = true return true end
  local key = 0
  for i = 1, c:size() do key = key + c:node(i).incarnation end
  if key == s.down_key then return false end
  s.down_key = key
  local crashed, n = {}, 0
  for _, e in ipairs(c:events_since(s.started, { "crash", "restart" })) do
    if e.ev == "crash" and not crashed[e.node] then
      crashed[e.node] = true
      n = n + 1
      if n == c:size() then s.down = true return true end
    elseif e.ev == "restart" then
      return false
    end
  end
  return false
end

-- the leader's log, as { data, ... }
local function log_of(c, l)
  local out = {}
  for k, e in ipairs(c:node(l).log) do out[k] = e.data end
  return out
end

-- how many running nodes applied index `upto` (their current incarnation)
-- with entries 1..#data equal to data
local function applied_with(c, upto, data)
  local n = 0
  for i = 1, c:size() do
    local nd = c:node(i)
    if nd.status == "up" and nd.applied >= upto then
      local ok, log = true, nd.log
      for k = 1, #data do
        if not log[k] or log[k].data ~= data[k] then ok = false break end
      end
      if ok then n = n + 1 end
    end
  end
  return n
end

-- the prompt lines typed since the step began
local function typed(s, pattern)
  local acts = ts._dash and ts._dash.actions or {}
  for k = (s.typed0 or 0) + 1, #acts do
    if acts[k].code:find(pattern) then return true end
  end
  return false
end

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end

return ts.lesson{
  title = "Crashes and persistence",
  summary = "Crash, pause, restart: what a server keeps on disk, what it must rebuild, and why the vote is saved.",
  cluster = { kind = "raft", nodes = 5, seed = 606 },
  steps = {
    -- 1
    {
      text = "A server can stop in three ways, and Raft has to survive all of them.\n\n"
        .. "A crash kills the process (here with SIGKILL): its memory is gone, but the files it wrote "
        .. "stay. A restart is a new process on those same files: it knows only what is on disk. A pause "
        .. "freezes the process without killing it, like a long garbage-collection stall or a suspended "
        .. "VM: it hears nothing and does nothing, then carries on with its memory as it was, unaware "
        .. "that time went by.\n\n"
        .. "The lesson is putting three commands in the log (x=1, y=2, z=3). Press n.",
      run = function(c)
        c:wait_leader(5)
        for _, cmd in ipairs({ "x=1", "y=2", "z=3" }) do c:one(cmd, 5, true) end
      end,
      panel = "logs",
    },
    -- 2
    {
      text = "Select a follower (a row without *) and press z. It turns paused: the hub hands it no "
        .. "message and never wakes it, so its term, commit and log stay exactly where they were and its "
        .. "election timer never fires.\n\n"
        .. "While it is paused, press k: the other four commit the request without it (4 of 5 is a "
        .. "majority). The Network panel lists the messages held for it. Then press z again: they "
        .. "arrive all at once, and it catches up in the same instant.",
      objective = "Pause a follower, press k while it is paused, then resume it",
      check = function(c, s)
        s.p = s.p or {}
        local l = c:leader()
        for i = 1, c:size() do
          local nd, p = c:node(i), s.p[i]
          if nd.paused then
            if not p then
              p = { len = nd.log_len, follower = nd.role ~= "leader" }
              s.p[i] = p
            end
            if l and l ~= i and c:node(l).commit > p.len then p.behind = true end
          elseif p then
            if not p.behind or not p.follower then
              s.p[i] = nil -- resumed before missing anything: start over
            elseif nd.status == "up" and l and nd.log_len > p.len and nd.commit >= c:node(l).commit then
              return true
            end
          end
        end
        return false
      end,
      hints = { "Press the number of a row without * to select it, then z. Its Logs row stops growing.",
                "With it paused, press k once; when the other rows show the new entry, press z again." },
      -- a task of its own, so that the check watches every step of it
      auto = function(c)
        ts.go(function()
          local f = follower(c)
          c:pause(f)
          local i = c:start("w=4")
          c:wait_committed(i, 4, 5)
          c:resume(f)
        end)
      end,
      panel = "logs",
    },
    -- 3
    {
      text = "Now pause the leader. To the others it has simply gone quiet: one of them times out and "
        .. "wins an election in a newer term. The paused node cannot tell. Its row still says LEADER, "
        .. "in the old term: a pause is invisible from the inside.\n\n"
        .. "Resume it once the new leader (*) is there. The messages held for it arrive at once; they "
        .. "carry the newer term, and it steps down to follower. Whatever it believed while paused, "
        .. "terms correct it the moment it hears from anyone.",
      run = function(c, s)
        s.old = c:wait_leader(5)
        s.term = c:node(s.old).term
      end,
      objective = "Pause the leader, let another be elected, resume the old one",
      check = function(c, s)
        local o = c:node(s.old)
        if o.paused then s.was_paused = true end
        local l = c:leader()
        return s.was_paused and o.status == "up" and o.role == "follower" and o.term > s.term
          and l ~= nil and l ~= s.old
      end,
      hints = { "Select the row marked * and press z. Wait until another row becomes LEADER.",
                "Then select the paused node again and press z to resume it." },
      auto = function(c, s)
        ts.go(function()
          c:pause(s.old)
          c:wait(function() local l = c:leader() return l ~= nil and l ~= s.old end, 5, "a new leader")
          c:resume(s.old)
        end)
      end,
      panel = "nodes",
    },
    -- 4
    {
      text = "Time is frozen now (space resumes it). Crash a follower (select it, c), then restart it "
        .. "(r), and read its row before you resume time: term, vote and log length are back, because "
        .. "the new process read them from disk; commit and applied are 0. Those lived only in memory, "
        .. "and so did the state machine built from the applied entries.\n\n"
        .. "Now press space (or . to go one instant at a time). The leader's next heartbeat carries its "
        .. "commit index: the node learns how much of its log is committed, and applies all of it "
        .. "again from index 1, rebuilding its state. (On a wide screen, Events lists each apply.)",
      pause = true,
      run = function(c, s)
        s.inc = {}
        for i = 1, c:size() do s.inc[i] = c:node(i).incarnation end
      end,
      objective = "Crash a follower, restart it, let it re-apply its log",
      check = function(c, s)
        local l = c:leader()
        if not l then return false end
        local commit = c:node(l).commit
        for i = 1, c:size() do
          local nd = c:node(i)
          if nd.incarnation > s.inc[i] and nd.status == "up" and commit > 0 and nd.applied >= commit then
            return true
          end
        end
        return false
      end,
      hints = { "Select a row without *, press c, then r. Read its row, then press space.",
                "If time seems stuck, press space: a frozen clock delivers nothing." },
      auto = function(c)
        local f = follower(c)
        c:crash(f)
        c:restart(f)
      end,
      panel = "nodes",
    },
    -- 5
    {
      text = "Figure 2 of the paper names what must be on stable storage: currentTerm, votedFor and "
        .. "log[]. Each node's data dir, c:dir(i), holds two files. meta has the term and the vote "
        .. "(24 bytes with a CRC), rewritten whole: temp file, fsync, rename. log has one record per "
        .. "entry: a 24-byte header (length, CRC, term, index), then the command. Both reach the disk "
        .. "before the node sends any message that relies on them.\n\n"
        .. "Look for yourself: press : and type this line (the size of node 1's log in bytes):\n\n"
        .. "    io.open(c:dir(1)..\"/log\"):seek(\"end\")",
      run = function(c, s)
        s.typed0 = ts._dash and #ts._dash.actions or 0
        local n, cmds = 0, 0
        for _, e in ipairs(c:node(1).log) do n, cmds = n + 1, cmds + #e.data end
        if ts._lesson.view then
          ts._lesson.view.text = ts._lesson.view.text .. string.format("\n\nWhen this step began, node "
            .. "1's log held %d entries in %d bytes (%d headers of 24 bytes, and %d bytes of commands); "
            .. "its meta, %d bytes.", n, file_size(c:dir(1) .. "/log"), n, cmds, file_size(c:dir(1) .. "/meta"))
        end
      end,
      objective = "At the : prompt, read a file in a node's data dir (c:dir)",
      check = function(c, s) return typed(s, "dir%s*%(") end,
      hints = { "Press :, type the line exactly as shown, press Enter. The answer appears on the bottom line.",
                "#io.open(c:dir(2)..\"/meta\"):read(\"a\") gives the size of node 2's meta." },
      auto = function()
        ts._dash.hand('io.open(c:dir(1).."/log"):seek("end")', true)
      end,
    },
    -- 6
    {
      text = "Why must the vote be saved, and not only the term? Each server votes at most once per "
        .. "term; that is what makes two leaders in one term impossible, since each needs 3 votes of 5 "
        .. "and two majorities always share a server. (In step 4 the restarted node still showed its "
        .. "vote: it had read it from meta.)",
      question = { "Node 2 votes for node 1 in term 7, crashes, and restarts at once. Node 3, a candidate "
        .. "in term 7 too, asks node 2 for its vote. What happens?",
        choices = { "It grants it: a new process has not voted yet",
                    "It refuses: its meta says it voted for node 1 in term 7",
                    "It grants it if node 3's log is at least as up to date" },
        answer = 2,
        why = "If the vote lived only in memory, node 2 could vote twice in term 7, node 1 and node 3 "
          .. "could each reach 3 votes, and term 7 would have two leaders. So the vote is on disk before "
          .. "the reply that grants it is sent." },
    },
    -- 7
    {
      text = "The worst case: every server down at once, like a power cut. Crash all five (select each "
        .. "in turn, press c) until none is running; then restart all five (r on each).\n\n"
        .. "No process survives, yet nothing is lost: each new process reads its term, vote and log back "
        .. "from disk, and they hold an election in a new term.",
      run = function(c, s)
        s.inc = {}
        for i = 1, c:size() do s.inc[i] = c:node(i).incarnation end
      end,
      objective = "Crash all five, then restart all five: a leader is elected again",
      check = function(c, s)
        for i = 1, c:size() do
          local nd = c:node(i)
          if nd.status == "crashed" or nd.incarnation == s.inc[i] then
            went_all_down(c, s)
            return false
          end
        end
        return went_all_down(c, s) and c:leader() ~= nil
      end,
      hints = { "Select 1, press c; select 2, press c; ... until all five say CRASHED. Then r on each.",
                "A node restarted before the last one crashed spoils it: crash them all first (R restarts the step)." },
      auto = function(c)
        for i = 1, c:size() do c:crash(i) end
        c:sleep(1) -- what was in flight is gone by then
        for i = 1, c:size() do c:restart(i) end
      end,
      timeout = 10,
      panel = "nodes",
    },
    -- 8
    {
      text = "Look at the rows. The new leader has every entry in its log, and so do the others; yet "
        .. "commit and applied came back as 0 on all five, and (unless you have pressed k since) they "
        .. "stay 0 however long you wait.",
      question = { "Why does the new leader not mark those entries committed at once?",
        choices = { "They were lost in the crash: clients must send them again",
                    "It only counts copies of entries from its own term",
                    "It waits until every follower has confirmed it has them" },
        answer = 2,
        why = "commitIndex was in memory, so every node came back with 0. Counting copies of an entry "
          .. "from an older term is not enough to know it is safe (lesson 5, Figure 8); once an entry of "
          .. "the leader's own term is on a majority, it and everything before it are committed. This "
          .. "implementation waits for the next command to get one." },
      panel = "nodes",
    },
    -- 9
    {
      text = "So give it one. Press k: the new command is an entry of the leader's own term. Once three "
        .. "servers hold it, it is committed, and committing an index commits every entry before it. "
        .. "All five then apply their whole log again from index 1: nothing that was committed before "
        .. "the power cut was lost.",
      run = function(c, s)
        local l = c:wait_leader(5)
        s.data = log_of(c, l)
      end,
      objective = "Press k: the new entry and all the old ones commit on all five",
      check = function(c, s) return applied_with(c, #s.data + 1, s.data) == c:size() end,
      hints = { "Press k (a client request goes to the leader). Watch commit and applied jump on every row." },
      auto = function(c, s)
        c:wait_leader(5)
        c:start("after-the-cut")
      end,
      panel = "logs",
    },
    -- 10
    {
      text = "Challenge: a second power cut. Bring all five down at the same moment, then get a new "
        .. "command committed with every earlier entry still in place, in at most 9 actions (c, r, z "
        .. "and k each count; selecting a node is free).\n\n"
        .. "Think about how many servers Raft really needs. (Over par? R starts the step again.)",
      run = function(c, s)
        local l = c:wait_leader(5)
        s.data = log_of(c, l)
      end,
      objective = "All five down at once, then a new command committed, log intact",
      par = 9,
      check = function(c, s)
        if not went_all_down(c, s) then return false end
        return applied_with(c, #s.data + 1, s.data) >= 3
      end,
      hints = { "A leader needs the votes of a majority, and a commit needs copies on a majority. What is a majority of five?",
                "Crash all five, restart any three, wait until one is LEADER, then press k." },
      auto = function(c)
        for i = 1, c:size() do c:crash(i) end
        c:sleep(1)
        for i = 1, 3 do c:restart(i) end
        c:wait_leader(5)
        c:start("second-cut")
      end,
      panel = "nodes",
    },
    -- 11
    {
      text = "To sum up. What a server writes to disk (term, vote, log) survives anything short of "
        .. "losing the disk. What it keeps in memory (commit index, applied index, the state machine, "
        .. "a leader's nextIndex and matchIndex) is rebuilt after a restart, from its log and from the "
        .. "leader. A pause loses nothing, but the world moves on while it sleeps; terms tell it so when "
        .. "it wakes. And a server that never comes back is one missing vote: any majority of disks is "
        .. "enough.\n\n"
        .. "Next, lesson 7: the Lua prompt, and scenarios of your own.",
    },
  },
}
