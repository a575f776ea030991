-- kvlock.lua — a lock built only on a key/value service's versioned put
-- and get: 6.824 Lab 2's lock.
--
-- The lock is one key.  Its value is the id of the client holding it, or ""
-- (or no key at all) when it is free.  Every put names the version it
-- expects, so of two clients that both saw the lock free at version v only
-- one put can succeed: the other gets ErrVersion and tries again.
--
-- The one subtle case is ErrMaybe: the clerk retried a put whose reply was
-- lost, and the retry found the version already moved.  Maybe our first
-- attempt did it, maybe someone else's put did.  We cannot tell from the
-- reply, so we read the key: if it holds our id, the lock is ours.
--
--   local lk = ts.lock(k, "l")   -- k: a client of a kv or kvsrv cluster
--   lk:acquire()
--   ... critical section ...
--   lk:release()

---@class ts.Lock
---@field client ts.Client  # the clerk it uses
---@field key string        # the key that holds the lock
---@field id string         # what this lock writes there while it holds it
local Lock = {}
Lock.__index = Lock

--- ts.lock(client, key [, id]): a lock stored at `key`, used through
--- `client`.  `id` names this holder (default: unique per lock object).
---@param client ts.Client
---@param key string
---@param id? string
---@return ts.Lock
function ts.lock(client, key, id)
  id = id or string.format("%s#%08x", tostring(client.id), math.random(0, 0x7fffffff))
  return setmetatable({ client = client, key = key, id = id }, Lock)
end

--- lk:acquire(): wait until this lock is ours.
function Lock:acquire()
  while true do
    local holder, version = self.client:get(self.key)
    if holder == self.id then return end          -- an ErrMaybe put did happen
    if holder == "" then
      -- free at `version`: claim it, unless someone else claims it first
      local ok = self.client:put(self.key, self.id, version)
      if ok then return end
      -- ErrVersion: someone else won; ErrMaybe: the get above will tell
    else
      self.client.cluster:sleep(0.01)             -- held: look again shortly
    end
  end
end

--- lk:release(): free the lock (an error if this lock does not hold it).
function Lock:release()
  local holder, version = self.client:get(self.key)
  if holder ~= self.id then
    error(string.format("release: lock %q is held by %q, not by %q", self.key, holder, self.id), 2)
  end
  -- Only the holder writes the key, so ErrMaybe here means our put happened
  -- (and someone may already have taken the lock after it).
  local ok, err = self.client:put(self.key, "", version)
  if not ok and err ~= "ErrMaybe" then
    error(string.format("release: put of lock %q failed: %s", self.key, err), 2)
  end
end

function Lock:__tostring()
  return string.format("lock %q (%s)", self.key, self.id)
end
