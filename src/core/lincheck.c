/*
 * lincheck.c — the linearizability checker.  See lincheck.h.
 *
 * The search is Wing & Gong's, in the form Lowe gave it (and porcupine
 * uses).  The calls and returns of one key's operations are laid out in a
 * doubly linked list in time order (at equal times calls come first, so
 * operations that touch in time count as concurrent).  Walking the list from
 * the head, every call met before the first return belongs to an operation
 * that may take effect next:
 *
 *   - at a call: apply the operation to the model state; if the output
 *     matches and (set of operations placed, new state) was never seen
 *     before, push it, unlink its call and return, and restart at the head;
 *     otherwise go on to the next entry;
 *   - at a return: that operation must have taken effect already and has
 *     not: pop the last placed operation, link it back, restore the state
 *     and go on after its call;
 *   - when every operation that returned is placed: linearizable; when a
 *     return is met with nothing left to pop: not linearizable.
 *
 * Lowe's memo is a hash set of (bitset of the placed operations, model
 * state): two paths that placed the same operations and left the model in
 * the same state have the same future, so the second is cut.  The set's hash
 * is kept incrementally (Zobrist: one random word per operation, XORed in
 * and out), so a step costs O(1) plus the bitset compare on a hit.  A model
 * state is (value, version) with values interned per key, so comparing two
 * states is comparing two integers.
 *
 * An operation that never returned has no return entry: it may be placed
 * at any call position after its own call, with any output, and the search
 * succeeds without it.  The budget counts steps (one look at one entry);
 * when it runs out the answer is UNKNOWN.
 *
 * Explaining a violation.  The deepest point of the search gives the
 * longest linearizable prefix and the operation it could not place next.
 * The core is then shrunk by relaxing operations: a relaxed operation may
 * take effect anywhere within its own interval or not at all, with any
 * output (a relaxed get constrains nothing and is dropped).  Relaxing only
 * adds linearizations, so "still not linearizable" is monotone and a greedy
 * pass is sound: every step is checked by a search, and kept only if the
 * key stays not linearizable.  What stays strict cannot be ordered whatever
 * the others did.  A relaxed operation still unplaced when the walk reaches
 * its return is "skipped" by a step of its own, memoised like any other.
 *
 * Relaxing most of a long history is expensive (any old write may then be
 * "the last one", and optional appends make every subsequence a value), so
 * on a long history the beginning is first held as observed: a cut time,
 * found near the stuck operation where few operations are in flight; the
 * operations that returned before it are the context, and an enumerating
 * search collects every point (decided set, state) they can end in, the
 * operations in flight at the cut being free to take effect on either side.
 * The rest is searched from each of those points.  Then: a time window
 * around the stuck operation, grown by doubling (everything outside relaxed
 * at once), then delta debugging (halves, quarters, ..., single operations).
 * Shrinking gets a budget of its own; when it runs out the core is correct
 * but maybe not minimal.
 *
 * Pure: no I/O (vsnprintf only formats into the caller's buffer), no clock,
 * no global state.
 */
#include "lincheck.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX

/* ---- names ------------------------------------------------------------- */

const char *lincheck_kind_name(enum lincheck_kind kind)
{
	switch (kind) {
	case LINCHECK_GET: return "get";
	case LINCHECK_PUT: return "put";
	case LINCHECK_APPEND: return "append";
	case LINCHECK_VPUT: return "vput";
	case LINCHECK_DEL: return "del";
	case LINCHECK_INCR: return "incr";
	}
	return "?";
}

const char *lincheck_reply_name(enum lincheck_reply reply)
{
	switch (reply) {
	case LINCHECK_REPLY_OK: return "OK";
	case LINCHECK_REPLY_ERR_VERSION: return "ErrVersion";
	case LINCHECK_REPLY_ERR_NOKEY: return "ErrNoKey";
	case LINCHECK_REPLY_ERR_MAYBE: return "ErrMaybe";
	case LINCHECK_REPLY_ERR_NOT_INTEGER: return "ErrNotInteger";
	}
	return "?";
}

bool lincheck_reply_parse(const char *s, enum lincheck_reply *reply)
{
	static const enum lincheck_reply all[] = {
		LINCHECK_REPLY_OK, LINCHECK_REPLY_ERR_VERSION,
		LINCHECK_REPLY_ERR_NOKEY, LINCHECK_REPLY_ERR_MAYBE, LINCHECK_REPLY_ERR_NOT_INTEGER,
	};
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, lincheck_reply_name(all[i])) == 0) {
			*reply = all[i];
			return true;
		}
	return false;
}

const char *lincheck_status_name(enum lincheck_status status)
{
	switch (status) {
	case LINCHECK_OK: return "ok";
	case LINCHECK_ILLEGAL: return "illegal";
	case LINCHECK_UNKNOWN: return "unknown";
	case LINCHECK_ENOMEM: return "out of memory";
	case LINCHECK_EINVAL: return "invalid";
	}
	return "?";
}

/* ---- the history --------------------------------------------------------- */

void lincheck_history_init(struct lincheck_history *h)
{
	memset(h, 0, sizeof(*h));
}

static void op_free(struct lincheck_op *op)
{
	free((void *)op->key);
	free((void *)op->value);
	free((void *)op->out_value);
}

void lincheck_history_free(struct lincheck_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		op_free(&h->ops[i]);
	free(h->ops);
	lincheck_history_init(h);
}

static bool valid_kind(enum lincheck_kind k)
{
	return k == LINCHECK_GET || k == LINCHECK_PUT || k == LINCHECK_APPEND || k == LINCHECK_VPUT ||
	       k == LINCHECK_DEL || k == LINCHECK_INCR;
}

/* Kinds that take a value as input. */
static bool takes_value(enum lincheck_kind k)
{
	return k == LINCHECK_PUT || k == LINCHECK_APPEND || k == LINCHECK_VPUT;
}

/* Kinds whose answer says something (a put or an append answers nothing). */
static bool answers(enum lincheck_kind k)
{
	return k == LINCHECK_VPUT || k == LINCHECK_DEL || k == LINCHECK_INCR;
}

static bool valid_reply(enum lincheck_kind k, enum lincheck_reply r)
{
	switch (k) {
	case LINCHECK_VPUT:
		return r == LINCHECK_REPLY_OK || r == LINCHECK_REPLY_ERR_VERSION ||
		       r == LINCHECK_REPLY_ERR_NOKEY || r == LINCHECK_REPLY_ERR_MAYBE;
	case LINCHECK_DEL:
		return r == LINCHECK_REPLY_OK || r == LINCHECK_REPLY_ERR_NOKEY;
	case LINCHECK_INCR:
		return r == LINCHECK_REPLY_OK || r == LINCHECK_REPLY_ERR_NOT_INTEGER;
	default:
		return true;
	}
}

/* Does the op keep an output value (a get, an incr that answered OK)? */
static bool has_out_value(enum lincheck_kind k, enum lincheck_reply r)
{
	return k == LINCHECK_GET || (k == LINCHECK_INCR && r == LINCHECK_REPLY_OK);
}

