/*
 * test_kv.c — unit tests of the key/value state machine (src/core/kv.c).
 *
 * Every operation on present and missing keys (the vput matrix included;
 * del and its tombstones; incr and Redis's integer rule),
 * the duplicate table (a retry of each kind of write gets the first reply
 * and changes nothing; gets and seq 0 are never deduplicated; with dedup off
 * a retry applies twice; the table's memory follows the clients, not the
 * traffic), snapshots (round trip, canonical bytes, a retry after a restore
 * still deduplicated; every truncation, garbage and each kind of bad record
 * refused with the store untouched), the request and reply codecs (round
 * trips, every truncation and each bad field refused) and the size limits.
 * Deterministic: fixed seeds, no clock.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/kv.h"
#include "../../src/core/rng.h"

/* ---- helpers ----------------------------------------------------------------- */

static struct kv_request rq(enum kv_op op, uint32_t client, uint64_t seq, const char *key,
			    const char *value, uint64_t version)
{
	return (struct kv_request){
		.client = client, .seq = seq, .op = op,
		.key = (const uint8_t *)key, .key_len = (uint32_t)strlen(key),
		.value = (const uint8_t *)value, .value_len = value ? (uint32_t)strlen(value) : 0,
		.version = version,
	};
}

static struct kv_reply apply(struct kv_store *s, struct kv_request req, bool *changed)
{
	struct kv_reply rep;
	bool ch;
	cr_assert_eq(kv_apply(s, &req, &rep, &ch), 0, "kv_apply: %s", s->errmsg);
	cr_assert_eq(rep.client, req.client);
	cr_assert_eq(rep.seq, req.seq);
	cr_assert_eq(rep.leader_hint, 0);
	cr_assert_not_null(rep.value);
	if (changed)
		*changed = ch;
	return rep;
}

static void expect_reply(struct kv_reply rep, enum kv_err err, const char *value, uint64_t version)
{
	cr_assert_eq(rep.err, err, "err %s, expected %s", kv_err_name(rep.err), kv_err_name(err));
	cr_assert_eq(rep.version, version, "version %" PRIu64 ", expected %" PRIu64,
		     rep.version, version);
	if (value) {
		cr_assert_eq(rep.value_len, strlen(value), "value length %" PRIu32 ", expected %zu",
			     rep.value_len, strlen(value));
		cr_assert(memcmp(rep.value, value, rep.value_len) == 0);
	}
}

/* The reply's err and version, whatever its value. */
static struct kv_reply expect_reply_v(struct kv_reply rep, enum kv_err err, uint64_t version)
{
	expect_reply(rep, err, NULL, version);
	return rep;
}

static void expect_key(const struct kv_store *s, const char *key, const char *value, uint64_t version)
{
	const struct kv_entry *e = kv_lookup(s, (const uint8_t *)key, (uint32_t)strlen(key));
	if (!value) {
		cr_assert_null(e, "key %s should be missing", key);
		return;
	}
	cr_assert_not_null(e, "key %s missing", key);
	cr_assert_eq(e->value_len, strlen(value), "key %s: length %" PRIu32 ", expected %zu",
		     key, e->value_len, strlen(value));
	cr_assert(memcmp(e->value, value, e->value_len) == 0, "key %s: wrong value", key);
	cr_assert_eq(e->version, version, "key %s: version %" PRIu64 ", expected %" PRIu64,
		     key, e->version, version);
}

/* A snapshot, as a way to compare whole stores. */
struct bytes {
	uint8_t *p;
	size_t len;
};

static struct bytes snap(const struct kv_store *s)
{
	struct bytes b;
	cr_assert_eq(kv_snapshot(s, &b.p, &b.len), 0);
	return b;
}

static void expect_same(struct bytes a, struct bytes b)
{
	cr_assert_eq(a.len, b.len, "snapshots of %zu and %zu bytes", a.len, b.len);
	cr_assert(memcmp(a.p, b.p, a.len) == 0, "snapshots differ");
}

/* The same store state (contents and bytes count) as before. */
static void expect_unchanged(const struct kv_store *s, struct bytes before, uint64_t bytes)
{
	struct bytes now = snap(s);
	expect_same(before, now);
	cr_assert_eq(s->bytes, bytes);
	free(now.p);
}

/* A store with a few keys and records from three clients. */
static void fill(struct kv_store *s)
{
	apply(s, rq(KV_PUT, 1, 1, "a", "1", 0), NULL);
	apply(s, rq(KV_APPEND, 2, 1, "b", "xy", 0), NULL);
	apply(s, rq(KV_VPUT, 3, 1, "c", "z", 0), NULL);
	apply(s, rq(KV_VPUT, 3, 2, "c", "w", 7), NULL);        /* ErrVersion, recorded */
	apply(s, rq(KV_PUT, 4, 0, "", "empty key", 0), NULL);  /* seq 0: not recorded */
	apply(s, rq(KV_PUT, 1, 2, "d", "", 0), NULL);          /* empty value */
}

/* ---- operations ----------------------------------------------------------------- */

Test(kv, names)
{
	cr_assert_str_eq(kv_op_name(KV_GET), "get");
	cr_assert_str_eq(kv_op_name(KV_PUT), "put");
	cr_assert_str_eq(kv_op_name(KV_APPEND), "append");
	cr_assert_str_eq(kv_op_name(KV_VPUT), "vput");
	cr_assert_str_eq(kv_op_name(KV_DEL), "del");
	cr_assert_str_eq(kv_op_name(KV_INCR), "incr");
	cr_assert_str_eq(kv_op_name((enum kv_op)9), "?");
	cr_assert_str_eq(kv_err_name(KV_OK), "OK");
	cr_assert_str_eq(kv_err_name(KV_ERR_NOKEY), "ErrNoKey");
	cr_assert_str_eq(kv_err_name(KV_ERR_VERSION), "ErrVersion");
	cr_assert_str_eq(kv_err_name(KV_ERR_MAYBE), "ErrMaybe");
	cr_assert_str_eq(kv_err_name(KV_ERR_WRONG_LEADER), "ErrWrongLeader");
	cr_assert_str_eq(kv_err_name(KV_ERR_NOT_INTEGER), "ErrNotInteger");
	cr_assert_str_eq(kv_err_name((enum kv_err)9), "?");
}

Test(kv, get_missing_key)
{
	struct kv_store s;
	bool changed = true;
	kv_init(&s, true);
	expect_reply(apply(&s, rq(KV_GET, 1, 5, "nope", NULL, 0), &changed), KV_ERR_NOKEY, "", 0);
	cr_assert(!changed);
	cr_assert_eq(s.n_keys, 0);
	cr_assert_eq(s.n_dups, 0, "a get is never recorded");
	cr_assert_eq(s.bytes, 0);
	kv_free(&s);
}

