/*
 * test_lincheck.c — unit tests of the linearizability checker
 * (src/core/lincheck.c).
 *
 * Hand-made histories, each small enough to check by eye, for the verdict
 * and for what the explanation names: linearizable ones (sequential,
 * overlapping writes in either order, pending writes that did or did not
 * happen, appends, versioned puts with every reply) and broken ones (a stale
 * read, two readers seeing writes in opposite orders, a lost append, a
 * versioned put that won twice), and del and incr (the version a del resets,
 * Redis's integer rule, a lost increment).  Then per-key partitioning, the budget
 * (UNKNOWN when tiny, the right answer when big, on 2000 operations), and a
 * randomized comparison against a brute-force checker written here from the
 * definition: try every order of every allowed subset of operations (with a
 * memo of dead ends, so that 40 operations stay cheap).  The brute force also
 * checks each reported core (still illegal with every other operation
 * relaxed, the context kept as observed; legal again when any one of its
 * operations is relaxed) and each reported prefix (a legal sequence in
 * real-time order).  Small histories of random operations test the verdict
 * and the shrinking; longer ones, of clients issuing operations back to back,
 * test the shrinking with a context too.  Deterministic: fixed seeds, no
 * clock.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/lincheck.h"
#include "../../src/core/rng.h"

#define P LINCHECK_PENDING
#define ANYV LINCHECK_ANY_VERSION
#define BIG 10000000ULL

/* ---- building histories ---------------------------------------------------- */

static size_t add(struct lincheck_history *h, struct lincheck_op op)
{
	size_t i;
	int r = lincheck_add(h, &op, &i);
	cr_assert_eq(r, LINCHECK_OK, "lincheck_add: %s", h->errmsg);
	return i;
}

static size_t get(struct lincheck_history *h, uint32_t c, const char *k, uint64_t call,
		  uint64_t ret, const char *v, uint64_t ver)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_GET, .key = k,
		   .call = call, .ret = ret, .out_value = v, .out_version = ver });
}

static size_t put(struct lincheck_history *h, uint32_t c, const char *k, const char *v,
		  uint64_t call, uint64_t ret)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_PUT, .key = k,
		   .value = v, .call = call, .ret = ret });
}

static size_t app(struct lincheck_history *h, uint32_t c, const char *k, const char *v,
		  uint64_t call, uint64_t ret)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_APPEND, .key = k,
		   .value = v, .call = call, .ret = ret });
}

static size_t vput(struct lincheck_history *h, uint32_t c, const char *k, const char *v,
		   uint64_t ver, uint64_t call, uint64_t ret, enum lincheck_reply reply)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_VPUT, .key = k,
		   .value = v, .version = ver, .call = call, .ret = ret, .reply = reply });
}

static size_t del(struct lincheck_history *h, uint32_t c, const char *k, uint64_t call, uint64_t ret,
		  enum lincheck_reply reply)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_DEL, .key = k,
		   .call = call, .ret = ret, .reply = reply });
}

/* an incr that answered OK with out, or (out NULL) ErrNotInteger */
static size_t incr(struct lincheck_history *h, uint32_t c, const char *k, uint64_t call, uint64_t ret,
		   const char *out)
{
	return add(h, (struct lincheck_op){ .client = c, .kind = LINCHECK_INCR, .key = k,
		   .call = call, .ret = ret, .out_value = out,
		   .reply = out ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOT_INTEGER });
}

static char text[4096];

/* Check h with the given budget; the explanation lands in `text`. */
static int check(const struct lincheck_history *h, uint64_t budget, struct lincheck_result *r)
{
	int v = lincheck_check(h, budget, r);
	cr_assert_eq(v, (int)r->verdict);
	lincheck_explain(r, h, text, sizeof(text));
	return v;
}

static void expect_ok(const struct lincheck_history *h)
{
	struct lincheck_result r;
	int v = check(h, BIG, &r);
	cr_expect_eq(v, LINCHECK_OK, "expected linearizable, got %s:\n%s",
		     lincheck_status_name(v), text);
	cr_expect(strstr(text, "linearizable:"), "%s", text);
	lincheck_result_free(&r);
}

static bool has(const size_t *a, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

/* Expect ILLEGAL on `key` with exactly the core ops[0..n). */
static void expect_core(const struct lincheck_history *h, const char *key,
			const size_t *ops, size_t n)
{
	struct lincheck_result r;
	int v = check(h, BIG, &r);
	cr_assert_eq(v, LINCHECK_ILLEGAL, "expected illegal, got %s:\n%s",
		     lincheck_status_name(v), text);
	cr_expect_str_eq(r.key, key);
	cr_expect(r.core_minimal);
	cr_expect_eq(r.n_core, n, "core of %zu ops, expected %zu:\n%s", r.n_core, n, text);
	for (size_t i = 0; i < n; i++)
		cr_expect(has(r.core, r.n_core, ops[i]), "op %zu missing from the core:\n%s", ops[i], text);
	lincheck_result_free(&r);
}

static void expect_text(const char *needle)
{
	cr_expect(strstr(text, needle), "\"%s\" not in:\n%s", needle, text);
}

/* ---- linearizable ------------------------------------------------------------ */

Test(lincheck, empty_history_is_linearizable)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, sequential)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	get(&h, 1, "x", 0, 5, "", 0);
	put(&h, 1, "x", "1", 10, 20);
	get(&h, 2, "x", 30, 40, "1", 1);
	put(&h, 2, "x", "2", 50, 60);
	get(&h, 1, "x", 70, 80, "2", 2);
	get(&h, 1, "y", 90, 95, "", ANYV);
	expect_ok(&h);
	expect_text("6 operations on 2 keys");
	lincheck_history_free(&h);
}

Test(lincheck, overlapping_puts_in_either_order)
{
	for (int winner = 1; winner <= 2; winner++) {
		struct lincheck_history h;
		lincheck_history_init(&h);
		put(&h, 1, "x", "1", 0, 100);
		put(&h, 2, "x", "2", 10, 90);
		get(&h, 3, "x", 110, 120, winner == 1 ? "1" : "2", 2);
		get(&h, 3, "x", 130, 140, winner == 1 ? "1" : "2", 2);
		expect_ok(&h);
		lincheck_history_free(&h);
	}
}

Test(lincheck, touching_intervals_overlap)
{
	/* the put returns at 10 and the get is called at 10: concurrent */
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	get(&h, 2, "x", 10, 20, "", 0);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, pending_put_that_must_have_happened)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	put(&h, 2, "x", "2", 20, P);
	get(&h, 3, "x", 30, 40, "2", 2);
	get(&h, 3, "x", 500, 510, "2", 2);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, pending_put_that_never_happened)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	put(&h, 2, "x", "2", 20, P);
	get(&h, 3, "x", 30, 40, "1", 1);
	get(&h, 3, "x", 500, 510, "1", 1);
	get(&h, 4, "x", 600, P, NULL, 0);       /* a pending get constrains nothing */
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, pending_put_cannot_happen_before_its_call)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t a = get(&h, 3, "x", 0, 10, "2", ANYV);
	put(&h, 2, "x", "2", 20, P);
	expect_core(&h, "x", &a, 1);
	lincheck_history_free(&h);
}