static int hist_fail(struct lincheck_history *h, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* Why the output of a returned op is unusable, or NULL. */
static const char *bad_output(enum lincheck_kind kind, const char *out_value,
			      enum lincheck_reply reply)
{
	if (kind == LINCHECK_GET && !out_value)
		return "a get that returned needs the value it read";
	if (!valid_reply(kind, reply))
		return kind == LINCHECK_VPUT ? "bad vput reply" : kind == LINCHECK_DEL ? "bad del reply" :
		       "bad incr reply";
	if (kind == LINCHECK_INCR && reply == LINCHECK_REPLY_OK && !out_value)
		return "an incr that answered OK needs the value it made";
	return NULL;
}

int lincheck_add(struct lincheck_history *h, const struct lincheck_op *op, size_t *index)
{
	size_t i = h->n;
	if (!valid_kind(op->kind))
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu: bad kind %d", i, (int)op->kind);
	if (!op->key)
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s by client %" PRIu32 "): no key",
				 i, lincheck_kind_name(op->kind), op->client);
	if (takes_value(op->kind) && !op->value)
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s %s by client %" PRIu32 "): no value",
				 i, lincheck_kind_name(op->kind), op->key, op->client);
	if (op->ret != LINCHECK_PENDING) {
		if (op->ret < op->call)
			return hist_fail(h, LINCHECK_EINVAL,
					 "operation %zu (%s %s by client %" PRIu32 "): return %" PRIu64
					 " before call %" PRIu64, i, lincheck_kind_name(op->kind),
					 op->key, op->client, op->ret, op->call);
		const char *why = bad_output(op->kind, op->out_value, op->reply);
		if (why)
			return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s %s by client %" PRIu32 "): %s",
					 i, lincheck_kind_name(op->kind), op->key, op->client, why);
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct lincheck_op *ops = realloc(h->ops, cap * sizeof(*ops));
		if (!ops)
			return hist_fail(h, LINCHECK_ENOMEM, "out of memory adding operation %zu", i);
		h->ops = ops;
		h->cap = cap;
	}
	struct lincheck_op c = *op;
	bool returned = op->ret != LINCHECK_PENDING;
	bool out = returned && has_out_value(op->kind, op->reply);
	c.key = strdup(op->key);
	c.value = takes_value(op->kind) ? strdup(op->value) : NULL;
	c.out_value = out ? strdup(op->out_value) : NULL;
	if (!c.key || (takes_value(op->kind) && !c.value) || (out && !c.out_value)) {
		op_free(&c);
		return hist_fail(h, LINCHECK_ENOMEM, "out of memory adding operation %zu", i);
	}
	if (op->kind != LINCHECK_GET)
		c.out_version = 0;
	if (op->kind != LINCHECK_VPUT)
		c.version = 0;
	if (!answers(op->kind) || !returned)
		c.reply = LINCHECK_REPLY_OK;
	h->ops[h->n++] = c;
	if (index)
		*index = i;
	return LINCHECK_OK;
}

int lincheck_finish(struct lincheck_history *h, size_t index, uint64_t ret,
		    const char *out_value, uint64_t out_version, enum lincheck_reply reply)
{
	if (index >= h->n)
		return hist_fail(h, LINCHECK_EINVAL, "no operation %zu (the history has %zu)", index, h->n);
	struct lincheck_op *op = &h->ops[index];
	if (op->ret != LINCHECK_PENDING)
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s %s by client %" PRIu32
				 "): already returned at %" PRIu64, index,
				 lincheck_kind_name(op->kind), op->key, op->client, op->ret);
	if (ret == LINCHECK_PENDING || ret < op->call)
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s %s by client %" PRIu32
				 "): bad return time %" PRIu64 " (call %" PRIu64 ")", index,
				 lincheck_kind_name(op->kind), op->key, op->client, ret, op->call);
	const char *why = bad_output(op->kind, out_value, reply);
	if (why)
		return hist_fail(h, LINCHECK_EINVAL, "operation %zu (%s %s by client %" PRIu32 "): %s",
				 index, lincheck_kind_name(op->kind), op->key, op->client, why);
	if (has_out_value(op->kind, reply)) {
		char *copy = strdup(out_value);
		if (!copy)
			return hist_fail(h, LINCHECK_ENOMEM, "out of memory finishing operation %zu", index);
		op->out_value = copy;
		if (op->kind == LINCHECK_GET)
			op->out_version = out_version;
	}
	if (answers(op->kind))
		op->reply = reply;
	op->ret = ret;
	return LINCHECK_OK;
}

/* ---- hashing --------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- interned values (one table per key) --------------------------------- */

struct strs {
	char **s;                            /* s[id], NUL-terminated; s[0] is "" */
	size_t *len;
	uint64_t *hash;
	size_t n, cap;
	size_t *slot;                        /* id + 1; 0 = empty */
	size_t mask;
};

static void strs_free(struct strs *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->len);
	free(t->hash);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static bool strs_grow_slots(struct strs *t)
{
	size_t nslots = t->slot ? 2 * (t->mask + 1) : 64;
	size_t *slot = calloc(nslots, sizeof(*slot));
	if (!slot)
		return false;
	for (size_t id = 0; id < t->n; id++) {
		size_t j = t->hash[id] & (nslots - 1);
		while (slot[j])
			j = (j + 1) & (nslots - 1);
		slot[j] = id + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = nslots - 1;
	return true;
}

/* The id of the string a..b (b may be empty).  False: out of memory. */
static bool strs_intern(struct strs *t, const char *a, size_t alen,
			const char *b, size_t blen, uint32_t *id)
{
	uint64_t h = fnv(fnv(0xcbf29ce484222325ULL, a, alen), b, blen);
	size_t len = alen + blen;
	if (t->slot) {
		for (size_t j = h & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
			size_t k = t->slot[j] - 1;
			if (t->hash[k] == h && t->len[k] == len &&
			    memcmp(t->s[k], a, alen) == 0 && memcmp(t->s[k] + alen, b, blen) == 0) {
				*id = (uint32_t)k;
				return true;
			}
		}
	}
	if (t->n >= UINT32_MAX)
		return false;
	if ((t->n + 1) * 2 > (t->slot ? t->mask + 1 : 0) && !strs_grow_slots(t))
		return false;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **s = realloc(t->s, cap * sizeof(*s));
		if (!s)
			return false;
		t->s = s;
		size_t *l = realloc(t->len, cap * sizeof(*l));
		if (!l)
			return false;
		t->len = l;
		uint64_t *hs = realloc(t->hash, cap * sizeof(*hs));
		if (!hs)
			return false;
		t->hash = hs;
		t->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return false;
	memcpy(copy, a, alen);
	memcpy(copy + alen, b, blen);
	copy[len] = '\0';
	size_t k = t->n++;
	t->s[k] = copy;
	t->len[k] = len;
	t->hash[k] = h;
	size_t j = h & t->mask;
	while (t->slot[j])
		j = (j + 1) & t->mask;
	t->slot[j] = k + 1;
	*id = (uint32_t)k;
	return true;
}

static bool strs_add(struct strs *t, const char *s, uint32_t *id)
{
	return strs_intern(t, s, strlen(s), "", 0, id);
}

/* ---- one key's operations -------------------------------------------------- */

struct pop {                             /* an operation as the search sees it */
	size_t hist;                         /* its index in the history */
	enum lincheck_kind kind;
	uint32_t in;                         /* input value */
	uint64_t expect;                     /* vput: expected version */
	uint32_t out;                        /* get: the value read; incr: the value made */
	uint64_t out_version;                /* get: its version, or LINCHECK_ANY_VERSION */
	enum lincheck_reply reply;           /* vput, del, incr */
	uint64_t call, ret;
	bool pending;
	uint64_t zobrist;
};

struct entry {                           /* a call or a return in the time line */
	uint32_t op;
	bool is_ret;
	uint64_t time;
};

struct part {
	const char *key;                     /* borrowed from the history */
	size_t first;                        /* smallest history index on this key */
	struct pop *ops;
	size_t n;
	struct entry *ents;                  /* every call and return, in time order */
	size_t n_ents;
	uint32_t *by_call;                   /* ops in call order */
	struct strs strs;
};

static void part_free(struct part *p)
{
	free(p->ops);
	free(p->ents);
	free(p->by_call);
	strs_free(&p->strs);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->is_ret != y->is_ret)          /* calls first: touching ops overlap */
		return x->is_ret ? 1 : -1;
	return x->op < y->op ? -1 : x->op > y->op;
}