Test(kv, put_get_versions)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	expect_reply(apply(&s, rq(KV_PUT, 1, 1, "k", "v1", 0), &changed), KV_OK, "", 1);
	cr_assert(changed);
	expect_reply(apply(&s, rq(KV_GET, 1, 0, "k", NULL, 0), &changed), KV_OK, "v1", 1);
	cr_assert(!changed);
	expect_reply(apply(&s, rq(KV_PUT, 1, 2, "k", "value2", 0), NULL), KV_OK, "", 2);
	expect_reply(apply(&s, rq(KV_GET, 2, 0, "k", NULL, 0), NULL), KV_OK, "value2", 2);
	expect_reply(apply(&s, rq(KV_PUT, 1, 3, "k", "", 0), NULL), KV_OK, "", 3);
	expect_reply(apply(&s, rq(KV_GET, 2, 0, "k", NULL, 0), NULL), KV_OK, "", 3);
	cr_assert_eq(s.n_keys, 1);
	cr_assert_eq(s.bytes, 1);
	/* the empty key is a key like any other */
	expect_reply(apply(&s, rq(KV_PUT, 1, 4, "", "e", 0), NULL), KV_OK, "", 1);
	expect_key(&s, "", "e", 1);
	cr_assert_eq(s.bytes, 2);
	kv_free(&s);
}

Test(kv, append)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	/* a missing key counts as "" */
	expect_reply(apply(&s, rq(KV_APPEND, 1, 1, "k", "ab", 0), &changed), KV_OK, "", 1);
	cr_assert(changed);
	expect_key(&s, "k", "ab", 1);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 2, "k", "cde", 0), NULL), KV_OK, "", 2);
	expect_key(&s, "k", "abcde", 2);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 3, "k", "", 0), NULL), KV_OK, "", 3);
	expect_key(&s, "k", "abcde", 3);
	expect_reply(apply(&s, rq(KV_PUT, 1, 4, "k", "x", 0), NULL), KV_OK, "", 4);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 5, "k", "y", 0), NULL), KV_OK, "", 5);
	expect_key(&s, "k", "xy", 5);
	cr_assert_eq(s.bytes, 3);
	kv_free(&s);
}

Test(kv, vput_matrix)
{
	struct kv_store s;
	struct bytes before;
	bool changed;
	kv_init(&s, true);

	/* missing, ver > 0: ErrNoKey, nothing changes */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 1, "k", "v", 3), &changed), KV_ERR_NOKEY, "", 0);
	cr_assert(!changed);
	expect_key(&s, "k", NULL, 0);
	cr_assert_eq(s.n_keys, 0);
	/* missing, ver == 0: created at version 1 */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 2, "k", "v", 0), &changed), KV_OK, "", 1);
	cr_assert(changed);
	expect_key(&s, "k", "v", 1);
	/* present, ver == version: value replaced, version + 1 */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 3, "k", "w", 1), NULL), KV_OK, "", 2);
	expect_key(&s, "k", "w", 2);
	/* present, another version (older, newer, 0): ErrVersion with the current
	 * version, nothing changes */
	before = snap(&s);
	uint64_t vers[] = { 1, 3, 0 };
	for (int i = 0; i < 3; i++) {
		expect_reply(apply(&s, rq(KV_VPUT, 2, 0, "k", "no", vers[i]), &changed),
			     KV_ERR_VERSION, "", 2);
		cr_assert(!changed);
	}
	expect_unchanged(&s, before, 2);
	expect_key(&s, "k", "w", 2);
	free(before.p);
	kv_free(&s);
}

Test(kv, many_keys_grow_and_iterate)
{
	struct kv_store s;
	char key[32], value[32];
	uint64_t bytes = 0;
	size_t n = 5000;
	kv_init(&s, true);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%zu", i);
		snprintf(value, sizeof(value), "%zu", i * 7);
		apply(&s, rq(KV_PUT, 1, i + 1, key, value, 0), NULL);
		bytes += strlen(key) + strlen(value);
	}
	cr_assert_eq(s.n_keys, n);
	cr_assert_eq(s.bytes, bytes);
	cr_assert_leq(s.n_keys * 4, s.n_slots * 3);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%zu", i);
		snprintf(value, sizeof(value), "%zu", i * 7);
		expect_key(&s, key, value, 1);
	}
	/* kv_next visits each key once */
	bool *seen = calloc(n, sizeof(*seen));
	const struct kv_entry *e;
	size_t count = 0;
	uint64_t sum = 0;
	for (size_t it = 0; (e = kv_next(&s, &it));) {
		char buf[32] = { 0 };
		size_t i;
		cr_assert_lt(e->key_len, sizeof(buf));
		memcpy(buf, e->key, e->key_len);
		cr_assert_eq(sscanf(buf, "key-%zu", &i), 1);
		cr_assert_lt(i, n);
		cr_assert(!seen[i], "key %zu visited twice", i);
		seen[i] = true;
		count++;
		sum += e->key_len + e->value_len;
	}
	cr_assert_eq(count, n);
	cr_assert_eq(sum, s.bytes);
	free(seen);
	kv_free(&s);
	cr_assert_eq(s.n_keys, 0);
	cr_assert(s.dedup, "kv_free keeps the dedup flag");
}

static struct kv_reply expect_n(struct kv_reply rep, uint64_t n)
{
	cr_assert_eq(rep.n, n, "n %" PRIu64 ", expected %" PRIu64, rep.n, n);
	return rep;
}

Test(kv, append_answers_the_new_length)
{
	struct kv_store s;
	kv_init(&s, true);
	expect_n(apply(&s, rq(KV_APPEND, 1, 1, "k", "ab", 0), NULL), 2);
	expect_n(apply(&s, rq(KV_APPEND, 1, 2, "k", "cde", 0), NULL), 5);
	expect_n(apply(&s, rq(KV_APPEND, 1, 3, "k", "", 0), NULL), 5);
	expect_n(apply(&s, rq(KV_PUT, 1, 4, "k", "xyz", 0), NULL), 0);
	kv_free(&s);
}

