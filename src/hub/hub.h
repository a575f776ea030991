/*
 * hub.h — one cluster: the hub that owns its network and its virtual time.
 *
 * The hub listens on 127.0.0.1 (an ephemeral port), spawns the cluster's
 * node processes, and is the only way anything reaches a node.  It keeps an
 * event queue ordered by (virtual time, sequence): message deliveries, node
 * wake-ups, timers of its users.  hub_step() takes the next event; one that
 * needs a node sends it the input and leaves the hub busy until the node
 * says DONE.  So one node runs at a time and a run is a pure function of the
 * seed and the actions taken between steps.
 *
 * It also keeps the cluster mirror — what every node last reported — and
 * checks the invariants it can see (one leader per term, the same command
 * applied at each index everywhere, applies in order).
 *
 * The hub never runs user Lua and never draws; its users (the script
 * runtime, the dashboard) call it between steps and hear from it through
 * the hooks in struct hub_config.
 */
#ifndef TERMSCOPE_HUB_H
#define TERMSCOPE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../core/clerk.h"
#include "../core/kv.h"
#include "../core/lincheck.h"
#include "../core/raft.h"
#include "../wire/wire.h"
#include "evlog.h"
#include "net.h"

#define HUB_MAX_NODES RAFT_MAX_NODES
#define HUB_ERRMSG 512

/* fast: virtual time as fast as the nodes answer; paced: tied to the wall
 * clock x speed, one node at a time, deterministic; real: the wall clock,
 * every node at work at once (not deterministic: for speed, not for study) */
enum hub_pace { HUB_FAST = 0, HUB_PACED = 1, HUB_REAL = 2 };

enum hub_status {
	HUB_NODE_DOWN = 0,        /* crashed (SIGKILL) or not started */
	HUB_NODE_STARTING = 1,    /* spawned, has not said DONE yet */
	HUB_NODE_UP = 2,
	HUB_NODE_FAILED = 3,      /* could not start, or died on its own */
	HUB_NODE_EXITED = 4,      /* said BYE and left: its work is done (kind mr) */
};

struct hub;

struct hub_hooks {
	void *ud;
	/* An event finished: mirrors may have changed. */
	void (*progress)(struct hub *h, void *ud);
	/* A timer set with hub_timer fired. */
	void (*timer)(struct hub *h, uint64_t id, void *ud);
	/* A node answered hub_propose. */
	void (*proposed)(struct hub *h, uint64_t req, uint64_t index, uint64_t term, bool ok, void *ud);
	/* The hub stopped being busy, or has work again: drive it. */
	void (*kick)(struct hub *h, void *ud);
	/* A client's operation finished (hub_client_op's token). */
	void (*client_done)(struct hub *h, uint32_t client, uint64_t token,
			    const struct clerk_result *res, void *ud);
};

struct hub_config {
	const char *kind;                    /* "raft", "kv", "kvsrv" (one node), "mr" or "etcd" */
	uint32_t n;                          /* nodes, 1..HUB_MAX_NODES */
	uint64_t seed;
	enum hub_pace pace;
	double speed;                        /* paced: virtual ms per wall ms */
	const char *exe;                     /* the termscope binary to spawn */
	const char *dir;                     /* this cluster's run dir (node-N inside) */
	uint64_t heartbeat, election;        /* 0: defaults (100, 300) */
	uint64_t maxraftstate;               /* kv: snapshot at this many bytes of Raft state (0: never) */
	uint64_t snapshot_every;             /* raft: snapshot every N applied entries (0: never) */
	bool no_dedup;                       /* kv kinds: servers without a duplicate table */
	bool local_reads;                    /* kv: clients read from any replica's own state */
	uint64_t clerk_retry;                /* virtual ms a clerk waits for an answer (0: 250) */
	const char *mr_job;                  /* mr: the job file every node reads */
	const char *fsync;                   /* "always", "batch" (default) or "never" */
	struct evlog *log;
	bool quiet;                          /* nothing on stderr (a screen is up) */
	int number;                          /* which cluster of the run: tags its events */
	struct hub_hooks hooks;
};

