-- 09-versions-locks.lua — two clients incrementing one counter with
-- get-then-put lose updates, though every single operation is
-- linearizable; a versioned put (compare-and-set on the key's version)
-- fixes it; on a lossy network a retried put can only say ErrMaybe; and a
-- lock built on versioned put (ts.lock, lua/kvlock.lua), as in 6.824 Lab 2.
--
-- The server keeps no duplicate table (dedup = false), like Lab 2's: the
-- version is what keeps a resent put from being applied twice.

-- The helpers the learner calls at the prompt (globals, so the prompt sees
-- them).  Kept short: the lesson text shows what they do.
local function define(c)
  _G.k1 = c:client()
  _G.k2 = c:client()
  -- n = n + 1, the naive way: read, then write
  function _G.incr(k)
    local v = k:get("n")
    k:put("n", (tonumber(v) or 0) + 1)
  end
  -- n = n + 1 with a versioned put: again until no one wrote in between
  function _G.vincr(k)
    repeat
      local v, version = k:get("n")
      local ok = k:put("n", (tonumber(v) or 0) + 1, version)
    until ok
  end
  -- the naive increment, inside the lock of lua/kvlock.lua
  function _G.lincr(k)
    local lk = ts.lock(k, "lock", "k" .. k.id)
    lk:acquire()
    incr(k)
    lk:release()
  end
  -- f(k1) and f(k2), n times each, the two clients at the same time
  function _G.both(n, f)
    local t = ts.go(function() for _ = 1, n do f(k2) end end)
    for _ = 1, n do f(k1) end
    t:wait()
  end
end

local function now(c) return math.floor(c:time() * 1000) end

-- what one step leaves for a later one (reset at step 1)
local M = {}

-- n on the server, as a number
local function n_of(c)
  local e = c:table(1).n
  return e and tonumber(e.value) or 0
end

-- Since time t: the writes to n that returned, by kind ("put", or "vput"
-- with its error), and the last get of n that began after all of them.
local function tally(c, t)
  local h = c:history()
  local w = { put = 0, vput = 0, ErrVersion = 0, ErrMaybe = 0, last = 0, lock = {} }
  for _, o in ipairs(h) do
    if o.call >= t and o.ret then
      if o.key == "n" and o.op == "put" then
        w.put = w.put + 1
        w.last = math.max(w.last, o.ret)
      elseif o.key == "n" and o.op == "vput" then
        if o.err == "OK" then w.vput = w.vput + 1 end
        if w[o.err] then w[o.err] = w[o.err] + 1 end
        w.last = math.max(w.last, o.ret)
      elseif o.key == "lock" and o.op == "vput" then
        w.lock[o.client] = true
      end
    end
  end
  for i = #h, 1, -1 do
    local o = h[i]
    if o.op == "get" and o.key == "n" and o.ret and o.call >= t and o.call >= w.last then
      w.read = tonumber(o.out) or 0
      break
    end
  end
  return w
end

local function set_text(s, text)
  if ts._lesson.view and ts._lesson.step == s then ts._lesson.view.text = text end
end

return ts.lesson{
  title = "Races, versions and a lock",
  summary = "Lost updates from get-then-put; versioned put; ErrMaybe on a lossy network; a lock built on versions.",
  cluster = { kind = "kvsrv", nodes = 1, seed = 909, dedup = false },
  steps = {
    -- 1
    {
      text = "Two clients, k1 and k2, share a counter: key n. The lesson has defined "
        .. "incr(k), which adds 1 to n the obvious way:\n\n"
        .. "    local v = k:get(\"n\")\n"
        .. "    k:put(\"n\", (tonumber(v) or 0) + 1)\n\n"
        .. "and both(20, incr), which runs incr 20 times on each client, the two "
        .. "clients at the same time. 40 increments in all.",
      run = function(c)
        M = {}
        define(c)
      end,
    },
    -- 2
    {
      text = "Run it, then read n:\n\n"
        .. "    both(20, incr)\n"
        .. "    k1:get(\"n\")\n\n"
        .. "Each get and each put is applied by the server one at a time, whole. "
        .. "Does n reach 40?",
      run = function(c, s)
        s.t0 = now(c)
        s.base = n_of(c)
      end,
      panel = "kv",
      objective = "Read n after concurrent increments: updates were lost",
      check = function(c, s)
        local w = tally(c, s.t0)
        return w.read ~= nil and w.put > 0 and w.read - s.base < w.put
      end,
      hints = { "Press :, type both(20, incr) and Enter; when it returns, : k1:get(\"n\")." },
      auto = function()
        both(20, incr)
        k1:get("n")
      end,
    },
    -- 3
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local ok = c:check_linearizable()
        local e = c:table(1).n or { value = "0", version = 0 }
        set_text(s, string.format("n is %s at version %d: every put landed, yet increments are "
          .. "gone. Say k1 read 7, then k2 read 7 too: both put 8.\n\nThe checker on this "
          .. "history: %s", e.value, e.version, ok and "linearizable." or "not linearizable."))
      end,
      question = { "So is this key/value service linearizable?",
        choices = { "No: it lost updates",
                    "Yes: each get and put took effect at one instant",
                    "Only with a single client" },
        answer = 2,
        why = "Linearizability is about single operations. An increment here is two of "
          .. "them, and another client's put can fall in between." },
    },
    -- 4
    {
      text = "Lab 2's answer is a versioned put. The server keeps a version per key, "
        .. "1 more at each write; get returns it. put(key, value, version) writes "
        .. "only if the key is still at that version; otherwise it fails with "
        .. "ErrVersion (ErrNoKey: no such key, version > 0). A compare-and-set.\n\n"
        .. "vincr(k) reads n and its version, puts n+1 at that version, and on "
        .. "failure starts again:\n\n"
        .. "    repeat local v, ver = k:get(\"n\")\n"
        .. "    until k:put(\"n\", (tonumber(v) or 0) + 1, ver)",
    },
    -- 5
    {
      text = "Now run both(20, vincr) and read n again. Every increment should land: "
        .. "a put that lost the race fails, and vincr tries again.",
      run = function(c, s)
        s.t0 = now(c)
        s.base = n_of(c)
        M.t5 = s.t0
      end,
      panel = "kv",
      objective = "40 versioned increments, some retried after ErrVersion: none lost",
      check = function(c, s)
        local w = tally(c, s.t0)
        return w.read ~= nil and w.vput >= 40 and w.ErrVersion > 0 and w.read - s.base == w.vput
      end,
      hints = { "Type both(20, vincr) at the prompt, then k1:get(\"n\")." },
      auto = function()
        both(20, vincr)
        k1:get("n")
      end,
    },
    -- 6
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local w = tally(c, M.t5 or 0)
        set_text(s, string.format("%d puts landed and n grew by as many. %d puts failed with "
          .. "ErrVersion and vincr read n again.", w.vput, w.ErrVersion))
      end,
      question = { "k1 and k2 both read n = 5 at version 5 and both put 6 at version 5. "
          .. "What happens?",
        choices = { "Both succeed: n is 6, version 7",
                    "The first to arrive succeeds; the other gets ErrVersion",
                    "Both fail: the versions conflict" },
        answer = 2,
        why = "The server applies one request at a time. The first put moves n to "
          .. "version 6; the second still names 5, so it fails." },
    },
    -- 7
    {
      text = "This server has no duplicate table (nor has Lab 2's). Make the network "
        .. "lossy,  c:net(\"unreliable\")  and run  both(10, vincr)  again.\n\n"
        .. "If a put's reply is lost, the clerk resends it. If the first copy was "
        .. "applied, the resent one finds the version moved: ErrVersion. The clerk "
        .. "cannot tell that from losing the race, so it says ErrMaybe.",
      run = function(c, s)
        s.t0 = now(c)
        s.base = n_of(c)
        M.t7 = s.t0
        M.b7 = s.base
      end,
      panel = "kv",
      objective = "On the lossy network, a versioned put that returns ErrMaybe",
      check = function(c, s) return tally(c, s.t0).ErrMaybe > 0 end,
      hints = { "Type c:net(\"unreliable\"), then both(10, vincr). Losses are random: run it again if need be." },
      auto = function(c, s)
        c:net("unreliable")
        for _ = 1, 5 do
          both(10, vincr)
          if tally(c, s.t0).ErrMaybe > 0 then break end
        end
      end,
      timeout = 60,
    },
    -- 8
    {
      text = "(the lesson fills this in)",
      run = function(c, s)
        local t0 = M.t7 or 0
        local w = tally(c, t0)
        local calls = 0
        for _, o in ipairs(c:history()) do
          if o.call >= t0 and o.ret and o.key == "n" and o.op == "vput" and o.err ~= "ErrVersion" then
            calls = calls + 1
          end
        end
        local grew = n_of(c) - (M.b7 or 0)
        set_text(s, string.format("%d put%s said ErrMaybe. vincr treats that as a failure and "
          .. "tries again: if the put had happened, n counts one increment twice. Here n "
          .. "grew by %d for %d increments%s.", w.ErrMaybe, w.ErrMaybe == 1 and "" or "s",
          grew, calls - w.ErrMaybe, grew > calls - w.ErrMaybe and ": too many" or ""))
      end,
      question = { "k1 puts 8 at version 7: ErrMaybe. A get shows 8 at version 8. Did "
          .. "k1's put happen?",
        choices = { "Yes: n holds the value k1 wrote",
                    "Not necessarily: k2 may have read 7 and put 8 too",
                    "No: ErrMaybe means it was not applied" },
        answer = 2,
        why = "Two writers can write the same value. Only a value no one else "
          .. "writes, like the writer's own id, tells you who wrote it." },
    },
    -- 9
    {
      text = "That is how Lab 2's lock works. The lock is a key: \"\" when free, the "
        .. "holder's id when held. To acquire: get it; if free at version v, put "
        .. "your id at v. Of two clients that saw it free, one put wins. After "
        .. "ErrMaybe, get it again: your id there means you hold it. To release: "
        .. "put \"\" back.\n\n"
        .. "ts.lock(k, key) is that lock (lua/kvlock.lua). lincr(k) runs incr "
        .. "inside it. On the lossy network, run  both(10, lincr)  and read n.",
      run = function(c, s)
        s.t0 = now(c)
        s.base = n_of(c)
      end,
      panel = "kv",
      objective = "20 increments under the lock, on the lossy network: none lost",
      check = function(c, s)
        local w = tally(c, s.t0)
        return w.read ~= nil and w.put >= 20 and w.lock[1] and w.lock[2] and w.read - s.base == w.put
      end,
      hints = { "Type both(10, lincr), then k1:get(\"n\"). It takes a while: each "
                  .. "increment is several calls, and some are lost." },
      auto = function(c)
        c:net("unreliable")
        both(10, lincr)
        k1:get("n")
      end,
      timeout = 120,
    },
    -- 10
    {
      text = "To sum up. Each operation of a linearizable service is atomic; a "
        .. "sequence of them is not. A versioned put (compare-and-set) makes a "
        .. "read-modify-write safe: it fails if anyone wrote in between. Without a "
        .. "duplicate table, a resent put cannot tell its own success from a lost "
        .. "race: ErrMaybe. A value that names its writer settles it, and that "
        .. "makes a lock.\n\n"
        .. "Next, lesson 10: five replicas, and what a partition does to reads.",
    },
  },
}
