/*
 * kv.h — the key/value state machine, its requests and replies, and the
 * duplicate table that makes retried requests take effect at most once.
 *
 * Shared by the single server (kind kvsrv, 6.824 Lab 2) and by every
 * replica of the Raft-backed service (kind kv, Lab 4): the server applies a
 * request here directly, a replica applies the committed log entry that
 * carries it.  Either way the same request applied twice has one effect.
 *
 * The model (the one src/core/lincheck checks against):
 *   get(k)          -> value and version ("" and 0 for a missing key; ErrNoKey
 *                      is reported too, the clerk turns it into "")
 *   put(k, v)       value = v, version + 1
 *   append(k, v)    value = value .. v (a missing key counts as ""), version + 1
 *   vput(k, v, ver) conditional put (Lab 2): missing key and ver == 0 ->
 *                   created at version 1; missing and ver > 0 -> ErrNoKey;
 *                   present and ver == version -> value = v, version + 1;
 *                   present otherwise -> ErrVersion (the reply carries the
 *                   key's current version; ErrNoKey carries 0)
 *
 * Duplicate detection: each clerk numbers its requests 1, 2, 3 ... and has
 * at most one outstanding, so a request with seq <= the last seq applied for
 * its client is a retry: it is not applied again and gets the reply the
 * first one got.  Only the last reply per client is kept (a get's value is
 * not kept: a retried get is answered afresh, which is still linearizable),
 * so the table holds one small record per client whatever the traffic.
 * A refused vput (ErrNoKey, ErrVersion) is recorded like a success, so its
 * retry gets the same refusal.  Requests with seq 0 are never recorded nor
 * checked; client 0 is an ordinary client.
 *
 * Limits: a request's key is at most KV_MAX_KEY bytes and its value at most
 * KV_MAX_VALUE.  A stored value can grow past KV_MAX_VALUE by appends, so
 * replies and snapshots bound a value only by the bytes that carry it.
 *
 * Pure: no I/O, no clock; it allocates and says so when it cannot.
 * Encodings (log entries, snapshots) are little-endian and bounds-checked.
 */
#ifndef TERMSCOPE_KV_H
#define TERMSCOPE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_MAX_KEY 1024u                 /* bytes */
#define KV_MAX_VALUE (48u << 10)         /* bytes: a request fits one Raft command */
#define KV_ERRMSG 160

enum kv_op {
	KV_GET = 0,
	KV_PUT = 1,
	KV_APPEND = 2,
	KV_VPUT = 3,                         /* versioned conditional put */
};

enum kv_err {
	KV_OK = 0,
	KV_ERR_NOKEY = 1,
	KV_ERR_VERSION = 2,
	KV_ERR_MAYBE = 3,                    /* made by the clerk, never by a server */
	KV_ERR_WRONG_LEADER = 4,             /* kv kind: not the leader, or lost leadership */
};

/* A request as a clerk sends it.  Strings are byte strings (ptr, len),
 * borrowed: they point into the caller's memory. */
struct kv_request {
	uint32_t client;                     /* the clerk's endpoint id */
	uint64_t seq;                        /* 1, 2, 3 ... per client; 0: not deduplicated */
	enum kv_op op;
	bool local;                          /* get only: answer from this replica's state, no log
					      * (the codec refuses it on a write, kv_apply ignores it) */
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;                /* put/append/vput */
	uint32_t value_len;
	uint64_t version;                    /* vput: the expected version */
};

/* A server's answer. */
struct kv_reply {
	uint32_t client;
	uint64_t seq;
	enum kv_err err;
	const uint8_t *value;                /* get: borrowed from the store until its next change */
	uint32_t value_len;
	uint64_t version;                    /* get: the value's version; writes: the new version */
	uint32_t leader_hint;                /* ErrWrongLeader: who the server believes leads, 0: unknown */
};

