/*
 * kv.c — the key/value state machine and its duplicate table.  See kv.h.
 *
 * Two hash tables with open addressing and linear probing, from which
 * nothing is ever deleted: the keys (FNV-1a over the key's bytes) and the
 * duplicate records (by client; seq == 0 marks an empty slot, since only
 * requests with seq > 0 are recorded).  Both double when three quarters
 * full (a deleted key's tombstone counts: it holds its slot), so the
 * duplicate table's size follows the number of clients and never the
 * number of requests.  Growing the key table drops the tombstones.
 *
 * kv_apply makes every allocation a write needs (room in either table, a
 * copy of a new key, the new value) before it changes any content, so
 * running out of memory leaves the store as it was.  Snapshots are
 * canonical (keys sorted by bytes, records by client); kv_restore builds a
 * whole new store from the bytes and swaps it in only when every check has
 * passed.  The encodings are little-endian with explicit lengths; every
 * decoder checks each length against what is left before it reads.
 *
 * Pure: no I/O (vsnprintf only formats into errmsg), no clock, no global
 * state.
 */
#include "kv.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SLOTS_MIN 16
#define DUP_SLOTS_MIN 8

static const uint8_t snapshot_magic[5] = { 'T', 'S', 'K', 'V', '2' };
static const uint8_t snapshot_magic_v1[5] = { 'T', 'S', 'K', 'V', '1' };   /* records without n */
static const uint8_t no_bytes[1];            /* what an empty value points at */

/* Smallest encoded sizes, to bound counts read from a snapshot. */
#define SNAP_KEY_MIN (4 + 4 + 8)             /* key_len, value_len, version */
#define SNAP_DUP_SIZE (4 + 8 + 1 + 8 + 8)    /* client, seq, err, version, n */
#define SNAP_DUP_SIZE_V1 (4 + 8 + 1 + 8)     /* TSKV1: no n */
#define REQUEST_FIXED (1 + 1 + 4 + 8 + 8 + 4 + 4)
#define REPLY_FIXED (4 + 8 + 1 + 8 + 4 + 8 + 4)

/* ---- names ------------------------------------------------------------- */

const char *kv_op_name(enum kv_op op)
{
	switch (op) {
	case KV_GET: return "get";
	case KV_PUT: return "put";
	case KV_APPEND: return "append";
	case KV_VPUT: return "vput";
	case KV_DEL: return "del";
	case KV_INCR: return "incr";
	}
	return "?";
}

const char *kv_err_name(enum kv_err err)
{
	switch (err) {
	case KV_OK: return "OK";
	case KV_ERR_NOKEY: return "ErrNoKey";
	case KV_ERR_VERSION: return "ErrVersion";
	case KV_ERR_MAYBE: return "ErrMaybe";
	case KV_ERR_WRONG_LEADER: return "ErrWrongLeader";
	case KV_ERR_NOT_INTEGER: return "ErrNotInteger";
	}
	return "?";
}

static bool valid_op(uint64_t op)
{
	return op == KV_GET || op == KV_PUT || op == KV_APPEND || op == KV_VPUT ||
	       op == KV_DEL || op == KV_INCR;
}

/* What a server may answer. */
static bool valid_reply_err(uint64_t err)
{
	return err == KV_OK || err == KV_ERR_NOKEY || err == KV_ERR_VERSION ||
	       err == KV_ERR_WRONG_LEADER || err == KV_ERR_NOT_INTEGER;
}

/* What the duplicate table may hold: the outcome of an applied write. */
static bool valid_dup_err(uint64_t err)
{
	return err == KV_OK || err == KV_ERR_NOKEY || err == KV_ERR_VERSION ||
	       err == KV_ERR_NOT_INTEGER;
}

bool kv_parse_int(const uint8_t *p, uint32_t len, int64_t *v)
{
	uint32_t i = 0;
	bool neg = false;
	uint64_t u = 0, limit;

	if (len == 0 || len > 20 || !p)
		return false;
	if (p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || p[i] < '0' || p[i] > '9')
		return false;
	if (p[i] == '0')                     /* "0" alone: no leading zero, no "-0" */
		return !neg && len == 1 ? (*v = 0, true) : false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (u > (limit - d) / 10)
			return false;
		u = u * 10 + d;
	}
	*v = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
	return true;
}

