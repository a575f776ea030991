-- 05-figure8.lua — why a leader never commits an entry of an earlier term
-- by counting copies: the situation of Figure 8 in the Raft paper
-- (§5.4.2), rebuilt move by move on five live servers (S1..S5 = nodes
-- 1..5).  Seed 3: node 3 wins the first election.
--
-- Timing.  Between two moves of the figure there is often no leader, and
-- the followers' election timers run: a stray timeout would elect the wrong
-- server.  So every such sequence happens inside one step that freezes
-- virtual time (pause = true, and freeze() in run before anything is set
-- up): the learner's moves then land at one virtual instant, every follower
-- has at least 200 virtual ms of timer left, and the learner's last move,
-- space, lets the election run out in a few ms.  Each such step ends in a
-- stable state with a leader, and `thaw` lets time run once its objective
-- holds, so the learner watches the outcome before pressing n.
--
-- The checks read the live cluster, never the events log (the log outlives
-- a restarted step).

-- Has node i crashed?
local function down(c, i) return c:node(i).status == "crashed" end

-- The term of entry `index` in node i's log (nil if it has none).
local function term_at(c, i, index)
  local n = c:node(i)
  if n.log_len < index then return nil end
  return n.log[index].term
end

-- Stop virtual time in the dashboard (no effect at fast pace: the autopilot
-- and the replay of earlier steps).
local function freeze(c) c:_freeze(true) end

-- Once a frozen step's objective holds, let time run again.
local function thaw(c, ok)
  if ok and not ts._lesson.autopilot and c:_frozen() then c:_freeze(false) end
  return ok
end

