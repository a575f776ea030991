-- 03-log-replication.lua — what a leader does with client commands:
-- entries, AppendEntries and its consistency check, commit by majority,
-- apply in order; a follower that falls behind and catches up; a log that
-- disagrees with the leader's, repaired with fast backup.
--
-- The checks look at the live cluster after every event; they never read the
-- events log (it outlives a restarted step, so old events could fool them).

-- In a step that freezes time: once the objective holds (or the solution has
-- been performed), let time run again.
local function thaw(c, ok)
  if ok and not ts._lesson.autopilot and c:_frozen() then c:_freeze(false) end
  return ok
end

-- The longest log in the cluster, and the highest commit index.
local function longest(c)
  local len, commit = 0, 0
  for i = 1, c:size() do
    local n = c:node(i)
    if n.log_len > len then len = n.log_len end
    if n.commit > commit then commit = n.commit end
  end
  return len, commit
end

-- The terms of node i's log, as a string ("1,1,2").
local function terms(c, i)
  local t = {}
  for _, e in ipairs(c:node(i).log) do t[#t + 1] = e.term end
  return table.concat(t, ",")
end

-- Every server running, connected, and holding the leader's whole log, committed.
local function all_agree(c)
  local l = c:leader()
  if not l then return false end
  local ln = c:node(l)
  for i = 1, c:size() do
    local n = c:node(i)
    if not n.up or n.paused or not n.quorum or n.log_len ~= ln.log_len or n.commit ~= ln.log_len then
      return false
    end
  end
  return true
end

-- Put the cluster back together: every server up and connected, one leader,
-- and every log the same and committed (a command is added if that is what
-- it takes: a leader commits older entries only with one of its own term).
local function settle(c)
  c:heal()
  for i = 1, c:size() do
    local n = c:node(i)
    if n.status == "crashed" then c:restart(i) elseif n.paused then c:resume(i) end
  end
  c:wait_leader(10)
  if not pcall(c.wait, c, function() return all_agree(c) end, 2, "the logs to agree") then
    c:one("sync", 5, true)
    c:wait(function() return all_agree(c) end, 5, "the logs to agree")
  end
end

return ts.lesson{
  title = "Log replication",
  summary = "Entries, AppendEntries and its consistency check, commit by majority; a follower catching up; fast backup.",
  cluster = { kind = "raft", nodes = 5, seed = 303 },
  steps = {
    {
      text = "A leader is there to serve clients. Each command becomes an entry in the leader's log: the "
        .. "command plus the term in which the leader got it, at a position called its index (from 1). The "
        .. "leader gets the same entries, in the same order, into every log; each server applies them to its "
        .. "state machine in index order, so all of them go through the same states.\n\n"
        .. "In Logs, a row is one server's log and a cell one entry, showing its term. The commit point (|) "
        .. "shows how far that server knows the log to be committed.",
      panel = "logs",
    },
    {
      text = "Press k three times. Each press sends a command (k1, k2, ...) to the leader. The leader appends "
        .. "it and at once sends the new entry to every follower in an AppendEntries. Each follower appends "
        .. "it and replies. As soon as a majority holds the entry (the leader's own copy counts: 3 of 5), the "
        .. "leader commits it: its commit index moves up and it applies the command. The followers learn the "
        .. "new commit index from the leader's next AppendEntries, and apply it too.",
      run = function(c, s)
        c:wait_leader(5)
        s.base = longest(c)
      end,
      panel = "logs",
      objective = "Send three requests with k and see them committed on all five",
      check = function(c, s) return c:committed(s.base + 3) >= 5 end,
      hints = { "Press k, three times. Watch the cells appear in Logs, then turn bold." },
      auto = function(c)
        for i = 1, 3 do c:start("k" .. i) end
      end,
    },
    {
      text = "How does a follower know the new entries fit its log? Each AppendEntries also names the entry "
        .. "just before them: prevLogIndex and prevLogTerm. The follower accepts only if its log has an "
        .. "entry at prevLogIndex from that term. Every entry was accepted this way, so when two logs have "
        .. "an entry with the same index and term, they agree on everything before it too.",
      question = { "A follower's log has terms 1, 1, 2 at indexes 1-3. An AppendEntries arrives with "
          .. "prevLogIndex 3, prevLogTerm 3 and one new entry. What does the follower do?",
        choices = { "Appends the new entry at index 4",
                    "Refuses: its entry 3 is from term 2, not 3",
                    "Replaces its entry 3, then appends the new one" },
        answer = 2,
        why = "Terms 2 and 3 had different leaders, so the logs differ at index 3, maybe earlier. The "
          .. "follower says no; the leader retries from further back until they match, and from there the "
          .. "follower drops what disagrees and takes the leader's entries." },
    },
    {
      text = "A leader needs a majority of copies, not all of them, so losing a minority does not stop "
        .. "it. Cut off two followers (select each, press p), then press k: the request commits with three "
        .. "copies, the leader's and the two connected followers'. With a third cut off, nothing more could "
        .. "commit until a majority was back.\n\n"
        .. "A leader counts copies only of entries from its own term; older ones commit along with them "
        .. "(Figure 8 of the Raft paper shows why counting old ones is unsafe).",
      run = function(c, s)
        c:wait_leader(5)
        s.base = longest(c)
      end,
      panel = "logs",
      objective = "Commit a request while two followers are cut off",
      check = function(c, s)
        local l = c:leader()
        if not l then return false end
        for i = s.base + 1, c:node(l).commit do
          local copies = 0
          for j = 1, c:size() do
            if c:node(j).log_len >= i then copies = copies + 1 end
          end
          if copies <= 3 then return true end
        end
        return false
      end,
      hints = { "Select a follower (a row without *) and press p; do the same for a second one; then k.",
                "The two rows should say cut-off before you press k." },
      auto = function(c)
        local l = c:wait_leader(5)
        c:isolate(l % c:size() + 1)
        c:isolate((l + 1) % c:size() + 1)
        c:start("k4")
      end,
    },
    {
      text = "Now reconnect them: h heals every link. The leader kept trying them (the hub dropped its "
        .. "AppendEntries); once the links are back, they catch up.\n\n"
        .. "But while cut off, each timed out again and again, running elections nobody heard: it comes back "
        .. "in a higher term. The leader steps down on seeing it, and a new election follows that the "
        .. "returning servers cannot win: the others refuse their vote to a candidate whose log is behind. "
        .. "(A later refinement, pre-vote, avoids this; the labs do without it.)",
      run = function(c, s)
        s.target = select(2, longest(c))
      end,
      panel = "nodes",
      objective = "Reconnect them, and let them catch up",
      check = function(c, s)
        for i = 1, c:size() do
          local n = c:node(i)
          if not n.up or n.paused or not n.quorum or n.commit < s.target then return false end
        end
        return true
      end,
      hints = { "Press h. (Or select each cut-off server and press p again.)" },
      auto = function(c)
        c:heal()
        for i = 1, c:size() do
          local n = c:node(i)
          if n.status == "crashed" then c:restart(i) elseif n.paused then c:resume(i) end
        end
      end,
    },
    {
      text = "A new leader does not know how long each follower's log is. It starts hopeful: nextIndex, the "
        .. "next entry it will send a follower, is its own last index + 1. When a follower refuses, the "
        .. "leader moves nextIndex back and tries again. Going back one entry per refusal is slow for a "
        .. "follower far behind, so a refusal says where to go: if the follower's log is too short, its "
        .. "length; if its entry at prevLogIndex has another term, that term and where it starts. The leader "
        .. "then skips back a whole term at once.",
      question = { "A follower holds 2 entries, the same as the new leader's first two. The leader holds "
          .. "10 and first sends prevLogIndex 10. How many refusals before the follower accepts?",
        choices = { "8: one per missing entry",
                    "1: the refusal says its log ends at index 2",
                    "None: a follower takes whatever a leader sends" },
        answer = 2,
        why = "The leader's next try starts at index 3, with prevLogIndex 2, which matches. That is how the "
          .. "two servers you reconnected caught up after the new election." },
    },
    {
      text = "The lesson is setting up two logs that disagree: a leader cut off with commands nobody else "
        .. "has, and a new leader that committed others at the same indexes...",
      run = function(c, s)
        settle(c)
        local old = c:wait_leader(5)
        local term = c:node(old).term
        c:isolate(old)
        for i = 1, 3 do c:start("lost" .. i, old) end
        local mid = c:wait(function()
          local l = c:leader()
          return l ~= old and l
        end, 10, "a new leader")
        local last
        for i = 1, 3 do last = c:start("new" .. i) end
        c:wait_committed(last, 4, 5)
        local new
        for i = 1, c:size() do
          if i ~= old and i ~= mid then new = i break end
        end
        c:timeout_now(new)
        c:wait(function() return c:leader() == new end, 5, "the next leader")
        s.old, s.new, s.last = old, new, last
        -- where the new leader starts, what the refusal says, where it jumps
        local nl, olog = c:node(new), c:node(old).log
        local from = nl.next_index[old]
        local starts = from - 1
        while starts > 1 and olog[starts - 1] and olog[starts - 1].term == term do starts = starts - 1 end
        local keep = 0
        for i = nl.log_len, 1, -1 do
          if nl.log[i].term == term then keep = i break end
        end
        local jump
        if keep > 0 then
          jump = string.format("Node %d holds term %d entries up to %d, so it moves nextIndex straight to %d",
            new, term, keep, keep + 1)
        else
          jump = string.format("Node %d has no entry of term %d, so it moves nextIndex straight to %d",
            new, term, starts)
        end
        ts._lesson.view.text = string.format(
          "Node %d led term %d, was cut off, and took three commands nobody else has (%d-%d in its row, "
            .. "never committed). The others elected node %d, which committed three others at %d-%d; then "
            .. "node %d took over, in term %d.\n\n"
            .. "Time is frozen. Select %d, press p, then step with . (space runs). Node %d sends from "
            .. "nextIndex %d. Node %d refuses: its entry %d is from term %d, which starts at its index %d. "
            .. "%s, and node %d swaps its three entries for node %d's. (%d then Enter shows nextIndex; Esc: "
            .. "back.)",
          old, term, last - 2, last, mid, last - 2, last, new, nl.term,
          old, new, from, old, from - 1, term, starts, jump, old, new, new)
      end,
      pause = true,
      panel = "logs",
      objective = "Reconnect the old leader: its log must become the leader's",
      check = function(c, s)
        local l = c:leader()
        if not l then return false end
        local n = c:node(s.old)
        return thaw(c, n.up and n.quorum and n.role == "follower" and n.commit >= s.last
          and terms(c, s.old) == terms(c, l))
      end,
      hints = { "Press the old leader's number (the cut-off row), then p; then space.",
                "It was cut off with p; p again connects it." },
      auto = function(c, s)
        c:connect(s.old)
        thaw(c, true)
      end,
    },
    {
      text = "Challenge: do it yourself. Get a leader to take a command that never commits, then see that "
        .. "entry replaced by another leader's, in at most four actions (selecting, space and . are free).\n\n"
        .. "k only goes to a leader that can reach a majority, and AppendEntries leave it within a few ms. "
        .. "So freeze time first.",
      objective = "An entry replaced by another leader's",
      par = 4,
      check = function(c, s)
        local replaced = false
        s.seen = s.seen or {}
        for i = 1, c:size() do
          local seen = s.seen[i] or {}
          s.seen[i] = seen
          for index, e in ipairs(c:node(i).log) do
            if seen[index] and seen[index] ~= e.term then replaced = true end
            seen[index] = e.term
          end
        end
        return replaced
      end,
      hints = { "Space freezes time. Then k: the leader appends the command, and its AppendEntries wait in "
                  .. "flight.",
                "Still frozen: select the leader, p (what it sent is dropped), space. Once another leader "
                  .. "is elected: k, then select the old leader and p." },
      auto = function(c)
        local old = c:wait_leader(5)
        c:start("k5", old)
        c:isolate(old)
        c:wait(function()
          local l = c:leader()
          return l ~= old and l
        end, 10, "a new leader")
        c:start("k6")
        c:connect(old)
      end,
    },
    {
      text = "That is log replication. The leader only appends to its own log; a follower accepts entries "
        .. "only where they fit (prevLogIndex, prevLogTerm) and drops any that conflict with the leader's; an "
        .. "entry is committed once a majority stores it, and each server applies committed entries in index "
        .. "order. A committed entry is never replaced, since only a server holding all committed entries "
        .. "can win an election. An uncommitted one may be, as you just saw.\n\n"
        .. "(L opens the lesson menu.)",
    },
  },
}
