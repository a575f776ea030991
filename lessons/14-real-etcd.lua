-- 14-real-etcd.lua — the real thing: the same partition on termscope's
-- Raft and on etcd's, side by side.  Three termscope servers (the lesson's
-- cluster) and three etcd members (started beside them, when etcd is
-- installed), their traffic through the hub.  termscope's cut-off leader
-- goes on believing it leads; etcd's notices it lost its majority and steps
-- down (CheckQuorum), then campaigns with ever higher terms, and on the heal
-- that higher term deposes the healthy leader (no pre-vote in etcd 3.4).

-- what one step leaves for a later one (reset at step 1)
local M = {}

local HAVE = ts.have_etcd()

-- The leader etcd's members name, once a majority follows it.
local function etcd_leader() return M.e and M.e:leader() end

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

local steps = {
  -- 1
  {
    text = "etcd is the key/value store underneath Kubernetes, kept consistent "
      .. "by its own Raft: not ours, a production implementation. "
      .. (HAVE and ("Beside this three-server termscope cluster run three etcd "
        .. "members: real etcd processes, started by termscope, whose traffic "
        .. "to each other and from clients goes through ports the hub owns. So "
        .. "the same keys crash, pause and cut them off. Ten times a second the "
        .. "hub reads each member's Raft state (role, term, vote, commit) from "
        .. "its status page.\n\nw switches the screen between the two clusters; "
        .. "you are looking at termscope's.")
      or ("etcd is not installed here, so this lesson shows termscope's side "
        .. "and tells what etcd does (Debian: apt-get install etcd-server, then "
        .. "run the lesson again to see it live).")),
    run = function(c)
      M = {}
      c:wait_leader(5)
      if HAVE then
        -- side by side means on one clock: etcd keeps the wall's, so
        -- termscope follows it too (even on autopilot or a replay)
        c:_pace("paced", 1)
        M.e = ts.cluster{ kind = "etcd", nodes = 3 }
        M.e:wait_leader(20)
        c:show()
      end
    end,
    panel = "nodes",
  },
  -- 2
  {
    text = "Cut termscope's leader off: select its row (marked *) and press p. "
      .. "The other two stop hearing heartbeats; after an election timeout one "
      .. "of them becomes a candidate, wins both votes, and leads in the next term.",
    run = function(c, s)
      c:show()                     -- termscope's on screen, whatever w did
      s.old = c:wait_leader(5)
      M.t_old = s.old
    end,
    objective = "Isolate termscope's leader; the other two elect a new one",
    check = function(c, s)
      local l = c:leader()
      return c:node(s.old).up and l ~= nil and l ~= s.old
    end,
    hints = { "Press the number of the row marked *, then p." },
    auto = function(c, s) c:isolate(s.old) end,
    panel = "nodes",
  },
  -- 3
  {
    text = "(the lesson fills this in)",
    run = function(c, s)
      local o = c:node(M.t_old)
      set_text(s, string.format("n%d, cut off, still says LEADER, in term %d; n%d leads the "
        .. "others in term %d.", M.t_old, o.term, c:leader() or 0, c:node(c:leader() or M.t_old).term))
    end,
    question = { "Why does the cut-off server still call itself leader?",
      choices = { "It can still commit entries on its own",
                  "Nothing tells it otherwise: cut off, it never sees the higher term",
                  "Raft allows two leaders in one term" },
      answer = 2,
      why = "A Raft leader steps down when it sees a higher term, and cut off it "
        .. "sees none. It may append to its log but can commit nothing, so no "
        .. "client gets an answer from it. Our Raft, like the 6.824 lab's, has no "
        .. "rule that makes a leader notice it lost its majority." },
    panel = "nodes",
  },
  -- 4
  {
    text = "Heal the network: h. The new leader's next heartbeat carries its "
      .. "higher term; the old leader becomes a follower and its uncommitted "
      .. "entries, if any, give way to the new leader's log.",
    run = function(c) c:show() end,
    objective = "Heal; the old leader follows the new one",
    check = function(c)
      local l = c:leader()
      local o = c:node(M.t_old)
      return l ~= nil and l ~= M.t_old and o.role == "follower" and o.term == c:node(l).term
    end,
    hints = { "Press h." },
    auto = function(c) c:heal() end,
    panel = "nodes",
  },
}