return ts.lesson{
  title = "Safety: Figure 8",
  summary = "Why a leader never commits an entry from an earlier term by counting copies (Raft §5.4.2, Figure 8).",
  cluster = { kind = "raft", nodes = 5, seed = 3 },
  steps = {
    {
      text = "A leader commits an entry once a majority of servers store it. There is a catch, shown in "
        .. "Figure 8 of the Raft paper: for an entry from an EARLIER term, copies on a majority are not "
        .. "enough. We rebuild that figure here, move by move, with S1..S5 as nodes 1..5.\n\n"
        .. "The lesson has committed a at index 1 in term 1. In Logs each cell shows the term of its "
        .. "entry, and ┃ marks each server's commit point. Press n.",
      run = function(c)
        c:wait_leader(5)
        c:start("a")
        c:wait_committed(1, 5, 5)
      end,
      panel = "logs",
    },
    {
      text = "(a) S1 leads term 2 (the lesson timed it out) and has just put b at index 2. Time is frozen with "
        .. "its four AppendEntries in flight (Network); keep it frozen until the last move. m selects a "
        .. "message (M: back), x drops it, d delivers it now.\n\n"
        .. "1. Drop the three to S3, S4, S5; deliver the one to S2.\n"
        .. "2. Crash S1 (it is selected: c) before a heartbeat resends b.\n"
        .. "3. (b) Select S5 (5), press t: it stands for election in term 3.\n"
        .. "4. Press space. S3 and S4 vote for S5; S2 refuses, as its last entry (term 2) is newer than "
        .. "S5's (term 1).",
      pause = true,
      run = function(c)
        c:timeout_now(1)
        c:wait(function() return c:leader() == 1 and #c:inflight() == 0 end, 5, "S1 to lead term 2")
        freeze(c)
        c:start("b", 1)
      end,
      objective = "b on S1 and S2 only, S1 down, S5 leading term 3",
      check = function(c)
        local n = c:node(5)
        return thaw(c, n.role == "leader" and n.term == 3 and down(c, 1) and term_at(c, 2, 2) == 2
          and c:node(3).log_len == 1 and c:node(4).log_len == 1)
      end,
      hints = { "m until n1→n3 AppendEntries is highlighted, then x; the same for n1→n4 and n1→n5; "
                .. "then n1→n2 and d. Then c, 5, t and space.",
                "If b reached S3, S4 or S5, or another server won, time ran too early: R starts the step again.",
                "H once more does it for you (then press space)." },
      auto = function(c)
        for _, m in ipairs(c:inflight()) do
          if m.from == 1 and m.type == "AppendEntries" then
            if m.to == 2 then c:deliver(m.id) else c:drop(m.id) end
          end
        end
        if not down(c, 1) then c:crash(1) end
        c:timeout_now(5)
      end,
      select = 1,
      panel = "network",
    },
    {
      text = "S1 is back (the lesson restarted it) and follows S5 in term 3, its log kept. Then the lesson cut "
        .. "S5 off and gave it a command, c: it went to index 2 in term 3, a different entry at the same "
        .. "index as b. Time is frozen.\n\n"
        .. "1. Crash S5 (it is selected: c), so c stays on S5 alone.\n"
        .. "2. (c) Select S1 (1), press t, then space. S1 asks for votes in term 4; S2, S3 and S4 grant them, "
        .. "since its log is at least as up to date as theirs. As leader it finds that S3 and S4 lack "
        .. "index 2, and sends them b.",
      pause = true,
      run = function(c)
        c:restart(1)
        c:wait(function() return c:node(1).term == 3 and c:node(1).leader == 5 end, 5, "S1 to follow S5")
        freeze(c)
        c:isolate(5)
        c:start("c", 5)
      end,
      objective = "S5 down with c; S1 leading term 4; b on S1, S2, S3, S4",
      check = function(c)
        local n = c:node(1)
        return thaw(c, n.role == "leader" and n.term == 4 and down(c, 5)
          and term_at(c, 3, 2) == 2 and term_at(c, 4, 2) == 2)
      end,
      hints = { "c (S5 is selected), then 1, t and space.",
                "If S2 won instead, time ran before S1 stood: R starts the step again.",
                "H once more does it for you (then press space)." },
      auto = function(c)
        if not down(c, 5) then c:crash(5) end
        c:timeout_now(1)
      end,
      select = 5,
      panel = "logs",
    },
    {
      text = "(c) Much as in the paper's (c): b, from term 2, sits at index 2 on a majority (here four of the "
        .. "five servers), and S1 leads term 4. S5, down, holds c at index 2 instead.",
      run = function(c) c:_freeze(false) end,
      question = { "Has S1 committed index 2?",
        choices = { "Yes: four copies of five are a majority",
                    "No: b is from term 2, and S1 counts only term-4 entries",
                    "Yes, but followers learn it with the next heartbeat" },
        answer = 2,
        why = "Every ┃ is still after index 1. Counting copies works only for the leader's own term; "
          .. "the next step shows what would go wrong otherwise." },
      panel = "logs",
    },
    {
      text = "(d) Suppose S1 had counted b as committed, and told a client so. Now the lesson cut S1 off and "
        .. "gave it one more command, d: index 3, term 4, on S1 alone. Time is frozen.\n\n"
        .. "1. Crash S1 (it is selected: c).\n"
        .. "2. Select S5 (5) and restart it: r.\n"
        .. "3. Press t twice: the first try, term 4, cannot win (S2, S3, S4 voted for S1 in term 4, and a "
        .. "server votes once per term); the second is for term 5.\n"
        .. "4. Press space, and watch index 2 on S2, S3 and S4.",
      pause = true,
      run = function(c)
        freeze(c)
        c:isolate(1)
        c:start("d", 1)
        c:connect(5)
      end,
      objective = "S1 down; S5 leads and its c replaced b on S2, S3, S4",
      check = function(c)
        return thaw(c, c:node(5).role == "leader" and down(c, 1)
          and term_at(c, 2, 2) == 3 and term_at(c, 3, 2) == 3 and term_at(c, 4, 2) == 3)
      end,
      hints = { "c (S1 is selected), then 5, r, t, t, space.",
                "If S2, S3 or S4 won instead, time ran before S5's second try: R starts the step again.",
                "H once more does it for you (then press space)." },
      auto = function(c)
        if not down(c, 1) then c:crash(1) end
        if down(c, 5) then c:restart(5) end
        c:timeout_now(5)
        c:timeout_now(5)
      end,
      select = 1,
      panel = "logs",
    },
    {
      text = "S5 won term 5 with the votes of S2, S3 and S4. It found their index 2 in conflict with its own, "
        .. "so they deleted it (a truncate, in the events) and took c. b sat on a majority in (c), and now "
        .. "it is gone. Had S1 committed it, a committed entry would be lost: the one thing Raft must "
        .. "never allow. (Type :c:events{ev=\"truncate\"} to see the deletions.)",
      run = function(c)
        c:_freeze(false)
        c:connect(1)
      end,
      question = { "Why did S2, S3 and S4 vote for S5, though they held b and S5 did not?",
        choices = { "S5's log was longer than theirs",
                    "S5's last entry has a later term (3) than theirs (2)",
                    "A server votes for the first candidate of a new term" },
        answer = 2,
        why = "§5.4.1: the log whose last entry has the later term is more up to date; length only breaks "
          .. "a tie. So an old-term entry on a majority can still be overwritten." },
      panel = "logs",
    },
    {
      text = "(e) The same trap, mirrored. S5's c (term 3) is on four servers, uncommitted (no ┃ past index "
        .. "1; S5 restarted with its commit index at 0, as it is not kept on disk). And S1, down, ends its "
        .. "log with d of term 4, newer than 3: if S5 crashed now, S1 could win and bring b back.\n\n"
        .. "The cure is the paper's (e): the leader gets an entry of its OWN term onto a majority. Press k: "
        .. "S5 puts a request at index 3 in term 5. Once three servers hold it, index 3 commits, and "
        .. "index 2 with it.",
      objective = "Index 3 (term 5) committed, and index 2 with it",
      check = function(c)
        return term_at(c, 5, 3) == 5 and c:node(5).commit >= 3 and c:committed(3) >= 3
      end,
      hints = { "Press k: it submits a request at the leader, S5." },
      auto = function(c) c:start("k1") end,
      select = 5,
      panel = "logs",
    },
    {
      text = "Committed. Every running server's log now ends in term 5, so S1, whose log ends in term 4, "
        .. "cannot win their votes: c is safe at index 2 for good.\n\n"
        .. "Challenge: make S1 the leader again, in at most 2 actions. It cannot win with the log it has: "
        .. "what must happen to its b and d first?",
      objective = "S1 leads, its log matching the others",
      par = 2,
      check = function(c)
        local n = c:node(1)
        return c:leader() == 1 and n.log_len >= 3 and term_at(c, 1, 2) == 3 and term_at(c, 1, 3) == 5
      end,
      hints = { "Restart S1 (it is selected: r) and watch: the leader's AppendEntries replace b and d.",
                "Once S1's log matches the others', press t: now its votes can come." },
      auto = function(c)
        if down(c, 1) then c:restart(1) end
        c:wait(function() return term_at(c, 1, 3) == 5 end, 5, "S1 to catch up")
        c:timeout_now(1)
      end,
      select = 1,
      panel = "logs",
    },
    {
      text = "The rule: a leader commits by counting copies only entries of its current term; the entries "
        .. "before such an entry are committed with it (two logs holding the same index and term agree on "
        .. "everything up to it: Log Matching). A new leader that inherits old entries cannot commit them "
        .. "until it commits one of its own. So the paper (§8) has each new leader commit a blank no-op "
        .. "entry at the start of its term, as many systems do. This Raft does not, which is why (c) could last.",
    },
  },
}
