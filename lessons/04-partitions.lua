-- 04-partitions.lua — a network partition with the leader on the minority
-- side: the majority elects and commits; the old leader keeps taking
-- commands it can never commit; on healing it steps down and its entries
-- are replaced (the situation of the 6.824 test TestRejoin3B).
--
-- Seed 404: node 3 wins the first election (term 1), before the learner can
-- do anything, so the text can name it.  Which node wins on the majority
-- side depends on when the learner splits, so the text never names it.
--
-- The checks read the live cluster; the only one that reads the events log
-- (the challenge) compares against the last truncation seen when its step
-- started, since the log outlives a restarted step.

-- Who led before the split, and who shared the minority with it.  Set by
-- the steps' run functions (they run again when a step is replayed).
local st = {}

-- The term of entry `index` in node i's log (nil if it has none).
local function term_at(c, i, index)
  local n = c:node(i)
  if n.log_len < index then return nil end
  return n.log[index].term
end

-- The running nodes that cannot reach a majority.
local function cut_off(c)
  local out = {}
  for i = 1, c:size() do
    local n = c:node(i)
    if n.up and not n.quorum then out[#out + 1] = i end
  end
  return out
end

-- The last truncation in the events log (nil if none yet).
local function last_truncate(c)
  local ev = c:events{ ev = "truncate" }
  return ev[#ev]
end

local function same_event(a, b)
  return a and b and a.t == b.t and a.node == b.node and a.from == b.from
end

return ts.lesson{
  title = "Partitions",
  summary = "A leader cut off in a minority: it keeps accepting commands, commits none, and steps down on healing.",
  cluster = { kind = "raft", nodes = 5, seed = 404 },
  steps = {
    {
      text = "A crash is the easy failure: the server is gone and the others carry on. A network partition is "
        .. "harder. Every server keeps running, but some can no longer reach the others, and no server can "
        .. "tell a peer that died from one it just cannot hear.\n\n"
        .. "The lesson has committed a at index 1 on all five. S3 leads term 1 (marked *). In this lesson it "
        .. "ends up on the wrong side of a split, with only one other server. Press n.",
      run = function(c)
        st.old = c:wait_leader(5)
        c:start("a")
        c:wait_committed(1, 5, 5)
      end,
      select = 3,
      panel = "nodes",
    },
    {
      text = "Split the network with the leader in the minority. S3 is selected: press s. S3 and S4 form one "
        .. "group, S5, S1 and S2 the other; Network lists the groups and marks every cut link with ✗.\n\n"
        .. "Two servers out of five are not a majority; three are.",
      objective = "The leader, S3, in a minority of two",
      check = function(c)
        local m = cut_off(c)
        return #m == 2 and (m[1] == st.old or m[2] == st.old)
      end,
      hints = { "Press s with S3 selected (its row is highlighted; press 3 if it is not).",
                "If the split came out wrong, h heals it; then select S3 and press s again." },
      auto = function(c)
        local p = st.old % c:size() + 1
        local rest = {}
        for i = 1, c:size() do
          if i ~= st.old and i ~= p then rest[#rest + 1] = i end
        end
        c:partition({ st.old, p }, rest)
      end,
      select = 3,
      panel = "network",
    },
    {
      text = "Nothing tells S3 it is cut off: it still says LEADER and sends heartbeats that never arrive. On "
        .. "the other side S5, S1 and S2 hear nothing; the first timer to fire starts an election in term 2, "
        .. "and three votes out of five make a new leader. The * marks it: the leader that can reach a "
        .. "majority.\n\n"
        .. "Once it is there, press k: a client request goes to the new leader, which commits it with three "
        .. "servers.",
      run = function(c)
        local m = cut_off(c)
        st.partner = m[1] == st.old and m[2] or m[1]
      end,
      objective = "A new leader on the majority side commits a request",
      check = function(c)
        local l = c:leader()
        if not l or l == st.old then return false end
        local n = c:node(l)
        return n.commit >= 2 and term_at(c, l, n.commit) == n.term
      end,
      hints = { "Wait for a new row marked * (term 2 or later), then press k.",
                "If k answers \"no leader took it\", the election is not over yet: try again in a moment." },
      auto = function(c)
        c:wait(function() local l = c:leader() return l and l ~= st.old end, 5, "a new leader")
        c:start("k1")
      end,
      panel = "logs",
    },
    {
      text = "S3 is still a leader in its own eyes, in term 1. A client that can reach only S3 would give it "
        .. "commands, and S3 would take them. Try it: press :, type c:start(\"x\", 3) and Enter. (k would "
        .. "not do: it submits at the leader that can reach a majority.)\n\n"
        .. "The answer 2, 1, true means S3 put x at index 2 in term 1, as leader. In Logs, S3 sends x to S4 "
        .. "and both store it, at the index where the majority committed its own entry.",
      objective = "S3 and S4 hold x (term 1) at index 2",
      check = function(c)
        return term_at(c, st.old, 2) == 1 and (not st.partner or term_at(c, st.partner, 2) == 1)
      end,
      hints = { "Press : to open the prompt, then type  c:start(\"x\", 3)  and press Enter." },
      auto = function(c) c:start("x", st.old) end,
      select = 3,
      panel = "logs",
    },
    {
      text = "Look at the commit column in Nodes, and at ┃ in Logs: on S3 and S4 it has not moved past "
        .. "index 1, though S3 leads and both store x.",
      question = { "Why does S3's commit index stay at 1?",
        choices = { "S3 noticed it is cut off and stopped committing",
                    "x is on 2 servers of 5; committing needs 3",
                    "A leader commits only at its next heartbeat" },
        answer = 2,
        why = "S3 notices nothing: it just never gets the acknowledgements it waits for. Its client hears "
          .. "nothing back either." },
      panel = "nodes",
    },
    {
      text = "Heal the network: press h. The first message S3 gets from the other side (a heartbeat, or a "
        .. "reply refusing its own) carries the new term, newer than S3's own: S3 steps down to follower, "
        .. "and S4 follows the new leader too.\n\n"
        .. "The new leader then finds that index 2 on S3 and S4 (x, term 1) conflicts with its own entry "
        .. "there, of the new term: they delete x and take the leader's entry. An old leader coming back "
        .. "with uncommitted entries is what the 6.824 test TestRejoin3B does to your Raft.",
      objective = "S3 follows the new leader, and x is gone from S3 and S4",
      check = function(c)
        local l = c:leader()
        if not l or l == st.old or c:node(st.old).role == "leader" then return false end
        local t = term_at(c, l, 2)
        return t and t > 1 and term_at(c, st.old, 2) == t and (not st.partner or term_at(c, st.partner, 2) == t)
      end,
      hints = { "Press h: it brings every link back." },
      auto = function(c) c:heal() end,
      panel = "logs",
    },
    {
      text = "x is gone: it was never committed, so Raft was free to drop it. The hub recorded each deletion: "
        .. "press : and type c:events{ev=\"truncate\"} to see them (node, and the index they start from).",
      question = { "The client that gave x to S3 never got an answer. What should it do?",
        choices = { "Nothing: S3 accepted x, so it will be applied",
                    "Send x again, to the server that leads now",
                    "Wait: S3 will commit x once it leads again" },
        answer = 2,
        why = "Only a reply after commit means a command took effect. Without one, a client retries elsewhere, "
          .. "as the clerk of lab 4 does; the service must then notice a command that arrives twice." },
      panel = "logs",
    },
    {
      text = "Challenge: on your own, make a leader's uncommitted entries get overwritten, in at most 4 actions. "
        .. "Selecting a node is free; every other key that changes the run, and every prompt line, counts "
        .. "as one.",
      run = function(c, s) s.last = last_truncate(c) end,
      objective = "A leader's entry overwritten",
      par = 4,
      check = function(c, s)
        local e = last_truncate(c)
        return e ~= nil and not same_event(e, s.last)
      end,
      hints = { "The same four moves as before: cut the leader off with one other, give it a command, "
                .. "commit one on the majority side, heal.",
                "Select the leader, s; :c:start(\"y\", N) with N the leader's number; wait for the new "
                .. "leader and press k; then h." },
      auto = function(c)
        local l = c:wait_leader(5)
        local p = l % c:size() + 1
        local rest = {}
        for i = 1, c:size() do
          if i ~= l and i ~= p then rest[#rest + 1] = i end
        end
        c:partition({ l, p }, rest)
        c:start("y", l)
        c:wait(function() local m = c:leader() return m and m ~= l end, 5, "a new leader")
        c:start("z")
        c:heal()
      end,
      panel = "logs",
    },
    {
      text = "In short: only a side with a majority can elect a leader and commit. A leader cut off in a "
        .. "minority keeps its title and accepts commands, but commits none, and its clients wait. Once "
        .. "healed, the first message with a newer term demotes it, and its uncommitted entries give way "
        .. "to the new leader's.\n\n"
        .. "One danger is left: a stale leader that answered reads from its own state would return old "
        .. "data. So the paper (§8) has a leader exchange heartbeats with a majority before it answers a read.",
    },
  },
}