if HAVE then
  local etcd_steps = {
    -- 5
    {
      text = "Now the same on etcd. Press w to show it, select the row marked *, "
        .. "and press p. The hub stalls every byte to and from that member.",
      run = function(c, s) s.old = M.e:wait_leader(20) M.e_old = s.old end,
      objective = "Isolate etcd's leader; the other two elect a new one",
      check = function(c, s)
        local l = etcd_leader()
        return M.e:node(s.old).up and l ~= nil and l ~= s.old
      end,
      hints = { "Press w until the status line says etcd, then the number of the row marked *, then p." },
      auto = function(c, s)
        M.e:show()
        M.e:isolate(s.old)
        M.e:wait(function() local l = etcd_leader() return l and l ~= s.old end, 20, "a new etcd leader")
      end,
      panel = "nodes",
    },
    -- 6
    {
      text = "Watch the member you cut off. Unlike ours, an etcd leader counts the "
        .. "followers it heard from during each election timeout and steps down "
        .. "when they are not a majority (CheckQuorum: Raft thesis, section 6.2). "
        .. "Then, hearing from no leader, it campaigns, again and again, one term "
        .. "higher each time: etcd 3.4 skips the pre-vote phase unless asked.",
      objective = "The cut-off member steps down and campaigns, its term above the leader's",
      check = function(c)
        local o, l = M.e:node(M.e_old), etcd_leader()
        return o.role ~= "leader" and l ~= nil and o.term > M.e:node(l).term
      end,
      auto = function(c)
        M.e:wait(function()
          local o, l = M.e:node(M.e_old), etcd_leader()
          return o.role ~= "leader" and l ~= nil and o.term > M.e:node(l).term
        end, 30, "the cut-off etcd member to campaign past the leader's term")
      end,
      timeout = 60,
      panel = "nodes",
    },
    -- 7
    {
      text = "Heal: h. The member comes back with its higher term.",
      run = function(c, s)
        local l = etcd_leader()
        s.term = l and M.e:node(l).term or 0
      end,
      objective = "Heal; a leader again, in a term above the one before",
      check = function(c, s)
        local l = etcd_leader()
        if not l or M.e:node(l).term <= s.term then return false end
        for i = 1, M.e:size() do
          if M.e:node(i).term ~= M.e:node(l).term then return false end
        end
        return true
      end,
      hints = { "Press h (with etcd on screen)." },
      auto = function(c, s)
        M.e:heal()
        M.e:wait(function()
          local l = etcd_leader()
          return l ~= nil and M.e:node(l).term > s.term
        end, 30, "an etcd leader in a higher term")
      end,
      timeout = 60,
      question = { "The healthy leader lost its office when the member came back. Why?",
        choices = { "The returning member had newer entries",
                    "Its term was higher, and any server that sees a higher term becomes a follower",
                    "etcd always holds an election after a partition heals" },
        answer = 2,
        why = "Its log was behind, so it could not win the vote, but its term was "
          .. "higher, and that alone deposes a leader. Pre-vote (thesis, section "
          .. "9.6) stops it: a candidate first asks whether it could win, without "
          .. "raising its term. etcd 3.5 turns it on by default." },
      panel = "nodes",
    },
  }
  for _, st in ipairs(etcd_steps) do steps[#steps + 1] = st end
else
  steps[#steps + 1] = {
    text = "What etcd does with the same partition, which you would see here with "
      .. "etcd installed: its cut-off leader steps down by itself after about an "
      .. "election timeout, because an etcd leader counts the followers it heard "
      .. "from and gives up without a majority (CheckQuorum, Raft thesis section "
      .. "6.2). Then it campaigns, one term higher each time, and on the heal its "
      .. "higher term deposes the healthy leader: etcd 3.4 skips the pre-vote "
      .. "phase (section 9.6) unless --pre-vote is set; etcd 3.5 sets it.",
    panel = "nodes",
  }
end

steps[#steps + 1] = {
  text = "Both are Raft, and both kept one leader per term: the hub checked it "
    .. "on etcd's reports as on ours. They differ in what Raft leaves to the "
    .. "implementer: when a leader should give up, and whether a lone server may "
    .. "raise its term.\n\n"
    .. (HAVE and "The etcd members stay up while the lesson is open, and "
      .. "etcdctl reaches them through the hub: with etcd on screen (w), type "
      .. "c:endpoints() at the prompt (:) for its --endpoints."
      or "With etcd installed, termscope --kind etcd opens the dashboard on three "
        .. "etcd members, and termscope --kind etcd --headless --resp 6380 puts "
        .. "them behind the Redis-protocol gateway."),
  panel = "nodes",
}

return ts.lesson{
  title = "The real thing: etcd",
  summary = "The same partition on termscope and on etcd: CheckQuorum, pre-vote, and what Raft leaves open.",
  cluster = { kind = "raft", nodes = 3, seed = 1414 },
  steps = steps,
}