Test(lincheck, appends)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	app(&h, 1, "x", "a", 0, 10);            /* a missing key counts as "" */
	get(&h, 2, "x", 20, 30, "a", 1);
	app(&h, 1, "x", "b", 40, 100);          /* b and c overlap: either order */
	app(&h, 2, "x", "c", 50, 90);
	get(&h, 3, "x", 110, 120, "acb", 3);
	put(&h, 1, "x", "z", 130, 140);
	app(&h, 2, "x", "!", 150, 160);
	get(&h, 3, "x", 170, 180, "z!", 5);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, versioned_puts)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	vput(&h, 1, "x", "a", 0, 0, 10, LINCHECK_REPLY_OK);          /* created, v1 */
	vput(&h, 2, "x", "b", 0, 20, 30, LINCHECK_REPLY_ERR_VERSION);
	vput(&h, 2, "y", "c", 3, 20, 30, LINCHECK_REPLY_ERR_NOKEY);
	vput(&h, 2, "x", "b", 1, 40, 50, LINCHECK_REPLY_OK);          /* v2 */
	vput(&h, 1, "x", "d", 1, 60, 70, LINCHECK_REPLY_ERR_VERSION);
	get(&h, 3, "x", 80, 90, "b", 2);
	get(&h, 3, "y", 80, 90, "", 0);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, err_maybe_that_was_applied)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	vput(&h, 1, "x", "a", 0, 0, 10, LINCHECK_REPLY_OK);
	vput(&h, 1, "x", "b", 1, 20, 30, LINCHECK_REPLY_ERR_MAYBE);
	get(&h, 2, "x", 40, 50, "b", 2);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, err_maybe_that_was_not_applied)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	vput(&h, 1, "x", "a", 0, 0, 10, LINCHECK_REPLY_OK);
	put(&h, 2, "x", "z", 12, 18);                                 /* v2 */
	vput(&h, 1, "x", "b", 1, 20, 30, LINCHECK_REPLY_ERR_MAYBE);   /* ErrVersion */
	get(&h, 2, "x", 40, 50, "z", 2);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, err_maybe_is_not_err_nokey)
{
	/* an ErrMaybe means the put was applied or met a version mismatch; on a
	 * missing key with version 1 neither is possible */
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t a = vput(&h, 1, "x", "b", 1, 20, 30, LINCHECK_REPLY_ERR_MAYBE);
	expect_core(&h, "x", &a, 1);
	expect_text("vput(x, \"b\", v1) -> ErrMaybe by client 1 [call 20, return 30]");
	lincheck_history_free(&h);
}

/* ---- not linearizable ------------------------------------------------------- */

Test(lincheck, stale_read_after_completed_put)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t p1 = put(&h, 1, "x", "1", 0, 10);
	size_t p2 = put(&h, 1, "x", "2", 20, 30);
	size_t g = get(&h, 2, "x", 40, 50, "1", ANYV);
	size_t core[] = { p2, g };
	expect_core(&h, "x", core, 2);
	/* the get is the headline, the put it cannot follow is named after it */
	expect_text("key x: not linearizable (3 operations on this key).\n"
		    "  get(x) -> \"1\" by client 2 [call 40, return 50]\n"
		    "cannot be ordered with:\n"
		    "  put(x, \"2\") by client 1 [call 20, return 30]\n"
		    "whatever the key's other operations did.\n");
	expect_text("longest linearizable prefix: 2 of 3 operations");
	struct lincheck_result r;
	check(&h, BIG, &r);
	cr_expect_eq(r.n_prefix, 2);
	cr_expect_eq(r.prefix[0], p1);
	cr_expect_eq(r.prefix[1], p2);
	cr_expect_eq(r.stuck, g);
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

Test(lincheck, value_from_nowhere)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	size_t g = get(&h, 2, "x", 20, 30, "7", ANYV);
	expect_core(&h, "x", &g, 1);
	expect_text("get(x) -> \"7\" by client 2 [call 20, return 30]\n"
		    "cannot be explained,\nwhatever the key's other operations did.\n");
	lincheck_history_free(&h);
}

Test(lincheck, reads_see_writes_in_opposite_orders)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 200);
	put(&h, 2, "x", "2", 0, 200);
	size_t a1 = get(&h, 3, "x", 10, 20, "1", ANYV);
	size_t a2 = get(&h, 3, "x", 30, 40, "2", ANYV);
	size_t b1 = get(&h, 4, "x", 10, 20, "2", ANYV);
	size_t b2 = get(&h, 4, "x", 30, 40, "1", ANYV);
	/* whether or not the puts happened, the four reads contradict each other */
	size_t core[] = { a1, a2, b1, b2 };
	expect_core(&h, "x", core, 4);
	expect_text("get(x) -> \"1\" by client 3 [call 10, return 20]");
	expect_text("get(x) -> \"2\" by client 3 [call 30, return 40]");
	expect_text("get(x) -> \"2\" by client 4 [call 10, return 20]");
	expect_text("get(x) -> \"1\" by client 4 [call 30, return 40]");
	expect_text("whatever the key's other operations did.");
	lincheck_history_free(&h);
}

Test(lincheck, append_lost)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t a = app(&h, 1, "x", "a", 0, 10);
	app(&h, 2, "x", "b", 20, 30);
	size_t g = get(&h, 3, "x", 40, 50, "b", ANYV);
	size_t core[] = { a, g };
	expect_core(&h, "x", core, 2);
	expect_text("  get(x) -> \"b\" by client 3 [call 40, return 50]\n"
		    "cannot be ordered with:\n"
		    "  append(x, \"a\") by client 1 [call 0, return 10]\n");
	lincheck_history_free(&h);
}

Test(lincheck, versioned_put_succeeded_twice)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 3, "x", "0", 0, 5);                                   /* v1 */
	size_t a = vput(&h, 1, "x", "a", 1, 10, 20, LINCHECK_REPLY_OK);
	size_t b = vput(&h, 2, "x", "b", 1, 15, 30, LINCHECK_REPLY_OK);
	get(&h, 3, "x", 40, 50, "b", 2);
	size_t core[] = { a, b };
	expect_core(&h, "x", core, 2);
	expect_text("vput(x, \"a\", v1) -> OK by client 1 [call 10, return 20]");
	expect_text("vput(x, \"b\", v1) -> OK by client 2 [call 15, return 30]");
	lincheck_history_free(&h);
}

Test(lincheck, wrong_version_read)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	size_t g = get(&h, 2, "x", 20, 30, "1", 2);
	/* one put cannot make version 2, whether it happened or not */
	expect_core(&h, "x", &g, 1);
	expect_text("get(x) -> \"1\" v2 by client 2");
	lincheck_history_free(&h);
}

/* ---- partitioning --------------------------------------------------------- */

