/*
 * wire.h — the one codec for everything that crosses the hub's TCP port.
 *
 * A frame is: u32 length, u8 type, then `length` bytes of payload; all
 * integers little-endian.  Both the hub and the node use this module, so a
 * frame is encoded and decoded in exactly one place.  Every read is
 * bounds-checked: a decoder never reads past the bytes it was given and
 * reports a short or malformed payload as an error with words, never a crash.
 * Frames longer than WIRE_MAX_FRAME are refused.
 *
 * The conversation, one node <-> the hub:
 *   node -> HELLO (protocol version, run token, id, incarnation, pid)
 *   node -> telemetry ... DONE          (its recovered state, then its deadline)
 *   hub  -> one input (TICK | DELIVER | PROPOSE | TIMEOUT_NOW | SET_TIMER)
 *   node -> SEND ... PROPOSED? telemetry ... DONE
 *   ... and so on, strictly one input at a time.
 * A node that cannot start sends FATAL and exits.
 */
#ifndef TERMSCOPE_WIRE_H
#define TERMSCOPE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/raft.h"

#define WIRE_VERSION 1
#define WIRE_HEADER 5                    /* u32 length + u8 type */
#define WIRE_MAX_FRAME (16u << 20)       /* payload bytes: 64 entries of the largest command fit */
#define WIRE_TOKEN_LEN 16
#define WIRE_MAX_COMMAND (64u << 10)    /* bytes in one command submitted to Raft */

enum wire_type {
	/* node -> hub */
	WIRE_HELLO = 1,       /* u16 version, u8[16] token, u32 id, u32 incarnation, u32 pid */
	WIRE_SEND = 2,        /* an encoded raft message (from/to inside) */
	WIRE_PROPOSED = 3,    /* u64 req, u64 index, u64 term, u8 ok */
	WIRE_STATE = 4,       /* struct wire_state */
	WIRE_APPEND = 5,      /* u64 index, u64 term, bytes data: an entry was appended (u8 recovered) */
	WIRE_TRUNCATE = 6,    /* u64 from: entries >= from were removed */
	WIRE_APPLY = 7,       /* u64 index, u64 term, bytes data */
	WIRE_NOTE = 8,        /* u8 level (0 info, 1 warning), string text: recovery and other remarks */
	WIRE_DONE = 9,        /* u64 deadline (UINT64_MAX: none) */
	WIRE_FATAL = 10,      /* string text: the node cannot go on and exits */
	WIRE_SNAPSHOT = 11,   /* u64 index, u64 term, u64 bytes, u8 how (enum wire_snapshot_how) */
	WIRE_KV_SET = 12,     /* bytes key, bytes value, u64 version: a key of the replica changed */
	WIRE_KV_RESET = 13,   /* (empty) the replica's table was replaced: its keys follow as KV_SETs */
	WIRE_MR_JOB = 14,     /* coordinator: u8 phase, u32 n_map, u32 n_reduce */
	WIRE_MR_TASK = 15,    /* coordinator: u8 type, u32 id, u8 state, u32 worker, u64 started, u64 finished, u32 runs */
	WIRE_MR_WORKER = 16,  /* worker: u8 state (enum wire_mr_worker_state), u8 type, u32 task, u64 since, u64 bytes_in, u64 bytes_out */
	WIRE_BYE = 17,        /* u8 how (0: done, it exits; 1: its app crashed it): the process exits now */
	/* hub -> node */
	WIRE_TICK = 20,       /* u64 now */
	WIRE_DELIVER = 21,    /* u64 now, then an encoded raft message */
	WIRE_PROPOSE = 22,    /* u64 now, u64 req, bytes data */
	WIRE_TIMEOUT_NOW = 23,/* u64 now */
	WIRE_SET_TIMER = 24,  /* u64 now, u64 election deadline */
};

enum wire_snapshot_how {
	WIRE_SNAP_TAKEN = 0,                 /* the service compacted its log */
	WIRE_SNAP_INSTALLED = 1,             /* received from the leader (InstallSnapshot) */
	WIRE_SNAP_LOADED = 2,                /* read from disk at start */
};

