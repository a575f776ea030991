/*
 * hub_int.h — the hub's insides, shared by hub.c (router, clock, supervisor,
 * mirror) and hub_kv.c (key/value clients and their history).  Nothing
 * outside src/hub includes it; hub__ names are internal, as libuv's uv__.
 */
#ifndef TERMSCOPE_HUB_INT_H
#define TERMSCOPE_HUB_INT_H

#include <jansson.h>

#include "../core/clerk.h"
#include "../core/lincheck.h"
#include "hub.h"

#define WATCHDOG_MS 30000        /* wall ms a node may take to answer one input */
#define HELLO_MS 10000           /* wall ms a new connection has to say HELLO */

enum hev_kind { HEV_WAKE, HEV_DELIVER, HEV_TIMER, HEV_INPUT, HEV_CLIENT };

struct hub_input {                       /* a lever or a proposal for one node */
	enum wire_type type;
	uint64_t req, arg;
	uint32_t len;
	uint8_t *data;
};

struct hev {
	uint64_t t, seq;
	enum hev_kind kind;
	uint32_t node;
	uint64_t aux;                        /* WAKE: wake_seq; TIMER: id; CLIENT: wake_seq */
	struct hub_msg *msg;                 /* DELIVER */
	struct hub_input *in;                /* INPUT */
};

struct hub_conn {
	uv_tcp_t tcp;
	struct hub *hub;
	struct wire_reader rd;
	uint32_t node;                       /* 0 until HELLO */
	uint32_t incarnation;
	bool closing;
	uint64_t opened;                     /* wall ms */
	struct hub_conn *next;
};

struct hub_proc {
	uv_process_t proc;
	struct hub *hub;
	uint32_t node, incarnation;
	bool killed;                         /* by us: a crash, not a failure */
	bool exited;
};

struct probe {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	uv_shutdown_t shutdown;
	struct hub *hub;
	uint8_t *bytes;
	size_t len;
	hub_probe_cb cb;
	void *ud;
	bool reported;
};

struct hub {
	uv_loop_t *loop;
	struct hub_config cfg;
	char kind[16];
	char *exe, *dir;
	char *mr_job;                        /* kind mr: the job file */
	char fsync[8];                       /* always, batch, never */
	uv_tcp_t server;
	uv_timer_t watchdog;
	int port;
	int handles;                         /* open libuv handles; freed at 0 */
	bool stopping;
	bool started;                        /* every node has come up once */
	uint8_t token[WIRE_TOKEN_LEN];
	char token_hex[2 * WIRE_TOKEN_LEN + 1];
	struct rng rng;                      /* the network's randomness */
	struct net_model net;
	struct hub_node nodes[HUB_MAX_NODES + 1];
	struct hub_conn *conns;
	/* time */
	uint64_t now, seq;
	enum hub_pace pace;
	double speed;
	bool frozen;
	uint64_t base_virt, base_wall;
	/* events */
	struct hev *heap;
	size_t n_heap, cap_heap;
	uint64_t next_timer, next_msg_id;
	/* a node at work */
	uint32_t busy;
	uint64_t busy_since;
	/* held events of paused nodes */
	struct hev *held;
	size_t n_held, cap_held;
	/* messages */
	struct hub_msg inflight;             /* list head */
	uint64_t rpc_count, rpc_bytes, drops;
	uint64_t link_drops[HUB_MAX_NODES + 1][HUB_MAX_NODES + 1];
	/* invariants */
	uint32_t *leader_of_term;
	uint64_t n_terms;
	struct hub_entry *applied;           /* first command applied at each index, by anyone */
	uint64_t applied_cap;
	char violation[HUB_ERRMSG];
	/* probes */
	char last_reject[256];
	struct probe *probe;
	char errmsg[HUB_ERRMSG];
	struct raft_entry *scratch;
	size_t scratch_cap;
	/* key/value clients (hub_kv.c) */
	struct hub_client *clients;          /* clients[k - 1] is client k */
	uint32_t n_clients, cap_clients;
	struct lincheck_history history;
	struct hub_opinfo *opinfo;           /* beside history.ops */
	size_t cap_opinfo;
	uint64_t client_msgs;
	uint64_t op_ms, op_sub;              /* op_time(): the ms and the order within it */
	struct hub_mr mr;                    /* kind mr (hub_mr.c) */
	struct hub_etcd *etcd;               /* kind etcd (hub_etcd.c) */
	/* real pace: every node works on its own; inputs go to it at once,
	 * one after the other on its connection (it may take several in one
	 * read and make them durable with one fsync: group commit) */
	struct node_q {
		uint32_t outstanding;        /* inputs given, DONE not yet heard */
		uint64_t since;              /* wall ms the oldest of them was given */
	} rq[HUB_MAX_NODES + 1];
};


/* One key/value client: a clerk (src/core/clerk) living in the controller,
 * an endpoint of the network like a node. */