struct keyed {
	const char *key;
	size_t index;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct by_call {
	uint64_t call;
	size_t hist;
	uint32_t op;
};

static int by_call_cmp(const void *a, const void *b)
{
	const struct by_call *x = a, *y = b;
	if (x->call != y->call)
		return x->call < y->call ? -1 : 1;
	return x->hist < y->hist ? -1 : x->hist > y->hist;
}

/* Fill p with the operations idx[0..n) of h (one key, history order). */
static bool part_build(struct part *p, const struct lincheck_history *h,
		       const struct keyed *idx, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->key = idx[0].key;
	p->first = idx[0].index;
	p->ops = calloc(n ? n : 1, sizeof(*p->ops));
	p->ents = calloc(2 * n + 1, sizeof(*p->ents));
	uint32_t empty;
	if (!p->ops || !p->ents || !strs_add(&p->strs, "", &empty))
		return false;
	assert(empty == 0);
	for (size_t i = 0; i < n; i++) {
		const struct lincheck_op *o = &h->ops[idx[i].index];
		if (o->kind == LINCHECK_GET && o->ret == LINCHECK_PENDING)
			continue;            /* a get that never returned constrains nothing */
		struct pop *q = &p->ops[p->n];
		q->hist = idx[i].index;
		q->kind = o->kind;
		q->expect = o->version;
		q->out_version = o->out_version;
		q->reply = o->reply;
		q->call = o->call;
		q->ret = o->ret;
		q->pending = o->ret == LINCHECK_PENDING;
		q->zobrist = mix64(p->n ^ 0x6c696e636865636bULL);
		if (takes_value(o->kind) && !strs_add(&p->strs, o->value, &q->in))
			return false;
		if (o->out_value && !strs_add(&p->strs, o->out_value, &q->out))
			return false;
		p->ents[p->n_ents++] = (struct entry){ .op = (uint32_t)p->n, .is_ret = false, .time = o->call };
		if (!q->pending)
			p->ents[p->n_ents++] = (struct entry){ .op = (uint32_t)p->n, .is_ret = true, .time = o->ret };
		p->n++;
	}
	qsort(p->ents, p->n_ents, sizeof(*p->ents), entry_cmp);
	struct by_call *order = malloc((p->n + 1) * sizeof(*order));
	p->by_call = malloc((p->n + 1) * sizeof(*p->by_call));
	if (!order || !p->by_call) {
		free(order);
		return false;
	}
	for (size_t i = 0; i < p->n; i++)
		order[i] = (struct by_call){ p->ops[i].call, p->ops[i].hist, (uint32_t)i };
	qsort(order, p->n, sizeof(*order), by_call_cmp);
	for (size_t i = 0; i < p->n; i++)
		p->by_call[i] = order[i].op;
	free(order);
	return true;
}

/* ---- the sequential model -------------------------------------------------- */

struct state {
	uint32_t value;                      /* interned; 0 is "" */
	uint64_t version;                    /* 0: the key is missing */
};

enum step { STEP_OK, STEP_MISMATCH, STEP_NOMEM };

/* Redis's integer rule, as the store applies it to incr: the canonical
 * decimal text of a 64-bit integer (optional '-', no leading zero). */
static bool int_text(const char *t, size_t len, int64_t *v)
{
	size_t i = 0;
	bool neg = false;
	uint64_t u = 0;
	if (len == 0 || len > 20)
		return false;
	if (t[0] == '-')
		neg = true, i = 1;
	if (i == len || t[i] < '0' || t[i] > '9')
		return false;
	if (t[i] == '0') {
		*v = 0;
		return !neg && len == 1;
	}
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		uint64_t d = (uint64_t)(t[i] - '0');
		if (u > (limit - d) / 10)
			return false;
		u = u * 10 + d;
	}
	*v = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
	return true;
}

/* Apply op to s.  With any_output (a pending or relaxed op) whatever it
 * answered is accepted; otherwise its observed output must be the model's. */
static enum step model_step(struct part *p, const struct pop *op, bool any_output,
			    struct state s, struct state *next)
{
	*next = s;
	switch (op->kind) {
	case LINCHECK_GET:
		if (any_output)
			return STEP_OK;
		if (s.value != op->out)
			return STEP_MISMATCH;
		if (op->out_version != LINCHECK_ANY_VERSION && op->out_version != s.version)
			return STEP_MISMATCH;
		return STEP_OK;
	case LINCHECK_PUT:
		*next = (struct state){ op->in, s.version + 1 };
		return STEP_OK;
	case LINCHECK_APPEND: {
		uint32_t id;
		if (!strs_intern(&p->strs, p->strs.s[s.value], p->strs.len[s.value],
				 p->strs.s[op->in], p->strs.len[op->in], &id))
			return STEP_NOMEM;
		*next = (struct state){ id, s.version + 1 };
		return STEP_OK;
	}
	case LINCHECK_VPUT: {
		enum lincheck_reply r;
		if (s.version == 0)
			r = op->expect == 0 ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOKEY;
		else
			r = op->expect == s.version ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_VERSION;
		if (!any_output) {
			if (op->reply == LINCHECK_REPLY_ERR_MAYBE) {
				if (r == LINCHECK_REPLY_ERR_NOKEY)
					return STEP_MISMATCH;
			} else if (op->reply != r) {
				return STEP_MISMATCH;
			}
		}
		if (r == LINCHECK_REPLY_OK)
			*next = (struct state){ op->in, s.version + 1 };
		return STEP_OK;
	}
	case LINCHECK_DEL: {
		enum lincheck_reply r = s.version ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOKEY;
		if (!any_output && op->reply != r)
			return STEP_MISMATCH;
		*next = (struct state){ 0, 0 };
		return STEP_OK;
	}
	case LINCHECK_INCR: {
		int64_t v = 0;
		if (s.version && !int_text(p->strs.s[s.value], p->strs.len[s.value], &v))
			v = INT64_MAX;               /* not an integer: refused like the largest */
		if (v == INT64_MAX)
			return any_output || op->reply == LINCHECK_REPLY_ERR_NOT_INTEGER ? STEP_OK : STEP_MISMATCH;
		char text[24];
		uint32_t id;
		int len = snprintf(text, sizeof(text), "%" PRId64, v + 1);
		if (!strs_intern(&p->strs, text, (size_t)len, "", 0, &id))
			return STEP_NOMEM;
		if (!any_output && (op->reply != LINCHECK_REPLY_OK || op->out != id))
			return STEP_MISMATCH;
		*next = (struct state){ id, s.version + 1 };
		return STEP_OK;
	}
	}
	return STEP_MISMATCH;
}