Test(lincheck, one_bad_key_among_many)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t bad[3] = { 0 };
	for (int k = 0; k < 20; k++) {
		char key[8];
		snprintf(key, sizeof(key), "k%d", k);
		uint64_t t = (uint64_t)k * 3;
		size_t p1 = put(&h, 1, key, "1", t, t + 10);
		size_t p2 = put(&h, 2, key, "2", t + 20, t + 30);
		size_t g = get(&h, 3, key, t + 40, t + 50, k == 7 ? "1" : "2", ANYV);
		if (k == 7) {
			bad[0] = p1;
			bad[1] = p2;
			bad[2] = g;
		}
	}
	size_t core[] = { bad[1], bad[2] };
	expect_core(&h, "k7", core, 2);
	expect_text("key k7: not linearizable (3 operations on this key)");
	expect_text("get(k7) -> \"1\" by client 3 [call 61, return 71]");
	struct lincheck_result r;
	check(&h, BIG, &r);
	cr_expect_eq(r.n_keys, 20);
	cr_expect_eq(r.n_ops, 60);
	cr_expect_eq(r.n_key_ops, 3);
	cr_expect(!has(r.prefix, r.n_prefix, bad[2]));
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

/* ---- a sequential model for generating and brute-force checking --------- */

#define BKEYS 4
#define BVAL 160

struct bstate {
	char val[BKEYS][BVAL];
	uint64_t ver[BKEYS];
};

static int key_slot(const char *k)
{
	return k[0] == 'x' ? 0 : k[0] == 'y' ? 1 : k[0] == 'z' ? 2 : 3;
}

/* Apply op; with `any` (pending or relaxed) accept whatever it answered.
 * `reply` receives the model's vput reply. */
static bool bf_step(struct bstate *s, const struct lincheck_op *op, bool any,
		    enum lincheck_reply *reply)
{
	int k = key_slot(op->key);
	switch (op->kind) {
	case LINCHECK_GET:
		return any || (strcmp(s->val[k], op->out_value) == 0 &&
			       (op->out_version == ANYV || op->out_version == s->ver[k]));
	case LINCHECK_PUT:
		snprintf(s->val[k], BVAL, "%s", op->value);
		s->ver[k]++;
		return true;
	case LINCHECK_APPEND:
		cr_assert(strlen(s->val[k]) + strlen(op->value) < BVAL);
		strcat(s->val[k], op->value);
		s->ver[k]++;
		return true;
	case LINCHECK_VPUT: {
		enum lincheck_reply r;
		if (s->ver[k] == 0 && op->version == 0)
			r = LINCHECK_REPLY_OK;
		else if (s->ver[k] == 0)
			r = LINCHECK_REPLY_ERR_NOKEY;
		else if (s->ver[k] == op->version)
			r = LINCHECK_REPLY_OK;
		else
			r = LINCHECK_REPLY_ERR_VERSION;
		if (reply)
			*reply = r;
		bool match = any || op->reply == r ||
			(op->reply == LINCHECK_REPLY_ERR_MAYBE && r != LINCHECK_REPLY_ERR_NOKEY);
		if (match && r == LINCHECK_REPLY_OK) {
			snprintf(s->val[k], BVAL, "%s", op->value);
			s->ver[k]++;
		}
		return match;
	}
	case LINCHECK_DEL: {
		enum lincheck_reply r = s->ver[k] ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOKEY;
		if (reply)
			*reply = r;
		bool match = any || op->reply == r;
		if (match) {
			s->val[k][0] = 0;
			s->ver[k] = 0;
		}
		return match;
	}
	case LINCHECK_INCR: {
		/* an integer is what strtoll reads and prints back the same */
		long long v = 0;
		bool ok = true;
		if (s->ver[k]) {
			char *end, back[32];
			errno = 0;
			v = strtoll(s->val[k], &end, 10);
			snprintf(back, sizeof(back), "%lld", v);
			ok = errno == 0 && *end == 0 && strcmp(back, s->val[k]) == 0;
		}
		ok = ok && v != LLONG_MAX;
		enum lincheck_reply r = ok ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOT_INTEGER;
		if (reply)
			*reply = r;
		char next[32] = "";
		if (ok)
			snprintf(next, sizeof(next), "%lld", v + 1);
		bool match = any || (op->reply == r && (!ok || strcmp(op->out_value, next) == 0));
		if (match && ok) {
			snprintf(s->val[k], BVAL, "%s", next);
			s->ver[k]++;
		}
		return match;
	}
	}
	return false;
}

/*
 * The definition, by brute force: is there a sequence of a subset of the
 * ops, holding every op that returned and is not relaxed, in which no op
 * comes before one that returned before it was called, and that the model
 * answers as observed (relaxed and pending ops: any answer)?  Depth first
 * over every next op, remembering the (ops used, state) pairs that failed so
 * that histories of a few dozen ops stay cheap.
 */
struct seen {
	uint64_t *used;
	char **state;
	size_t n, cap;                       /* a plain list per bucket would do; keep it simple */
	size_t *slot, mask;
};

static void state_text(const struct bstate *s, char *buf, size_t len)
{
	size_t at = 0;
	for (int k = 0; k < BKEYS; k++)
		at += (size_t)snprintf(buf + at, len - at, "%" PRIu64 ":%s|", s->ver[k], s->val[k]);
}

static uint64_t seen_hash(uint64_t used, const char *st)
{
	uint64_t h = used * 0x9e3779b97f4a7c15ULL;
	for (; *st; st++)
		h = (h ^ (unsigned char)*st) * 0x100000001b3ULL;
	return h;
}

static bool seen_has(struct seen *t, uint64_t used, const char *st)
{
	if (!t->slot)
		return false;
	for (size_t j = seen_hash(used, st) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
		size_t i = t->slot[j] - 1;
		if (t->used[i] == used && strcmp(t->state[i], st) == 0)
			return true;
	}
	return false;
}

static void seen_add(struct seen *t, uint64_t used, const char *st)
{
	if ((t->n + 1) * 2 > (t->slot ? t->mask + 1 : 0)) {
		size_t nslots = t->slot ? 2 * (t->mask + 1) : 256;
		free(t->slot);
		t->slot = calloc(nslots, sizeof(*t->slot));
		t->mask = nslots - 1;
		t->cap = nslots / 2;
		t->used = realloc(t->used, t->cap * sizeof(*t->used));
		t->state = realloc(t->state, t->cap * sizeof(*t->state));
		cr_assert(t->slot && t->used && t->state);
		for (size_t i = 0; i < t->n; i++) {
			size_t j = seen_hash(t->used[i], t->state[i]) & t->mask;
			while (t->slot[j])
				j = (j + 1) & t->mask;
			t->slot[j] = i + 1;
		}
	}
	t->used[t->n] = used;
	t->state[t->n] = strdup(st);
	size_t j = seen_hash(used, st) & t->mask;
	while (t->slot[j])
		j = (j + 1) & t->mask;
	t->slot[j] = ++t->n;
}

struct bf {
	const struct lincheck_history *h;
	const bool *relaxed;
	uint64_t mandatory;                  /* ops that must be in the sequence */
	struct seen seen;
	long calls, max_calls;               /* give up past max_calls */
};

