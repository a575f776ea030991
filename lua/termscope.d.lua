---@meta
-- termscope.d.lua — LuaLS annotations of the scripting API, for editors.
-- Not loaded at run time.  Point your Lua language server at this folder
-- (e.g. "Lua.workspace.library": ["<termscope>/lua"]) to get completion.

---@class ts
ts = {}

---@class ts.ClusterOptions
---@field kind? "raft"    # the kind of node (more kinds come with later versions)
---@field nodes? integer  # 1-9, default 5
---@field seed? integer   # default: the run's --seed
---@field heartbeat? integer # ms between a leader's heartbeats, default 100
---@field election? integer  # ms: election timeouts are uniform in [election, 2*election), default 300

---@class ts.LogEntry
---@field term integer
---@field data string

---@class ts.Node
---@field id integer
---@field status "up"|"paused"|"crashed"|"failed"|"down"|"starting"
---@field up boolean
---@field paused boolean
---@field quorum boolean   # running and able to reach a majority, itself included
---@field why? string         # why it failed
---@field role "follower"|"candidate"|"leader"
---@field term integer
---@field voted_for? integer
---@field leader? integer     # who it believes leads
---@field commit integer
---@field applied integer
---@field log_len integer
---@field snapshot_index integer
---@field incarnation integer
---@field pid integer
---@field election_deadline? integer # virtual ms
---@field next_index? integer[]      # on a leader
---@field match_index? integer[]     # on a leader
---@field msgs_in integer
---@field msgs_out integer
---@field log ts.LogEntry[]

---@class ts.NetOptions
---@field unreliable? boolean  # start from the 6.824 lab network
---@field drop? number         # probability a message is lost
---@field delay? integer[]     # {min_ms, max_ms}
---@field dup? number          # probability a message arrives twice
---@field reorder? boolean     # 2 in 3 replies held 200-2200 ms
---@field long_delays? boolean # 1 in 10 messages held up to 7 s

---@class ts.Cluster
local Cluster = {}

---Start a cluster; returns once every node has started.
---@param opts? ts.ClusterOptions
---@return ts.Cluster
function ts.cluster(opts) end

---Run fn concurrently as another task.
---@param fn function
---@return ts.Task
function ts.go(fn, ...) end

---The run's seed.
---@return integer
function ts.seed() end

---Wall-clock milliseconds (for benchmarks; nothing decided from it replays).
---@return number
function ts.wall() end

---@class ts.Task
local Task = {}
---@return boolean
function Task:done() end
---The task's results, or its error raised again.
---@param timeout? number virtual seconds
---@param cluster? ts.Cluster whose clock the timeout uses
function Task:wait(timeout, cluster) end

---@param timeout? number
---@return integer leader
function Cluster:wait_leader(timeout) end
---The leader of the highest term among running nodes that can reach a majority.
---@return integer?
function Cluster:leader() end
---@param id integer
---@return ts.Node
function Cluster:node(id) end
---@return ts.Node[]
function Cluster:nodes() end
---@return integer
function Cluster:size() end
---@param id integer
function Cluster:crash(id) end
---@param id integer
function Cluster:restart(id) end
---@param id integer
function Cluster:pause(id) end
---@param id integer
function Cluster:resume(id) end
---@param ... integer[] groups of node ids
function Cluster:partition(...) end
---@param id integer
function Cluster:isolate(id) end
---@param id integer
function Cluster:connect(id) end
---@param from integer
---@param to integer
function Cluster:cut(from, to) end
function Cluster:heal() end
---@param opts ts.NetOptions|"unreliable"|"reliable"
function Cluster:net(opts) end
---@param id integer
function Cluster:timeout_now(id) end
function Cluster:align_timers() end
---@param seconds number
function Cluster:sleep(seconds) end
---@param t number virtual seconds on the cluster's clock
function Cluster:sleep_until(t) end
---Freeze time and run the next instant.
---@return boolean anything_left
function Cluster:step() end
---@class ts.Message
---@field id integer
---@field from integer
---@field to integer
---@field type string
---@field sent integer  # virtual ms
---@field due integer   # virtual ms
---@field dup boolean
---@return ts.Message[]
function Cluster:inflight() end
---@param id integer
function Cluster:deliver(id) end
---@param id integer
function Cluster:drop(id) end
---@param id integer
function Cluster:dup(id) end
---@param fn fun(): any
---@param timeout? number
---@param description? string
---@return any
function Cluster:wait(fn, timeout, description) end
---@return number seconds
function Cluster:time() end
---@param cmd string
---@param node? integer
---@return integer index, integer term, boolean ok
function Cluster:start(cmd, node) end
---@param index integer
---@return integer count, string? data
function Cluster:committed(index) end
---@param index integer
---@param n? integer
---@param timeout? number
---@return string data
function Cluster:wait_committed(index, n, timeout) end
---@param cmd string
---@param n? integer
---@param retry? boolean
---@return integer index
function Cluster:one(cmd, n, retry) end
---The 6.824 tester's wait(): nil if a node moved past start_term.
---@param index integer
---@param n integer
---@param start_term? integer
---@return string? data
function Cluster:wait_applied(index, n, start_term) end
---@return integer leader
function Cluster:check_one_leader() end
---@return integer term
function Cluster:check_terms() end
function Cluster:check_no_leader() end
---@return integer
function Cluster:rpc_count() end
---@return integer
function Cluster:rpc_bytes() end
---@return integer
function Cluster:drop_count() end
---@param filter? table
---@return table[]
function Cluster:events(filter) end
---@param t number virtual seconds
---@param kinds? string[]
---@return table[]
function Cluster:events_since(t, kinds) end
---@param id integer
---@return string
function Cluster:dir(id) end
---@param bytes string
---@return string why
function Cluster:probe(bytes) end
---@return integer
function Cluster:port() end
---@return integer
function Cluster:seed() end
---@return string?
function Cluster:violation() end
function Cluster:stop() end
