---@meta
-- termscope.d.lua — LuaLS annotations of the scripting API, for editors.
-- Not loaded at run time.  Point your Lua language server at this folder
-- (e.g. "Lua.workspace.library": ["<termscope>/lua"]) to get completion.

---@class ts
ts = {}

---@class ts.ClusterOptions
---@field kind? "raft"|"kv"|"kvsrv"|"mr"|"etcd" # a replicated log; the KV service on Raft; one KV server; MapReduce; real etcd members
---@field nodes? integer  # 1-9, default 5 (kvsrv: 1)
---@field maxraftstate? integer # kv: snapshot when the persisted Raft state reaches this many bytes
---@field snapshot? integer     # raft: snapshot every this many applied entries (the 3D tests use 10)
---@field dedup? boolean        # kv kinds: servers keep a duplicate table (default true)
---@field reads? "log"|"local"  # kv: gets through the log (linearizable) or from any replica's state
---@field retry? integer        # kv kinds: ms a clerk waits for an answer before trying another server
---@field workers? integer      # mr: workers (1-8, default 3); node 1 is the coordinator
---@field app? string           # mr: a built-in app (wc, indexer, mtiming, rtiming, jobcount, early_exit, crash, nocrash) or a .lua file
---@field inputs? string|string[] # mr: input files (glob patterns); one map task each
---@field reduces? integer      # mr: reduce tasks (default 10)
---@field timeout? number       # mr: virtual seconds before a task is handed to another worker (default 10)
---@field rate? integer         # mr: bytes a worker reads per virtual second (a task's modelled duration)
---@field split? integer        # mr: cut bigger input files at line ends into parts of about this many bytes
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
---@field snapshot_term integer
---@field raft_bytes integer     # persisted Raft state (meta + log), 6.824's RaftStateSize
---@field snapshot_bytes integer
---@field snapshots integer      # snapshots taken or installed this run
---@field kv_keys integer        # kv kinds: keys held
---@field dup_bytes integer      # kv kinds: memory of the duplicate table
---@field incarnation integer
---@field pid integer
---@field endpoint? string    # kind etcd: "127.0.0.1:PORT", its client endpoint through the hub
---@field peer_port? integer  # kind etcd: the peer port it advertises (the hub's)
---@field member_id? string   # kind etcd: etcd's id of the member, hex
---@field election_deadline? integer # virtual ms
---@field next_index? integer[]      # on a leader
---@field match_index? integer[]     # on a leader
---@field msgs_in integer
---@field msgs_out integer
---@field log ts.LogEntry[]  # indexed by log index; entries in the snapshot are absent

---@class ts.ClientOptions
---@field reach? integer[]    # the nodes it may talk to (default: all; c:heal() restores all)
---@field reads? "log"|"local"

---@class ts.ClientView
---@field id integer
---@field reach integer[]
---@field reads "log"|"local"
---@field busy boolean
---@field since? number       # busy: virtual seconds at the call
---@field done integer
---@field started integer
---@field leader integer      # the server it tries first

---@class ts.Op
---@field client integer
---@field op "get"|"put"|"append"|"vput"|"del"|"incr"
---@field key string
---@field value? string
---@field version? integer    # vput: the expected version
---@field call integer        # virtual ms
---@field ret? integer        # virtual ms; nil while it has not returned
---@field err? string         # "OK", "ErrNoKey", "ErrVersion", "ErrMaybe", "ErrNotInteger"
---@field out? string         # get: the value read; incr: the new value
---@field out_version? integer
---@field attempts? integer
---@field server? integer     # who answered
---@field local boolean

---A clerk of a kv or kvsrv cluster.  Every call waits for the answer.
---@class ts.Client
---@field id integer
local Client = {}
---@param key string
---@return string value
---@return integer version   # "" and 0 for a missing key
function Client:get(key) end
---Unconditional put (returns true), or conditional at `version`.
---@param key string
---@param value string
---@param version? integer
---@return boolean ok
---@return? "ErrVersion"|"ErrNoKey"|"ErrMaybe" err
function Client:put(key, value, version) end
---@param key string
---@param value string
---@return boolean
function Client:append(key, value) end
---Remove the key (through the log): true if it was there.
---@param key string
---@return boolean removed
function Client:del(key) end
---The value as a 64-bit integer (missing: 0) plus one, through the log.
---@param key string
---@return integer|nil value     # the new value
---@return? "ErrNotInteger" err  # the value is not an integer's decimal text, or is the largest
function Client:incr(key) end
---@param nodes? integer[]
function Client:reach(nodes) end
---@return ts.ClientView
function Client:view() end