struct hub_entry {                           /* one entry of a node's log, as reported */
	uint64_t term;
	uint32_t len;
	char *data;
};

struct hub_node {
	uint32_t id;
	enum hub_status status;
	bool paused;
	uint32_t incarnation;
	int pid;
	char why[HUB_ERRMSG];                /* FAILED: why */
	struct wire_state st;                /* last reported */
	/* mirror of the log: log[i] holds index log_base + 1 + i (entries up to
	 * log_base are in the node's snapshot) */
	struct hub_entry *log;
	uint64_t log_len, log_cap;
	uint64_t log_base;
	uint64_t snapshots;                  /* snapshots taken or installed, this run */
	struct kv_store *kv;                 /* kv kinds: mirror of the replica's table */
	/* what it applied, kept across restarts (index -> command) */
	struct hub_entry *applied;
	uint64_t applied_cap;
	uint64_t applied_max;                /* highest index applied, any incarnation */
	uint64_t applied_next;               /* next index this incarnation must apply */
	/* scheduling */
	uint64_t wake_at;                    /* RAFT_NO_DEADLINE: none */
	uint64_t wake_seq;
	/* internals */
	struct hub_conn *conn;
	struct hub_proc *proc;
	uint64_t msgs_in, msgs_out, dropped_to;
};

/* A message in flight, for the dashboard and for drops. */
struct hub_msg {
	uint64_t id;
	uint32_t from, to;
	uint8_t type;                        /* enum raft_msg_type */
	uint64_t sent_at, deliver_at;
	bool dup;                            /* a duplicate the network made */
	uint32_t len;
	uint8_t *bytes;                      /* the encoded raft message */
	struct hub_msg *prev, *next;         /* the in-flight list */
};

/* Create and start a cluster: listen, spawn every node at virtual time 0.
 * Returns NULL with err filled on failure. */
struct hub *hub_new(uv_loop_t *loop, const struct hub_config *cfg, char *err, size_t errlen);
/* Kill every node (SIGKILL), close everything; the memory goes once libuv
 * has closed the handles.  Safe to call twice. */
void hub_stop(struct hub *h);
bool hub_stopped(const struct hub *h);

enum hub_step_result {
	HUB_STEP_DID,        /* an event was handled; call again */
	HUB_STEP_BUSY,       /* waiting for a node */
	HUB_STEP_WAIT,       /* paced: nothing due yet (see hub_wall_wait) */
	HUB_STEP_PAUSED,     /* paced and time is frozen */
	HUB_STEP_EMPTY,      /* no events at all */
};
enum hub_step_result hub_step(struct hub *h);
bool hub_busy(const struct hub *h);
/* Run the next event even though time is frozen (the dashboard's single
 * step); the frozen clock then stands at that event's time. */
enum hub_step_result hub_step_one(struct hub *h);
/* Paced: the virtual time the wall clock has reached (what a person sees
 * as "now"); fast: hub_now. */
uint64_t hub_clock(struct hub *h);
/* The time of the next pending event; false if there is none. */
bool hub_next_time(struct hub *h, uint64_t *t);
/* Paced: true when every event the wall clock allows has run. */
bool hub_caught_up(struct hub *h);
/* Paced: wall milliseconds until the next event is due. */
uint64_t hub_wall_wait(struct hub *h);

/* Time. */
uint64_t hub_now(const struct hub *h);
void hub_set_pace(struct hub *h, enum hub_pace pace, double speed);
void hub_freeze(struct hub *h, bool frozen);   /* paced: stop/start the clock */
bool hub_frozen(const struct hub *h);
/* Paced: bring `now` up to the wall clock, before a person's action (scripts
 * act at the virtual instant they woke at, so they replay in any pace). */
void hub_sync_clock(struct hub *h);

/* Timers for the hub's users: fire hooks.timer(id) at virtual time `at`. */
uint64_t hub_timer(struct hub *h, uint64_t at);