Test(kv, del_makes_a_tombstone)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	apply(&s, rq(KV_PUT, 1, 1, "k", "value", 0), NULL);
	apply(&s, rq(KV_PUT, 1, 2, "k", "v2", 0), NULL);
	apply(&s, rq(KV_PUT, 1, 3, "other", "o", 0), NULL);
	cr_assert_eq(s.bytes, 1 + 2 + 5 + 1);
	/* present: removed, one key; the key reads as missing, "" at version 0 */
	expect_n(expect_reply_v(apply(&s, rq(KV_DEL, 1, 4, "k", NULL, 0), &changed), KV_OK, 0), 1);
	cr_assert(changed);
	expect_reply(apply(&s, rq(KV_GET, 1, 0, "k", NULL, 0), NULL), KV_ERR_NOKEY, "", 0);
	cr_assert_eq(s.n_keys, 1);
	cr_assert_eq(s.n_tombs, 1);
	cr_assert_eq(s.bytes, 5 + 1);
	/* what a replica reports after the change: the tombstone */
	const struct kv_entry *e = kv_lookup(&s, (const uint8_t *)"k", 1);
	cr_assert_not_null(e);
	cr_assert_eq(e->version, 0);
	cr_assert_eq(e->value_len, 0);
	/* kv_next does not show it */
	size_t it = 0, n = 0;
	while ((e = kv_next(&s, &it))) {
		n++;
		cr_assert_eq(e->key_len, 5);
	}
	cr_assert_eq(n, 1);
	/* missing: ErrNoKey, nothing removed, nothing changed */
	expect_n(expect_reply_v(apply(&s, rq(KV_DEL, 1, 5, "k", NULL, 0), &changed), KV_ERR_NOKEY, 0), 0);
	cr_assert(!changed);
	expect_reply_v(apply(&s, rq(KV_DEL, 1, 6, "never", NULL, 0), &changed), KV_ERR_NOKEY, 0);
	cr_assert(!changed);
	/* written again: version 1, the slot reused; vput at 0 creates it */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 7, "k", "back", 0), &changed), KV_OK, "", 1);
	cr_assert(changed);
	expect_key(&s, "k", "back", 1);
	cr_assert_eq(s.n_keys, 2);
	cr_assert_eq(s.n_tombs, 0);
	cr_assert_eq(s.bytes, 1 + 4 + 5 + 1);
	/* append and incr on a deleted key start from "" and 0 */
	apply(&s, rq(KV_DEL, 1, 8, "k", NULL, 0), NULL);
	expect_n(apply(&s, rq(KV_APPEND, 1, 9, "k", "ab", 0), NULL), 2);
	expect_key(&s, "k", "ab", 1);
	apply(&s, rq(KV_DEL, 1, 10, "k", NULL, 0), NULL);
	expect_n(apply(&s, rq(KV_INCR, 1, 11, "k", NULL, 0), NULL), 1);
	expect_key(&s, "k", "1", 1);
	kv_free(&s);
}

Test(kv, many_deletes_do_not_fill_the_table)
{
	/* tombstones hold slots until the table is rebuilt: churn over new
	 * keys keeps it small */
	struct kv_store s;
	char key[32];
	kv_init(&s, true);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		expect_reply(apply(&s, rq(KV_PUT, 1, 0, key, "v", 0), NULL), KV_OK, "", 1);
		expect_reply_v(apply(&s, rq(KV_DEL, 1, 0, key, NULL, 0), NULL), KV_OK, 0);
		cr_assert_eq(s.n_keys, 0);
	}
	cr_assert_leq(s.n_slots, 64, "%zu slots for no key", s.n_slots);
	cr_assert_eq(s.bytes, 0);
	/* and the live keys survive every rebuild */
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "live%d", i);
		apply(&s, rq(KV_PUT, 1, 0, key, key, 0), NULL);
		snprintf(key, sizeof(key), "gone%d", i);
		apply(&s, rq(KV_PUT, 1, 0, key, key, 0), NULL);
		apply(&s, rq(KV_DEL, 1, 0, key, NULL, 0), NULL);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "live%d", i);
		expect_key(&s, key, key, 1);
		snprintf(key, sizeof(key), "gone%d", i);
		const struct kv_entry *e = kv_lookup(&s, (const uint8_t *)key, (uint32_t)strlen(key));
		cr_assert(!e || e->version == 0);
	}
	cr_assert_eq(s.n_keys, 500);
	kv_free(&s);
}

Test(kv, incr)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	/* missing counts as 0; the value is kept as decimal text */
	expect_n(expect_reply_v(apply(&s, rq(KV_INCR, 1, 1, "n", NULL, 0), &changed), KV_OK, 1), 1);
	cr_assert(changed);
	expect_key(&s, "n", "1", 1);
	expect_n(apply(&s, rq(KV_INCR, 1, 2, "n", NULL, 0), NULL), 2);
	expect_key(&s, "n", "2", 2);
	apply(&s, rq(KV_PUT, 1, 3, "n", "-5", 0), NULL);
	expect_n(apply(&s, rq(KV_INCR, 1, 4, "n", NULL, 0), NULL), (uint64_t)-4);
	expect_key(&s, "n", "-4", 4);
	apply(&s, rq(KV_PUT, 1, 5, "n", "-1", 0), NULL);
	expect_n(apply(&s, rq(KV_INCR, 1, 6, "n", NULL, 0), NULL), 0);
	expect_key(&s, "n", "0", 6);
	apply(&s, rq(KV_PUT, 1, 7, "n", "9223372036854775806", 0), NULL);
	expect_n(apply(&s, rq(KV_INCR, 1, 8, "n", NULL, 0), NULL), (uint64_t)INT64_MAX);
	expect_key(&s, "n", "9223372036854775807", 8);
	/* at the largest: refused with the key's version, nothing changes */
	expect_reply_v(apply(&s, rq(KV_INCR, 1, 9, "n", NULL, 0), &changed), KV_ERR_NOT_INTEGER, 8);
	cr_assert(!changed);
	expect_key(&s, "n", "9223372036854775807", 8);
	apply(&s, rq(KV_PUT, 1, 10, "n", "-9223372036854775808", 0), NULL);
	expect_n(apply(&s, rq(KV_INCR, 1, 11, "n", NULL, 0), NULL), (uint64_t)(INT64_MIN + 1));
	/* what is not an integer's canonical text is refused */
	static const char *const bad[] = {
		"", "a", "007", "-0", "+1", " 1", "1 ", "1.0", "0x1", "--1", "-",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999",
	};
	uint32_t seq = 20;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		apply(&s, rq(KV_PUT, 2, seq++, "b", bad[i], 0), NULL);
		expect_reply_v(apply(&s, rq(KV_INCR, 2, seq++, "b", NULL, 0), &changed), KV_ERR_NOT_INTEGER, i + 1);
		cr_assert(!changed, "\"%s\" was incremented", bad[i]);
		expect_key(&s, "b", bad[i], i + 1);
	}
	kv_free(&s);
}

Test(kv, parse_int)
{
	int64_t v;
	cr_assert(kv_parse_int((const uint8_t *)"0", 1, &v) && v == 0);
	cr_assert(kv_parse_int((const uint8_t *)"-12", 3, &v) && v == -12);
	cr_assert(kv_parse_int((const uint8_t *)"9223372036854775807", 19, &v) && v == INT64_MAX);
	cr_assert(kv_parse_int((const uint8_t *)"-9223372036854775808", 20, &v) && v == INT64_MIN);
	cr_assert(!kv_parse_int((const uint8_t *)"12x", 3, &v));
	cr_assert(!kv_parse_int((const uint8_t *)"12", 1, &v) || v == 1);   /* only len bytes count */
	cr_assert(!kv_parse_int(NULL, 0, &v));
}

