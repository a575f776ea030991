-- churn.lua — the body of the 6.824 churn tests (3c_reliable_churn.lua,
-- 3c_unreliable_churn.lua): five servers, three concurrent clients, 20
-- rounds of random cuts, crashes and restarts, then a repair and the checks.
-- require("lib.churn")(unreliable) runs it.
return function(UNRELIABLE)
  local ELECTION_TIMEOUT = 1.0
  local N = 5
  local NCLIENTS = 3
  local c = ts.cluster{ kind = "raft", nodes = N }
  local function rand_cmd() return tostring(math.random(0, 0x7fffffff)) end

  if UNRELIABLE then c:net("unreliable") end

  -- which servers are running (6.824: rafts[i] ~= nil)
  local alive = {}
  for i = 1, N do alive[i] = true end
  local function crash1(i) c:isolate(i) c:crash(i) alive[i] = false end
  local function start1(i) c:isolate(i) c:restart(i) alive[i] = true end


  -- A client: offers a fresh command to every running server; if one took
  -- it as leader, watches that index for a while and records the command if
  -- it was applied there.  Returns what it saw applied.
  local stop = false
  local function client(me)
    local ret = {}
    while not stop do
      local x = rand_cmd()
      local index, ok = -1, false
      for i = 1, N do
        if alive[i] then
          local index1, _, ok1 = c:start(x, i)
          if ok1 then
            ok = true
            index = index1
          end
        end
      end
      if ok then
        -- poll with growing pauses; whatever some server applied there
        -- decides whether x made it
        for _, to in ipairs{ 10, 20, 50, 100, 200 } do
          local nd, cmd = c:committed(index)
          if nd > 0 then
            if cmd == x then ret[#ret + 1] = x end
            break
          end
          c:sleep(to / 1000)
        end
      else
        c:sleep((79 + me * 17) / 1000)  -- no leader: try again a bit later
      end
    end
    return ret
  end

  local clients = {}
  for i = 1, NCLIENTS do clients[i] = ts.go(client, i - 1) end

  for _ = 1, 20 do
    if math.random(0, 999) < 200 then
      c:isolate(math.random(N))
    end

    if math.random(0, 999) < 500 then
      local i = math.random(N)
      if not alive[i] then start1(i) end
      c:connect(i)
    end

    if math.random(0, 999) < 200 then
      local i = math.random(N)
      if alive[i] then crash1(i) end
    end

    -- 0.7 election timeouts: often enough to change leaders, but not so
    -- often that nothing gets done
    c:sleep(ELECTION_TIMEOUT * 7 / 10)
  end

  c:sleep(ELECTION_TIMEOUT)
  c:net("reliable")
  for i = 1, N do
    if not alive[i] then start1(i) end
    c:connect(i)
  end

  stop = true

  local values = {}
  for i = 1, NCLIENTS do
    local vv = clients[i]:wait(30, c)
    assert(#vv > 0, string.format("client %d got no command applied", i))
    for _, v in ipairs(vv) do values[#values + 1] = v end
  end

  c:sleep(ELECTION_TIMEOUT)

  local last_index = c:one(rand_cmd(), N, true)

  local really = {}
  for index = 1, last_index do
    really[c:wait_applied(index, N)] = true
  end

  for _, v in ipairs(values) do
    assert(really[v], string.format("command %s was seen applied but is not in the log", v))
  end
end