/*
 * Messages (the body of SEND and DELIVER) begin u8 type, u32 from, u32 to.
 * Endpoints are nodes 1..RAFT_MAX_NODES and clients WIRE_CLIENT_BASE + 1 ..
 * WIRE_CLIENT_BASE + WIRE_MAX_CLIENTS (clerks living in the controller).
 * Types 1..6 are Raft messages (enum raft_msg_type); the key/value service
 * adds a request (client -> server) and a reply (server -> client) whose
 * body is one u32-length-prefixed kv encoding (src/core/kv.h).
 */
#define WIRE_CLIENT_BASE 1000u
#define WIRE_MAX_CLIENTS 100000u
#define WIRE_MSG_KV_REQUEST 16
#define WIRE_MSG_KV_REPLY 17
/* MapReduce, between a worker and the coordinator (node 1): */
#define WIRE_MSG_MR_ASK 18               /* worker: give me a task */
#define WIRE_MSG_MR_ORDER 19             /* coordinator: map this / reduce that / wait / exit */
#define WIRE_MSG_MR_DONE 20              /* worker: I finished this task */

static inline bool wire_is_client(uint32_t id)
{
	return id > WIRE_CLIENT_BASE && id <= WIRE_CLIENT_BASE + WIRE_MAX_CLIENTS;
}

enum wire_mr_worker_state {
	WIRE_MRW_ASKING = 0,                 /* waiting for an order */
	WIRE_MRW_MAPPING = 1,
	WIRE_MRW_REDUCING = 2,
	WIRE_MRW_WAITING = 3,                /* told to wait */
};

/* Little-endian integers of n bytes (1-8) at p: the byte order of
 * everything termscope writes, on the wire and on disk. */
static inline void wire_put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t wire_get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A growable output buffer.  Appends never fail silently: on allocation
 * failure `failed` is set and later appends do nothing. */
struct wbuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

void wbuf_init(struct wbuf *b);
void wbuf_free(struct wbuf *b);
void wbuf_reset(struct wbuf *b);
void wbuf_u8(struct wbuf *b, uint8_t v);
void wbuf_u16(struct wbuf *b, uint16_t v);
void wbuf_u32(struct wbuf *b, uint32_t v);
void wbuf_u64(struct wbuf *b, uint64_t v);
void wbuf_raw(struct wbuf *b, const void *p, size_t n);
void wbuf_bytes(struct wbuf *b, const void *p, uint32_t n);   /* u32 length + bytes */
void wbuf_str(struct wbuf *b, const char *s);                  /* as bytes */

/* Frames: begin writes the header with a placeholder length, end patches it.
 * Several frames may be written into one buffer back to back. */
size_t wire_frame_begin(struct wbuf *b, enum wire_type type);
void wire_frame_end(struct wbuf *b, size_t at);

/* A bounds-checked reader.  The first failed read sets `err` (a static
 * string naming what was short) and every later read returns zero. */
struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	const char *err;
};

void rbuf_init(struct rbuf *r, const void *p, size_t len);
uint8_t rbuf_u8(struct rbuf *r);
uint16_t rbuf_u16(struct rbuf *r);
uint32_t rbuf_u32(struct rbuf *r);
uint64_t rbuf_u64(struct rbuf *r);
/* u32 length + bytes; *n gets the length; returns a pointer into the buffer
 * (not NUL-terminated), or NULL on error. */
const uint8_t *rbuf_bytes(struct rbuf *r, uint32_t *n);
bool rbuf_raw(struct rbuf *r, void *out, size_t n);
/* True when every byte was consumed and nothing failed; otherwise sets err
 * ("trailing bytes") if it was not already set. */
bool rbuf_done(struct rbuf *r);

/*
 * Streaming frame splitter for one connection.  Feed it bytes as they
 * arrive; take frames out one by one.
 */
struct wire_reader {
	uint8_t *buf;
	size_t len, cap;
	size_t max_frame;                    /* WIRE_MAX_FRAME unless set lower */
	size_t pos;                          /* buf[pos..len) is not yet taken */
	char why[80];                        /* the reason behind the last -1 */
};

