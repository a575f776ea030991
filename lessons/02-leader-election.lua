-- 02-leader-election.lua — how Raft picks a leader: election timers,
-- candidates, RequestVote, terms, one vote per term, majorities, and why the
-- timeouts are random (a split vote, provoked on purpose with the levers).
--
-- The checks look at the live cluster after every event; they never read the
-- events log (it outlives a restarted step, so old events could fool them).

-- Nodes that count: running (not crashed, not paused).
local function running(c, i)
  local n = c:node(i)
  return n.up and not n.paused, n
end

-- In a step that freezes time: once the objective holds (or the solution has
-- been performed), let time run again.
local function thaw(c, ok)
  if ok and not ts._lesson.autopilot and c:_frozen() then c:_freeze(false) end
  return ok
end

-- A node to bring back: the first crashed one, else one cut off from the
-- majority, else a paused one.
local function knocked_out(c)
  for i = 1, c:size() do
    if c:node(i).status == "crashed" then return i end
  end
  for i = 1, c:size() do
    local n = c:node(i)
    if n.up and not n.paused and not n.quorum then return i end
  end
  for i = 1, c:size() do
    if c:node(i).paused then return i end
  end
end

return ts.lesson{
  title = "Leader election",
  summary = "Election timers, candidates and votes; terms; why one vote per term and a majority give at most one leader; split votes.",
  cluster = { kind = "raft", nodes = 5, seed = 202 },
  steps = {
    {
      text = "Every server starts as a follower in term 0, with an election timer (the bar in Nodes). If "
        .. "the bar fills before a leader speaks up, the server stands for election.\n\n"
        .. "Time is frozen: . steps to the next instant when something happens; space lets time run. The "
        .. "first timer to fire makes its server a candidate in term 1: it votes for itself (vote column) and "
        .. "sends RequestVote to the others (Network, on a wide screen, shows them in flight). Each server "
        .. "that has not voted in term 1 grants its vote; 3 votes of 5 make a leader.",
      pause = true,
      panel = "nodes",
      objective = "Let the first election run to the end (. or space)",
      check = function(c) return thaw(c, c:leader() ~= nil) end,
      hints = { "Press . again and again: each press runs the next instant (a timer fires, messages arrive).",
                "Or press space: time runs, and the election is over in well under a second." },
      auto = function(c) thaw(c, true) c:wait_leader(5) end,
    },
    {
      text = "The leader now sends each follower an AppendEntries every 100 ms, empty for now: a heartbeat. "
        .. "It restarts the follower's timer with a fresh random timeout, so the bars drop back before they "
        .. "fill.\n\n"
        .. "Select a follower (its number) and press t: its timer fires now. It moves to the next term and "
        .. "asks for votes; nobody has voted in that term yet, so they grant theirs, and the leader, seeing a "
        .. "higher term, steps down. (t on the leader does nothing: a leader has no election timer.)",
      run = function(c, s)
        local l = c:wait_leader(5)
        s.old, s.term = l, c:node(l).term
      end,
      panel = "nodes",
      objective = "Make a follower take over as leader with t",
      check = function(c, s)
        local l = c:leader()
        return l ~= nil and l ~= s.old and c:node(l).term > s.term
      end,
      hints = { "Press the number of a row that says follower, then t.",
                "For example 3 then t, if node 3 is a follower." },
      auto = function(c, s)
        c:timeout_now(s.old % c:size() + 1)
      end,
    },
    {
      text = "A server gives at most one vote per term, first come first served, and writes that vote to "
        .. "disk before it answers. A candidate wins with votes from a majority of the whole cluster, itself "
        .. "included: 3 of 5.",
      question = { "Nodes 3 and 4 are both candidates in term 7. Node 1 has granted node 3 its vote. "
          .. "Then node 4's RequestVote for term 7 reaches node 1. What does node 1 answer?",
        choices = { "Yes: a server may vote for every candidate",
                    "No: its one vote in term 7 already went to node 3",
                    "Yes, and it takes its vote back from node 3" },
        answer = 2,
        why = "One vote per term, kept on disk even across a crash. Two candidates would each need 3 "
          .. "votes of 5, and any two groups of 3 share a server, which votes only once: so a term has "
          .. "at most one leader." },
    },
    {
      text = "The majority is counted out of all five servers, not out of the ones that happen to be "
        .. "running: a server cannot tell a crashed peer from a slow one.",
      question = { "Two of the five servers have crashed. Can the other three still elect a leader?",
        choices = { "No: a candidate needs the votes of every running server",
                    "Yes: 3 votes of 5 is a majority",
                    "No: 3 is only a majority of the 3 that run" },
        answer = 2,
        why = "3 of 5 is enough, whoever is down. With three down, the two left can never gather 3 "
          .. "votes: the cluster has no leader and waits, rather than risk two leaders." },
    },
    {
      text = "Each follower draws its timeout at random between 300 and 600 ms, afresh every time it "
        .. "restarts the timer. Usually one fires well before the others and its RequestVotes arrive first, "
        .. "so it wins. If two fire within a few ms, both stand in the same term and split the votes: nobody "
        .. "may reach 3. Each then waits a new random timeout; the first to fire usually wins the next term.\n\n"
        .. "The a key sets every follower's timer to fire at the same moment, 300 ms from now. Try it.",
      question = { "With a working leader, a starts no election. Why?",
        choices = { "a only affects candidates",
                    "A heartbeat comes within 100 ms and restarts each timer",
                    "Followers ignore their timers while a leader lives" },
        answer = 2,
        why = "The aligned deadlines never arrive: the next heartbeat resets every follower's timer to a new "
          .. "random value. Timers only matter once the leader falls silent." },
    },
    {
      text = "Now a split vote. Time is frozen. Cut the leader off (select it, p), press a, then space. "
        .. "300 ms later the four followers time out together; each moves to the same new term and votes "
        .. "for itself, so each refuses the others: nobody gets past 1 vote. New random timeouts break the "
        .. "tie, and the first to fire usually wins the next term. (- slows time down.)\n\n"
        .. "Why p, not c? Messages a crashed server sent before dying still arrive: a heartbeat on its way "
        .. "would reset the timers.",
      pause = true,
      panel = "nodes",
      objective = "Split vote: a term with 2+ candidates, no leader; then a leader",
      check = function(c, s)
        s.cand, s.led = s.cand or {}, s.led or {}
        for i = 1, c:size() do
          local ok, n = running(c, i)
          if ok then
            if n.role == "candidate" then
              s.cand[n.term] = s.cand[n.term] or {}
              s.cand[n.term][i] = true
            elseif n.role == "leader" then
              s.led[n.term] = true
            end
          end
        end
        local l = c:leader()
        if not l then return false end
        local lt = c:node(l).term
        for term, who in pairs(s.cand) do
          local count = 0
          for _ in pairs(who) do count = count + 1 end
          if count >= 2 and not s.led[term] and lt > term then
            s.split = term
            return thaw(c, true)
          end
        end
        return false
      end,
      hints = { "The followers' timers only run out once no heartbeat arrives: the leader has to go first.",
                "Select the leader (its number), press p, then a, then space." },
      auto = function(c)
        c:isolate(c:wait_leader(5))
        c:align_timers()
        thaw(c, true)
      end,
    },
    {
      text = "Challenge. Bring back the server you knocked out and make it the leader again, using at most "
        .. "two actions (selecting a node is free).\n\n"
        .. "A server that comes back still has its old term (a restarted one reads it from disk, with its "
        .. "vote and log). The first message it gets with a newer term moves it to that term, and if it "
        .. "thought it was leader, it steps down.",
      run = function(c, s)
        local id = knocked_out(c)
        if not id then
          id = c:wait_leader(5)
          c:crash(id)
        end
        s.target = id
        -- the objective names the node (the engine's view is what the panel draws)
        ts._lesson.view.objective = string.format("Bring node %d back and make it the leader", id)
        c:wait_leader(5)
      end,
      objective = "Make the server you knocked out the leader",
      par = 2,
      check = function(c, s) return c:leader() == s.target end,
      hints = { "First bring it back: r restarts a crashed server (p reconnects a cut-off one, z resumes a "
                  .. "paused one).",
                "Then select it and press t: once it has heard from the leader, its log is as complete as "
                  .. "anyone's, so it wins." },
      auto = function(c, s)
        local n = c:node(s.target)
        if n.status == "crashed" then c:restart(s.target)
        elseif n.paused then c:resume(s.target)
        else c:connect(s.target) end
        -- wait until it has heard from the leader: a candidate with a stale term gets no votes
        c:wait(function()
          local l = c:leader()
          return l and c:node(s.target).term == c:node(l).term
            and c:node(s.target).log_len >= c:node(l).log_len
        end, 5, "the server to catch up with the leader")
        c:timeout_now(s.target)
      end,
    },
    {
      text = "That is leader election. A term has at most one leader, because each server votes once per "
        .. "term and a leader needs a majority of the whole cluster. Random timeouts make split votes rare and "
        .. "short. A server cut off from the majority cannot win an election; an old leader cut off may still "
        .. "think it leads, but it can get nothing done.\n\n"
        .. "Next, lesson 3: what a leader does with client commands, and how the logs are kept identical. "
        .. "(L opens the lesson menu.)",
    },
  },
}