Test(kv, dedup_del_and_incr_retry)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	/* an incr's retry gets the first answer's number, not a new increment */
	expect_n(apply(&s, rq(KV_INCR, 1, 1, "n", NULL, 0), NULL), 1);
	expect_n(apply(&s, rq(KV_INCR, 2, 1, "n", NULL, 0), NULL), 2);
	expect_n(expect_reply_v(apply(&s, rq(KV_INCR, 1, 1, "n", NULL, 0), &changed), KV_OK, 1), 1);
	cr_assert(!changed);
	expect_key(&s, "n", "2", 2);
	/* an append's retry: the first length */
	expect_n(apply(&s, rq(KV_APPEND, 1, 2, "a", "xyz", 0), NULL), 3);
	apply(&s, rq(KV_APPEND, 2, 2, "a", "!", 0), NULL);
	expect_n(apply(&s, rq(KV_APPEND, 1, 2, "a", "xyz", 0), &changed), 3);
	cr_assert(!changed);
	expect_key(&s, "a", "xyz!", 2);
	/* a del's retry: removed once, still "one removed" though the key is
	 * back; a refused incr's retry is still refused */
	expect_n(apply(&s, rq(KV_DEL, 1, 3, "n", NULL, 0), NULL), 1);
	apply(&s, rq(KV_PUT, 2, 3, "n", "5", 0), NULL);
	expect_n(expect_reply_v(apply(&s, rq(KV_DEL, 1, 3, "n", NULL, 0), &changed), KV_OK, 0), 1);
	cr_assert(!changed);
	expect_key(&s, "n", "5", 1);
	apply(&s, rq(KV_PUT, 2, 4, "t", "text", 0), NULL);
	expect_reply_v(apply(&s, rq(KV_INCR, 1, 4, "t", NULL, 0), NULL), KV_ERR_NOT_INTEGER, 1);
	apply(&s, rq(KV_PUT, 2, 5, "t", "7", 0), NULL);
	expect_reply_v(apply(&s, rq(KV_INCR, 1, 4, "t", NULL, 0), &changed), KV_ERR_NOT_INTEGER, 1);
	cr_assert(!changed);
	expect_key(&s, "t", "7", 2);
	/* the records survive a snapshot, numbers and all */
	expect_n(apply(&s, rq(KV_INCR, 3, 1, "c3", NULL, 0), NULL), 1);
	apply(&s, rq(KV_PUT, 2, 6, "c3", "41", 0), NULL);
	struct kv_store t;
	kv_init(&t, true);
	struct bytes b = snap(&s);
	cr_assert_eq(kv_restore(&t, b.p, b.len), 0, "%s", t.errmsg);
	expect_n(expect_reply_v(apply(&t, rq(KV_INCR, 3, 1, "c3", NULL, 0), &changed), KV_OK, 1), 1);
	cr_assert(!changed);
	expect_reply_v(apply(&t, rq(KV_INCR, 1, 4, "t", NULL, 0), &changed), KV_ERR_NOT_INTEGER, 1);
	cr_assert(!changed);
	expect_key(&t, "c3", "41", 2);
	free(b.p);
	kv_free(&t);
	kv_free(&s);
}

Test(kv, snapshot_skips_tombstones)
{
	struct kv_store s, t;
	kv_init(&s, true);
	kv_init(&t, true);
	apply(&s, rq(KV_PUT, 1, 0, "a", "1", 0), NULL);
	apply(&s, rq(KV_PUT, 1, 0, "gone", "x", 0), NULL);
	apply(&s, rq(KV_DEL, 1, 0, "gone", NULL, 0), NULL);
	apply(&t, rq(KV_PUT, 1, 0, "a", "1", 0), NULL);
	struct bytes a = snap(&s), b = snap(&t);
	expect_same(a, b);                                   /* as if "gone" had never been */
	struct kv_store u;
	kv_init(&u, true);
	cr_assert_eq(kv_restore(&u, a.p, a.len), 0, "%s", u.errmsg);
	cr_assert_null(kv_lookup(&u, (const uint8_t *)"gone", 4));
	free(a.p);
	free(b.p);
	kv_free(&s);
	kv_free(&t);
	kv_free(&u);
}

Test(kv, mirror_set_and_unset)
{
	/* the hub's mirror: a reported tombstone ("" at version 0) unsets */
	struct kv_store m;
	kv_init(&m, false);
	cr_assert_eq(kv_set(&m, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1, 3), 0);
	expect_key(&m, "k", "v", 3);
	cr_assert_eq(kv_set(&m, (const uint8_t *)"k", 1, (const uint8_t *)"", 0, 0), 0);
	cr_assert_eq(m.n_keys, 0);
	cr_assert_eq(m.bytes, 0);
	size_t it = 0;
	cr_assert_null(kv_next(&m, &it));
	cr_assert_eq(kv_set(&m, (const uint8_t *)"k", 1, (const uint8_t *)"w", 1, 1), 0);
	expect_key(&m, "k", "w", 1);
	cr_assert_eq(m.bytes, 2);
	cr_assert_eq(kv_unset(&m, (const uint8_t *)"nope", 4), 0);
	cr_assert_eq(kv_unset(&m, (const uint8_t *)"k", 1), 0);
	cr_assert_eq(m.n_keys, 0);
	kv_free(&m);
}

/* ---- the duplicate table ------------------------------------------------------------ */

Test(kv, dedup_put_retry)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	expect_reply(apply(&s, rq(KV_PUT, 7, 1, "k", "first", 0), NULL), KV_OK, "", 1);
	expect_reply(apply(&s, rq(KV_PUT, 8, 1, "k", "other", 0), NULL), KV_OK, "", 2);
	/* client 7's retry: the first reply, not applied */
	expect_reply(apply(&s, rq(KV_PUT, 7, 1, "k", "first", 0), &changed), KV_OK, "", 1);
	cr_assert(!changed);
	expect_key(&s, "k", "other", 2);
	/* its next request is applied */
	expect_reply(apply(&s, rq(KV_PUT, 7, 2, "k", "second", 0), &changed), KV_OK, "", 3);
	cr_assert(changed);
	/* an older request than the last (the clerk moved on): not applied */
	expect_reply(apply(&s, rq(KV_PUT, 7, 1, "k", "first", 0), &changed), KV_OK, "", 3);
	cr_assert(!changed);
	expect_key(&s, "k", "second", 3);
	cr_assert_eq(s.n_dups, 2);
	kv_free(&s);
}

Test(kv, dedup_append_retry)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 1, "k", "a", 0), NULL), KV_OK, "", 1);
	for (int i = 0; i < 3; i++) {
		expect_reply(apply(&s, rq(KV_APPEND, 1, 1, "k", "a", 0), &changed), KV_OK, "", 1);
		cr_assert(!changed);
	}
	expect_key(&s, "k", "a", 1);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 2, "k", "b", 0), NULL), KV_OK, "", 2);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 2, "k", "b", 0), NULL), KV_OK, "", 2);
	expect_key(&s, "k", "ab", 2);
	kv_free(&s);
}

