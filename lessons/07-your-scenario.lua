-- 07-your-scenario.lua — the Lua behind every key: the : prompt, scenario
-- files run headless as tests, recording with S, and, as the challenge,
-- the 6.824 Rejoin situation played by hand and checked on the live cluster.

-- the prompt lines typed since the step began (they are recorded)
local function typed(s, pattern)
  local acts = ts._dash and ts._dash.actions or {}
  for k = (s.typed0 or 0) + 1, #acts do
    if acts[k].code:find(pattern) then return true end
  end
  return false
end

local function mark(s)
  s.typed0 = ts._dash and #ts._dash.actions or 0
end

local function hand(code)
  return ts._dash.hand(code, true)
end

-- The scenario the closing step shows (and writes out for the learner).
local REJOIN = [[
local c = ts.cluster{ kind = "raft", nodes = 5 }
local old = c:wait_leader(5)
c:isolate(old)
c:start("lost", old)
c:wait(function() local l = c:leader()
  return l and l ~= old end, 5, "a new leader")
local i = c:start("kept")
c:wait_committed(i, 4, 5)
c:connect(old)
c:wait_committed(i, 5, 5)
assert(#c:events{ ev = "truncate", node = old } > 0,
  "the old leader kept its entry")
]]

return ts.lesson{
  title = "Your own scenario",
  summary = "The Lua behind every key: the prompt, scenario files that are tests, and the lab's Rejoin test by hand.",
  cluster = { kind = "raft", nodes = 5, seed = 707 },
  steps = {
    -- 1
    {
      text = "Every key you have pressed so far was a line of Lua. With node 3 selected, c runs c:crash(3), r "
        .. "c:restart(3), z c:pause(3), p c:isolate(3); h is c:heal(), k is c:start(\"k1\") (then \"k2\"...). Each line "
        .. "runs at the virtual instant you pressed the key and is recorded (the status bar counts "
        .. "them).\n\n"
        .. "The : key opens a prompt that takes any such line, with the whole API: the same one a "
        .. "scenario file uses. c is the cluster on screen. Up and down recall earlier lines, Tab "
        .. "completes a name, and the result appears on the bottom line.",
    },
    -- 2
    {
      text = "Ask the cluster a question. Press :, type  c:leader()  and Enter: the bottom line shows the "
        .. "leader's id (nil while there is none).\n\n"
        .. "Then try  c:node(1) : a table with what node 1 last reported (role, term, voted_for, commit, "
        .. "applied, log_len, status...), the same facts as its row. c:node(1).term is one field; "
        .. "c:node(1).log is its log, one {term=, data=} per entry.",
      run = function(c, s) mark(s) end,
      objective = "At the : prompt, ask who the leader is",
      check = function(c, s) return typed(s, "leader%s*%(") end,
      hints = { "Press : (colon). A prompt opens at the bottom. Type c:leader() and press Enter." },
      auto = function(c) c:wait_leader(5) hand("c:leader()") end,
      panel = "nodes",
    },
    -- 3
    {
      text = "c:start(cmd) submits a command at the leader. c:start(cmd, i) submits it at node i "
        .. "whatever its role, like calling Start() on one peer in the lab: it answers at once with "
        .. "index, term and whether it is the leader.\n\n"
        .. "Try it on a follower, for example  c:start(\"x\", 2)  if 2 has no *.",
      run = function(c, s) mark(s) end,
      question = { "What does c:start(\"x\", i) return when node i is a follower?",
        choices = { "An error: followers refuse commands",
                    "0, a term, false: no log got the command",
                    "The leader's index for it: followers forward it" },
        answer = 2,
        why = "Here, as in the lab, a peer that is not the leader says so and adds nothing to any log. "
          .. "Finding the leader and trying again is the client's job (in the lab, the clerk's)." },
      panel = "logs",
    },
    -- 4
    {
      text = "A line can wait. c:wait_committed(i, n, t) returns once n nodes have applied index i, and "
        .. "fails after t virtual seconds. Submit a command and wait for all five, in one line:\n\n"
        .. "    local i = c:start(\"hello\") return c:wait_committed(i, 5, 5)\n\n"
        .. "While it waits the cluster runs on; when all five have applied index i, \"hello\" appears "
        .. "on the bottom line. c:wait(fn, t, \"what\") waits for any condition the same way, and "
        .. "c:sleep(s) lets s virtual seconds pass.",
      run = function(c, s) mark(s) end,
      objective = "In one prompt line, submit a command and wait for all five",
      check = function(c, s) return typed(s, "wait_committed") end,
      hints = { "Press : and type the line exactly as shown (Tab completes c:wait_committed).",
                "If it fails, look for a row with * (a leader) and try the line again (up recalls it)." },
      auto = function(c)
        c:wait_leader(5)
        hand('local i = c:start("hello") return c:wait_committed(i, 5, 5)')
      end,
      panel = "logs",
    },
    -- 5
    {
      text = "A scenario is the same Lua in a file that starts its own cluster:\n\n"
        .. "    local c = ts.cluster{ kind = \"raft\", nodes = 5 }\n"
        .. "    local l = c:wait_leader(5)\n"
        .. "    c:crash(l)\n"
        .. "    assert(c:wait_leader(5) ~= l)\n\n"
        .. "termscope run FILE.lua --headless --seed 7 runs it with no screen, as fast as the nodes "
        .. "answer; the same seed gives the same run, event for event. A failed assert, or a wait that "
        .. "times out, stops it with FILE:LINE and exit code 1: a scenario is a test. Add --events "
        .. "ev.jsonl to keep every event as a line of JSON, and termscope check ev.jsonl verifies the "
        .. "invariants over it: one leader per term, one command per index everywhere.",
    },
    -- 6
    {
      text = "On the plain dashboard (termscope with no lesson: Esc closes the menu), S saves what you "
        .. "did, keys and prompt lines with their virtual times, as such a file; termscope run FILE "
        .. "--seed N replays your run exactly. Inside a lesson S is off: the lesson's own moves are "
        .. "not in the recording, so it would not replay.",
      question = { "A scenario runs headless and reaches  c:wait(function() return c:leader() end, 5, "
        .. "\"a leader\")  while no majority can talk. What happens?",
        choices = { "It waits for ever: no leader, no progress",
                    "After 5 virtual s: FILE:LINE and the description, exit 1",
                    "c:wait returns nil and the script goes on" },
        answer = 2,
        why = "Every wait has a timeout in virtual seconds, and headless, 5 virtual seconds of failed "
          .. "elections take a fraction of a real one. The run ends with \"timed out after 5 s waiting for "
          .. "a leader\", the line, and exit code 1, and every node process is gone: usable as a test." },
    },
    -- 7
    {
      text = "Challenge: the lab's Rejoin test, by hand. Cut the leader off. Give it a command it can "
        .. "never commit: c:start(cmd, id) submits at a node whatever the others think. Let the other "
        .. "four elect a new leader and commit a command of their own. Then reconnect the old leader: "
        .. "its uncommitted entry must be thrown away and replaced by the new leader's.\n\n"
        .. "At most 5 actions. Every key that acts and every prompt line counts, even one that only "
        .. "looks; selecting a node and reading rows are free. (Over par? R starts the step again.)",
      run = function(c, s)
        mark(s)
        s.was = {}
        local l = c:wait_leader(5)
        s.was[l] = true
      end,
      objective = "The old leader's entry is replaced; all five agree on that index",
      par = 5,
      check = function(c, s)
        local n = c:size()
        local sum = 0
        for i = 1, n do
          local nd = c:node(i)
          if nd.role == "leader" then s.was[i] = true end
          if nd.status ~= "up" then return false end
          sum = sum + nd.applied
        end
        if sum == s.sum then return false end -- nothing new applied: nothing new to find
        s.sum = sum
        for _, e in ipairs(c:events_since(s.started, { "truncate" })) do
          if s.was[e.node] then
            local data, ok = nil, true
            for i = 1, n do
              local nd = c:node(i)
              local entry = nd.applied >= e.from and nd.log[e.from]
              if not entry or (data and entry.data ~= data) then ok = false break end
              data = entry.data
            end
            if ok then return true end
          end
        end
        return false
      end,
      hints = { "Select the * node and press p. Then : c:start(\"lost\", N) with N that node's id.",
                "Wait for a new * among the others, press k, then select the old leader and press p again.",
                "Or in one line: local o = c:leader() c:isolate(o) c:start(\"lost\", o) "
                  .. "c:wait(function() local l = c:leader() return l and l ~= o end, 5) "
                  .. "c:start(\"kept\") c:sleep(0.5) c:connect(o)" },
      auto = function(c)
        local old = c:wait_leader(5)
        c:isolate(old)
        c:start("lost", old)
        c:wait(function() local l = c:leader() return l ~= nil and l ~= old end, 5, "a new leader")
        local i = c:start("kept")
        c:wait_committed(i, 4, 5)
        c:connect(old)
      end,
      panel = "logs",
    },
    -- 8
    {
      text = "Here is the same test as a scenario: waits where you watched the screen, and an assert "
        .. "that makes it a test.\n\n"
        .. REJOIN:gsub("\n$", ""):gsub("([^\n]+)", "  %1")
        .. "\n\n",
      run = function()
        if ts._lesson.autopilot or not ts._lesson.view then return end
        local path = (os.getenv("TMPDIR") or "/tmp") .. "/termscope-rejoin.lua"
        local f = io.open(path, "w")
        if not f then return end
        f:write("-- The Rejoin test of lesson 7.  Run it with:\n--   termscope run " .. path
          .. " --headless --seed 7 --events ev.jsonl && termscope check ev.jsonl\n", REJOIN)
        f:close()
        ts._lesson.view.text = ts._lesson.view.text .. "The lesson saved it as " .. path .. ". After the "
          .. "lesson: termscope run " .. path .. " --headless --seed 7"
      end,
    },
    -- 9
    {
      text = "That is the course's method: a cluster you can break at will, a clock you control, and any "
        .. "run you can describe in a few lines of Lua becomes a test that replays exactly. Try your own: "
        .. "a crash in the middle of a partition, a leader paused while it replicates, the unreliable "
        .. "network of the lab (c:net(\"unreliable\")). When one fails, the seed and the events file "
        .. "tell you exactly what happened.",
    },
  },
}