static int fail(struct kv_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Why kv_apply and the codec refuse a request, or NULL. */
static const char *request_problem(const struct kv_request *req)
{
	if (!valid_op(req->op))
		return "bad op";
	if (req->key_len > KV_MAX_KEY)
		return "key longer than KV_MAX_KEY";
	if (req->value_len > KV_MAX_VALUE)
		return "value longer than KV_MAX_VALUE";
	if (!req->key && req->key_len)
		return "NULL key with a length";
	if (!req->value && req->value_len)
		return "NULL value with a length";
	return NULL;
}

/* ---- the tables ---------------------------------------------------------- */

static bool same_bytes(const uint8_t *a, uint32_t a_len, const uint8_t *b, uint32_t b_len)
{
	return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static size_t hash_key(const uint8_t *key, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a */
	for (uint32_t i = 0; i < len; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

static size_t hash_client(uint32_t client)
{
	uint64_t h = (uint64_t)client * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding the key, or the empty slot where it belongs.  The table
 * has at least one empty slot. */
static size_t key_slot(const struct kv_entry *slots, size_t n_slots,
		       const uint8_t *key, uint32_t key_len)
{
	size_t mask = n_slots - 1;
	size_t i = hash_key(key, key_len) & mask;
	while (slots[i].key && !same_bytes(slots[i].key, slots[i].key_len, key, key_len))
		i = (i + 1) & mask;
	return i;
}

static size_t dup_slot(const struct kv_dup *dups, size_t n_slots, uint32_t client)
{
	size_t mask = n_slots - 1;
	size_t i = hash_client(client) & mask;
	while (dups[i].seq && dups[i].client != client)
		i = (i + 1) & mask;
	return i;
}

/* Room for one more key: at most three quarters full with it (tombstones
 * hold slots too).  Rebuilding drops the tombstones: the table then grows
 * only if the live keys need it. */
static int keys_reserve(struct kv_store *s)
{
	if ((s->n_keys + s->n_tombs + 1) * 4 <= s->n_slots * 3)
		return 0;
	size_t n = s->n_slots ? s->n_slots : KEY_SLOTS_MIN;
	while ((s->n_keys + 1) * 4 > n * 3)
		n *= 2;
	if (n == s->n_slots && (s->n_keys + 1) * 2 > n)
		n *= 2;                          /* no churn: leave room after a purge */
	struct kv_entry *slots = n <= SIZE_MAX / sizeof(*slots) ? calloc(n, sizeof(*slots)) : NULL;
	if (!slots)
		return fail(s, "out of memory growing the key table to %zu slots", n);
	for (size_t i = 0; i < s->n_slots; i++) {
		struct kv_entry *e = &s->slots[i];
		if (e->key && e->version == 0) {
			free(e->key);
			free(e->value);
		} else if (e->key) {
			slots[key_slot(slots, n, e->key, e->key_len)] = *e;
		}
	}
	free(s->slots);
	s->slots = slots;
	s->n_slots = n;
	s->n_tombs = 0;
	return 0;
}

/* Room for one more client's record. */
static int dups_reserve(struct kv_store *s)
{
	if ((s->n_dups + 1) * 4 <= s->n_dup_slots * 3)
		return 0;
	size_t n = s->n_dup_slots ? 2 * s->n_dup_slots : DUP_SLOTS_MIN;
	struct kv_dup *dups = n <= SIZE_MAX / sizeof(*dups) ? calloc(n, sizeof(*dups)) : NULL;
	if (!dups)
		return fail(s, "out of memory growing the duplicate table to %zu slots", n);
	for (size_t i = 0; i < s->n_dup_slots; i++) {
		const struct kv_dup *d = &s->dups[i];
		if (d->seq)
			dups[dup_slot(dups, n, d->client)] = *d;
	}
	free(s->dups);
	s->dups = dups;
	s->n_dup_slots = n;
	return 0;
}

static const struct kv_dup *dup_lookup(const struct kv_store *s, uint32_t client)
{
	if (!s->n_dup_slots)
		return NULL;
	const struct kv_dup *d = &s->dups[dup_slot(s->dups, s->n_dup_slots, client)];
	return d->seq ? d : NULL;
}

/* Record the outcome of a write; room was reserved. */
static void dup_record(struct kv_store *s, uint32_t client, uint64_t seq,
		       enum kv_err err, uint64_t version, uint64_t n)
{
	struct kv_dup *d = &s->dups[dup_slot(s->dups, s->n_dup_slots, client)];
	if (!d->seq)
		s->n_dups++;
	*d = (struct kv_dup){ .client = client, .seq = seq, .err = err, .version = version, .n = n };
}

static uint8_t *copy_bytes(const uint8_t *p, uint32_t len)
{
	uint8_t *q = malloc(len ? len : 1);
	if (q && len)
		memcpy(q, p, len);
	return q;
}

void kv_init(struct kv_store *s, bool dedup)
{
	memset(s, 0, sizeof(*s));
	s->dedup = dedup;
}

void kv_free(struct kv_store *s)
{
	for (size_t i = 0; i < s->n_slots; i++) {
		free(s->slots[i].key);
		free(s->slots[i].value);
	}
	free(s->slots);
	free(s->dups);
	kv_init(s, s->dedup);
}

const struct kv_entry *kv_lookup(const struct kv_store *s, const uint8_t *key, uint32_t key_len)
{
	if (!s->n_slots)
		return NULL;
	const struct kv_entry *e = &s->slots[key_slot(s->slots, s->n_slots, key, key_len)];
	return e->key ? e : NULL;
}

const struct kv_entry *kv_next(const struct kv_store *s, size_t *iter)
{
	for (size_t i = *iter; i < s->n_slots; i++)
		if (s->slots[i].key && s->slots[i].version) {
			*iter = i + 1;
			return &s->slots[i];
		}
	*iter = s->n_slots;
	return NULL;
}

uint64_t kv_dup_bytes(const struct kv_store *s)
{
	return (uint64_t)s->n_dup_slots * sizeof(struct kv_dup);
}

/* ---- applying -------------------------------------------------------------- */

/*
 * A write that passed its check: the key's value becomes `value` (put, vput,
 * incr) or grows by it (append), its version + 1; a tombstone comes back to
 * life at version 1.  Everything is allocated before anything changes.
 * *e_out: the entry written.
 */
static int write_key(struct kv_store *s, const uint8_t *k, uint32_t k_len, bool append,
		     const uint8_t *v, uint32_t v_len, struct kv_entry **e_out)
{
	struct kv_entry *e = (struct kv_entry *)kv_lookup(s, k, k_len);
	uint32_t old_len = e ? e->value_len : 0;
	uint64_t len = v_len;
	uint8_t *key = NULL, *value;

	if (append)
		len += old_len;
	if (len > UINT32_MAX)
		return fail(s, "append to a %" PRIu32 "-byte value would pass 4 GiB", old_len);
	if (!e) {
		if (keys_reserve(s) < 0)
			return -1;
		key = copy_bytes(k, k_len);
		if (!key)
			return fail(s, "out of memory copying a %" PRIu32 "-byte key", k_len);
	}
	if (e && append) {
		/* realloc keeps the old bytes, and value_len still says how many
		 * count, so a failure here or a success changes no content */
		value = realloc(e->value, len ? (size_t)len : 1);
		if (!value)
			return fail(s, "out of memory appending to a %" PRIu32 "-byte value", old_len);
		if (v_len)
			memcpy(value + old_len, v, v_len);
	} else {
		value = copy_bytes(v, v_len);
		if (!value) {
			free(key);
			return fail(s, "out of memory copying a %" PRIu32 "-byte value", v_len);
		}
		if (e)
			free(e->value);
	}

	if (!e) {
		e = &s->slots[key_slot(s->slots, s->n_slots, k, k_len)];
		*e = (struct kv_entry){ .key = key, .key_len = k_len };
	}
	if (e->version == 0) {               /* new, or a tombstone back to life */
		if (!key)
			s->n_tombs--;
		s->n_keys++;
		s->bytes += k_len;
	}
	s->bytes = s->bytes - old_len + len;
	e->value = value;
	e->value_len = (uint32_t)len;
	e->version++;
	*e_out = e;
	return 0;
}

/* Make a live key a tombstone: "" at version 0, its slot kept.  The empty
 * value is allocated first, so running out of memory changes nothing. */
static int delete_key(struct kv_store *s, struct kv_entry *e)
{
	uint8_t *empty = copy_bytes(NULL, 0);
	if (!empty)
		return fail(s, "out of memory deleting a key");
	free(e->value);
	s->bytes -= (uint64_t)e->key_len + e->value_len;
	e->value = empty;
	e->value_len = 0;
	e->version = 0;
	s->n_keys--;
	s->n_tombs++;
	return 0;
}

int kv_unset(struct kv_store *s, const uint8_t *key, uint32_t key_len)
{
	struct kv_entry *e = (struct kv_entry *)kv_lookup(s, key, key_len);
	return e && e->version ? delete_key(s, e) : 0;
}

int kv_apply(struct kv_store *s, const struct kv_request *req, struct kv_reply *rep, bool *changed)
{
	const char *why = request_problem(req);
	const struct kv_entry *e;
	bool record;

	if (changed)
		*changed = false;
	if (why)
		return fail(s, "request %" PRIu64 " from client %" PRIu32 ": %s",
			    req->seq, req->client, why);
	*rep = (struct kv_reply){ .client = req->client, .seq = req->seq, .err = KV_OK,
				  .value = no_bytes, .value_len = 0, .version = 0, .leader_hint = 0 };
	e = kv_lookup(s, req->key, req->key_len);
	if (e && e->version == 0)
		e = NULL;                    /* a tombstone: missing */

	if (req->op == KV_GET) {             /* never recorded, never checked */
		if (e) {
			rep->value = e->value;
			rep->value_len = e->value_len;
			rep->version = e->version;
		} else {
			rep->err = KV_ERR_NOKEY;
		}
		return 0;
	}

	record = s->dedup && req->seq > 0;
	if (record) {
		const struct kv_dup *d = dup_lookup(s, req->client);
		if (d && req->seq <= d->seq) {   /* a retry: the first reply again */
			rep->err = d->err;
			rep->version = d->version;
			rep->n = d->n;
			return 0;
		}
		if (!d && dups_reserve(s) < 0)
			return -1;
	}

	int64_t num = 0;
	struct kv_entry *w;
	if (req->op == KV_VPUT && !e && req->version > 0) {
		rep->err = KV_ERR_NOKEY;
	} else if (req->op == KV_VPUT && e && req->version != e->version) {
		rep->err = KV_ERR_VERSION;
		rep->version = e->version;
	} else if (req->op == KV_DEL && !e) {
		rep->err = KV_ERR_NOKEY;
	} else if (req->op == KV_DEL) {
		if (delete_key(s, (struct kv_entry *)e) < 0)
			return -1;
		rep->n = 1;
		if (changed)
			*changed = true;
	} else if (req->op == KV_INCR &&
		   ((e && !kv_parse_int(e->value, e->value_len, &num)) || num == INT64_MAX)) {
		rep->err = KV_ERR_NOT_INTEGER;
		rep->version = e ? e->version : 0;
	} else if (req->op == KV_INCR) {
		char text[24];
		int len = snprintf(text, sizeof text, "%" PRId64, num + 1);
		if (write_key(s, req->key, req->key_len, false, (const uint8_t *)text, (uint32_t)len, &w) < 0)
			return -1;
		rep->version = w->version;
		rep->n = (uint64_t)(num + 1);
		if (changed)
			*changed = true;
	} else {
		if (write_key(s, req->key, req->key_len, req->op == KV_APPEND,
			      req->value, req->value_len, &w) < 0)
			return -1;
		rep->version = w->version;
		if (req->op == KV_APPEND)
			rep->n = w->value_len;
		if (changed)
			*changed = true;
	}
	if (record)
		dup_record(s, req->client, req->seq, rep->err, rep->version, rep->n);
	return 0;
}

/* ---- little-endian bytes ------------------------------------------------------ */

struct writer {
	uint8_t *p;
	size_t off;
};

static void put_u8(struct writer *w, uint8_t v)
{
	w->p[w->off++] = v;
}

static void put_u32(struct writer *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct writer *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct writer *w, const uint8_t *p, size_t len)
{
	if (len)
		memcpy(w->p + w->off, p, len);
	w->off += len;
}

/* Reads never go past len: each get checks what is left first. */
struct reader {
	const uint8_t *p;
	size_t len, off;
};

static size_t left(const struct reader *r)
{
	return r->len - r->off;
}

static bool get_u8(struct reader *r, uint8_t *v)
{
	if (left(r) < 1)
		return false;
	*v = r->p[r->off++];
	return true;
}

static bool get_u32(struct reader *r, uint32_t *v)
{
	if (left(r) < 4)
		return false;
	*v = 0;
	for (int i = 0; i < 4; i++)
		*v |= (uint32_t)r->p[r->off++] << (8 * i);
	return true;
}

static bool get_u64(struct reader *r, uint64_t *v)
{
	if (left(r) < 8)
		return false;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)r->p[r->off++] << (8 * i);
	return true;
}

static bool get_bytes(struct reader *r, size_t len, const uint8_t **v)
{
	if (left(r) < len)
		return false;
	*v = r->p + r->off;
	r->off += len;
	return true;
}

/* ---- snapshots ------------------------------------------------------------------ */

static int entry_cmp(const void *a, const void *b)
{
	const struct kv_entry *x = *(const struct kv_entry *const *)a;
	const struct kv_entry *y = *(const struct kv_entry *const *)b;
	uint32_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = n ? memcmp(x->key, y->key, n) : 0;
	if (c)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int dup_cmp(const void *a, const void *b)
{
	const struct kv_dup *x = a, *y = b;
	return (x->client > y->client) - (x->client < y->client);
}

/*
 * "TSKV2", u64 n_keys, n_keys x (u32 key_len, key, u32 value_len, value,
 * u64 version), u64 n_dups, n_dups x (u32 client, u64 seq, u8 err,
 * u64 version, u64 n), nothing after.  (TSKV1, read only: records without n.)
 * Tombstones are not written: a deleted key is simply missing.
 */
int kv_snapshot(const struct kv_store *s, uint8_t **out, size_t *len)
{
	const struct kv_entry **keys = malloc((s->n_keys ? s->n_keys : 1) * sizeof(*keys));
	struct kv_dup *dups = malloc((s->n_dups ? s->n_dups : 1) * sizeof(*dups));
	size_t n_keys = 0, n_dups = 0, size = sizeof(snapshot_magic) + 8 + 8;
	struct writer w = { 0 };
	const struct kv_entry *e;

	if (!keys || !dups)
		goto nomem;
	for (size_t i = 0; (e = kv_next(s, &i));) {
		keys[n_keys++] = e;
		size += SNAP_KEY_MIN + (size_t)e->key_len + e->value_len;
	}
	for (size_t i = 0; i < s->n_dup_slots; i++)
		if (s->dups[i].seq)
			dups[n_dups++] = s->dups[i];
	size += n_dups * SNAP_DUP_SIZE;
	qsort(keys, n_keys, sizeof(*keys), entry_cmp);
	qsort(dups, n_dups, sizeof(*dups), dup_cmp);

	w.p = malloc(size);
	if (!w.p)
		goto nomem;
	put_bytes(&w, snapshot_magic, sizeof(snapshot_magic));
	put_u64(&w, n_keys);
	for (size_t i = 0; i < n_keys; i++) {
		put_u32(&w, keys[i]->key_len);
		put_bytes(&w, keys[i]->key, keys[i]->key_len);
		put_u32(&w, keys[i]->value_len);
		put_bytes(&w, keys[i]->value, keys[i]->value_len);
		put_u64(&w, keys[i]->version);
	}
	put_u64(&w, n_dups);
	for (size_t i = 0; i < n_dups; i++) {
		put_u32(&w, dups[i].client);
		put_u64(&w, dups[i].seq);
		put_u8(&w, (uint8_t)dups[i].err);
		put_u64(&w, dups[i].version);
		put_u64(&w, dups[i].n);
	}
	assert(w.off == size);
	free(keys);
	free(dups);
	*out = w.p;
	*len = size;
	return 0;
nomem:
	free(keys);
	free(dups);
	return -1;
}

/* Add one key from a snapshot to a store being built. */
static int restore_key(struct kv_store *t, const uint8_t *key, uint32_t key_len,
		       const uint8_t *value, uint32_t value_len, uint64_t version)
{
	struct kv_entry *e;
	uint8_t *k, *v;

	if (keys_reserve(t) < 0)
		return -1;
	k = copy_bytes(key, key_len);
	v = copy_bytes(value, value_len);
	if (!k || !v) {
		free(k);
		free(v);
		return fail(t, "out of memory restoring a key of %" PRIu32 " + %" PRIu32 " bytes",
			    key_len, value_len);
	}
	e = &t->slots[key_slot(t->slots, t->n_slots, key, key_len)];
	*e = (struct kv_entry){ .key = k, .key_len = key_len, .value = v,
				.value_len = value_len, .version = version };
	t->n_keys++;
	t->bytes += (uint64_t)key_len + value_len;
	return 0;
}

int kv_set(struct kv_store *s, const uint8_t *key, uint32_t key_len,
	   const uint8_t *value, uint32_t value_len, uint64_t version)
{
	struct kv_entry *e = (struct kv_entry *)kv_lookup(s, key, key_len);
	if (version == 0)                    /* what a deleted key reads as */
		return kv_unset(s, key, key_len);
	if (!e)
		return restore_key(s, key, key_len, value, value_len, version);
	uint8_t *v = copy_bytes(value, value_len);
	if (!v)
		return fail(s, "out of memory copying a %" PRIu32 "-byte value", value_len);
	free(e->value);
	if (e->version == 0) {               /* a tombstone back to life */
		s->n_tombs--;
		s->n_keys++;
		s->bytes += key_len;
	}
	s->bytes = s->bytes - e->value_len + value_len;
	e->value = v;
	e->value_len = value_len;
	e->version = version;
	return 0;
}

int kv_restore(struct kv_store *s, const uint8_t *data, size_t len)
{
	struct reader r = { .p = data, .len = data ? len : 0 };
	struct kv_store t;
	const uint8_t *magic, *key, *value;
	uint64_t n_keys, n_dups, i = 0;
	const char *why;

	size_t dup_size = SNAP_DUP_SIZE;
	kv_init(&t, s->dedup);
	why = "not a kv snapshot (bad magic)";
	if (!get_bytes(&r, sizeof(snapshot_magic), &magic))
		goto bad;
	if (memcmp(magic, snapshot_magic_v1, sizeof(snapshot_magic_v1)) == 0)
		dup_size = SNAP_DUP_SIZE_V1;
	else if (memcmp(magic, snapshot_magic, sizeof(snapshot_magic)) != 0)
		goto bad;
	why = "truncated key count";
	if (!get_u64(&r, &n_keys))
		goto bad;
	why = "more keys than the bytes can hold";
	if (n_keys > left(&r) / SNAP_KEY_MIN)
		goto bad;
	for (i = 0; i < n_keys; i++) {
		uint32_t key_len, value_len;
		uint64_t version;
		why = "truncated key";
		if (!get_u32(&r, &key_len))
			goto bad_key;
		why = "key longer than KV_MAX_KEY";
		if (key_len > KV_MAX_KEY)
			goto bad_key;
		why = "truncated key";
		if (!get_bytes(&r, key_len, &key) || !get_u32(&r, &value_len) ||
		    !get_bytes(&r, value_len, &value) || !get_u64(&r, &version))
			goto bad_key;
		why = "key at version 0";
		if (version == 0)
			goto bad_key;
		why = "key appears twice";
		if (kv_lookup(&t, key, key_len))
			goto bad_key;
		if (restore_key(&t, key, key_len, value, value_len, version) < 0)
			goto nomem;
	}
	why = "truncated record count";
	if (!get_u64(&r, &n_dups))
		goto bad;
	why = "more duplicate records than the bytes can hold";
	if (n_dups > left(&r) / dup_size)
		goto bad;
	for (i = 0; i < n_dups; i++) {
		uint32_t client;
		uint64_t seq, version, n = 0;
		uint8_t err;
		why = "truncated duplicate record";
		if (!get_u32(&r, &client) || !get_u64(&r, &seq) || !get_u8(&r, &err) ||
		    !get_u64(&r, &version) || (dup_size == SNAP_DUP_SIZE && !get_u64(&r, &n)))
			goto bad_dup;
		why = "duplicate record with seq 0";
		if (seq == 0)
			goto bad_dup;
		why = "duplicate record with a bad err";
		if (!valid_dup_err(err))
			goto bad_dup;
		why = "two duplicate records for one client";
		if (dup_lookup(&t, client))
			goto bad_dup;
		if (dups_reserve(&t) < 0)
			goto nomem;
		dup_record(&t, client, seq, (enum kv_err)err, version, n);
	}
	why = "trailing bytes";
	if (left(&r))
		goto bad;

	kv_free(s);
	*s = t;
	return 0;

nomem:
	memcpy(s->errmsg, t.errmsg, sizeof(s->errmsg));
	kv_free(&t);
	return -1;
bad_key:
	kv_free(&t);
	return fail(s, "kv snapshot, key %" PRIu64 " at byte %zu: %s", i, r.off, why);
bad_dup:
	kv_free(&t);
	return fail(s, "kv snapshot, duplicate record %" PRIu64 " at byte %zu: %s", i, r.off, why);
bad:
	kv_free(&t);
	return fail(s, "kv snapshot at byte %zu of %zu: %s", r.off, len, why);
}

/* ---- requests and replies --------------------------------------------------------- */

/* u8 op, u8 local, u32 client, u64 seq, u64 version, u32 key_len, key,
 * u32 value_len, value. */
int kv_encode_request(const struct kv_request *req, uint8_t **out, size_t *len)
{
	size_t size = REQUEST_FIXED + (size_t)req->key_len + req->value_len;
	struct writer w = { 0 };

	if (request_problem(req) || (req->local && req->op != KV_GET))
		return -1;
	w.p = malloc(size);
	if (!w.p)
		return -1;
	put_u8(&w, (uint8_t)req->op);
	put_u8(&w, req->local ? 1 : 0);
	put_u32(&w, req->client);
	put_u64(&w, req->seq);
	put_u64(&w, req->version);
	put_u32(&w, req->key_len);
	put_bytes(&w, req->key, req->key_len);
	put_u32(&w, req->value_len);
	put_bytes(&w, req->value, req->value_len);
	*out = w.p;
	*len = size;
	return 0;
}

int kv_decode_request(const uint8_t *data, size_t len, struct kv_request *req, const char **why)
{
	struct reader r = { .p = data, .len = data ? len : 0 };
	uint8_t op, local;

	*req = (struct kv_request){ 0 };
	*why = "truncated request";
	if (!get_u8(&r, &op) || !get_u8(&r, &local) || !get_u32(&r, &req->client) ||
	    !get_u64(&r, &req->seq) || !get_u64(&r, &req->version) || !get_u32(&r, &req->key_len))
		return -1;
	*why = "request with a bad op";
	if (!valid_op(op))
		return -1;
	*why = "request with a bad local flag";
	if (local > 1)
		return -1;
	*why = "local write request";
	if (local && op != KV_GET)
		return -1;
	*why = "request key longer than KV_MAX_KEY";
	if (req->key_len > KV_MAX_KEY)
		return -1;
	*why = "truncated request";
	if (!get_bytes(&r, req->key_len, &req->key) || !get_u32(&r, &req->value_len))
		return -1;
	*why = "request value longer than KV_MAX_VALUE";
	if (req->value_len > KV_MAX_VALUE)
		return -1;
	*why = "truncated request";
	if (!get_bytes(&r, req->value_len, &req->value))
		return -1;
	*why = "trailing bytes after request";
	if (left(&r))
		return -1;
	req->op = (enum kv_op)op;
	req->local = local;
	*why = NULL;
	return 0;
}

/* u32 client, u64 seq, u8 err, u64 version, u32 leader_hint, u64 n,
 * u32 value_len, value. */
int kv_encode_reply(const struct kv_reply *rep, uint8_t **out, size_t *len)
{
	size_t size = REPLY_FIXED + (size_t)rep->value_len;
	struct writer w = { 0 };

	if (!valid_reply_err(rep->err) || (!rep->value && rep->value_len))
		return -1;
	w.p = malloc(size);
	if (!w.p)
		return -1;
	put_u32(&w, rep->client);
	put_u64(&w, rep->seq);
	put_u8(&w, (uint8_t)rep->err);
	put_u64(&w, rep->version);
	put_u32(&w, rep->leader_hint);
	put_u64(&w, rep->n);
	put_u32(&w, rep->value_len);
	put_bytes(&w, rep->value, rep->value_len);
	*out = w.p;
	*len = size;
	return 0;
}

int kv_decode_reply(const uint8_t *data, size_t len, struct kv_reply *rep, const char **why)
{
	struct reader r = { .p = data, .len = data ? len : 0 };
	uint8_t err;

	*rep = (struct kv_reply){ 0 };
	*why = "truncated reply";
	if (!get_u32(&r, &rep->client) || !get_u64(&r, &rep->seq) || !get_u8(&r, &err) ||
	    !get_u64(&r, &rep->version) || !get_u32(&r, &rep->leader_hint) ||
	    !get_u64(&r, &rep->n) || !get_u32(&r, &rep->value_len))
		return -1;
	*why = "reply with a bad err";
	if (!valid_reply_err(err))
		return -1;
	*why = "truncated reply";
	if (!get_bytes(&r, rep->value_len, &rep->value))
		return -1;
	*why = "trailing bytes after reply";
	if (left(&r))
		return -1;
	rep->err = (enum kv_err)err;
	*why = NULL;
	return 0;
}