/* Faults.  Each returns 0, or -1 with hub_errmsg() saying why. */
int hub_crash(struct hub *h, uint32_t id);
int hub_restart(struct hub *h, uint32_t id);
int hub_pause(struct hub *h, uint32_t id);
int hub_resume(struct hub *h, uint32_t id);
int hub_partition(struct hub *h, const uint32_t *group_of);   /* group_of[1..n]; 0: isolated */
int hub_isolate(struct hub *h, uint32_t id);
int hub_connect(struct hub *h, uint32_t id);
int hub_cut(struct hub *h, uint32_t from, uint32_t to);
int hub_heal(struct hub *h);
int hub_set_net(struct hub *h, const struct net_params *p);
int hub_timeout_now(struct hub *h, uint32_t id);
int hub_align_timers(struct hub *h);
const char *hub_errmsg(const struct hub *h);

/* An in-flight message, by id (the first copy if duplicated), or NULL. */
const struct hub_msg *hub_msg_find(const struct hub *h, uint64_t id);
/* Message control: deliver it now, drop it, or make the network send a
 * second copy.  Each returns 0, or -1 with hub_errmsg(). */
int hub_msg_deliver_now(struct hub *h, uint64_t id);
int hub_msg_drop(struct hub *h, uint64_t id);
int hub_msg_dup(struct hub *h, uint64_t id);
double hub_speed(const struct hub *h);
enum hub_pace hub_pace_of(const struct hub *h);

/* Submit a command at node id, like Start() on that peer.  The answer comes
 * through hooks.proposed(req, ...) once the node has taken it. */
int hub_propose(struct hub *h, uint32_t id, const void *data, uint32_t len, uint64_t req);

/* The mirror. */
uint32_t hub_size(const struct hub *h);
const struct hub_node *hub_node(const struct hub *h, uint32_t id);
/* The leader of the highest term among running nodes that can reach a
 * majority; 0 if none. */
uint32_t hub_leader(const struct hub *h);
/* Node id runs and can reach a majority (itself included) both ways. */
bool hub_quorum(const struct hub *h, uint32_t id);
bool hub_can_reach(const struct hub *h, uint32_t from, uint32_t to);
const struct net_model *hub_net(const struct hub *h);
/* The messages in flight, oldest sent first: for (m = hub_inflight(h); m;
 * m = hub_inflight_next(h, m)). */
const struct hub_msg *hub_inflight(const struct hub *h);
const struct hub_msg *hub_inflight_next(const struct hub *h, const struct hub_msg *m);
uint64_t hub_rpc_count(const struct hub *h);
uint64_t hub_rpc_bytes(const struct hub *h);
uint64_t hub_drop_count(const struct hub *h);
uint64_t hub_link_drops(const struct hub *h, uint32_t from, uint32_t to);
int hub_port(const struct hub *h);
int hub_number(const struct hub *h);
const char *hub_dir(const struct hub *h);
uint64_t hub_seed(const struct hub *h);
/* The first invariant violation seen, or NULL. */
const char *hub_violation(const struct hub *h);
/* How many nodes applied index, and the command (NULL if none did). */
uint32_t hub_committed(const struct hub *h, uint64_t index, const struct hub_entry **cmd);

/* The last index in a node's mirrored log, and the entry at an index (NULL
 * if compacted into the snapshot or beyond the log). */
uint64_t hub_last_index(const struct hub_node *n);
const struct hub_entry *hub_entry_at(const struct hub_node *n, uint64_t index);
const char *hub_kind(const struct hub *h);
const char *hub_fsync(const struct hub *h);   /* the cluster's fsync policy */
/* A log entry in words: the command as text for kind raft, the request
 * ("append k \"v\" c2#7") for the key/value kinds.  Like snprintf. */
size_t hub_describe_entry(const struct hub *h, const struct hub_entry *e, char *buf, size_t len);
uint64_t hub_client_msgs(const struct hub *h);

/*
 * Key/value clients.  A client is a clerk (src/core/clerk) that lives in the
 * controller and talks to the servers through the network like any node:
 * its messages can be lost, delayed and cut.  `reach` confines it (bit i:
 * it may talk to node i; 0: all).  Clients are numbered 1, 2, ...; client k
 * is endpoint WIRE_CLIENT_BASE + k.  Each returns 0/k, or -1 with
 * hub_errmsg().
 */
