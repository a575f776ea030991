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
 *   del(k)          present -> removed (missing afterwards: "" at version 0,
 *                   so a later put creates it at version 1 again), OK, n = 1;
 *                   missing -> ErrNoKey, n = 0
 *   incr(k)         the value read as a 64-bit integer (a missing key counts
 *                   as 0), plus one, stored as its decimal text, version + 1;
 *                   the reply's n is the new value.  A value that is not the
 *                   canonical decimal text of an integer (Redis's rule: no
 *                   sign but '-', no leading zero, no space, in range) or one
 *                   at INT64_MAX -> ErrNotInteger, nothing changes (the reply
 *                   carries the key's version)
 * Every write's reply carries n: append -> the value's new length, incr ->
 * the new value (two's complement), del -> the keys removed (0 or 1), put and
 * vput -> 0.
 *
 * Duplicate detection: each clerk numbers its requests 1, 2, 3 ... and has
 * at most one outstanding, so a request with seq <= the last seq applied for
 * its client is a retry: it is not applied again and gets the reply the
 * first one got.  Only the last reply per client is kept (a get's value is
 * not kept: a retried get is answered afresh, which is still linearizable),
 * so the table holds one small record per client whatever the traffic.
 * The record keeps the reply's err, version and n, so a retried append or
 * incr gets the length or the number its first attempt got.  A refused vput
 * (ErrNoKey, ErrVersion), del (ErrNoKey) or incr (ErrNotInteger) is recorded
 * like a success, so its retry gets the same refusal.  Requests with seq 0 are never recorded nor
 * checked; client 0 is an ordinary client.
 *
 * Deleted keys: the key table never shrinks (open addressing without
 * deletion), so del leaves a tombstone: the key stays in its slot with the
 * value "" at version 0, which is exactly what a missing key reads as.  So
 * kv_lookup returns a tombstone like any entry, and a caller that reports or
 * serves entries (a replica reporting a changed key, a local read) says the
 * right thing without knowing about deletions; kv_apply treats a tombstone
 * as missing, kv_next and snapshots skip it, a write to the key reuses the
 * slot.  n_keys and bytes count live keys only.
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
	KV_DEL = 4,                          /* remove the key */
	KV_INCR = 5,                         /* the value as a 64-bit integer, plus one */
};

enum kv_err {
	KV_OK = 0,
	KV_ERR_NOKEY = 1,
	KV_ERR_VERSION = 2,
	KV_ERR_MAYBE = 3,                    /* made by the clerk, never by a server */
	KV_ERR_WRONG_LEADER = 4,             /* kv kind: not the leader, or lost leadership */
	KV_ERR_NOT_INTEGER = 5,              /* incr: the value is not a 64-bit integer, or is the largest */
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
	const uint8_t *value;                /* put/append/vput (get, del, incr: ignored) */
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
	uint64_t n;                          /* writes: append's new length, incr's new value, del's count */
	uint32_t leader_hint;                /* ErrWrongLeader: who the server believes leads, 0: unknown */
};

struct kv_entry {                            /* one key */
	uint8_t *key;
	uint32_t key_len;
	uint8_t *value;
	uint32_t value_len;
	uint64_t version;                    /* 0: a tombstone (the key was deleted; value "") */
};

struct kv_dup {                              /* the last request applied for one client */
	uint32_t client;
	uint64_t seq;
	enum kv_err err;
	uint64_t version;
	uint64_t n;
};

/* The state machine.  Keys in a hash table; duplicate records by client. */
struct kv_store {
	struct kv_entry *slots;              /* open addressing; key == NULL: empty */
	size_t n_slots, n_keys;              /* n_keys: live keys (tombstones not counted) */
	size_t n_tombs;                      /* slots held by deleted keys */
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
/* A key removed, as a replica reported it (a mirror's del): it becomes a
 * tombstone.  Nothing happens to a missing key.  0. */
int kv_unset(struct kv_store *s, const uint8_t *key, uint32_t key_len);
/* Read without applying (local reads, the dashboard).  NULL if the key was
 * never written; a deleted key's tombstone ("" at version 0) otherwise. */
const struct kv_entry *kv_lookup(const struct kv_store *s, const uint8_t *key, uint32_t key_len);
/* Every live key (tombstones skipped): for (i = 0; (e = kv_next(s, &i)); )
 * ... in no particular order. */
const struct kv_entry *kv_next(const struct kv_store *s, size_t *iter);
/* Bytes held by the duplicate table (the memory the 6.824 memory tests bound). */
uint64_t kv_dup_bytes(const struct kv_store *s);

/* Snapshots: the table and the duplicate table (not the dedup flag: that is
 * the server's, and kv_restore keeps s's).  Canonical: keys sorted by their
 * bytes, records by client, so equal contents give equal bytes.  Written as
 * "TSKV2" (records carry n); kv_restore reads "TSKV1" too (records without
 * n, from before del and incr: n = 0).
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

const char *kv_op_name(enum kv_op op);       /* "get", "put", "append", "vput", "del", "incr" */
/* "OK", "ErrNoKey", "ErrVersion", "ErrMaybe", "ErrWrongLeader", "ErrNotInteger" */
const char *kv_err_name(enum kv_err err);
/* Redis's integer rule (what incr accepts): the canonical decimal text of a
 * 64-bit integer — optional '-', no leading zero, no '+' or space, at most
 * 20 bytes, in range.  True and *v, or false. */
bool kv_parse_int(const uint8_t *p, uint32_t len, int64_t *v);

#endif