Test(kv, dedup_vput_retry)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	/* a success, then another client moves the version on: the retry still
	 * says OK at version 1 and does not apply */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 1, "k", "mine", 0), NULL), KV_OK, "", 1);
	expect_reply(apply(&s, rq(KV_PUT, 2, 1, "k", "theirs", 0), NULL), KV_OK, "", 2);
	expect_reply(apply(&s, rq(KV_VPUT, 1, 1, "k", "mine", 0), &changed), KV_OK, "", 1);
	cr_assert(!changed);
	expect_key(&s, "k", "theirs", 2);
	/* a refusal is recorded too: after the version comes to match, the
	 * retry is still refused */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 2, "k", "late", 3), NULL), KV_ERR_VERSION, "", 2);
	expect_reply(apply(&s, rq(KV_PUT, 2, 2, "k", "three", 0), NULL), KV_OK, "", 3);
	expect_reply(apply(&s, rq(KV_VPUT, 1, 2, "k", "late", 3), &changed), KV_ERR_VERSION, "", 2);
	cr_assert(!changed);
	expect_key(&s, "k", "three", 3);
	/* and ErrNoKey, after the key comes to exist */
	expect_reply(apply(&s, rq(KV_VPUT, 1, 3, "m", "x", 1), NULL), KV_ERR_NOKEY, "", 0);
	expect_reply(apply(&s, rq(KV_PUT, 2, 3, "m", "y", 0), NULL), KV_OK, "", 1);
	expect_reply(apply(&s, rq(KV_VPUT, 1, 3, "m", "x", 1), &changed), KV_ERR_NOKEY, "", 0);
	cr_assert(!changed);
	expect_key(&s, "m", "y", 1);
	kv_free(&s);
}

Test(kv, gets_and_seq_zero_not_deduplicated)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, true);
	apply(&s, rq(KV_PUT, 1, 5, "k", "a", 0), NULL);
	/* a get with an old seq is answered afresh and records nothing */
	apply(&s, rq(KV_PUT, 2, 1, "k", "b", 0), NULL);
	expect_reply(apply(&s, rq(KV_GET, 1, 3, "k", NULL, 0), NULL), KV_OK, "b", 2);
	expect_reply(apply(&s, rq(KV_GET, 1, 9, "k", NULL, 0), NULL), KV_OK, "b", 2);
	/* a get with a newer seq did not move client 1's record */
	expect_reply(apply(&s, rq(KV_PUT, 1, 5, "k", "a", 0), &changed), KV_OK, "", 1);
	cr_assert(!changed);
	expect_reply(apply(&s, rq(KV_PUT, 1, 6, "k", "c", 0), &changed), KV_OK, "", 3);
	cr_assert(changed);
	/* seq 0: applied every time, recorded never */
	size_t dups = s.n_dups;
	expect_reply(apply(&s, rq(KV_APPEND, 3, 0, "k", "!", 0), NULL), KV_OK, "", 4);
	expect_reply(apply(&s, rq(KV_APPEND, 3, 0, "k", "!", 0), NULL), KV_OK, "", 5);
	expect_key(&s, "k", "c!!", 5);
	cr_assert_eq(s.n_dups, dups);
	kv_free(&s);
}

Test(kv, client_zero_is_deduplicated)
{
	struct kv_store s;
	kv_init(&s, true);
	apply(&s, rq(KV_APPEND, 0, 1, "k", "x", 0), NULL);
	apply(&s, rq(KV_APPEND, 0, 1, "k", "x", 0), NULL);
	expect_key(&s, "k", "x", 1);
	cr_assert_eq(s.n_dups, 1);
	kv_free(&s);
}

Test(kv, dedup_off_applies_twice)
{
	struct kv_store s;
	bool changed;
	kv_init(&s, false);
	apply(&s, rq(KV_APPEND, 1, 1, "k", "x", 0), NULL);
	expect_reply(apply(&s, rq(KV_APPEND, 1, 1, "k", "x", 0), &changed), KV_OK, "", 2);
	cr_assert(changed);
	expect_key(&s, "k", "xx", 2);
	apply(&s, rq(KV_VPUT, 1, 2, "v", "1", 0), NULL);
	expect_reply(apply(&s, rq(KV_VPUT, 1, 2, "v", "1", 0), NULL), KV_ERR_VERSION, "", 1);
	cr_assert_eq(s.n_dups, 0);
	cr_assert_eq(kv_dup_bytes(&s), 0);
	kv_free(&s);
}

Test(kv, dup_bytes_follow_clients_not_traffic)
{
	struct kv_store s;
	struct rng g;
	char key[16];
	kv_init(&s, true);
	rng_seed(&g, 11);
	cr_assert_eq(kv_dup_bytes(&s), 0);
	for (uint32_t c = 1; c <= 3; c++)
		apply(&s, rq(KV_PUT, c, 1, "k", "v", 0), NULL);
	uint64_t three = kv_dup_bytes(&s);
	cr_assert_gt(three, 0);
	uint64_t seq[4] = { 0, 1, 1, 1 };
	for (int i = 0; i < 10000; i++) {
		uint32_t c = (uint32_t)rng_range(&g, 1, 4);
		enum kv_op op = (enum kv_op)rng_range(&g, KV_PUT, KV_VPUT + 1);
		snprintf(key, sizeof(key), "k%" PRIu64, rng_range(&g, 0, 50));
		/* a retry now and then */
		uint64_t q = rng_range(&g, 0, 10) ? ++seq[c] : seq[c];
		apply(&s, rq(op, c, q, key, "v", rng_range(&g, 0, 3)), NULL);
		cr_assert_eq(kv_dup_bytes(&s), three);
	}
	cr_assert_eq(s.n_dups, 3);
	/* more clients, more memory */
	for (uint32_t c = 4; c <= 1000; c++)
		apply(&s, rq(KV_PUT, c, 1, "k", "v", 0), NULL);
	cr_assert_eq(s.n_dups, 1000);
	cr_assert_gt(kv_dup_bytes(&s), three);
	cr_assert_geq(kv_dup_bytes(&s), 1000 * sizeof(struct kv_dup));
	cr_assert_leq(kv_dup_bytes(&s), 4 * 1000 * sizeof(struct kv_dup));
	kv_free(&s);
}

/* ---- snapshots ------------------------------------------------------------------------ */

Test(kv, snapshot_round_trip)
{
	struct kv_store s, t;
	struct bytes a, b;
	bool changed;
	kv_init(&s, true);
	kv_init(&t, true);
	fill(&s);
	apply(&t, rq(KV_PUT, 9, 1, "old", "gone after restore", 0), NULL);
	a = snap(&s);
	cr_assert_eq(kv_restore(&t, a.p, a.len), 0, "kv_restore: %s", t.errmsg);
	b = snap(&t);
	expect_same(a, b);
	cr_assert_eq(t.n_keys, s.n_keys);
	cr_assert_eq(t.n_dups, s.n_dups);
	cr_assert_eq(t.bytes, s.bytes);
	expect_key(&t, "old", NULL, 0);
	expect_key(&t, "a", "1", 1);
	expect_key(&t, "b", "xy", 1);
	expect_key(&t, "c", "z", 1);
	expect_key(&t, "", "empty key", 1);
	expect_key(&t, "d", "", 1);
	/* retries after the restore are still deduplicated, refusals included */
	expect_reply(apply(&t, rq(KV_APPEND, 2, 1, "b", "xy", 0), &changed), KV_OK, "", 1);
	cr_assert(!changed);
	expect_reply(apply(&t, rq(KV_VPUT, 3, 2, "c", "w", 7), &changed), KV_ERR_VERSION, "", 1);
	cr_assert(!changed);
	expect_reply(apply(&t, rq(KV_PUT, 1, 2, "d", "", 0), &changed), KV_OK, "", 1);
	cr_assert(!changed);
	expect_key(&t, "b", "xy", 1);
	/* and new requests go on */
	expect_reply(apply(&t, rq(KV_PUT, 1, 3, "d", "new", 0), &changed), KV_OK, "", 2);
	cr_assert(changed);
	free(a.p);
	free(b.p);
	kv_free(&s);
	kv_free(&t);
}