/* ---- Lowe's memo: (placed set, state) pairs already explored ---------------- */

struct memo_ent {
	uint64_t hash;
	uint64_t version;
	uint32_t value;
};

struct memo {
	size_t words;                        /* bitset size */
	uint64_t *sets;                      /* sets[i * words ..]: entry i's set */
	struct memo_ent *ents;
	size_t n, cap;
	size_t *slot;                        /* entry + 1; 0 = empty */
	size_t mask;
};

static void memo_free(struct memo *m)
{
	free(m->sets);
	free(m->ents);
	free(m->slot);
}

static bool memo_rehash(struct memo *m)
{
	size_t nslots = m->slot ? 2 * (m->mask + 1) : 1024;
	size_t *slot = calloc(nslots, sizeof(*slot));
	if (!slot)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = m->ents[i].hash & (nslots - 1);
		while (slot[j])
			j = (j + 1) & (nslots - 1);
		slot[j] = i + 1;
	}
	free(m->slot);
	m->slot = slot;
	m->mask = nslots - 1;
	return true;
}

/* 1: (set, s) is new and now remembered; 0: seen before; -1: out of memory. */
static int memo_add(struct memo *m, const uint64_t *set, uint64_t set_hash, struct state s)
{
	uint64_t h = mix64(set_hash ^ mix64(((uint64_t)s.value << 1) ^ mix64(s.version)));
	if (m->slot) {
		for (size_t j = h & m->mask; m->slot[j]; j = (j + 1) & m->mask) {
			size_t i = m->slot[j] - 1;
			const struct memo_ent *e = &m->ents[i];
			if (e->hash == h && e->value == s.value && e->version == s.version &&
			    memcmp(&m->sets[i * m->words], set, m->words * sizeof(*set)) == 0)
				return 0;
		}
	}
	if ((m->n + 1) * 2 > (m->slot ? m->mask + 1 : 0) && !memo_rehash(m))
		return -1;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		struct memo_ent *ents = realloc(m->ents, cap * sizeof(*ents));
		if (!ents)
			return -1;
		m->ents = ents;
		uint64_t *sets = realloc(m->sets, cap * m->words * sizeof(*sets));
		if (!sets)
			return -1;
		m->sets = sets;
		m->cap = cap;
	}
	size_t i = m->n++;
	m->ents[i] = (struct memo_ent){ .hash = h, .version = s.version, .value = s.value };
	memcpy(&m->sets[i * m->words], set, m->words * sizeof(*set));
	size_t j = h & m->mask;
	while (m->slot[j])
		j = (j + 1) & m->mask;
	m->slot[j] = i + 1;
	return 1;
}

/* ---- the search (Wing & Gong with Lowe's memo) ----------------------------- */

/* How the search treats each operation of a part. */
enum mode {
	MODE_STRICT = 0,                     /* as observed */
	MODE_RELAXED = 1,                    /* within its interval or never, any output */
	MODE_DROPPED = 2,                    /* left out (a relaxed get, or after a cut) */
	MODE_LATER = 3,                      /* before a cut: now (as observed) or after it */
};

/* The deepest point of a search: the longest prefix it placed and the
 * operation whose return stopped it there. */
struct deep {
	uint32_t *prefix;                    /* op indices, in placing order */
	size_t n_prefix;
	size_t stuck;                        /* an op index, or NONE */
};

/* Where a search starts: ops already decided and the model state then. */
struct start {
	const uint64_t *placed;
	struct state state;
};

/* The end points of an enumerating search: every (decided set, state) in
 * which all its mandatory ops are placed, up to max of them. */
struct ends {
	size_t words, n, cap, max;
	uint64_t *sets;
	struct state *states;
};

static void ends_free(struct ends *e)
{
	free(e->sets);
	free(e->states);
	e->sets = NULL;
	e->states = NULL;
	e->n = e->cap = 0;
}

static bool ends_add(struct ends *e, const uint64_t *set, struct state st)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;
		uint64_t *sets = realloc(e->sets, cap * e->words * sizeof(*sets));
		if (!sets)
			return false;
		e->sets = sets;
		struct state *states = realloc(e->states, cap * sizeof(*states));
		if (!states)
			return false;
		e->states = states;
		e->cap = cap;
	}
	memcpy(&e->sets[e->n * e->words], set, e->words * sizeof(*set));
	e->states[e->n++] = st;
	return true;
}

struct frame {
	uint32_t op;
	bool skip;                           /* a relaxed op given up at its return */
	struct state before;
};

struct search {
	struct part *p;
	const uint8_t *mode;
	size_t *next, *prev;                 /* the entry list; sentinel = p->n_ents */
	size_t *call_at, *ret_at;            /* per op: its entries (ret_at NONE if pending) */
	uint64_t *placed;                    /* bitset of the ops decided so far */
	uint64_t placed_hash;
	struct frame *stack;
	size_t sp;
	size_t depth;                        /* frames that placed an op (not skips) */
	struct state state;
	size_t left;                         /* mandatory ops not yet placed */
	struct memo memo;
	struct deep *deep;                   /* record the deepest point, or NULL */
	struct ends *ends;                   /* enumerate end points, or NULL */
};

static bool is_placed(const uint64_t *set, uint32_t op)
{
	return set[op / 64] >> (op % 64) & 1;
}

static void ent_unlink(struct search *s, size_t e)
{
	s->next[s->prev[e]] = s->next[e];
	s->prev[s->next[e]] = s->prev[e];
}

static void ent_relink(struct search *s, size_t e)
{
	s->next[s->prev[e]] = e;
	s->prev[s->next[e]] = e;
}

/* Take op out of the time line (its call, then its return); unlift undoes
 * exactly that, in reverse, as in dancing links. */
static void lift(struct search *s, uint32_t op)
{
	ent_unlink(s, s->call_at[op]);
	if (s->ret_at[op] != NONE)
		ent_unlink(s, s->ret_at[op]);
}

static void unlift(struct search *s, uint32_t op)
{
	if (s->ret_at[op] != NONE)
		ent_relink(s, s->ret_at[op]);
	ent_relink(s, s->call_at[op]);
}

static void mark(struct search *s, uint32_t op)
{
	s->placed[op / 64] ^= (uint64_t)1 << (op % 64);
	s->placed_hash ^= s->p->ops[op].zobrist;
}

static bool mandatory(const struct search *s, uint32_t op)
{
	return s->mode[op] == MODE_STRICT && !s->p->ops[op].pending;
}

/* Decide op (placed, or skipped) leading to state `after`.  1: a new point,
 * pushed; 0: seen before, nothing done; -1: out of memory. */
