-- 01-tour.lua — the first lesson: the dashboard, its keys, and what a node,
-- a term and a log are; why systems are distributed at all.
return ts.lesson{
  title = "A tour of a Raft cluster",
  summary = "What you are looking at: five servers, their terms and logs, and the keys that break them.",
  cluster = { kind = "raft", nodes = 5, seed = 101 },
  steps = {
    {
      text = "Welcome. Each row in Nodes is a server: a real process on this machine, with its own files on disk. "
        .. "They talk only through the network, which termscope controls: it can delay, lose or cut any message.\n\n"
        .. "Why spread a service over several machines at all? For parallelism (more work than one machine can do), "
        .. "fault tolerance (keep going when a machine dies), physical distribution (data and users are far apart) "
        .. "and isolation (keep parts apart for security). This course is about the second: five servers that "
        .. "act as one, correctly, while some of them fail. Press n to go on.",
      panel = "nodes",
    },
    {
      text = "These five run Raft. At any moment each is a follower, a candidate or the LEADER (marked with *). "
        .. "Time is divided into terms, numbered 1, 2, 3...; each term starts with an election and has at most one "
        .. "leader. A follower that hears nothing from a leader for a while (the bar filling up) becomes a candidate "
        .. "and asks the others for their votes.",
      objective = "Select the leader: press its number",
      check = function(c) return c:leader() ~= nil and ts._lesson.selected == c:leader() end,
      hints = { "The leader's row says LEADER and its id has a * in front of it.",
                "Press the digit of that row, for example 3 if node 3 leads." },
      auto = function(c) ts._lesson.selected = c:wait_leader(5) end,
      panel = "nodes",
    },
    {
      text = "Clients send commands to the leader. The leader appends each to its log, replicates it to the "
        .. "followers, and once a majority (3 of 5) hold it, the entry is committed and every server applies it, "
        .. "in log order. In Logs each cell is one entry, showing the term it was created in; the bar marks how far "
        .. "each server knows the log is committed.",
      objective = "Send a client request with k, and see it committed on all five servers",
      check = function(c) return c:committed(1) == 5 end,
      hints = { "Press k: it submits a command (k1) at the leader." },
      auto = function(c) c:wait_leader(5) c:start("k1") end,
      panel = "logs",
    },
    {
      text = "The bottom of the screen shows events as they happen: elections, votes, appends, commits. The "
        .. "Network panel (on wide screens beside the nodes) shows every message in flight. Both come from the hub, "
        .. "the part of termscope every message passes through.",
      question = { "A server's term went from 3 to 4. What does that tell you?",
        choices = { "It received a command from a client",
                    "A new election started (it timed out, or heard from someone in a newer term)",
                    "Its log grew by one entry" },
        answer = 2,
        why = "Terms only move forward, and only when an election starts or a server learns of a newer term." },
      panel = "events",
    },
    {
      text = "Servers fail. Pick a follower (a row without *) and crash it with c: the process is killed outright, "
        .. "but what it wrote to disk stays. The others carry on: four out of five is still a majority.",
      objective = "Crash a follower",
      check = function(c)
        for i = 1, c:size() do
          local n = c:node(i)
          if n.status == "crashed" and c:leader() ~= i then return true end
        end
        return false
      end,
      hints = { "Select a node that is not the leader (press its number), then press c." },
      auto = function(c)
        local l = c:wait_leader(5)
        c:crash(l % c:size() + 1)
      end,
    },
    {
      text = "Now bring it back with r. A new process starts, reads its term, vote and log from disk, and rejoins "
        .. "as a follower; the leader sends it whatever it missed.",
      objective = "Restart the crashed server and let it catch up",
      check = function(c)
        for i = 1, c:size() do
          local n = c:node(i)
          if n.incarnation > 1 and n.up and n.applied >= 1 then return true end
        end
        return false
      end,
      hints = { "Select the CRASHED row and press r." },
      auto = function(c)
        for i = 1, c:size() do
          if c:node(i).status == "crashed" then c:restart(i) end
        end
      end,
    },
    {
      text = "Challenge: make the cluster elect a different leader, in a newer term, using at most one action. "
        .. "(Selecting a node is free; an action is anything that changes the run, like c, p or k.)",
      run = function(c, s)
        local l = c:wait_leader(5)
        s.old, s.term = l, c:node(l).term
      end,
      objective = "A new leader, in a newer term",
      par = 1,
      check = function(c, s)
        local l = c:leader()
        return l ~= nil and l ~= s.old and c:node(l).term > s.term
      end,
      hints = { "What happens when the leader stops sending heartbeats?",
                "Crash the leader (select it, press c), or cut it off with p." },
      auto = function(c, s) c:crash(s.old) end,
    },
    {
      text = "That is the whole cast: servers, terms, logs, a leader, and faults you cause on purpose. Next, "
        .. "lesson 2 looks closely at how an election works and how it can fail. (L opens the lesson menu.)",
    },
  },
}