struct hub_client_config {
	uint32_t reach;
	int reads;                           /* -1: the cluster's mode; 0: through the log; 1: local */
};
int hub_client_new(struct hub *h, const struct hub_client_config *cfg);
int hub_client_set_reach(struct hub *h, uint32_t k, uint32_t reach);
/* Start an operation (client idle); the result comes through
 * hooks.client_done(k, token).  Strings are copied. */
int hub_client_op(struct hub *h, uint32_t k, const struct kv_request *req, uint64_t token);
uint32_t hub_clients(const struct hub *h);
struct hub_client_view {
	uint32_t reach;
	bool local_reads;
	bool busy;
	uint64_t since;                      /* busy: call time of the operation in flight */
	uint64_t done, started;
	uint32_t leader;                     /* who it tries first */
};
int hub_client_view(const struct hub *h, uint32_t k, struct hub_client_view *v);
/* True when client k may exchange messages with node id right now. */
bool hub_client_can_reach(const struct hub *h, uint32_t k, uint32_t id);

/* The history of every client operation: call and return in thousandths of
 * a virtual ms (history->units_per_ms), so that their order within one
 * millisecond is kept. */
const struct lincheck_history *hub_history(const struct hub *h);
struct hub_op_extra {
	uint32_t attempts, server;
	enum kv_err err;
	bool local;
};
void hub_history_extra(const struct hub *h, size_t i, struct hub_op_extra *x);
/* Check the history; explanation text into buf.  The verdict (enum
 * lincheck_status), or -1 when memory ran out. */
int hub_check_linearizable(struct hub *h, uint64_t budget, char *buf, size_t len,
			   struct lincheck_result *out);
/* Write the history as JSON lines to path: 0, or -1 with hub_errmsg(). */
int hub_history_export(struct hub *h, const char *path);

/*
 * MapReduce (kind mr): node 1 is the coordinator, nodes 2.. the workers.
 * The board, as the coordinator and the workers last reported it.
 */
struct hub_mr_task {
	uint8_t type;                        /* enum mr_task_type */
	uint32_t id;
	uint8_t state;                       /* enum mr_task_state */
	uint32_t worker;
	uint64_t started, finished;          /* virtual ms */
	uint32_t runs;
	uint64_t bytes;                      /* written by the run that finished it (its MrDone says) */
	uint64_t reported;                   /* bytes in the latest MrDone sent for it */
};
struct hub_mr_worker {
	uint8_t state;                       /* enum wire_mr_worker_state */
	uint8_t type;                        /* of the task it is in */
	uint32_t task;
	uint64_t since;
	uint64_t bytes_in, bytes_out;
	uint64_t tasks_done;                 /* tasks it ran to the end (reported), this run */
};
struct hub_mr {
	bool have;                           /* the coordinator has reported */
	uint8_t phase;                       /* enum mr_phase */
	uint32_t n_map, n_reduce;
	struct hub_mr_task *tasks;           /* n_map maps, then n_reduce reduces */
	struct hub_mr_worker workers[HUB_MAX_NODES + 1];
	uint64_t intermediate_bytes, output_bytes;   /* written by the runs that finished tasks */
};
const struct hub_mr *hub_mr(const struct hub *h);

/*
 * etcd (kind etcd): real etcd members whose peer and client traffic runs
 * through the hub's proxy ports.  The ports members advertise (what
 * etcdctl --endpoints takes), etcd's id of a member (0 until polled), and
 * the bytes the proxy carried from -> to (0: outside clients).
 */
bool hub_etcd_available(void);
int hub_etcd_client_port(const struct hub *h, uint32_t id);
int hub_etcd_peer_port(const struct hub *h, uint32_t id);
uint64_t hub_etcd_member_id(const struct hub *h, uint32_t id);
uint64_t hub_etcd_bytes(const struct hub *h, uint32_t from, uint32_t to);

/* Test surface for the wire: open a raw TCP connection to the hub's own
 * port from inside the controller, write bytes, and report through cb the
 * reason the hub gave when it closed that connection. */
typedef void (*hub_probe_cb)(struct hub *h, const char *why, void *ud);
int hub_probe(struct hub *h, const void *bytes, size_t len, hub_probe_cb cb, void *ud);

#endif