static int push(struct search *s, uint32_t op, bool skip, struct state after)
{
	mark(s, op);
	int r = memo_add(&s->memo, s->placed, s->placed_hash, after);
	if (r <= 0) {
		mark(s, op);
		return r;
	}
	s->stack[s->sp++] = (struct frame){ .op = op, .skip = skip, .before = s->state };
	lift(s, op);
	s->state = after;
	s->left -= mandatory(s, op);
	if (skip)
		return 1;
	s->depth++;
	struct deep *d = s->deep;
	if (d && s->depth > d->n_prefix) {
		size_t k = 0;
		for (size_t i = 0; i < s->sp; i++)
			if (!s->stack[i].skip)
				d->prefix[k++] = s->stack[i].op;
		d->n_prefix = k;
		d->stuck = NONE;
	}
	return 1;
}

/* Undo decisions back to the last placed op; *cur = the entry after its
 * call, the next thing to try.  False when nothing is left to undo. */
static bool backtrack(struct search *s, size_t *cur)
{
	for (;;) {
		if (s->sp == 0)
			return false;
		struct frame f = s->stack[--s->sp];
		unlift(s, f.op);
		mark(s, f.op);
		s->state = f.before;
		s->left += mandatory(s, f.op);
		if (!f.skip) {               /* a skip was the last choice at its point */
			s->depth--;
			*cur = s->next[s->call_at[f.op]];
			return true;
		}
	}
}

static int search_loop(struct search *s, uint64_t *budget)
{
	struct part *p = s->p;
	size_t head = p->n_ents;             /* the sentinel */
	if (memo_add(&s->memo, s->placed, s->placed_hash, s->state) < 0)
		return LINCHECK_ENOMEM;
	size_t cur = s->next[head];
	for (;;) {
		if (s->left == 0) {
			if (!s->ends)
				return LINCHECK_OK;
			/* enumerating: note this end point and look for others */
			if (s->ends->n == s->ends->max)
				return LINCHECK_UNKNOWN;
			if (!ends_add(s->ends, s->placed, s->state))
				return LINCHECK_ENOMEM;
			if (!backtrack(s, &cur))
				return LINCHECK_ILLEGAL;     /* all found */
			continue;
		}
		assert(cur != head);         /* an unplaced strict op's return is ahead */
		if (*budget == 0)
			return LINCHECK_UNKNOWN;
		(*budget)--;
		const struct entry *e = &p->ents[cur];
		uint32_t op = e->op;
		if (!e->is_ret) {
			/* op may take effect now: try it */
			bool any = s->mode[op] == MODE_RELAXED || p->ops[op].pending;
			struct state after;
			enum step r = model_step(p, &p->ops[op], any, s->state, &after);
			if (r == STEP_NOMEM)
				return LINCHECK_ENOMEM;
			int pushed = r == STEP_OK ? push(s, op, false, after) : 0;
			if (pushed < 0)
				return LINCHECK_ENOMEM;
			cur = pushed ? s->next[head] : s->next[cur];
			continue;
		}
		/* op returned and was not placed: a relaxed op may just not have happened */
		if (s->mode[op] == MODE_RELAXED) {
			int pushed = push(s, op, true, s->state);
			if (pushed < 0)
				return LINCHECK_ENOMEM;
			if (pushed) {
				cur = s->next[head];
				continue;
			}
		}
		if (s->deep && s->depth == s->deep->n_prefix && s->deep->stuck == NONE)
			s->deep->stuck = op;
		if (!backtrack(s, &cur))
			return LINCHECK_ILLEGAL;  /* enumerating: all found */
	}
}

/*
 * Is p linearizable with its ops treated as mode[] says, starting from
 * `from` (NULL: nothing decided, the key missing)?  Spends at most *budget
 * steps (decremented).  deep (if not NULL, deep->prefix holding p->n ops)
 * receives the deepest point.  With ends, the search does not stop at the
 * first linearization but collects the end point of every one, and answers
 * ILLEGAL when it has them all (UNKNOWN past ends->max).
 */
static int search(struct part *p, const uint8_t *mode, uint64_t *budget, struct deep *deep,
		  const struct start *from, struct ends *ends)
{
	struct search s = { .p = p, .mode = mode, .deep = deep, .ends = ends };
	size_t words = (p->n + 63) / 64;
	s.memo.words = words ? words : 1;
	s.next = malloc((p->n_ents + 1) * sizeof(*s.next));
	s.prev = malloc((p->n_ents + 1) * sizeof(*s.prev));
	s.call_at = malloc((p->n + 1) * sizeof(*s.call_at));
	s.ret_at = malloc((p->n + 1) * sizeof(*s.ret_at));
	s.placed = calloc(s.memo.words, sizeof(*s.placed));
	s.stack = malloc((p->n + 1) * sizeof(*s.stack));
	int r = LINCHECK_ENOMEM;
	if (!s.next || !s.prev || !s.call_at || !s.ret_at || !s.placed || !s.stack)
		goto out;
	if (deep) {
		deep->n_prefix = 0;
		deep->stuck = NONE;
	}
	if (from) {
		memcpy(s.placed, from->placed, s.memo.words * sizeof(*s.placed));
		s.state = from->state;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		s.call_at[i] = s.ret_at[i] = NONE;
		if (is_placed(s.placed, i))
			s.placed_hash ^= p->ops[i].zobrist;
		else if (mode[i] != MODE_DROPPED)
			s.left += mandatory(&s, i);
	}
	size_t head = p->n_ents, last = head;
	for (size_t e = 0; e < p->n_ents; e++) {
		uint32_t op = p->ents[e].op;
		if (mode[op] == MODE_DROPPED || is_placed(s.placed, op))
			continue;
		if (p->ents[e].is_ret && mode[op] == MODE_LATER)
			continue;            /* it returns after the cut */
		if (p->ents[e].is_ret)
			s.ret_at[op] = e;
		else
			s.call_at[op] = e;
		s.next[last] = e;
		s.prev[e] = last;
		last = e;
	}
	s.next[last] = head;
	s.prev[head] = last;
	r = search_loop(&s, budget);
out:
	free(s.next);
	free(s.prev);
	free(s.call_at);
	free(s.ret_at);
	free(s.placed);
	free(s.stack);
	memo_free(&s.memo);
	return r;
}

/* ---- shrinking the explanation ------------------------------------------- */

#define CONTEXT_MIN 16                   /* keep at least this many prefix ops after a cut */
#define CONTEXT_SMALL 8                  /* a context of fewer ops is not worth its words */
#define CONTEXT_STATES 256               /* a cut may leave the key in at most this many states */

struct shrink {
	struct part *p;
	uint8_t *mode;
	uint64_t budget;
	bool minimal;                        /* no try came back UNKNOWN */
	int err;                             /* LINCHECK_ENOMEM, or 0 */
	/* the cut: ops that returned before `since` are held as observed and
	 * the search starts from each point they can end in (none: no cut) */
	uint64_t since;
	size_t n_context;
	struct ends cut;
};

static void set_relaxed(struct shrink *k, uint32_t op)
{
	k->mode[op] = k->p->ops[op].kind == LINCHECK_GET ? MODE_DROPPED : MODE_RELAXED;
}

/* Is the part (as k->mode says, from every end point of the cut) still
 * not linearizable? */