---A lock built only on versioned put and get (lua/kvlock.lua).
---@param client ts.Client
---@param key string
---@param id? string
---@return table lock  # :acquire(), :release()
function ts.lock(client, key, id) end

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

---@class ts.RespOptions
---@field reach? integer[]|"all"  # confine the gateway's clerks to these nodes ("all": free them)
---@field timeout? number         # seconds a request may wait for an answer (default 5)

---@class ts.RespState
---@field port integer
---@field timeout number
---@field reach? integer[]        # nil: all nodes
---@field cluster? integer        # the cluster served (its number), nil: none
---@field connections integer
---@field clerks integer          # clients of the cluster made for connections
---@field commands integer
---@field ops integer             # requests sent to the cluster
---@field timeouts integer

---Is etcd installed (kind "etcd" possible)?
---@return boolean
function ts.have_etcd() end

---The RESP gateway (termscope --resp PORT): settings and state; nil without one.
---@param opts? ts.RespOptions
---@return ts.RespState|nil
function ts.resp(opts) end

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
---@param opts? ts.ClientOptions
---@return ts.Client
function Cluster:client(opts) end
---@return ts.ClientView[]
function Cluster:clients() end
---Check the clients' history; `text` explains a failure (the operations that cannot be ordered).
---@param budget? integer  # search steps before answering "unknown"
---@return boolean ok
---@return string text
---@return "ok"|"illegal"|"unknown"|"error" verdict
function Cluster:check_linearizable(budget) end
---@return ts.Op[]
function Cluster:history() end
---Write the history as JSON lines.
---@param path string
function Cluster:export_history(path) end
---Node i's table as it last reported it.
---@param i integer
---@return table<string, {value: string, version: integer}>
function Cluster:table(i) end
---@return "raft"|"kv"|"kvsrv"|"mr"|"etcd"
function Cluster:kind() end
---The dashboard shows this cluster, and `c` at the prompt is it (several clusters in one run).
---@return ts.Cluster
function Cluster:show() end
---@return integer  # which cluster of the run: 1, 2, ...
function Cluster:number() end
---Kind etcd: the members' client endpoints through the hub, comma-separated (etcdctl --endpoints).
---@return string
function Cluster:endpoints() end
---@return integer  # client <-> server messages so far
function Cluster:client_msgs() end

---@class ts.MrTask
---@field type "map"|"reduce"
---@field id integer
---@field state "idle"|"in progress"|"done"
---@field worker? integer
---@field started? number    # virtual seconds
---@field finished? number
---@field runs integer       # times handed out (more than 1: re-executed)

---@class ts.MrWorker
---@field id integer
---@field status string      # "up", "crashed", "exited", "paused", ...
---@field state string       # "asking", "mapping", "reducing", "waiting", or the status
---@field task_type? "map"|"reduce"
---@field task? integer
---@field since? number
---@field bytes_in? integer
---@field bytes_out? integer
---@field done integer       # tasks it finished

---@class ts.MrJob
---@field phase "starting"|"map"|"reduce"|"done"
---@field maps integer
---@field reduces integer
---@field intermediate_bytes integer
---@field output_bytes integer
---@field dir string         # where mr-X-Y and mr-out-Y are

---@return ts.MrTask[]
function Cluster:tasks() end
---@return ts.MrWorker[]
function Cluster:workers() end
---@return ts.MrJob
function Cluster:job() end
---Every line of every mr-out-* file, sorted.
---@return string[]
function Cluster:output() end
---Wait until the job is done and the coordinator has left.
---@param timeout? number
---@return ts.MrJob
function Cluster:wait_done(timeout) end