static bool bf_rec(struct bf *b, uint64_t used, uint64_t maxcall, const struct bstate *s)
{
	const struct lincheck_history *h = b->h;
	if ((used & b->mandatory) == b->mandatory)
		return true;
	if (++b->calls > b->max_calls)
		return false;
	/* an op that returned before a placed op was called can never come:
	 * a dead end if it had to, else forgotten (that keeps the memo small) */
	uint64_t gone = used;
	for (size_t i = 0; i < h->n; i++) {
		if (used >> i & 1 || h->ops[i].ret >= maxcall)
			continue;
		if (b->mandatory >> i & 1)
			return false;
		gone |= (uint64_t)1 << i;
	}
	char st[BKEYS * (BVAL + 24) + 24];
	int at = snprintf(st, sizeof(st), "%" PRIu64 "/", maxcall);
	state_text(s, st + at, sizeof(st) - (size_t)at);
	if (seen_has(&b->seen, gone, st))
		return false;
	for (size_t i = 0; i < h->n; i++) {
		const struct lincheck_op *op = &h->ops[i];
		if (gone >> i & 1)
			continue;
		struct bstate next = *s;
		bool any = !(b->mandatory >> i & 1);
		if (!bf_step(&next, op, any, NULL))
			continue;
		if (bf_rec(b, used | (uint64_t)1 << i, op->call > maxcall ? op->call : maxcall, &next))
			return true;
	}
	seen_add(&b->seen, gone, st);
	return false;
}

/* 1: linearizable, 0: not, -1: gave up after max_calls steps. */
static int brute_within(const struct lincheck_history *h, const bool *relaxed, long max_calls)
{
	cr_assert(h->n <= 64);
	struct bf b = { .h = h, .relaxed = relaxed, .max_calls = max_calls };
	for (size_t i = 0; i < h->n; i++)
		if (h->ops[i].ret != P && !(relaxed && relaxed[i]))
			b.mandatory |= (uint64_t)1 << i;
	struct bstate s;
	memset(&s, 0, sizeof(s));
	bool ok = bf_rec(&b, 0, 0, &s);
	for (size_t i = 0; i < b.seen.n; i++)
		free(b.seen.state[i]);
	free(b.seen.used);
	free(b.seen.state);
	free(b.seen.slot);
	return b.calls > b.max_calls ? -1 : ok;
}

static bool brute(const struct lincheck_history *h, const bool *relaxed)
{
	int r = brute_within(h, relaxed, 2000000);
	cr_assert_neq(r, -1, "the brute force gave up");
	return r;
}

/* ---- random histories ------------------------------------------------------ */

struct gen_op {
	struct lincheck_op op;
	uint64_t point;                      /* when it takes effect */
	bool happens;
	char out[BVAL];
};

static int by_point(const void *a, const void *b)
{
	const struct gen_op *x = *(struct gen_op *const *)a, *y = *(struct gen_op *const *)b;
	return x->point < y->point ? -1 : x->point > y->point;
}

static const char *pick(struct rng *g, const char *const *from, size_t n)
{
	return from[rng_range(g, 0, n)];
}

/*
 * A history from a real sequential execution: every op gets an effect point
 * within its interval (a pending op maybe none), the model runs in that order
 * and fills in the outputs.  Sometimes one output is then perturbed, which
 * may or may not break linearizability.
 */
static void gen_history(struct rng *g, struct lincheck_history *h, size_t n, size_t nkeys,
			uint64_t span, bool perturb, bool del_incr)
{
	static const char *const keys[] = { "x", "y", "z" };
	static const char *const letters[] = { "a", "b", "c" }, *const numbers[] = { "1", "9", "a" };
	static const char *const reads[] = { "", "a", "b", "ab", "ba", "c" };
	static const char *const nreads[] = { "", "1", "2", "10", "a" };
	const char *const *vals = del_incr ? numbers : letters;
	struct gen_op *ops = calloc(n, sizeof(*ops));
	struct gen_op **order = calloc(n, sizeof(*order));
	cr_assert(ops && order);
	for (size_t i = 0; i < n; i++) {
		struct gen_op *o = &ops[i];
		o->op.client = (uint32_t)(i % 3) + 1;
		o->op.kind = (enum lincheck_kind)rng_range(g, 0, del_incr ? 6 : 4);
		o->op.key = keys[rng_range(g, 0, nkeys)];
		o->op.value = o->op.kind == LINCHECK_GET || o->op.kind >= LINCHECK_DEL ? NULL : pick(g, vals, 3);
		o->op.call = rng_range(g, 0, span);
		bool pending = rng_range(g, 0, 10) == 0;
		o->op.ret = pending ? P : o->op.call + rng_range(g, 0, span / 2 + 1);
		uint64_t end = pending ? o->op.call + span / 2 : o->op.ret;
		o->point = rng_range(g, o->op.call, end + 1);
		o->happens = !pending || rng_range(g, 0, 2);
		order[i] = o;
	}
	/* ties in point: the stable tiebreak of qsort is not guaranteed, so make points unique */
	for (size_t i = 0; i < n; i++)
		ops[i].point = ops[i].point * 16 + i;
	qsort(order, n, sizeof(*order), by_point);
	struct bstate s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++) {
		struct gen_op *o = order[i];
		int k = key_slot(o->op.key);
		if (o->op.kind == LINCHECK_VPUT)
			o->op.version = rng_range(g, 0, 2) ? s.ver[k] : rng_range(g, 0, 3);
		if (!o->happens)
			continue;
		if (o->op.kind == LINCHECK_GET) {
			snprintf(o->out, BVAL, "%s", s.val[k]);
			o->op.out_value = o->out;
			o->op.out_version = rng_range(g, 0, 4) ? s.ver[k] : ANYV;
		}
		enum lincheck_reply r = LINCHECK_REPLY_OK;
		bf_step(&s, &o->op, true, &r);
		if (o->op.kind == LINCHECK_VPUT)
			o->op.reply = r == LINCHECK_REPLY_ERR_VERSION && rng_range(g, 0, 4) == 0
				? LINCHECK_REPLY_ERR_MAYBE : r;
		if (o->op.kind == LINCHECK_DEL || o->op.kind == LINCHECK_INCR)
			o->op.reply = r;
		if (o->op.kind == LINCHECK_INCR && r == LINCHECK_REPLY_OK) {
			snprintf(o->out, BVAL, "%s", s.val[k]);
			o->op.out_value = o->out;
		}
	}
	if (perturb) {
		struct gen_op *o = &ops[rng_range(g, 0, n)];
		if (o->op.ret != P && o->op.kind == LINCHECK_GET) {
			if (rng_range(g, 0, 3))
				o->op.out_value = del_incr ? pick(g, nreads, 5) : pick(g, reads, 6);
			else
				o->op.out_version = rng_range(g, 0, 4);
		}
		if (o->op.ret != P && o->op.kind == LINCHECK_VPUT)
			o->op.reply = (enum lincheck_reply)rng_range(g, 0, 4);
		if (o->op.ret != P && (o->op.kind == LINCHECK_PUT || o->op.kind == LINCHECK_APPEND))
			o->op.value = pick(g, vals, 3);   /* the input changed after the fact */
		if (o->op.ret != P && o->op.kind == LINCHECK_DEL)
			o->op.reply = o->op.reply == LINCHECK_REPLY_OK ? LINCHECK_REPLY_ERR_NOKEY : LINCHECK_REPLY_OK;
		if (o->op.ret != P && o->op.kind == LINCHECK_INCR) {
			o->op.out_value = pick(g, nreads + 1, 3);
			o->op.reply = rng_range(g, 0, 4) ? LINCHECK_REPLY_OK : LINCHECK_REPLY_ERR_NOT_INTEGER;
		}
	}
	for (size_t i = 0; i < n; i++)
		add(h, ops[i].op);
	free(ops);
	free(order);
}