static int search_all(struct shrink *k)
{
	if (k->cut.n == 0)
		return search(k->p, k->mode, &k->budget, NULL, NULL, NULL);
	for (size_t i = 0; i < k->cut.n; i++) {
		struct start from = { &k->cut.sets[i * k->cut.words], k->cut.states[i] };
		int r = search(k->p, k->mode, &k->budget, NULL, &from, NULL);
		if (r != LINCHECK_ILLEGAL)
			return r;
	}
	return LINCHECK_ILLEGAL;
}

/* A vput, del or incr in flight at the cut stays strict: the context's end
 * points were found with it answering as observed, and relaxed it could
 * have answered otherwise (a put or append answers nothing; a relaxed get
 * is dropped). */
static bool can_relax(const struct shrink *k, uint32_t op)
{
	const struct pop *o = &k->p->ops[op];
	return !(k->n_context && answers(o->kind) && o->call < k->since);
}

/* Relax ops[0..n) (all relaxable); keep that if the part stays not
 * linearizable.  True if kept, else the ops are strict again. */
static bool try_relax(struct shrink *k, const uint32_t *ops, size_t n)
{
	if (k->err || n == 0)
		return false;
	if (k->budget == 0) {
		k->minimal = false;
		return false;
	}
	for (size_t i = 0; i < n; i++)
		set_relaxed(k, ops[i]);
	int r = search_all(k);
	if (r == LINCHECK_ILLEGAL)
		return true;
	if (r == LINCHECK_UNKNOWN)
		k->minimal = false;
	if (r == LINCHECK_ENOMEM)
		k->err = LINCHECK_ENOMEM;
	for (size_t i = 0; i < n; i++)
		k->mode[ops[i]] = MODE_STRICT;
	return false;
}

/* The strict returned ops after the cut that may be relaxed, in call order. */
static size_t strict_ops(const struct shrink *k, uint32_t *strict)
{
	size_t n = 0;
	for (size_t i = 0; i < k->p->n; i++) {
		uint32_t op = k->p->by_call[i];
		const struct pop *o = &k->p->ops[op];
		if (!o->pending && o->ret >= k->since && k->mode[op] == MODE_STRICT && can_relax(k, op))
			strict[n++] = op;
	}
	return n;
}

/* How bad a cut at m is: the ops in flight then (called before, returning
 * at or after), one that answers (vput, del, incr) counting as many (it
 * could not be relaxed). */
static size_t in_flight(const struct part *p, uint64_t m)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->ops[i].call < m && p->ops[i].ret >= m)
			n += answers(p->ops[i].kind) && !p->ops[i].pending ? p->n : 1;
	return n;
}

/*
 * On a long history, hold its beginning as observed, so that shrinking
 * does not search through it with most of it relaxed (where any old write
 * may be "the last one" and the states multiply).  The cut is a time m: the
 * ops that returned before m are the context, kept as observed.  Ops in
 * flight at m (called before, returning after) may take effect on either
 * side, so the context search may place them (as observed) or leave them.
 * It enumerates every point the context can end in (the set decided, the
 * state) and the rest is then searched from each of them.
 *
 * m is a call time among `back` more ops of the deepest prefix before the
 * last `back` ones, the one with the fewest ops in flight (see in_flight).
 * `back` doubles from CONTEXT_MIN until the rest (with the ops called after
 * the stuck op x returned relaxed) is linearizable from none of the end
 * points, or the context would be too small to be worth it.
 */
static void choose_cut(struct shrink *k, const struct deep *deep)
{
	struct part *p = k->p;
	const struct pop *x = &p->ops[deep->stuck];
	for (size_t back = CONTEXT_MIN; back < deep->n_prefix && !k->err && k->budget; back *= 2) {
		size_t last = deep->n_prefix - back;
		size_t first = last > back ? last - back : 0;
		uint64_t m = 0;
		size_t best = NONE;
		for (size_t j = last + 1; j-- > first;) {
			uint64_t c = p->ops[deep->prefix[j]].call;
			size_t f = c <= x->call ? in_flight(p, c) : NONE;
			if (f < best) {
				best = f;
				m = c;
			}
		}
		size_t n_before = 0;
		for (uint32_t i = 0; i < p->n; i++) {
			const struct pop *o = &p->ops[i];
			if (o->call >= m)
				k->mode[i] = MODE_DROPPED;
			else if (!o->pending && o->ret < m)
				k->mode[i] = MODE_STRICT, n_before++;
			else if (!o->pending)
				k->mode[i] = MODE_LATER;
			else
				k->mode[i] = MODE_STRICT;   /* pending: may take effect anywhere */
		}
		if (n_before < CONTEXT_SMALL) {
			memset(k->mode, MODE_STRICT, p->n);
			return;              /* earlier cuts are smaller still */
		}
		k->cut = (struct ends){ .words = p->n ? (p->n + 63) / 64 : 1, .max = CONTEXT_STATES };
		int r = search(p, k->mode, &k->budget, NULL, NULL, &k->cut);
		memset(k->mode, MODE_STRICT, p->n);
		if (r == LINCHECK_ENOMEM)
			k->err = LINCHECK_ENOMEM;
		if (r == LINCHECK_ILLEGAL && k->cut.n > 0) {
			k->since = m;
			for (uint32_t i = 0; i < p->n; i++)
				if (!p->ops[i].pending && p->ops[i].call > x->ret)
					set_relaxed(k, i);
			r = search_all(k);
			if (r == LINCHECK_ENOMEM)
				k->err = LINCHECK_ENOMEM;
			if (r == LINCHECK_ILLEGAL) {
				k->n_context = n_before;
				return;
			}
			memset(k->mode, MODE_STRICT, p->n);
			k->since = 0;
		}
		ends_free(&k->cut);
	}
}

/*
 * Shrink the strict ops of an illegal part to a core, leaving it in
 * strict[0..*n), in call order.  tmp holds p->n ops.
 */
static void shrink(struct shrink *k, const struct deep *deep, uint32_t *strict, size_t *n,
		   uint32_t *tmp)
{
	struct part *p = k->p;
	assert(deep->stuck != NONE);
	const struct pop *x = &p->ops[deep->stuck];
	/* 1. on a long history, a cut that holds its beginning as observed */
	choose_cut(k, deep);
	*n = strict_ops(k, strict);
	/* 2. a window around the stuck op, grown until it holds the violation */
	for (size_t want = 0; !k->err; want = want ? 2 * want : 1) {
		size_t back = want < deep->n_prefix ? want : deep->n_prefix;
		uint64_t t0 = x->call;
		for (size_t i = deep->n_prefix - back; i < deep->n_prefix; i++)
			if (p->ops[deep->prefix[i]].call < t0)
				t0 = p->ops[deep->prefix[i]].call;
		size_t nin = 0, nout = 0;
		for (size_t i = 0; i < *n; i++) {
			const struct pop *o = &p->ops[strict[i]];
			if (o->call <= x->ret && o->ret >= t0)
				strict[nin++] = strict[i];
			else
				tmp[nout++] = strict[i];
		}
		if (nout == 0)
			break;
		if (try_relax(k, tmp, nout)) {
			*n = nin;
			break;
		}
		*n = strict_ops(k, strict);  /* as before the try */
		if (back == deep->n_prefix || k->budget == 0)
			break;
	}
	/* 3. delta debugging: relax chunks, halving their size down to one op */
	for (size_t chunk = *n / 2 ? *n / 2 : 1; !k->err; chunk /= 2) {
		for (size_t i = 0; i < *n;) {
			size_t c = chunk < *n - i ? chunk : *n - i;
			if (c < *n && try_relax(k, strict + i, c)) {
				memmove(strict + i, strict + i + c, (*n - i - c) * sizeof(*strict));
				*n -= c;
			} else {
				i += c;
			}
		}
		if (chunk <= 1)
			break;
	}
	/* 4. the core: what is still strict, with the ops that could not be relaxed */
	size_t relaxable = *n;
	*n = 0;
	for (size_t i = 0; i < p->n; i++) {
		uint32_t op = p->by_call[i];
		const struct pop *o = &p->ops[op];
		if (!o->pending && o->ret >= k->since && k->mode[op] == MODE_STRICT)
			strict[(*n)++] = op;
	}
	if (*n != relaxable)
		k->minimal = false;
}