struct hub_client {
	struct clerk clerk;
	uint32_t reach;                      /* bit i: may exchange messages with node i */
	bool local_reads;
	uint64_t wake_seq;                   /* stale-timer check, as for nodes */
	uint64_t token;                      /* the user's tag of the operation in flight */
	size_t op;                           /* its place in the history */
	uint64_t done, started;              /* operations completed / started */
	struct etcd_clerk *etcd;             /* kind etcd: its clerk (hub_etcd.c) */
};

struct hub_opinfo {                          /* what lincheck_op does not hold */
	uint32_t attempts, server;
	enum kv_err err;
	bool local;
};

static inline void ev_int(json_t *o, const char *k, int64_t v)
{
	json_object_set_new(o, k, json_integer(v));
}

static inline void ev_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}


void hub__emit(struct hub *h, json_t *ev);
json_t *hub__ev_new(struct hub *h, const char *name);
void hub__violation(struct hub *h, const char *fmt, ...);
void hub__set_err(struct hub *h, const char *fmt, ...);
void hub__kick(struct hub *h);
void hub__progress(struct hub *h);
int hub__heap_push(struct hub *h, struct hev e);
void hub__record_drop(struct hub *h, uint64_t id, uint32_t from, uint32_t to, const char *why);
struct hub_msg *hub__msg_launch(struct hub *h, uint64_t id, uint32_t from, uint32_t to, uint8_t type,
				const uint8_t *bytes, uint32_t len, uint64_t deliver_at, bool dup);
void hub__send(struct hub *h, uint64_t id, uint32_t from, uint32_t to, uint8_t type, bool is_reply,
	       const uint8_t *bytes, uint32_t len);
void hub__msg_unlink(struct hub_msg *m);
void hub__msg_free(struct hub_msg *m);

/* hub_kv.c */
/* Why a message between a client and a node cannot travel now, or NULL. */
const char *hub__client_blocked(const struct hub *h, uint32_t from, uint32_t to);
/* A node sent a key/value reply (already checked): route it. */
void hub__route_kv(struct hub *h, const uint8_t *bytes, uint32_t len, uint8_t type,
		   uint32_t from, uint32_t to);
/* A message reached a client. */
void hub__client_deliver(struct hub *h, struct hub_msg *m);
/* A client's retry timer. */
void hub__client_wake(struct hub *h, uint32_t k);
bool hub__client_stale(const struct hub *h, const struct hev *e);
/* Heal: every client may reach every node again. */
void hub__clients_reach_all(struct hub *h);
/* The mirror of a node's table. */
int hub__kv_set(struct hub *h, struct hub_node *n, const uint8_t *key, uint32_t klen,
		const uint8_t *value, uint32_t vlen, uint64_t version);
void hub__kv_reset(struct hub_node *n);
void hub__kv_free(struct hub *h);

/* Finish client k's operation with this result: history, event, hook. */
void hub__client_finish(struct hub *h, uint32_t k, const struct clerk_result *res);

/* hub.c, for the kinds whose processes are not our nodes */
/* Start process `file` (found on PATH) as node id: stderr to the run dir,
 * exit watched.  0, or -1 with hub_errmsg(). */
int hub__spawn_process(struct hub *h, uint32_t id, const char *file, char **args);
/* What an outside node (an etcd member) reports: the first report brings it
 * up; role, term and commit changes become events. */
void hub__external_state(struct hub *h, uint32_t id, const struct wire_state *s);
void hub__maybe_free(struct hub *h);

/* hub_etcd.c */
int hub__etcd_new(struct hub *h, char *err, size_t errlen);
void hub__etcd_start(struct hub *h);
int hub__etcd_spawn(struct hub *h, uint32_t id);
void hub__etcd_down(struct hub *h, uint32_t id);
bool hub__etcd_retry_start(struct hub *h, uint32_t id);
void hub__etcd_net(struct hub *h);
int hub__etcd_check_op(struct hub *h, const struct kv_request *req);
int hub__etcd_op(struct hub *h, uint32_t k, const struct kv_request *req, bool local);
void hub__etcd_client_wake(struct hub *h, uint32_t k);
bool hub__etcd_client_busy(const struct hub *h, uint32_t k);
uint32_t hub__etcd_client_leader(const struct hub *h, uint32_t k);
void hub__etcd_client_free(struct etcd_clerk *ec);
void hub__etcd_stop(struct hub *h);
void hub__etcd_free(struct hub *h);

/* hub_mr.c */
void hub__route_mr(struct hub *h, const uint8_t *bytes, uint32_t len, const struct wire_mr *m);
/* A MapReduce telemetry frame (MR_JOB, MR_TASK, MR_WORKER): NULL or why it is bad. */
const char *hub__mr_frame(struct hub *h, struct hub_node *n, const struct wire_frame *f);
void hub__mr_free(struct hub *h);

#endif