/* The reported prefix is a legal sequence that respects real time. */
static void expect_prefix_legal(const struct lincheck_history *h, const struct lincheck_result *r)
{
	struct bstate s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < r->n_prefix; i++) {
		const struct lincheck_op *op = &h->ops[r->prefix[i]];
		cr_expect(bf_step(&s, op, op->ret == P, NULL), "prefix op %zu is not legal", i);
		for (size_t j = 0; j < i; j++)
			cr_expect(!(op->ret < h->ops[r->prefix[j]].call), "prefix breaks real time");
		cr_expect_str_eq(op->key, r->key);
	}
}

/*
 * The core is illegal with everything else relaxed but the context (when
 * there is one), and (when minimal) legal again as soon as any one of its
 * ops is relaxed too.  With most ops relaxed the brute force can explode
 * (optional appends make every subsequence a value), so it may give up:
 * returns false then, and the caller counts that.
 */
static bool expect_core_sound(const struct lincheck_history *h, const struct lincheck_result *r)
{
	bool relaxed[64];
	cr_assert(h->n <= 64);
	size_t n_context = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct lincheck_op *op = &h->ops[i];
		bool context = r->n_context && op->ret != P && op->ret < r->since &&
			       strcmp(op->key, r->key) == 0;
		n_context += context;
		relaxed[i] = !has(r->core, r->n_core, i) && !context;
	}
	cr_expect_eq(n_context, r->n_context);
	int v = brute_within(h, relaxed, 150000);
	if (v < 0)
		return false;
	cr_expect(!v, "the core alone is linearizable:\n%s", text);
	if (!r->core_minimal)
		return true;
	for (size_t c = 0; c < r->n_core; c++) {
		relaxed[r->core[c]] = true;
		v = brute_within(h, relaxed, 150000);
		cr_expect(v != 0, "op %zu of the core is not needed:\n%s", r->core[c], text);
		relaxed[r->core[c]] = false;
		if (v < 0)
			return false;
	}
	return true;
}

Test(lincheck, random_against_brute_force)
{
	struct rng g;
	rng_seed(&g, 6824);
	int counts[3] = { 0 };
	for (int round = 0; round < 2000; round++) {
		struct lincheck_history h;
		lincheck_history_init(&h);
		size_t n = rng_range(&g, 1, 8);
		gen_history(&g, &h, n, rng_range(&g, 1, 3), 20, rng_range(&g, 0, 2), false);
		bool want = brute(&h, NULL);
		struct lincheck_result r;
		int v = check(&h, LINCHECK_UNLIMITED, &r);
		cr_assert_neq(v, LINCHECK_UNKNOWN);
		cr_assert_eq(v == LINCHECK_OK, want, "round %d: checker says %s, brute force %s:\n%s",
			     round, lincheck_status_name(v), want ? "ok" : "illegal", text);
		counts[v]++;
		if (v == LINCHECK_ILLEGAL) {
			cr_assert(r.n_core >= 1);
			cr_expect(r.core_minimal);
			cr_expect(expect_core_sound(&h, &r), "round %d: the brute force gave up", round);
			expect_prefix_legal(&h, &r);
			cr_expect(r.stuck != LINCHECK_NONE && !has(r.prefix, r.n_prefix, r.stuck));
		}
		lincheck_result_free(&r);
		lincheck_history_free(&h);
	}
	/* the generator must exercise both answers */
	cr_expect_gt(counts[LINCHECK_OK], 700, "%d linearizable", counts[LINCHECK_OK]);
	cr_expect_gt(counts[LINCHECK_ILLEGAL], 200, "%d not", counts[LINCHECK_ILLEGAL]);
}

Test(lincheck, random_with_del_and_incr_against_brute_force)
{
	/* the same, with deletes and increments among the writes and numbers
	 * among the values, so that increments both succeed and fail */
	struct rng g;
	rng_seed(&g, 4242);
	int counts[3] = { 0 }, incr_ok = 0, incr_refused = 0, dels = 0;
	for (int round = 0; round < 2000; round++) {
		struct lincheck_history h;
		lincheck_history_init(&h);
		size_t n = rng_range(&g, 1, 8);
		gen_history(&g, &h, n, rng_range(&g, 1, 3), 20, rng_range(&g, 0, 2), true);
		for (size_t i = 0; i < h.n; i++) {
			const struct lincheck_op *op = &h.ops[i];
			if (op->ret == P)
				continue;
			incr_ok += op->kind == LINCHECK_INCR && op->reply == LINCHECK_REPLY_OK;
			incr_refused += op->kind == LINCHECK_INCR && op->reply != LINCHECK_REPLY_OK;
			dels += op->kind == LINCHECK_DEL;
		}
		bool want = brute(&h, NULL);
		struct lincheck_result r;
		int v = check(&h, LINCHECK_UNLIMITED, &r);
		cr_assert_neq(v, LINCHECK_UNKNOWN);
		cr_assert_eq(v == LINCHECK_OK, want, "round %d: checker says %s, brute force %s:\n%s",
			     round, lincheck_status_name(v), want ? "ok" : "illegal", text);
		counts[v]++;
		if (v == LINCHECK_ILLEGAL) {
			cr_assert(r.n_core >= 1);
			cr_expect(expect_core_sound(&h, &r), "round %d: the brute force gave up", round);
			expect_prefix_legal(&h, &r);
		}
		lincheck_result_free(&r);
		lincheck_history_free(&h);
	}
	cr_expect_gt(counts[LINCHECK_OK], 600, "%d linearizable", counts[LINCHECK_OK]);
	cr_expect_gt(counts[LINCHECK_ILLEGAL], 200, "%d not", counts[LINCHECK_ILLEGAL]);
	cr_expect_gt(incr_ok, 300, "%d increments answered OK", incr_ok);
	cr_expect_gt(incr_refused, 150, "%d increments refused", incr_refused);
	cr_expect_gt(dels, 500, "%d deletes", dels);
}

Test(lincheck, random_busier_histories)
{
	/* fewer rounds, more ops and more overlap */
	struct rng g;
	rng_seed(&g, 5840);
	for (int round = 0; round < 300; round++) {
		struct lincheck_history h;
		lincheck_history_init(&h);
		gen_history(&g, &h, 9, rng_range(&g, 1, 3), 12, rng_range(&g, 0, 2), false);
		bool want = brute(&h, NULL);
		struct lincheck_result r;
		int v = check(&h, LINCHECK_UNLIMITED, &r);
		cr_assert_eq(v == LINCHECK_OK, want, "round %d: checker says %s:\n%s",
			     round, lincheck_status_name(v), text);
		if (v == LINCHECK_ILLEGAL)
			cr_expect(expect_core_sound(&h, &r), "round %d: the brute force gave up", round);
		lincheck_result_free(&r);
		lincheck_history_free(&h);
	}
}