struct kv_entry {                            /* one key */
	uint8_t *key;
	uint32_t key_len;
	uint8_t *value;
	uint32_t value_len;
	uint64_t version;
};

struct kv_dup {                              /* the last request applied for one client */
	uint32_t client;
	uint64_t seq;
	enum kv_err err;
	uint64_t version;
};

/* The state machine.  Keys in a hash table; duplicate records by client. */
struct kv_store {
	struct kv_entry *slots;              /* open addressing; key == NULL: empty */
	size_t n_slots, n_keys;
	struct kv_dup *dups;                 /* open addressing; seq == 0: empty (only seq > 0 is recorded) */
	size_t n_dup_slots, n_dups;
	bool dedup;                          /* false: apply retries again (the lesson's broken server) */
	uint64_t bytes;                      /* keys + values held */
	char errmsg[KV_ERRMSG];
};

void kv_init(struct kv_store *s, bool dedup);
void kv_free(struct kv_store *s);

/*
 * Apply one request.  Fills *rep (rep->value borrowed until the next change
 * to s; never NULL, "" when there is no value).  *changed (if not NULL) says
 * whether the table changed, so the caller can report the key's new value.
 * Returns 0, or -1 when memory ran out or the request is malformed (a bad
 * op, a key or value over the limits, a NULL string with a length: what
 * kv_decode_request refuses) — s->errmsg says which; the contents are
 * unchanged.
 */
int kv_apply(struct kv_store *s, const struct kv_request *req, struct kv_reply *rep, bool *changed);
/* Set a key to a value at a version, as a replica reported it (the hub's
 * mirror of each replica's table; not a client operation).  0 or -1. */
int kv_set(struct kv_store *s, const uint8_t *key, uint32_t key_len,
	   const uint8_t *value, uint32_t value_len, uint64_t version);
/* Read without applying (local reads, the dashboard).  NULL if missing. */
const struct kv_entry *kv_lookup(const struct kv_store *s, const uint8_t *key, uint32_t key_len);
/* Every key: for (i = 0; (e = kv_next(s, &i)); ) ... in no particular order. */
const struct kv_entry *kv_next(const struct kv_store *s, size_t *iter);
/* Bytes held by the duplicate table (the memory the 6.824 memory tests bound). */
uint64_t kv_dup_bytes(const struct kv_store *s);

/* Snapshots: the table and the duplicate table (not the dedup flag: that is
 * the server's, and kv_restore keeps s's).  Canonical: keys sorted by their
 * bytes, records by client, so equal contents give equal bytes.
 * kv_snapshot allocates *out (free it); 0, or -1 out of memory (s is const:
 * no errmsg).  kv_restore replaces s's contents, or leaves s unchanged and
 * returns -1 with s->errmsg saying what was wrong with the bytes. */
int kv_snapshot(const struct kv_store *s, uint8_t **out, size_t *len);
int kv_restore(struct kv_store *s, const uint8_t *data, size_t len);

/* A request as a Raft log entry (and as a message body): encode allocates
 * *out; decode borrows the strings from data.  encode returns 0, or -1 when
 * out of memory or when decode would refuse the request; decode returns 0,
 * or -1 with *why set (a static string).  A reply never carries ErrMaybe
 * (only a clerk makes it): both directions refuse it. */
int kv_encode_request(const struct kv_request *req, uint8_t **out, size_t *len);
int kv_decode_request(const uint8_t *data, size_t len, struct kv_request *req, const char **why);
int kv_encode_reply(const struct kv_reply *rep, uint8_t **out, size_t *len);
int kv_decode_reply(const uint8_t *data, size_t len, struct kv_reply *rep, const char **why);

const char *kv_op_name(enum kv_op op);       /* "get", "put", "append", "vput" */
const char *kv_err_name(enum kv_err err);    /* "OK", "ErrNoKey", "ErrVersion", "ErrMaybe", "ErrWrongLeader" */

#endif
