/*
 * service.h — what runs on top of the node shell: the node kinds.
 *
 * The shell (node.c) owns the process, the hub connection, the store and,
 * for kinds that replicate, the Raft core.  A kind is a vtable: it answers
 * clients, applies committed entries, makes and loads snapshots and says
 * when it wants one.  Adding a kind is adding a file and a line in
 * node_kinds[].
 *
 *   raft   a log of opaque commands (6.824 Lab 3); its "state" is the list
 *          of commands applied, which is also its snapshot, so a node that
 *          installs one can still show every command it holds
 *   kv     the key/value state machine on Raft (Lab 4), with pending
 *          requests answered when their entry applies
 *   kvsrv  one key/value server without Raft (Lab 2)
 *   mr     MapReduce (Lab 1): node 1 is the coordinator, the others workers
 */
#ifndef TERMSCOPE_SERVICE_H
#define TERMSCOPE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../core/kv.h"
#include "../core/raft.h"
#include "../store/store.h"
#include "../wire/wire.h"

struct node;

struct node_kind {
	const char *name;
	bool raft;                           /* runs the Raft core (and its store) */
	/* set up the kind's state; false with *why on failure */
	bool (*init)(struct node *n, const char **why);
	void (*destroy)(struct node *n);
	/* a request from a client endpoint (the encoded kv request) */
	void (*client)(struct node *n, uint32_t from, const uint8_t *body, uint32_t len);
	/* kinds without Raft: a message from another node (kind mr) */
	void (*message)(struct node *n, const struct wire_mr *m);
	/* kinds without Raft: the first input, and the time they want to be woken */
	void (*begin)(struct node *n);
	void (*tick)(struct node *n);
	uint64_t (*deadline)(struct node *n);
	/* a committed entry, in index order */
	void (*apply)(struct node *n, uint64_t index, const struct raft_entry *e);
	/* replace the state with a snapshot's (at start or installed) */
	bool (*restore)(struct node *n, const uint8_t *data, uint32_t len, enum wire_snapshot_how how,
			const char **why);
	/* encode the state as of the last applied entry (*data malloc'd) */
	bool (*snapshot)(struct node *n, uint8_t **data, size_t *len);
	/* true when the kind wants its log compacted now */
	bool (*wants_snapshot)(struct node *n);
	/* after every input: the role or term may have changed */
	void (*settle)(struct node *n);
	void (*fill)(struct node *n, struct wire_state *s);
};

extern const struct node_kind node_kind_raft, node_kind_kv, node_kind_kvsrv, node_kind_mr;

struct node {
	const struct node_kind *kind;
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	struct wire_reader rd;
	struct wire_state last_state;        /* last STATE reported */
	bool state_sent;
	struct raft_entry *scratch;          /* decode space for entries */
	size_t scratch_cap;
	uint16_t port;
	uint8_t token[WIRE_TOKEN_LEN];
	raft_time heartbeat, election_min, election_max;
	struct wbuf out;                     /* the output of the current input */
	struct store store;
	bool store_open;
	struct raft raft;
	bool raft_ready_;                    /* raft initialised */
	/* arguments */
	uint32_t id, n, incarnation;
	uint64_t seed, now;
	const char *dir;
	uint64_t maxraftstate;               /* kv: snapshot when the Raft state reaches this (0: never) */
	uint64_t snapshot_every;             /* raft: snapshot every this many applied entries (0: never) */
	bool dedup;                          /* kv kinds: the duplicate table is on */
	const char *job;                     /* mr: the job file */
	bool real;                           /* real pace: time is the wall clock's */
	uint32_t owed_done;                  /* real pace: proposals of this read, DONE held until
					      * their one AppendEntries per follower is out */
	enum { NODE_FSYNC_ALWAYS, NODE_FSYNC_BATCH, NODE_FSYNC_NEVER } fsync;
	bool sync_pending;                   /* fsync batch: appends wait for the end of the read */
	bool exiting;                        /* said BYE: no more input is taken */
	void *svc;                           /* the kind's own state */
};

/* The shell's services to the kinds. */
void node_send_kv(struct node *n, uint8_t type, uint32_t to, const struct kv_reply *rep);
void node_report_kv(struct node *n, const struct kv_entry *e);
void node_report_kv_table(struct node *n, const struct kv_store *kv);
void node_report_apply(struct node *n, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len);
void node_note(struct node *n, int level, const char *fmt, ...);
void node_send_mr(struct node *n, const struct wire_mr *m);
/* Say BYE (0: done; 1: the app crashed the process) and exit once it is out. */
void node_exit(struct node *n, int how);
/* Stop the node with a message for the person (the hub shows it). */
void node_fatal(struct node *n, const char *fmt, ...);

#endif