struct wire_frame {
	enum wire_type type;
	const uint8_t *payload;              /* valid until the next wire_reader call */
	uint32_t len;
};

void wire_reader_init(struct wire_reader *wr);
void wire_reader_free(struct wire_reader *wr);
/* Returns 0, or -1 on allocation failure. */
int wire_reader_feed(struct wire_reader *wr, const void *p, size_t n);
/* 1: a frame was taken into *f; 0: need more bytes; -1: malformed, *why says
 * why (frame too large, unknown type). */
int wire_reader_next(struct wire_reader *wr, struct wire_frame *f, const char **why);

bool wire_type_known(uint8_t type);
const char *wire_type_name(uint8_t type);

/* Raft messages.  Encoding writes no frame header (the caller frames it). */
void wire_put_raft_msg(struct wbuf *b, const struct raft_msg *m);
/*
 * Decode one raft message from r.  Entries are decoded into `scratch`
 * (grown with realloc as needed; the caller frees *scratch) and each entry's
 * data points into r's buffer.  Returns 0, or -1 with r->err set
 * (truncated, unknown type, too many entries, node id out of range).
 */
int wire_get_raft_msg(struct rbuf *r, struct raft_msg *m,
		      struct raft_entry **scratch, size_t *scratch_cap);

/* The type, sender and receiver of an encoded message, without decoding the
 * rest: 0, or -1 if the header is short or the type unknown. */
int wire_peek_msg(const uint8_t *p, size_t len, uint8_t *type, uint32_t *from, uint32_t *to);
bool wire_msg_is_raft(uint8_t type);
/* "RequestVote", ..., "KvRequest", "KvReply" */
const char *wire_msg_name(uint8_t type);
/* A request or reply of the key/value service: the header, then the kv
 * encoding as bytes.  get returns a pointer into r's buffer (NULL on error,
 * r->err set) and checks the type and that from/to are a client and a node
 * the right way round. */
void wire_put_kv_msg(struct wbuf *b, uint8_t type, uint32_t from, uint32_t to,
		     const uint8_t *body, size_t len);
const uint8_t *wire_get_kv_msg(struct rbuf *r, uint8_t *type, uint32_t *from, uint32_t *to,
			       uint32_t *len);

/* A MapReduce message (both ends are nodes). */
struct wire_mr {
	uint8_t type;                        /* WIRE_MSG_MR_ASK, _ORDER or _DONE */
	uint32_t from, to;
	uint8_t order;                       /* ORDER: enum mr_order */
	uint8_t task_type;                   /* DONE: enum mr_task_type */
	uint32_t task, n_map, n_reduce;      /* ORDER (map/reduce), DONE: task */
	uint64_t bytes;                      /* DONE: bytes written */
	const uint8_t *file;                 /* ORDER map: the input file's path */
	uint32_t file_len;
};
void wire_put_mr_msg(struct wbuf *b, const struct wire_mr *m);
int wire_get_mr_msg(struct rbuf *r, struct wire_mr *m);
bool wire_msg_is_mr(uint8_t type);

/* The node's state, reported after every input that changed it. */
struct wire_state {
	uint8_t role;                        /* enum raft_role */
	uint64_t term;
	uint32_t voted_for;
	uint32_t leader;
	uint64_t commit, applied;
	uint64_t last_index, snapshot_index;
	uint64_t election_deadline;          /* RAFT_NO_DEADLINE on a leader */
	uint64_t snapshot_term;
	uint64_t raft_bytes;                 /* persisted Raft state: meta + log */
	uint64_t snapshot_bytes;             /* the snapshot file */
	uint64_t kv_keys;                    /* kv kinds: keys held */
	uint64_t kv_dup_bytes;               /* kv kinds: the duplicate table */
	uint32_t n_peers;                    /* entries in next/match (0 unless leader) */
	uint64_t next_index[RAFT_MAX_NODES + 1];   /* [1..n_peers] */
	uint64_t match_index[RAFT_MAX_NODES + 1];
};

void wire_put_state(struct wbuf *b, const struct wire_state *s);
int wire_get_state(struct rbuf *r, struct wire_state *s);

#endif