Test(kv, snapshot_keeps_the_servers_dedup_flag)
{
	struct kv_store s, t;
	struct bytes a;
	kv_init(&s, true);
	kv_init(&t, false);
	fill(&s);
	a = snap(&s);
	cr_assert_eq(kv_restore(&t, a.p, a.len), 0, "kv_restore: %s", t.errmsg);
	cr_assert(!t.dedup);
	apply(&t, rq(KV_APPEND, 2, 1, "b", "xy", 0), NULL);
	expect_key(&t, "b", "xyxy", 2);
	free(a.p);
	kv_free(&s);
	kv_free(&t);
}

Test(kv, snapshot_empty_and_canonical)
{
	struct kv_store s, t;
	struct bytes a, b;
	char key[16];
	kv_init(&s, true);
	kv_init(&t, true);
	a = snap(&s);
	cr_assert_eq(a.len, 5 + 8 + 8);
	cr_assert(memcmp(a.p, "TSKV2", 5) == 0);
	apply(&t, rq(KV_PUT, 1, 1, "x", "y", 0), NULL);
	cr_assert_eq(kv_restore(&t, a.p, a.len), 0, "kv_restore: %s", t.errmsg);
	cr_assert_eq(t.n_keys, 0);
	cr_assert_eq(t.n_dups, 0);
	cr_assert_eq(t.bytes, 0);
	free(a.p);

	/* the same contents built in opposite orders: the same bytes.  The
	 * records come from refused vputs, which change no key. */
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		apply(&s, rq(KV_PUT, 99, 0, key, key, 0), NULL);
	}
	for (uint32_t c = 1; c <= 7; c++)
		apply(&s, rq(KV_VPUT, c, c * 10, "zz", "", 5), NULL);
	for (int i = 299; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%d", i);
		apply(&t, rq(KV_PUT, 99, 0, key, key, 0), NULL);
	}
	for (uint32_t c = 7; c >= 1; c--)
		apply(&t, rq(KV_VPUT, c, c * 10, "zz", "", 5), NULL);
	/* the tables differ (else this test shows nothing) */
	const struct kv_entry *x, *y;
	bool differ = false;
	for (size_t i = 0, j = 0; (x = kv_next(&s, &i)) && (y = kv_next(&t, &j));)
		differ |= x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0;
	cr_assert(differ);
	a = snap(&s);
	b = snap(&t);
	expect_same(a, b);
	free(a.p);
	free(b.p);
	kv_free(&s);
	kv_free(&t);
}

Test(kv, restore_rejects_every_truncation)
{
	struct kv_store s, t;
	struct bytes a, before;
	kv_init(&s, true);
	kv_init(&t, true);
	fill(&s);
	apply(&t, rq(KV_PUT, 5, 1, "keep", "me", 0), NULL);
	a = snap(&s);
	before = snap(&t);
	for (size_t n = 0; n < a.len; n++) {
		t.errmsg[0] = 0;
		cr_assert_eq(kv_restore(&t, a.p, n), -1, "a %zu-byte prefix of %zu accepted", n, a.len);
		cr_assert_neq(t.errmsg[0], 0);
		expect_unchanged(&t, before, 6);
	}
	/* one byte too many */
	uint8_t *longer = malloc(a.len + 1);
	memcpy(longer, a.p, a.len);
	longer[a.len] = 0;
	cr_assert_eq(kv_restore(&t, longer, a.len + 1), -1);
	cr_assert(strstr(t.errmsg, "trailing"), "%s", t.errmsg);
	expect_unchanged(&t, before, 6);
	free(longer);
	free(a.p);
	free(before.p);
	kv_free(&s);
	kv_free(&t);
}

Test(kv, restore_rejects_garbage)
{
	struct kv_store t;
	struct bytes before;
	struct rng g;
	uint8_t buf[256];
	kv_init(&t, true);
	fill(&t);
	before = snap(&t);
	uint64_t bytes = t.bytes;
	rng_seed(&g, 42);
	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)rng_range(&g, 0, sizeof(buf) + 1);
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rng_next(&g);
		if (i % 2 && n >= 5)
			memcpy(buf, "TSKV1", 5);  /* get past the magic */
		if (i % 4 == 3 && n >= 13)          /* and a plausible key count */
			memset(buf + 5, 0, 8), buf[5] = (uint8_t)rng_range(&g, 0, 4);
		cr_assert_eq(kv_restore(&t, buf, n), -1, "garbage %d accepted", i);
		expect_unchanged(&t, before, bytes);
	}
	free(before.p);
	kv_free(&t);
}

/* Hand-made snapshots, to reach each check. */
struct snapw {
	uint8_t p[4096];
	size_t n;
};

static void w_u8(struct snapw *w, uint8_t v)
{
	w->p[w->n++] = v;
}

static void w_u32(struct snapw *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w_u8(w, (uint8_t)(v >> (8 * i)));
}

static void w_u64(struct snapw *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w_u8(w, (uint8_t)(v >> (8 * i)));
}