/* ---- the budget --------------------------------------------------------- */

/*
 * clients x per_client ops on key x, each client's ops back to back, all
 * clients overlapping, outputs from a real execution.  Put values are
 * unique.  With all_kinds, appends and versioned puts too, and a client may
 * stop with its last op pending (taking effect or not).
 */
static void gen_clients(struct lincheck_history *h, struct rng *g, int clients, int per_client,
			bool all_kinds)
{
	size_t n = (size_t)clients * (size_t)per_client;
	struct gen_op *ops = calloc(n, sizeof(*ops));
	struct gen_op **order = calloc(n, sizeof(*order));
	char (*vals)[16] = calloc(n, sizeof(*vals));
	cr_assert(ops && order && vals);
	for (int c = 0; c < clients; c++) {
		uint64_t t = rng_range(g, 0, 10);
		bool stops = all_kinds && rng_range(g, 0, 4) == 0;
		for (int i = 0; i < per_client; i++) {
			size_t k = (size_t)c * (size_t)per_client + (size_t)i;
			struct gen_op *o = &ops[k];
			o->op.client = (uint32_t)c + 1;
			static const enum lincheck_kind mix[] = {
				LINCHECK_GET, LINCHECK_GET, LINCHECK_GET, LINCHECK_PUT, LINCHECK_PUT,
				LINCHECK_APPEND, LINCHECK_VPUT, LINCHECK_VPUT,
			};
			o->op.kind = all_kinds ? mix[rng_range(g, 0, 8)]
				: rng_range(g, 0, 2) ? LINCHECK_GET : LINCHECK_PUT;
			o->op.key = "x";
			snprintf(vals[k], sizeof(vals[k]), o->op.kind == LINCHECK_APPEND ? "%zu," : "%zu", k);
			o->op.value = o->op.kind == LINCHECK_GET ? NULL : vals[k];
			o->op.call = t;
			o->op.ret = t + rng_range(g, 1, 30);
			o->point = rng_range(g, o->op.call, o->op.ret + 1) * 64 + k % 64;
			o->happens = true;
			if (stops && i == per_client - 1) {
				o->op.ret = P;
				o->happens = rng_range(g, 0, 2);
			}
			order[k] = o;
			t = o->op.ret + rng_range(g, 0, 5);
		}
	}
	qsort(order, n, sizeof(*order), by_point);
	struct bstate s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++) {
		struct gen_op *o = order[i];
		if (o->op.kind == LINCHECK_VPUT)
			o->op.version = s.ver[0] + rng_range(g, 0, 3) - (s.ver[0] ? 1 : 0);
		if (!o->happens)
			continue;
		if (o->op.kind == LINCHECK_GET) {
			snprintf(o->out, BVAL, "%s", s.val[0]);
			o->op.out_value = o->out;
			o->op.out_version = s.ver[0];
		}
		enum lincheck_reply r = LINCHECK_REPLY_OK;
		bf_step(&s, &o->op, true, &r);
		if (o->op.kind == LINCHECK_VPUT)
			o->op.reply = r == LINCHECK_REPLY_ERR_VERSION && rng_range(g, 0, 3) == 0
				? LINCHECK_REPLY_ERR_MAYBE : r;
	}
	for (size_t i = 0; i < n; i++)
		add(h, ops[i].op);
	free(ops);
	free(order);
	free(vals);
}

static void gen_big(struct lincheck_history *h, uint64_t seed, int clients, int per_client)
{
	struct rng g;
	rng_seed(&g, seed);
	gen_clients(h, &g, clients, per_client, false);
}

Test(lincheck, random_longer_histories_against_brute_force)
{
	/* long enough for the shrinking to hold a context as observed, checked
	 * by the brute force too; one late output perturbed in most */
	struct rng g;
	rng_seed(&g, 824);
	int illegal = 0, with_context = 0, verified = 0;
	for (int round = 0; round < 30; round++) {
		struct lincheck_history base, h;
		lincheck_history_init(&base);
		lincheck_history_init(&h);
		gen_clients(&base, &g, 3, 13, true);
		size_t victim = rng_range(&g, 0, 3) * 13 + rng_range(&g, 8, 13);
		for (size_t i = 0; i < base.n; i++) {
			struct lincheck_op op = base.ops[i];
			if (i == victim && op.ret != P) {
				const char *other = base.ops[rng_range(&g, 0, base.n)].value;
				if (op.kind == LINCHECK_GET && rng_range(&g, 0, 2))
					op.out_value = other ? other : "";
				else if (op.kind == LINCHECK_GET)
					op.out_version += 1;
				else if (op.kind == LINCHECK_VPUT)
					op.reply = (enum lincheck_reply)((op.reply + 1) % 4);
				else
					op.value = "z";
			}
			add(&h, op);
		}
		bool want = brute(&h, NULL);
		struct lincheck_result r;
		int v = check(&h, BIG, &r);
		cr_assert_eq(v == LINCHECK_OK, want, "round %d: checker says %s:\n%s",
			     round, lincheck_status_name(v), text);
		if (v == LINCHECK_ILLEGAL) {
			illegal++;
			with_context += r.n_context > 0;
			verified += expect_core_sound(&h, &r);
			expect_prefix_legal(&h, &r);
		}
		lincheck_result_free(&r);
		lincheck_history_free(&h);
		lincheck_history_free(&base);
	}
	cr_expect_gt(illegal, 12);
	cr_expect_gt(with_context, 4);
	cr_expect_geq(verified, illegal * 9 / 10, "only %d of %d cores verified", verified, illegal);
}

Test(lincheck, budget_tiny_gives_unknown_big_gives_answer)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	gen_big(&h, 1, 5, 400);
	struct lincheck_result r;
	cr_expect_eq(check(&h, 100, &r), LINCHECK_UNKNOWN);
	cr_expect_str_eq(r.key, "x");
	cr_expect_leq(r.steps, 100);
	expect_text("undecided: the budget ran out after 100 steps on key x (2000 operations)");
	lincheck_result_free(&r);
	cr_expect_eq(check(&h, BIG, &r), LINCHECK_OK, "%s", text);
	cr_expect_lt(r.steps, BIG);
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

