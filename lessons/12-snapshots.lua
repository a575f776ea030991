-- 12-snapshots.lua — log compaction in the Lab 4 service: with
-- maxraftstate set, a server snapshots its table (and duplicate table)
-- when Raft's persisted state grows past it, and Raft drops the log up to
-- there; a follower left behind the leader's snapshot gets InstallSnapshot;
-- a restart loads the snapshot and replays only the log after it.

local MAX = 1000   -- maxraftstate, bytes

-- what one step leaves for a later one (reset at step 1)
local M = {}

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

-- One line per node: Raft's persisted bytes, and its snapshot.
local function sizes(c)
  local parts = {}
  for i = 1, c:size() do
    local n = c:node(i)
    if n.status == "crashed" then
      parts[#parts + 1] = string.format("n%d crashed", i)
    else
      parts[#parts + 1] = string.format("n%d %4d B, snap %d", i, n.raft_bytes, n.snapshot_index)
    end
  end
  return table.concat(parts, " | ")
end

-- The step's text with a live line of sizes under it (from a check: cheap).
local function live(c, s, text)
  set_text(s, text .. "\n\n  " .. sizes(c))
end

local function follower(c)
  local l = c:wait_leader(5)
  return l % c:size() + 1
end

-- Append the next n numbers to x.
local function append(n)
  for _ = 1, n do
    M.i = (M.i or 0) + 1
    k:append("x", M.i .. ",")
  end
end

local STEP2 = "Lab 4B adds log compaction. When Raft's saved state (term, vote, log) "
  .. "passes maxraftstate, here " .. MAX .. " bytes, the service snapshots its table "
  .. "as of the last entry it applied, and Raft drops the log up to there. Append "
  .. "until it happens (below: each server's saved bytes, and snapshot index):\n\n"
  .. "    for i = 1, 20 do k:append(\"x\", i .. \",\") end"

local STEP4 = "Crash a follower (select it, c) and go on appending (the same for "
  .. "loop; up recalls it). The others keep committing, snapshotting and "
  .. "dropping entries the crashed one never got."

local STEP7 = "Last, crash any server that is up to date, and restart it. It "
  .. "loads its snapshot, sets lastApplied to the snapshot's index, and applies "
  .. "only the entries after it, once the leader tells it how far they are "
  .. "committed."

return ts.lesson{
  title = "Snapshots and log compaction",
  summary = "maxraftstate: the log trimmed behind a snapshot; InstallSnapshot for a follower left behind; restart from snapshot + log.",
  cluster = { kind = "kv", nodes = 3, seed = 1212, maxraftstate = MAX },
  steps = {
    -- 1
    {
      text = "Raft's log grows with every command, forever, and a server that "
        .. "restarts applies all of it again. Yet most of it is dead weight: "
        .. "once an entry is applied, its effect lives in the key/value table.\n\n"
        .. "Three servers run the Lab 4 service here; k is a client. Enter on "
        .. "a node shows its log, the size of its saved state, and its snapshot.",
      run = function(c)
        M = {}
        _G.k = c:client()
        c:wait_leader(5)
      end,
      panel = "logs",
    },
    -- 2
    {
      text = STEP2,
      run = function(c, s)
        s.snaps = {}
        for i = 1, c:size() do s.snaps[i] = c:node(i).snapshots end
      end,
      objective = "Raft's state passes " .. MAX .. " bytes, then drops at a snapshot",
      check = function(c, s)
        live(c, s, STEP2)
        for i = 1, c:size() do
          local n = c:node(i)
          -- a snapshot taken since the step began (so the state passed
          -- MAX), and the state back under MAX
          if n.snapshots > s.snaps[i] and n.raft_bytes < MAX and n.snapshot_index > 0 then return true end
        end
        return false
      end,
      hints = { "Type the for loop at the prompt. About 16 appends fill 1000 bytes." },
      auto = function(c, s)
        for _ = 1, 40 do
          append(1)
          local n = c:node(c:wait_leader(5))
          if n.snapshots > s.snaps[n.id] then break end
        end
      end,
      panel = "logs",
    },
    -- 3
    {
      text = "The log now starts after the snapshot's index: the entries up to it "
        .. "are gone. (Logs, when the screen has room for it, shades them.)",
      question = { "What does the snapshot hold?",
        choices = { "The dropped log entries, compressed",
                    "The table and the duplicate table, as of one log index",
                    "Only the keys written since the last snapshot" },
        answer = 2,
        why = "The table holds the entries' effect. The duplicate table goes in too: "
          .. "else a resent request from the dropped part would be applied again." },
      panel = "logs",
    },
    -- 4
    {
      text = STEP4,
      run = function(c, s) s.f = nil end,
      objective = "A crashed follower, behind the others' snapshots",
      check = function(c, s)
        live(c, s, STEP4)
        local l = c:leader()
        if not l then return false end
        local base = c:node(l).snapshot_index
        for i = 1, c:size() do
          local n = c:node(i)
          if i ~= l and n.status == "crashed" and n.log_len < base then
            M.f = i
            return true
          end
        end
        return false
      end,
      hints = { "Select a row without *, press c; then run the for loop again, once or twice." },
      auto = function(c)
        local f = follower(c)
        c:crash(f)
        for _ = 1, 60 do
          append(1)
          local n = c:node(c:wait_leader(5))
          if n.snapshot_index > c:node(f).log_len then break end
        end
      end,
      timeout = 30,
      panel = "nodes",
    },
    -- 5
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        s.t0 = c:time()
        local l = c:wait_leader(5)
        local f = M.f or follower(c)
        M.f = f
        s.snaps = c:node(f).snapshots
        s.text = string.format("n%d's log ends at %d; the leader's snapshot covers up to %d. "
          .. "Restart n%d (select it, r). The leader has no entries left to send "
          .. "it, so it sends InstallSnapshot: its snapshot, with the index and term "
          .. "of the last entry in it. n%d replaces its table with it.",
          f, c:node(f).log_len, c:node(l).snapshot_index, f, f)
        set_text(s, s.text)
      end,
      objective = "Restart the follower: it gets the leader's snapshot",
      check = function(c, s)
        live(c, s, s.text)
        local n = c:node(M.f)
        if n.status ~= "up" or n.snapshots == s.snaps then return false end
        if s.installed == nil or s.seen ~= n.snapshots then
          s.seen = n.snapshots
          s.installed = false
          for _, e in ipairs(c:events_since(s.t0, { "snapshot" })) do
            if e.node == M.f and e.how == "installed" then s.installed = true end
          end
        end
        local l = c:leader()
        return s.installed and l ~= nil and n.applied >= c:node(l).snapshot_index
      end,
      hints = { "Select the CRASHED row and press r." },
      auto = function(c) c:restart(M.f) end,
      timeout = 10,
      panel = "nodes",
    },
    -- 6
    {
      text = "The follower may hold entries past the snapshot's last index. The "
        .. "paper (section 7) says what to do then.",
      question = { "A follower's log reaches 80. A snapshot up to 64 arrives, and its "
          .. "entry 64 has the snapshot's term. What does it keep?",
        choices = { "Nothing: the snapshot replaces its whole log",
                    "Entries 65 to 80: the snapshot covers a prefix",
                    "Entries 1 to 80: its own log is newer" },
        answer = 2,
        why = "Log matching: same index and term, same log up to there. Entries "
          .. "after it stay valid. Without that match, it drops the whole log." },
      panel = "logs",
    },
    -- 7
    {
      text = STEP7,
      run = function(c, s)
        s.t0 = c:time()
        s.inc = {}
        for i = 1, c:size() do s.inc[i] = c:node(i).incarnation end
      end,
      objective = "A restart that loads the snapshot and applies only the rest",
      check = function(c, s)
        live(c, s, STEP7)
        local l = c:leader()
        if not l then return false end
        for i = 1, c:size() do
          local n = c:node(i)
          if n.status == "up" and n.incarnation > s.inc[i] and n.applied >= c:node(l).commit then
            if s.node ~= i or s.applied ~= n.applied then
              s.node, s.applied = i, n.applied
              -- since its last restart: a loaded snapshot, then no apply at or below it
              local from, loaded, low = nil, nil, false
              for _, e in ipairs(c:events_since(s.t0, { "spawn", "snapshot", "apply" })) do
                if e.node == i then
                  if e.ev == "spawn" then from, loaded, low = e.t, nil, false
                  elseif e.ev == "snapshot" and e.how == "loaded" and from then loaded = loaded or e.index
                  elseif e.ev == "snapshot" and e.how == "installed" then loaded = nil
                  elseif e.ev == "apply" and from and (not loaded or e.index <= loaded) then low = true
                  end
                end
              end
              s.ok = loaded ~= nil and not low
              s.loaded = loaded
            end
            if s.ok then
              M.restarted, M.loaded, M.applied = i, s.loaded, n.applied
              return true
            end
          end
        end
        return false
      end,
      hints = { "Select a row (any server, once all are up to date), press c, then r." },
      auto = function(c)
        append(5)
        local f = follower(c)
        c:wait(function() return c:node(f).applied >= c:node(c:wait_leader(5)).commit end, 5, "a follower up to date")
        c:crash(f)
        c:restart(f)
      end,
      timeout = 10,
      panel = "nodes",
    },
    -- 8
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        set_text(s, string.format("n%d loaded its snapshot (up to index %d) and applied %s "
            .. "from its log.\n\n", M.restarted or 0, M.loaded or 0,
            (M.applied or 0) > (M.loaded or 0) + 1 and string.format("entries %d to %d", M.loaded + 1, M.applied)
              or (M.applied or 0) == (M.loaded or 0) + 1 and string.format("entry %d", M.applied)
              or "nothing more")
          .. "To sum up: a snapshot replaces the log up to an index with the state "
          .. "it produced, so the log stays small and restarts are quick. A "
          .. "follower too far behind gets the snapshot itself, by "
          .. "InstallSnapshot. The snapshot must hold all the service's state, "
          .. "duplicate table included.")
      end,
      panel = "logs",
    },
  },
}