static void w_str(struct snapw *w, const char *s, uint32_t len)
{
	w_u32(w, len);
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

static void w_key(struct snapw *w, const char *k, const char *v, uint64_t version)
{
	w_str(w, k, (uint32_t)strlen(k));
	w_str(w, v, (uint32_t)strlen(v));
	w_u64(w, version);
}

static void w_dup(struct snapw *w, uint32_t client, uint64_t seq, uint8_t err, uint64_t version)
{
	w_u32(w, client);
	w_u64(w, seq);
	w_u8(w, err);
	w_u64(w, version);
}

static void expect_refused(struct snapw *w, const char *why)
{
	struct kv_store t;
	struct bytes before;
	kv_init(&t, true);
	fill(&t);
	before = snap(&t);
	uint64_t bytes = t.bytes;
	cr_assert_eq(kv_restore(&t, w->p, w->n), -1, "accepted, expected: %s", why);
	cr_assert(strstr(t.errmsg, why), "errmsg \"%s\", expected \"%s\"", t.errmsg, why);
	expect_unchanged(&t, before, bytes);
	free(before.p);
	kv_free(&t);
}

static void expect_accepted(struct snapw *w)
{
	struct kv_store t;
	kv_init(&t, true);
	cr_assert_eq(kv_restore(&t, w->p, w->n), 0, "refused: %s", t.errmsg);
	kv_free(&t);
}

Test(kv, restore_rejects_bad_records)
{
	static char long_key[KV_MAX_KEY + 1];
	memset(long_key, 'k', sizeof(long_key));
	struct snapw w;

	/* a good one, to show the builder works */
	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 2), w_key(&w, "a", "1", 1), w_key(&w, "b", "", 3);
	w_u64(&w, 2), w_dup(&w, 0, 1, KV_OK, 1), w_dup(&w, 7, 4, KV_ERR_VERSION, 3);
	expect_accepted(&w);   /* TSKV1: records without n, as before del and incr */

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV2", 5), w.n = 5;
	w_u64(&w, 1), w_key(&w, "a", "1", 1);
	w_u64(&w, 2), w_dup(&w, 0, 1, KV_OK, 1), w_u64(&w, 5);
	w_dup(&w, 7, 4, KV_ERR_NOT_INTEGER, 3), w_u64(&w, 0);
	expect_accepted(&w);
	w.n -= 8;                                      /* a TSKV2 record without its n */
	expect_refused(&w, "more duplicate records than the bytes can hold");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV9", 5), w.n = 5;
	w_u64(&w, 0), w_u64(&w, 0);
	expect_refused(&w, "bad magic");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 2), w_key(&w, "a", "1", 1), w_key(&w, "a", "2", 1), w_u64(&w, 0);
	expect_refused(&w, "key appears twice");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 1), w_key(&w, "a", "1", 0), w_u64(&w, 0);
	expect_refused(&w, "version 0");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 1), w_str(&w, long_key, KV_MAX_KEY + 1), w_str(&w, "", 0), w_u64(&w, 1);
	w_u64(&w, 0);
	expect_refused(&w, "KV_MAX_KEY");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 1000), w_key(&w, "a", "1", 1), w_u64(&w, 0);
	expect_refused(&w, "more keys than");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 0), w_u64(&w, 3), w_dup(&w, 1, 1, KV_OK, 1);
	expect_refused(&w, "more duplicate records than");

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 0), w_u64(&w, 1), w_dup(&w, 1, 0, KV_OK, 1);
	expect_refused(&w, "seq 0");

	uint8_t bad_errs[] = { KV_ERR_MAYBE, KV_ERR_WRONG_LEADER, 6, 255 };
	for (size_t i = 0; i < sizeof(bad_errs); i++) {
		w = (struct snapw){ 0 };
		memcpy(w.p, "TSKV1", 5), w.n = 5;
		w_u64(&w, 0), w_u64(&w, 1), w_dup(&w, 1, 1, bad_errs[i], 1);
		expect_refused(&w, "bad err");
	}

	w = (struct snapw){ 0 };
	memcpy(w.p, "TSKV1", 5), w.n = 5;
	w_u64(&w, 0), w_u64(&w, 2), w_dup(&w, 4, 1, KV_OK, 1), w_dup(&w, 4, 2, KV_OK, 2);
	expect_refused(&w, "two duplicate records");

	/* a value longer than any request's is fine (grown by appends) */
	static char big[KV_MAX_VALUE + 10];
	memset(big, 'v', sizeof(big));
	struct kv_store s, t;
	struct bytes a;
	kv_init(&s, true);
	kv_init(&t, true);
	for (int i = 0; i < 3; i++) {
		struct kv_request r = rq(KV_APPEND, 1, (uint64_t)i + 1, "big", NULL, 0);
		r.value = (const uint8_t *)big;
		r.value_len = KV_MAX_VALUE;
		apply(&s, r, NULL);
	}
	a = snap(&s);
	cr_assert_eq(kv_restore(&t, a.p, a.len), 0, "kv_restore: %s", t.errmsg);
	cr_assert_eq(kv_lookup(&t, (const uint8_t *)"big", 3)->value_len, 3 * KV_MAX_VALUE);
	free(a.p);
	kv_free(&s);
	kv_free(&t);
}

/* ---- requests and replies --------------------------------------------------------------- */

static void expect_same_request(const struct kv_request *a, const struct kv_request *b)
{
	cr_assert_eq(a->client, b->client);
	cr_assert_eq(a->seq, b->seq);
	cr_assert_eq(a->op, b->op);
	cr_assert_eq(a->local, b->local);
	cr_assert_eq(a->version, b->version);
	cr_assert_eq(a->key_len, b->key_len);
	cr_assert(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
	cr_assert_eq(a->value_len, b->value_len);
	cr_assert(a->value_len == 0 || memcmp(a->value, b->value, a->value_len) == 0);
}

Test(kv, request_round_trip_and_truncations)
{
	static uint8_t big_key[KV_MAX_KEY], big_value[KV_MAX_VALUE];
	memset(big_key, 'k', sizeof(big_key));
	memset(big_value, 'v', sizeof(big_value));
	struct kv_request reqs[] = {
		rq(KV_GET, 1, 1, "key", NULL, 0),
		rq(KV_PUT, 0xfffffffe, UINT64_MAX, "k", "value", 0),
		rq(KV_APPEND, 3, 0, "", "", 0),
		rq(KV_VPUT, 4, 77, "k", "v", 0x0102030405060708ULL),
		rq(KV_GET, 5, 0, "local", NULL, 0),
		{ .client = 6, .seq = 2, .op = KV_PUT, .key = big_key, .key_len = KV_MAX_KEY,
		  .value = big_value, .value_len = KV_MAX_VALUE },
	};
	reqs[4].local = true;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct kv_request back;
		const char *why = NULL;
		uint8_t *p;
		size_t n;
		cr_assert_eq(kv_encode_request(&reqs[i], &p, &n), 0);
		cr_assert_eq(n, 30 + (size_t)reqs[i].key_len + reqs[i].value_len);
		cr_assert_eq(kv_decode_request(p, n, &back, &why), 0, "request %zu: %s", i, why);
		expect_same_request(&reqs[i], &back);
		/* every truncation, and one byte too many */
		size_t step = n > 4096 ? 97 : 1;
		for (size_t m = 0; m < n; m += step) {
			why = NULL;
			cr_assert_eq(kv_decode_request(p, m, &back, &why), -1, "%zu of %zu bytes", m, n);
			cr_assert_not_null(why);
		}
		uint8_t *q = malloc(n + 1);
		memcpy(q, p, n);
		q[n] = 0;
		cr_assert_eq(kv_decode_request(q, n + 1, &back, &why), -1);
		cr_assert_str_eq(why, "trailing bytes after request");
		free(q);
		free(p);
	}
}