Test(lincheck, budget_big_finds_a_late_stale_read)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	gen_big(&h, 2, 5, 400);
	/* a get late in the history reads a value long overwritten */
	size_t late = 0;
	for (size_t i = 0; i < h.n; i++)
		if (h.ops[i].kind == LINCHECK_GET && h.ops[i].call > h.ops[late].call)
			late = i;
	struct lincheck_history bad;
	lincheck_history_init(&bad);
	for (size_t i = 0; i < h.n; i++) {
		struct lincheck_op op = h.ops[i];
		if (i == late) {
			op.out_value = "7";  /* written by op 7, long ago */
			op.out_version = ANYV;
		}
		add(&bad, op);
	}
	struct lincheck_result r;
	cr_assert_eq(check(&bad, 100, &r), LINCHECK_UNKNOWN);
	lincheck_result_free(&r);
	cr_assert_eq(check(&bad, BIG, &r), LINCHECK_ILLEGAL, "%s", text);
	cr_expect_str_eq(r.key, "x");
	cr_expect_eq(r.stuck, late);
	cr_expect(has(r.core, r.n_core, late), "%s", text);
	cr_expect_leq(r.n_core, 4, "%s", text);
	cr_expect(r.core_minimal, "%s", text);
	cr_expect_gt(r.n_prefix, 1500);
	cr_expect_gt(r.n_context, 1500, "%s", text);
	cr_expect_geq(r.n_context_states, 1);
	expect_text("get(x) -> \"7\"");
	expect_text("operations that returned before");
	lincheck_result_free(&r);
	lincheck_history_free(&bad);
	lincheck_history_free(&h);
}

/* ---- the context on long histories -------------------------------------- */

/* Client 1 does puts and reads back to back from time t; returns the time
 * after.  Reads check versions only when `versions`. */
static uint64_t busy_client(struct lincheck_history *h, uint64_t t, int n, uint64_t version,
			    bool versions, char (*vals)[16])
{
	for (int i = 0; i < n; i++) {
		snprintf(vals[i], sizeof(vals[i]), "v%d", i);
		put(h, 1, "x", vals[i], t, t + 5);
		version++;
		get(h, 1, "x", t + 10, t + 15, vals[i], versions ? version : ANYV);
		t += 20;
	}
	return t;
}

Test(lincheck, context_with_a_read_in_flight_across_the_cut)
{
	/* a long read saw "a", overwritten early: it took effect inside the
	 * context, though it returns long after the cut */
	struct lincheck_history h;
	lincheck_history_init(&h);
	char vals[18][16];
	size_t slow = get(&h, 2, "x", 0, 1000, "a", ANYV);
	put(&h, 1, "x", "a", 10, 20);
	uint64_t t = busy_client(&h, 30, 18, 1, false, vals);
	size_t z = put(&h, 1, "x", "z", t, t + 5);
	size_t stale = get(&h, 1, "x", t + 10, t + 15, vals[17], ANYV);
	struct lincheck_result r;
	cr_assert_eq(check(&h, BIG, &r), LINCHECK_ILLEGAL, "%s", text);
	cr_expect_gt(r.n_context, 8, "%s", text);
	cr_expect_lt(r.since, 1000, "the slow read is in flight at the cut");
	cr_expect(!has(r.core, r.n_core, slow), "%s", text);
	cr_expect_eq(r.n_core, 2, "%s", text);
	cr_expect(has(r.core, r.n_core, z) && has(r.core, r.n_core, stale), "%s", text);
	cr_expect(expect_core_sound(&h, &r));
	expect_text("get(x) -> \"v17\" by client 1");
	expect_text("  put(x, \"z\") by client 1");
	expect_text("operations that returned before");
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

Test(lincheck, context_with_a_versioned_put_in_flight_across_the_cut)
{
	/* a late read counts a write too many: only the long vput could have
	 * made it, and it said ErrVersion.  It is in flight at the cut, so it
	 * stays in the core as it is */
	struct lincheck_history h;
	lincheck_history_init(&h);
	char vals[18][16];
	size_t v = vput(&h, 2, "x", "V", 1, 5, 1000, LINCHECK_REPLY_ERR_VERSION);
	put(&h, 1, "x", "a", 10, 20);
	put(&h, 1, "x", "b", 30, 40);
	uint64_t t = busy_client(&h, 50, 18, 2, false, vals);
	size_t late = get(&h, 1, "x", t, t + 5, vals[17], 2 + 18 + 1);
	struct lincheck_result r;
	cr_assert_eq(check(&h, BIG, &r), LINCHECK_ILLEGAL, "%s", text);
	cr_expect_gt(r.n_context, 8, "%s", text);
	cr_expect(has(r.core, r.n_core, v), "%s", text);
	cr_expect(has(r.core, r.n_core, late), "%s", text);
	cr_expect(!r.core_minimal);
	cr_expect(expect_core_sound(&h, &r));
	expect_text("vput(x, \"V\", v1) -> ErrVersion by client 2 [call 5, return 1000]");
	expect_text("(not shrunk all the way: some of these may not matter)");
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

/* ---- del and incr ------------------------------------------------------------ */

Test(lincheck, del_and_incr_sequential)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	incr(&h, 1, "x", 0, 10, "1");                       /* missing counts as 0 */
	put(&h, 1, "x", "41", 20, 30);
	incr(&h, 1, "x", 40, 50, "42");
	get(&h, 1, "x", 60, 70, "42", 3);
	del(&h, 1, "x", 80, 90, LINCHECK_REPLY_OK);
	get(&h, 1, "x", 100, 110, "", 0);                   /* missing again: "" at version 0 */
	del(&h, 1, "x", 120, 130, LINCHECK_REPLY_ERR_NOKEY);
	put(&h, 1, "x", "a", 140, 150);
	get(&h, 1, "x", 160, 170, "a", 1);                  /* the version starts over */
	incr(&h, 1, "x", 180, 190, NULL);                   /* "a": not an integer, no change */
	get(&h, 1, "x", 200, 210, "a", 1);
	vput(&h, 1, "y", "-9223372036854775808", 0, 220, 230, LINCHECK_REPLY_OK);
	incr(&h, 1, "y", 240, 250, "-9223372036854775807");
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, incr_follows_redis_integer_rule)
{
	/* what is not an integer's canonical text is refused, and nothing changes */
	static const char *const refused[] = {
		"007", "-0", "+1", " 1", "1 ", "", "1.5", "0x10", "9223372036854775807",
		"9223372036854775808", "-9223372036854775809", "123456789012345678901",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct lincheck_history h;
		lincheck_history_init(&h);
		put(&h, 1, "x", refused[i], 0, 10);
		incr(&h, 1, "x", 20, 30, NULL);
		get(&h, 1, "x", 40, 50, refused[i], 1);
		expect_ok(&h);
		lincheck_history_free(&h);
		/* and an incr that claims to have done it is wrong */
		lincheck_history_init(&h);
		put(&h, 1, "x", refused[i], 0, 10);
		size_t bad = incr(&h, 1, "x", 20, 30, "8");
		size_t core[] = { bad };
		struct lincheck_result r;
		cr_expect_eq(check(&h, BIG, &r), LINCHECK_ILLEGAL, "\"%s\" + 1 accepted", refused[i]);
		cr_expect(has(r.core, r.n_core, core[0]));
		lincheck_result_free(&r);
		lincheck_history_free(&h);
	}
}

Test(lincheck, concurrent_increments)
{
	/* two overlapping increments: 1 and 2 in either order is fine */
	struct lincheck_history h;
	lincheck_history_init(&h);
	incr(&h, 1, "x", 0, 20, "2");
	incr(&h, 2, "x", 5, 15, "1");
	get(&h, 3, "x", 30, 40, "2", 2);
	expect_ok(&h);
	lincheck_history_free(&h);

	/* both saw 0: an increment was lost */
	lincheck_history_init(&h);
	size_t a = incr(&h, 1, "x", 0, 20, "1");
	size_t b = incr(&h, 2, "x", 5, 15, "1");
	size_t core[] = { a, b };
	expect_core(&h, "x", core, 2);
	expect_text("incr(x) -> 1 by client 1");
	lincheck_history_free(&h);
}

Test(lincheck, del_answers_and_resets_the_version)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	size_t p = put(&h, 1, "x", "a", 0, 10);
	size_t d = del(&h, 1, "x", 20, 30, LINCHECK_REPLY_ERR_NOKEY);   /* the key was there */
	size_t core[] = { p, d };
	expect_core(&h, "x", core, 2);
	expect_text("del(x) -> ErrNoKey by client 1");
	lincheck_history_free(&h);

	lincheck_history_init(&h);
	put(&h, 1, "x", "a", 0, 10);
	del(&h, 1, "x", 20, 30, LINCHECK_REPLY_OK);
	put(&h, 1, "x", "b", 40, 50);
	size_t g = get(&h, 1, "x", 60, 70, "b", 2);       /* version 1: the count started over */
	size_t core2[] = { g };
	struct lincheck_result r;
	cr_expect_eq(check(&h, BIG, &r), LINCHECK_ILLEGAL);
	cr_expect(has(r.core, r.n_core, core2[0]), "%s", text);
	lincheck_result_free(&r);
	lincheck_history_free(&h);

	/* a del that never returned may have happened */
	lincheck_history_init(&h);
	put(&h, 1, "x", "a", 0, 10);
	del(&h, 2, "x", 20, P, LINCHECK_REPLY_OK);
	get(&h, 1, "x", 30, 40, "", 0);
	vput(&h, 1, "x", "new", 0, 50, 60, LINCHECK_REPLY_OK);
	expect_ok(&h);
	lincheck_history_free(&h);
}