/* ---- the check ------------------------------------------------------------- */

static int check_fail(struct lincheck_result *out, const char *key, size_t n)
{
	out->verdict = LINCHECK_ENOMEM;
	snprintf(out->errmsg, sizeof(out->errmsg), "out of memory checking key %s (%zu operations)",
		 key ? key : "-", n);
	return LINCHECK_ENOMEM;
}

static int part_order(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Record an illegal part in out: its key, deepest prefix and shrunk core. */
static int report_illegal(struct part *p, const struct deep *deep, uint64_t budget,
			  struct lincheck_result *out)
{
	out->verdict = LINCHECK_ILLEGAL;
	out->key = strdup(p->key);
	out->n_key_ops = p->n;
	out->prefix = malloc((deep->n_prefix + 1) * sizeof(*out->prefix));
	out->core = malloc((p->n + 1) * sizeof(*out->core));
	uint8_t *mode = calloc(p->n + 1, 1);
	uint32_t *strict = malloc((p->n + 1) * sizeof(*strict));
	uint32_t *tmp = malloc((p->n + 1) * sizeof(*tmp));
	struct shrink k = { .p = p, .mode = mode, .budget = budget, .minimal = true };
	int r = LINCHECK_ENOMEM;
	if (!out->key || !out->prefix || !out->core || !mode || !strict || !tmp)
		goto out;
	for (size_t i = 0; i < deep->n_prefix; i++)
		out->prefix[i] = p->ops[deep->prefix[i]].hist;
	out->n_prefix = deep->n_prefix;
	out->stuck = deep->stuck != NONE ? p->ops[deep->stuck].hist : LINCHECK_NONE;
	size_t n = 0;
	shrink(&k, deep, strict, &n, tmp);
	out->steps += budget - k.budget;
	if (k.err)
		goto out;
	for (size_t i = 0; i < n; i++)
		out->core[i] = p->ops[strict[i]].hist;
	out->n_core = n;
	out->core_minimal = k.minimal;
	if (k.n_context) {
		out->since = k.since;
		out->n_context = k.n_context;
		for (size_t i = 0; i < k.cut.n; i++) {   /* distinct states only */
			size_t j = 0;
			while (j < i && (k.cut.states[j].value != k.cut.states[i].value ||
					 k.cut.states[j].version != k.cut.states[i].version))
				j++;
			out->n_context_states += j == i;
		}
		out->context_version = k.cut.states[0].version;
		out->context_value = strdup(p->strs.s[k.cut.states[0].value]);
		if (!out->context_value)
			goto out;
	}
	r = LINCHECK_ILLEGAL;
out:
	ends_free(&k.cut);
	free(mode);
	free(strict);
	free(tmp);
	return r;
}

int lincheck_check(const struct lincheck_history *h, uint64_t budget,
		   struct lincheck_result *out)
{
	memset(out, 0, sizeof(*out));
	out->stuck = LINCHECK_NONE;
	out->n_ops = h->n;
	struct keyed *idx = malloc((h->n + 1) * sizeof(*idx));
	struct part *parts = calloc(h->n + 1, sizeof(*parts));
	struct deep deep = { 0 };
	size_t n_parts = 0;
	int r;
	if (!idx || !parts) {
		r = check_fail(out, NULL, h->n);
		goto out;
	}
	/* one part per key */
	for (size_t i = 0; i < h->n; i++)
		idx[i] = (struct keyed){ h->ops[i].key, i };
	qsort(idx, h->n, sizeof(*idx), keyed_cmp);
	for (size_t i = 0, j; i < h->n; i = j) {
		for (j = i + 1; j < h->n && strcmp(idx[j].key, idx[i].key) == 0; j++)
			;
		if (!part_build(&parts[n_parts++], h, idx + i, j - i)) {
			r = check_fail(out, idx[i].key, j - i);
			goto out;
		}
	}
	out->n_keys = n_parts;
	qsort(parts, n_parts, sizeof(*parts), part_order);

	/* smallest key first; the first illegal key ends the check */
	uint64_t left = budget;
	const struct part *unknown = NULL;
	r = LINCHECK_OK;
	for (size_t i = 0; i < n_parts; i++) {
		struct part *p = &parts[i];
		if (p->n == 0)
			continue;
		uint8_t *mode = calloc(p->n, 1);
		free(deep.prefix);
		deep.prefix = malloc(p->n * sizeof(*deep.prefix));
		if (!mode || !deep.prefix) {
			free(mode);
			r = check_fail(out, p->key, p->n);
			goto out;
		}
		int v = search(p, mode, &left, &deep, NULL, NULL);
		free(mode);
		if (v == LINCHECK_ENOMEM) {
			r = check_fail(out, p->key, p->n);
			goto out;
		}
		if (v == LINCHECK_ILLEGAL) {
			out->steps = budget - left;
			r = report_illegal(p, &deep, budget, out);
			if (r == LINCHECK_ENOMEM)
				check_fail(out, p->key, p->n);
			goto out;
		}
		if (v == LINCHECK_UNKNOWN) {
			unknown = p;
			break;               /* the budget is spent */
		}
	}
	out->steps = budget - left;
	if (unknown) {
		out->key = strdup(unknown->key);
		out->n_key_ops = unknown->n;
		if (!out->key) {
			r = check_fail(out, unknown->key, unknown->n);
			goto out;
		}
		r = LINCHECK_UNKNOWN;
	}
	out->verdict = r;
out:
	for (size_t i = 0; i < n_parts; i++)
		part_free(&parts[i]);
	free(parts);
	free(idx);
	free(deep.prefix);
	return r;
}

void lincheck_result_free(struct lincheck_result *r)
{
	free(r->key);
	free(r->prefix);
	free(r->core);
	free(r->context_value);
	r->context_value = NULL;
	r->key = NULL;
	r->prefix = r->core = NULL;
	r->n_prefix = r->n_core = 0;
}

/* ---- words ----------------------------------------------------------------- */

struct text {
	char *buf;
	size_t len;
	size_t need;                         /* what the whole text needs */
};

static void say(struct text *t, const char *fmt, ...)
{
	size_t room = t->need < t->len ? t->len - t->need : 0;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(room ? t->buf + t->need : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		t->need += (size_t)k;
}

/* A value as a quoted string, escaped, cut after 32 bytes. */
static void say_value(struct text *t, const char *s)
{
	size_t n = strlen(s), shown = n <= 32 ? n : 32;
	while (shown < n && shown > 0 && ((unsigned char)s[shown] & 0xc0) == 0x80)
		shown--;                     /* never cut inside a UTF-8 character */
	say(t, "\"");
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			say(t, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			say(t, "\\x%02x", c);
		else
			say(t, "%c", c);
	}
	say(t, shown < n ? "...\"" : "\"");
}

static void say_key(struct text *t, const char *key)
{
	bool plain = *key != '\0';
	for (const char *c = key; *c; c++)
		if (!(('a' <= *c && *c <= 'z') || ('A' <= *c && *c <= 'Z') ||
		      ('0' <= *c && *c <= '9') || strchr("_-.:/", *c)))
			plain = false;
	if (plain && strlen(key) <= 32)
		say(t, "%s", key);
	else
		say_value(t, key);
}

/* get(x) -> "1" v2 by client 2 [call 120, return 135] */
static void say_time(struct text *t, const struct lincheck_history *h, uint64_t v)
{
	/* finer units only order events within a millisecond: people read
	 * seconds, to the millisecond, like the rest of the screen */
	if (h->units_per_ms > 1) {
		uint64_t ms = v / h->units_per_ms;
		say(t, "%" PRIu64 ".%03" PRIu64 "s", ms / 1000, ms % 1000);
	} else {
		say(t, "%" PRIu64, v);
	}
}

static void say_op(struct text *t, const struct lincheck_history *h, const struct lincheck_op *op)
{
	bool pending = op->ret == LINCHECK_PENDING;
	say(t, "%s(", lincheck_kind_name(op->kind));
	say_key(t, op->key);
	if (takes_value(op->kind)) {
		say(t, ", ");
		say_value(t, op->value);
	}
	if (op->kind == LINCHECK_VPUT)
		say(t, ", v%" PRIu64, op->version);
	say(t, ")");
	if (op->kind == LINCHECK_GET && !pending) {
		say(t, " -> ");
		say_value(t, op->out_value);
		if (op->out_version != LINCHECK_ANY_VERSION)
			say(t, " v%" PRIu64, op->out_version);
	}
	if ((op->kind == LINCHECK_VPUT || op->kind == LINCHECK_DEL) && !pending)
		say(t, " -> %s", lincheck_reply_name(op->reply));
	if (op->kind == LINCHECK_INCR && !pending && op->reply == LINCHECK_REPLY_OK)
		say(t, " -> %s", op->out_value ? op->out_value : "?");
	else if (op->kind == LINCHECK_INCR && !pending)
		say(t, " -> %s", lincheck_reply_name(op->reply));
	say(t, " by client %" PRIu32 " [call ", op->client);
	say_time(t, h, op->call);
	if (pending) {
		say(t, ", never returned]");
	} else {
		say(t, ", return ");
		say_time(t, h, op->ret);
		say(t, "]");
	}
}

#define SHOW_CORE 8
#define SHOW_PREFIX 3

static void explain_illegal(struct text *t, const struct lincheck_result *r,
			    const struct lincheck_history *h)
{
	say(t, "key ");
	say_key(t, r->key);
	say(t, ": not linearizable (%zu operation%s on this key).\n", r->n_key_ops,
	    r->n_key_ops == 1 ? "" : "s");
	/* the headline: the op the search got stuck on, or the core's last to return */
	size_t lead = LINCHECK_NONE;
	for (size_t i = 0; i < r->n_core; i++)
		if (r->core[i] == r->stuck)
			lead = r->stuck;
	if (lead == LINCHECK_NONE)
		for (size_t i = 0; i < r->n_core; i++)
			if (lead == LINCHECK_NONE || h->ops[r->core[i]].ret > h->ops[lead].ret)
				lead = r->core[i];
	if (lead != LINCHECK_NONE) {
		say(t, "  ");
		say_op(t, h, &h->ops[lead]);
		say(t, "\n");
	}
	/* one sentence: "cannot be explained" or a list, then its conditions */
	bool open = r->n_core <= 1;
	if (open) {
		say(t, "cannot be explained");
	} else {
		say(t, "cannot be ordered with:\n");
		size_t shown = 0;
		for (size_t i = 0; i < r->n_core; i++) {
			if (r->core[i] == lead)
				continue;
			if (shown == SHOW_CORE) {
				say(t, "  ... and %zu more\n", r->n_core - 1 - shown);
				break;
			}
			say(t, "  ");
			say_op(t, h, &h->ops[r->core[i]]);
			say(t, "\n");
			shown++;
		}
	}
	if (r->n_context) {
		say(t, "%safter the %zu operations that returned before ", open ? ",\n" : "", r->n_context);
		say_time(t, h, r->since);
		say(t, ", which leave ");
		if (r->n_context_states == 1) {
			say_key(t, r->key);
			say(t, " = ");
			say_value(t, r->context_value ? r->context_value : "");
			say(t, " v%" PRIu64, r->context_version);
		} else {
			say(t, "it in one of %zu states", r->n_context_states);
		}
		open = true;
	}
	if (r->n_core + r->n_context < r->n_key_ops) {
		say(t, "%swhatever the key's other operations did", open ? ",\n" : "");
		open = true;
	}
	if (open)
		say(t, ".\n");
	if (!r->core_minimal)
		say(t, "(not shrunk all the way: some of these may not matter)\n");
	say(t, "longest linearizable prefix: %zu of %zu operations", r->n_prefix, r->n_key_ops);
	if (r->n_prefix == 0) {
		say(t, ".\n");
		return;
	}
	size_t from = r->n_prefix > SHOW_PREFIX ? r->n_prefix - SHOW_PREFIX : 0;
	say(t, ", %s:\n", from ? "ending with" : "in order");
	if (from)
		say(t, "  ... %zu earlier\n", from);
	for (size_t i = from; i < r->n_prefix; i++) {
		say(t, "  ");
		say_op(t, h, &h->ops[r->prefix[i]]);
		say(t, "\n");
	}
}

size_t lincheck_explain(const struct lincheck_result *r, const struct lincheck_history *h,
			char *buf, size_t len)
{
	struct text t = { .buf = buf, .len = len };
	if (len)
		buf[0] = '\0';
	switch (r->verdict) {
	case LINCHECK_OK:
		say(&t, "linearizable: %zu operation%s on %zu key%s.\n", r->n_ops,
		    r->n_ops == 1 ? "" : "s", r->n_keys, r->n_keys == 1 ? "" : "s");
		break;
	case LINCHECK_UNKNOWN:
		say(&t, "undecided: the budget ran out after %" PRIu64 " steps on key ", r->steps);
		say_key(&t, r->key ? r->key : "?");
		say(&t, " (%zu operations); no violation found before that.\n", r->n_key_ops);
		break;
	case LINCHECK_ILLEGAL:
		explain_illegal(&t, r, h);
		break;
	default:
		say(&t, "%s\n", r->errmsg[0] ? r->errmsg : lincheck_status_name(r->verdict));
		break;
	}
	if (t.need >= len && len >= 4)
		memcpy(buf + len - 4, "...", 4);
	return t.need;
}