Test(kv, request_bad_fields)
{
	struct kv_request req = rq(KV_PUT, 1, 2, "k", "v", 0), back;
	const char *why;
	uint8_t *p;
	size_t n;
	cr_assert_eq(kv_encode_request(&req, &p, &n), 0);
	/* layout: op, local, client(4), seq(8), version(8), key_len(4) at 22 */
	p[0] = 6;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "request with a bad op");
	p[0] = KV_PUT;
	p[1] = 2;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "request with a bad local flag");
	p[1] = 1;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "local write request");
	p[1] = 0;
	p[22] = (KV_MAX_KEY + 1) & 0xff, p[23] = (KV_MAX_KEY + 1) >> 8;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "request key longer than KV_MAX_KEY");
	p[22] = 1, p[23] = 0;
	/* value_len at 27 */
	uint32_t over = KV_MAX_VALUE + 1;
	for (int i = 0; i < 4; i++)
		p[27 + i] = (uint8_t)(over >> (8 * i));
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "request value longer than KV_MAX_VALUE");
	p[27] = 1, p[28] = p[29] = p[30] = 0;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), 0, "%s", why);
	/* a length that runs past the end */
	p[27] = 2;
	cr_assert_eq(kv_decode_request(p, n, &back, &why), -1);
	cr_assert_str_eq(why, "truncated request");
	free(p);
	cr_assert_eq(kv_decode_request(NULL, 0, &back, &why), -1);

	/* encode refuses what decode would */
	req.local = true;
	cr_assert_eq(kv_encode_request(&req, &p, &n), -1);
	req = rq(KV_PUT, 1, 2, "k", "v", 0);
	req.op = (enum kv_op)7;
	cr_assert_eq(kv_encode_request(&req, &p, &n), -1);
}

Test(kv, reply_round_trip_and_truncations)
{
	struct kv_reply reps[] = {
		{ .client = 1, .seq = 2, .err = KV_OK, .value = (const uint8_t *)"hello",
		  .value_len = 5, .version = 9 },
		{ .client = 3, .seq = UINT64_MAX, .err = KV_ERR_NOKEY, .value = (const uint8_t *)"" },
		{ .client = 4, .seq = 1, .err = KV_ERR_VERSION, .version = 3 },
		{ .client = 5, .seq = 8, .err = KV_ERR_WRONG_LEADER, .leader_hint = 3 },
		{ .client = 6, .seq = 9, .err = KV_OK, .version = 4, .n = (uint64_t)-42 },
		{ .client = 7, .seq = 10, .err = KV_ERR_NOT_INTEGER, .version = 2 },
	};
	for (size_t i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
		struct kv_reply back;
		const char *why = NULL;
		uint8_t *p;
		size_t n;
		cr_assert_eq(kv_encode_reply(&reps[i], &p, &n), 0);
		cr_assert_eq(n, 37 + (size_t)reps[i].value_len);
		cr_assert_eq(kv_decode_reply(p, n, &back, &why), 0, "reply %zu: %s", i, why);
		cr_assert_eq(back.client, reps[i].client);
		cr_assert_eq(back.seq, reps[i].seq);
		cr_assert_eq(back.err, reps[i].err);
		cr_assert_eq(back.version, reps[i].version);
		cr_assert_eq(back.leader_hint, reps[i].leader_hint);
		cr_assert_eq(back.n, reps[i].n);
		cr_assert_eq(back.value_len, reps[i].value_len);
		cr_assert(back.value_len == 0 || memcmp(back.value, reps[i].value, back.value_len) == 0);
		for (size_t m = 0; m < n; m++) {
			why = NULL;
			cr_assert_eq(kv_decode_reply(p, m, &back, &why), -1, "%zu of %zu bytes", m, n);
			cr_assert_not_null(why);
		}
		uint8_t *q = malloc(n + 1);
		memcpy(q, p, n);
		q[n] = 0;
		cr_assert_eq(kv_decode_reply(q, n + 1, &back, &why), -1);
		cr_assert_str_eq(why, "trailing bytes after reply");
		/* bad err values, ErrMaybe included (only a clerk makes it) */
		uint8_t bad[] = { KV_ERR_MAYBE, 6, 255 };
		for (size_t b = 0; b < sizeof(bad); b++) {
			q[12] = bad[b];
			cr_assert_eq(kv_decode_reply(q, n, &back, &why), -1);
			cr_assert_str_eq(why, "reply with a bad err");
		}
		free(q);
		free(p);
	}
	/* a get's value may be longer than a request's */
	static uint8_t big[KV_MAX_VALUE + 1];
	struct kv_reply r = { .client = 1, .seq = 1, .value = big, .value_len = sizeof(big) }, back;
	const char *why;
	uint8_t *p;
	size_t n;
	cr_assert_eq(kv_encode_reply(&r, &p, &n), 0);
	cr_assert_eq(kv_decode_reply(p, n, &back, &why), 0, "%s", why);
	cr_assert_eq(back.value_len, sizeof(big));
	free(p);
	r.err = KV_ERR_MAYBE;
	cr_assert_eq(kv_encode_reply(&r, &p, &n), -1);
	cr_assert_eq(kv_decode_reply(NULL, 0, &back, &why), -1);
}

Test(kv, limits)
{
	static char key[KV_MAX_KEY + 2], value[KV_MAX_VALUE + 2];
	struct kv_store s;
	struct kv_reply rep;
	struct bytes before;
	memset(key, 'k', KV_MAX_KEY + 1);
	memset(value, 'v', KV_MAX_VALUE + 1);
	kv_init(&s, true);
	fill(&s);
	before = snap(&s);
	uint64_t bytes = s.bytes;
	struct kv_request big_key = rq(KV_PUT, 1, 10, key, "v", 0);
	struct kv_request big_value = rq(KV_APPEND, 1, 10, "k", value, 0);
	struct kv_request bad_op = rq(KV_PUT, 1, 10, "k", "v", 0);
	struct kv_request null_key = rq(KV_PUT, 1, 10, "k", "v", 0);
	bad_op.op = (enum kv_op)6;
	null_key.key = NULL;
	cr_assert_eq(kv_apply(&s, &big_key, &rep, NULL), -1);
	cr_assert(strstr(s.errmsg, "KV_MAX_KEY"), "%s", s.errmsg);
	cr_assert_eq(kv_apply(&s, &big_value, &rep, NULL), -1);
	cr_assert(strstr(s.errmsg, "KV_MAX_VALUE"), "%s", s.errmsg);
	cr_assert_eq(kv_apply(&s, &bad_op, &rep, NULL), -1);
	cr_assert_eq(kv_apply(&s, &null_key, &rep, NULL), -1);
	expect_unchanged(&s, before, bytes);
	/* and the retry of seq 10 was not recorded: exactly at the limits works */
	big_key.key_len--;
	big_value.value_len--;
	expect_reply(apply(&s, big_key, NULL), KV_OK, "", 1);
	big_value.seq = 11;
	expect_reply(apply(&s, big_value, NULL), KV_OK, "", 1);
	cr_assert_eq(s.bytes, bytes + KV_MAX_KEY + 1 + 1 + KV_MAX_VALUE);
	uint8_t *p;
	size_t n;
	big_key.key_len++;
	cr_assert_eq(kv_encode_request(&big_key, &p, &n), -1);
	big_value.value_len++;
	cr_assert_eq(kv_encode_request(&big_value, &p, &n), -1);
	free(before.p);
	kv_free(&s);
}