/* ---- the API's edges ------------------------------------------------------- */

Test(lincheck, add_rejects_bad_ops_with_words)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	struct lincheck_op op = { .client = 2, .kind = LINCHECK_PUT, .key = "x", .value = "1",
				  .call = 20, .ret = 10 };
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	cr_expect_str_eq(h.errmsg, "operation 0 (put x by client 2): return 10 before call 20");
	op.ret = 30;
	op.value = NULL;
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	op = (struct lincheck_op){ .kind = LINCHECK_GET, .key = "x", .call = 1, .ret = 2 };
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	cr_expect(strstr(h.errmsg, "needs the value it read"), "%s", h.errmsg);
	op = (struct lincheck_op){ .kind = LINCHECK_DEL, .key = "x", .call = 1, .ret = 2,
				   .reply = LINCHECK_REPLY_ERR_VERSION };
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	cr_expect(strstr(h.errmsg, "bad del reply"), "%s", h.errmsg);
	op = (struct lincheck_op){ .kind = LINCHECK_INCR, .key = "x", .call = 1, .ret = 2 };
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	cr_expect(strstr(h.errmsg, "needs the value it made"), "%s", h.errmsg);
	op.reply = LINCHECK_REPLY_ERR_NOKEY;
	cr_expect_eq(lincheck_add(&h, &op, NULL), LINCHECK_EINVAL);
	cr_expect(strstr(h.errmsg, "bad incr reply"), "%s", h.errmsg);
	cr_expect_eq(h.n, 0);
	/* del and incr take no value: one given is not kept */
	op = (struct lincheck_op){ .kind = LINCHECK_DEL, .key = "x", .value = "ignored", .call = 1, .ret = 2 };
	size_t i;
	cr_expect_eq(lincheck_add(&h, &op, &i), LINCHECK_OK);
	cr_expect_null(h.ops[i].value);
	lincheck_history_free(&h);
}

Test(lincheck, finish_records_a_return_later)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	char key[] = "x", val[] = "1";
	size_t p = put(&h, 1, key, val, 0, P);
	size_t g = get(&h, 2, key, 5, P, NULL, 0);
	key[0] = 'q';                            /* the history holds its own copies */
	val[0] = '9';
	cr_expect_eq(lincheck_finish(&h, p, 10, NULL, 0, LINCHECK_REPLY_OK), LINCHECK_OK);
	cr_expect_eq(lincheck_finish(&h, g, 20, "1", 1, LINCHECK_REPLY_OK), LINCHECK_OK);
	cr_expect_eq(lincheck_finish(&h, g, 30, "1", 1, LINCHECK_REPLY_OK), LINCHECK_EINVAL);
	cr_expect(strstr(h.errmsg, "already returned"), "%s", h.errmsg);
	cr_expect_eq(lincheck_finish(&h, 9, 30, "1", 1, LINCHECK_REPLY_OK), LINCHECK_EINVAL);
	/* an incr's output and a del's answer come with their return */
	size_t in = incr(&h, 3, key, 40, P, NULL);
	size_t d = del(&h, 3, "other", 40, P, LINCHECK_REPLY_OK);
	cr_expect_eq(lincheck_finish(&h, in, 50, "1", 0, LINCHECK_REPLY_OK), LINCHECK_OK);
	cr_expect_str_eq(h.ops[in].out_value, "1");
	cr_expect_eq(lincheck_finish(&h, d, 50, NULL, 0, LINCHECK_REPLY_ERR_NOKEY), LINCHECK_OK);
	cr_expect_eq(h.ops[d].reply, LINCHECK_REPLY_ERR_NOKEY);
	expect_ok(&h);
	lincheck_history_free(&h);
}

Test(lincheck, explain_truncates_like_snprintf)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	put(&h, 1, "x", "1", 0, 10);
	put(&h, 1, "x", "2", 20, 30);
	get(&h, 2, "x", 40, 50, "1", ANYV);
	struct lincheck_result r;
	check(&h, BIG, &r);
	size_t need = lincheck_explain(&r, &h, NULL, 0);
	cr_expect_eq(need, strlen(text));
	char small[24];
	cr_expect_eq(lincheck_explain(&r, &h, small, sizeof(small)), need);
	cr_expect_eq(strlen(small), sizeof(small) - 1);
	cr_expect_str_eq(small + sizeof(small) - 4, "...");
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

Test(lincheck, explain_escapes_values)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	get(&h, 1, "my key", 0, 10, "a\"b\n0123456789012345678901234567890123456789", ANYV);
	struct lincheck_result r;
	cr_assert_eq(check(&h, BIG, &r), LINCHECK_ILLEGAL);
	expect_text("get(\"my key\") -> \"a\\\"b\\x0a0123456789012345678901234567...\"");
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

Test(lincheck, reply_names_round_trip)
{
	for (int i = 0; i < 5; i++) {
		enum lincheck_reply r;
		cr_expect(lincheck_reply_parse(lincheck_reply_name((enum lincheck_reply)i), &r));
		cr_expect_eq((int)r, i);
	}
	enum lincheck_reply r;
	cr_expect(!lincheck_reply_parse("ErrWrongLeader", &r));
	cr_expect(!lincheck_reply_parse(NULL, &r));
}
