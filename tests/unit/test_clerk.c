/*
 * test_clerk.c — unit tests of the client clerk (src/core/clerk.c).
 *
 * Hand-driven exchanges, one input at a time: an ordinary operation, the
 * first server chosen by the seed, ErrWrongLeader with and without a usable
 * hint, timeouts rotating round the servers (and a single server retrying
 * itself), stale and misaddressed replies ignored, a late answer to an
 * earlier attempt accepted, ErrVersion against ErrMaybe, a missing key read
 * as "".  Then lossy runs: a clerk against kv_store "servers" through the
 * request and reply codecs, with a seeded rng dropping 30% of requests and
 * of replies and holding some replies back, for 1000 appends: with the
 * duplicate table every append shows exactly once, in order; without it
 * some show twice (the lesson's broken server).  Deterministic: fixed
 * seeds, virtual time.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/clerk.h"
#include "../../src/core/kv.h"
#include "../../src/core/rng.h"

#define RETRY 100

/* ---- helpers -------------------------------------------------------------------- */

static void init(struct clerk *c, uint32_t id, uint32_t n, uint64_t seed)
{
	struct clerk_config cfg = { .id = id, .n_servers = n, .retry = RETRY, .seed = seed };
	clerk_init(c, &cfg);
}

static struct kv_request op(enum kv_op kind, const char *key, const char *value, uint64_t version)
{
	return (struct kv_request){
		.op = kind, .key = (const uint8_t *)key, .key_len = (uint32_t)strlen(key),
		.value = (const uint8_t *)value, .value_len = value ? (uint32_t)strlen(value) : 0,
		.version = version,
	};
}

static void start(struct clerk *c, uint64_t now, struct kv_request req)
{
	cr_assert_eq(clerk_start(c, now, &req), 0, "clerk_start: %s", c->errmsg);
}

/* Take the waiting attempt; it must go to `server`. */
static const struct kv_request *take(struct clerk *c, uint32_t server)
{
	const struct kv_request *req = NULL;
	uint32_t to = 0;
	cr_assert(clerk_take(c, &to, &req), "nothing to send, expected an attempt to %" PRIu32, server);
	cr_assert_eq(to, server, "sent to %" PRIu32 ", expected %" PRIu32, to, server);
	cr_assert_eq(req->client, c->cfg.id);
	cr_assert_eq(req->seq, c->seq);
	return req;
}

static void nothing_to_take(struct clerk *c)
{
	const struct kv_request *req;
	uint32_t to;
	cr_assert(!clerk_take(c, &to, &req), "unexpected attempt to %" PRIu32, to);
}

static void reply(struct clerk *c, uint64_t now, uint32_t from, uint64_t seq, enum kv_err err,
		  const char *value, uint64_t version, uint32_t hint)
{
	struct kv_reply rep = {
		.client = c->cfg.id, .seq = seq, .err = err,
		.value = (const uint8_t *)(value ? value : ""),
		.value_len = value ? (uint32_t)strlen(value) : 0,
		.version = version, .leader_hint = hint,
	};
	clerk_reply(c, now, from, &rep);
}

static struct clerk_result result(struct clerk *c)
{
	struct clerk_result res;
	cr_assert(clerk_result(c, &res), "no result");
	cr_assert(!c->busy);
	cr_assert_eq(clerk_deadline(c), CLERK_NO_DEADLINE);
	return res;
}

static void no_result(struct clerk *c)
{
	struct clerk_result res;
	cr_assert(!clerk_result(c, &res), "unexpected result");
}

/* ---- exchanges -------------------------------------------------------------------- */

Test(clerk, first_server_from_seed)
{
	struct clerk c;
	for (uint64_t seed = 0; seed < 20; seed++) {
		init(&c, 11, 5, seed);
		start(&c, 0, op(KV_GET, "k", NULL, 0));
		take(&c, (uint32_t)(seed % 5) + 1);
		clerk_free(&c);
	}
}

Test(clerk, normal_operations)
{
	struct clerk c;
	struct clerk_result res;
	const struct kv_request *req;
	char key[] = "key", value[] = "value";

	init(&c, 42, 3, 1);                  /* starts at server 2 */
	cr_assert_eq(clerk_deadline(&c), CLERK_NO_DEADLINE);
	nothing_to_take(&c);
	start(&c, 1000, op(KV_PUT, key, value, 0));
	/* the strings were copied */
	memset(key, 'x', 3);
	memset(value, 'x', 5);
	cr_assert(c.busy);
	cr_assert_eq(clerk_deadline(&c), CLERK_NO_DEADLINE, "no timer before the attempt is taken");
	req = take(&c, 2);
	cr_assert_eq(req->op, KV_PUT);
	cr_assert_eq(req->seq, 1);
	cr_assert_eq(req->key_len, 3);
	cr_assert(memcmp(req->key, "key", 3) == 0);
	cr_assert_eq(req->value_len, 5);
	cr_assert(memcmp(req->value, "value", 5) == 0);
	cr_assert_eq(clerk_deadline(&c), 1000 + RETRY);
	nothing_to_take(&c);
	no_result(&c);
	reply(&c, 1010, 2, 1, KV_OK, NULL, 1, 0);
	nothing_to_take(&c);
	res = result(&c);
	cr_assert_eq(res.op, KV_PUT);
	cr_assert_eq(res.err, KV_OK);
	cr_assert_eq(res.version, 1);
	cr_assert_eq(res.attempts, 1);
	cr_assert_eq(res.server, 2);
	cr_assert_null(res.value);
	no_result(&c);

	/* a get: seq 2, to the same server, the value copied out */
	start(&c, 2000, op(KV_GET, "key", NULL, 0));
	req = take(&c, 2);
	cr_assert_eq(req->seq, 2);
	cr_assert_eq(req->op, KV_GET);
	cr_assert_eq(req->value_len, 0);
	char got[] = "value";
	struct kv_reply rep = { .client = 42, .seq = 2, .err = KV_OK,
				.value = (const uint8_t *)got, .value_len = 5, .version = 1 };
	clerk_reply(&c, 2001, 2, &rep);
	memset(got, 'x', 5);                  /* the reply's memory is gone */
	res = result(&c);
	cr_assert_eq(res.err, KV_OK);
	cr_assert_eq(res.value_len, 5);
	cr_assert(memcmp(res.value, "value", 5) == 0);
	cr_assert_eq(res.version, 1);
	clerk_free(&c);
}

Test(clerk, del_and_incr)
{
	struct clerk c;
	struct clerk_result res;
	const struct kv_request *req;
	init(&c, 7, 3, 0);                   /* starts at server 1 */
	/* del: no value is sent, whatever the caller gave */
	start(&c, 0, op(KV_DEL, "k", "ignored", 0));
	req = take(&c, 1);
	cr_assert_eq(req->op, KV_DEL);
	cr_assert_eq(req->value_len, 0);
	reply(&c, 5, 1, 1, KV_ERR_NOKEY, NULL, 0, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_ERR_NOKEY, "a del of a missing key says so");
	cr_assert_null(res.value);
	/* incr: the number comes in n; ErrNotInteger is an answer, not a retry */
	start(&c, 10, op(KV_INCR, "n", NULL, 0));
	req = take(&c, 1);
	cr_assert_eq(req->op, KV_INCR);
	struct kv_reply rep = { .client = 7, .seq = 2, .err = KV_OK, .value = (const uint8_t *)"",
				.version = 3, .n = 42 };
	clerk_reply(&c, 12, 1, &rep);
	res = result(&c);
	cr_assert_eq(res.err, KV_OK);
	cr_assert_eq(res.n, 42);
	cr_assert_eq(res.version, 3);
	start(&c, 20, op(KV_INCR, "n", NULL, 0));
	take(&c, 1);
	reply(&c, 25, 1, 3, KV_ERR_NOT_INTEGER, NULL, 3, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_ERR_NOT_INTEGER);
	cr_assert_eq(res.attempts, 1);
	clerk_free(&c);
}

Test(clerk, start_rejects)
{
	struct clerk c;
	static char big[KV_MAX_VALUE + 1];
	struct kv_request req;

	init(&c, 1, 3, 0);
	start(&c, 0, op(KV_PUT, "k", "v", 0));
	req = op(KV_PUT, "k", "v", 0);
	cr_assert_eq(clerk_start(&c, 0, &req), -1, "busy");
	cr_assert(strstr(c.errmsg, "busy"), "%s", c.errmsg);
	cr_assert_eq(c.seq, 1);
	take(&c, 1);
	reply(&c, 1, 1, 1, KV_OK, NULL, 1, 0);
	cr_assert_eq(clerk_start(&c, 0, &req), -1, "still busy until the result is collected");
	result(&c);

	req = op(KV_PUT, "k", "v", 0);
	req.local = true;
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	req = op(KV_PUT, "k", NULL, 0);
	req.value = (const uint8_t *)big;
	req.value_len = KV_MAX_VALUE + 1;
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	req.value_len = KV_MAX_VALUE;
	cr_assert_eq(clerk_start(&c, 0, &req), 0, "%s", c.errmsg);
	reply(&c, 1, 1, 2, KV_OK, NULL, 2, 0);   /* no attempt was taken: ignored */
	no_result(&c);
	take(&c, 1);
	reply(&c, 1, 1, 2, KV_OK, NULL, 2, 0);
	result(&c);
	req = op(KV_GET, big, NULL, 0);
	req.key_len = KV_MAX_KEY + 1;
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	req = op(KV_GET, "k", NULL, 0);
	req.op = (enum kv_op)9;
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	cr_assert_eq(c.seq, 2, "refused operations take no seq");
	clerk_free(&c);

	init(&c, 1, 0, 0);
	req = op(KV_GET, "k", NULL, 0);
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	clerk_free(&c);
	init(&c, 1, CLERK_MAX_SERVERS + 1, 0);
	cr_assert_eq(clerk_start(&c, 0, &req), -1);
	clerk_free(&c);
}

Test(clerk, wrong_leader_with_hint)
{
	struct clerk c;
	struct clerk_result res;
	init(&c, 7, 5, 0);                   /* starts at 1 */
	start(&c, 0, op(KV_APPEND, "k", "x", 0));
	take(&c, 1);
	reply(&c, 5, 1, 1, KV_ERR_WRONG_LEADER, NULL, 0, 4);
	cr_assert_eq(clerk_deadline(&c), CLERK_NO_DEADLINE, "waiting to send");
	no_result(&c);
	take(&c, 4);
	cr_assert_eq(clerk_deadline(&c), 5 + RETRY);
	reply(&c, 9, 4, 1, KV_OK, NULL, 3, 0);
	res = result(&c);
	cr_assert_eq(res.server, 4);
	cr_assert_eq(res.attempts, 2);
	cr_assert_eq(c.leader, 4);
	/* the next operation goes to the leader first */
	start(&c, 10, op(KV_GET, "k", NULL, 0));
	take(&c, 4);
	clerk_free(&c);
}

Test(clerk, wrong_leader_without_hint)
{
	struct clerk c;
	init(&c, 7, 3, 1);                   /* starts at 2 */
	start(&c, 0, op(KV_PUT, "k", "v", 0));
	take(&c, 2);
	reply(&c, 1, 2, 1, KV_ERR_WRONG_LEADER, NULL, 0, 0);          /* no hint */
	take(&c, 3);
	reply(&c, 2, 3, 1, KV_ERR_WRONG_LEADER, NULL, 0, 3);          /* names itself */
	take(&c, 1);
	reply(&c, 3, 1, 1, KV_ERR_WRONG_LEADER, NULL, 0, 4);          /* out of range */
	/* every server refused: a pause before the next round */
	nothing_to_take(&c);
	cr_assert_eq(clerk_deadline(&c), 3 + RETRY / 2);
	clerk_tick(&c, 3 + RETRY / 2);
	take(&c, 2);
	reply(&c, 4 + RETRY / 2, 2, 1, KV_ERR_WRONG_LEADER, NULL, 0, UINT32_MAX);
	take(&c, 3);
	reply(&c, 5 + RETRY / 2, 3, 1, KV_OK, NULL, 1, 0);
	cr_assert_eq(result(&c).attempts, 5);
	clerk_free(&c);
}

Test(clerk, late_wrong_leader_ignored)
{
	struct clerk c;
	init(&c, 7, 3, 0);
	start(&c, 0, op(KV_PUT, "k", "v", 0));
	take(&c, 1);
	clerk_tick(&c, RETRY);
	take(&c, 2);
	/* server 1's late refusal does not abandon the attempt at 2 */
	reply(&c, RETRY + 1, 1, 1, KV_ERR_WRONG_LEADER, NULL, 0, 3);
	nothing_to_take(&c);
	cr_assert_eq(clerk_deadline(&c), 2 * RETRY);
	/* and a refusal while an attempt waits to be sent changes nothing */
	reply(&c, RETRY + 2, 2, 1, KV_ERR_WRONG_LEADER, NULL, 0, 0);
	reply(&c, RETRY + 3, 3, 1, KV_ERR_WRONG_LEADER, NULL, 0, 1);
	take(&c, 3);
	clerk_free(&c);
}

Test(clerk, timeout_rotates_servers)
{
	struct clerk c;
	struct clerk_result res;
	init(&c, 7, 3, 1);                   /* starts at 2 */
	start(&c, 50, op(KV_PUT, "k", "v", 0));
	clerk_tick(&c, 10000);               /* nothing taken yet: no timer */
	take(&c, 2);
	cr_assert_eq(clerk_deadline(&c), 10000 + RETRY, "the timer counts from the last input");
	clerk_tick(&c, 10000 + RETRY - 1);
	nothing_to_take(&c);
	clerk_tick(&c, 10000 + RETRY);
	cr_assert_eq(clerk_deadline(&c), CLERK_NO_DEADLINE);
	clerk_tick(&c, 10000 + RETRY + 5);   /* ticking again does not skip a server */
	take(&c, 3);
	cr_assert_eq(clerk_deadline(&c), 10000 + 2 * RETRY + 5);
	clerk_tick(&c, 20000);
	take(&c, 1);                         /* round the ring */
	clerk_tick(&c, 30000);
	nothing_to_take(&c);                 /* a whole round unanswered: a pause first */
	cr_assert_eq(clerk_deadline(&c), 30000 + RETRY / 2);
	clerk_tick(&c, 30000 + RETRY / 2);
	take(&c, 2);
	reply(&c, 30001 + RETRY / 2, 2, 1, KV_OK, NULL, 1, 0);
	res = result(&c);
	cr_assert_eq(res.attempts, 4);
	cr_assert_eq(res.server, 2);
	clerk_free(&c);
}

Test(clerk, single_server_retries_itself)
{
	struct clerk c;
	init(&c, 7, 1, 12345);
	start(&c, 0, op(KV_APPEND, "k", "x", 0));
	take(&c, 1);
	for (int i = 1; i <= 5; i++) {
		clerk_tick(&c, (uint64_t)i * RETRY);
		take(&c, 1);
	}
	reply(&c, 6 * RETRY, 1, 1, KV_ERR_WRONG_LEADER, NULL, 0, 0);  /* even this */
	take(&c, 1);
	reply(&c, 6 * RETRY, 1, 1, KV_OK, NULL, 1, 0);
	cr_assert_eq(result(&c).attempts, 7);
	clerk_free(&c);
}

Test(clerk, stale_replies_ignored)
{
	struct clerk c;
	struct clerk_result res;
	struct kv_reply rep;
	init(&c, 7, 3, 0);
	start(&c, 0, op(KV_PUT, "k", "v", 0));
	take(&c, 1);
	reply(&c, 1, 1, 1, KV_OK, NULL, 1, 0);
	result(&c);
	start(&c, 10, op(KV_PUT, "k", "w", 0));
	take(&c, 1);
	reply(&c, 11, 1, 1, KV_OK, NULL, 1, 0);                        /* the last op's */
	reply(&c, 11, 1, 3, KV_OK, NULL, 1, 0);                        /* a future seq */
	reply(&c, 11, 0, 2, KV_OK, NULL, 1, 0);                        /* no such server */
	reply(&c, 11, 4, 2, KV_OK, NULL, 1, 0);
	reply(&c, 11, 1, 2, KV_ERR_MAYBE, NULL, 1, 0);                 /* never from a server */
	rep = (struct kv_reply){ .client = 8, .seq = 2, .err = KV_OK, .value = (const uint8_t *)"" };
	clerk_reply(&c, 11, 1, &rep);                                  /* another clerk's */
	rep = (struct kv_reply){ .client = 7, .seq = 2, .err = (enum kv_err)17 };
	clerk_reply(&c, 11, 1, &rep);                                  /* nonsense */
	no_result(&c);
	nothing_to_take(&c);
	cr_assert_eq(clerk_deadline(&c), 10 + RETRY);
	reply(&c, 12, 1, 2, KV_OK, NULL, 2, 0);
	res = result(&c);
	cr_assert_eq(res.version, 2);
	/* a second answer to a finished operation, and one when idle */
	reply(&c, 13, 1, 2, KV_OK, NULL, 9, 0);
	no_result(&c);
	start(&c, 20, op(KV_PUT, "k", "w", 0));
	reply(&c, 21, 1, 2, KV_OK, NULL, 9, 0);
	take(&c, 1);
	reply(&c, 22, 1, 2, KV_OK, NULL, 9, 0);
	no_result(&c);
	clerk_free(&c);
}

Test(clerk, late_reply_from_earlier_attempt_accepted)
{
	struct clerk c;
	struct clerk_result res;
	init(&c, 7, 3, 0);
	start(&c, 0, op(KV_APPEND, "k", "x", 0));
	take(&c, 1);
	clerk_tick(&c, RETRY);
	take(&c, 2);
	/* server 1 answers the first attempt late: same request, a valid answer */
	reply(&c, RETRY + 30, 1, 1, KV_OK, NULL, 4, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_OK);
	cr_assert_eq(res.server, 1);
	cr_assert_eq(res.attempts, 2);
	cr_assert_eq(c.leader, 1);
	/* also while a retry is waiting to be sent */
	start(&c, 1000, op(KV_APPEND, "k", "y", 0));
	take(&c, 1);
	clerk_tick(&c, 1000 + RETRY);
	reply(&c, 1000 + RETRY, 1, 2, KV_OK, NULL, 5, 0);
	nothing_to_take(&c);
	cr_assert_eq(result(&c).version, 5);
	clerk_free(&c);
}

Test(clerk, vput_err_version_or_maybe)
{
	struct clerk c;
	struct clerk_result res;
	init(&c, 7, 3, 0);
	/* first attempt refused: the put did not happen */
	start(&c, 0, op(KV_VPUT, "k", "v", 3));
	cr_assert_eq(take(&c, 1)->version, 3);
	reply(&c, 1, 1, 1, KV_ERR_VERSION, NULL, 5, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_ERR_VERSION);
	cr_assert_eq(res.version, 5);
	cr_assert(!c.got_err_version_on_retry);

	/* a retry refused: the first may have happened */
	start(&c, 10, op(KV_VPUT, "k", "v", 5));
	take(&c, 1);
	clerk_tick(&c, 10 + RETRY);
	take(&c, 2);
	reply(&c, 10 + RETRY + 1, 2, 2, KV_ERR_VERSION, NULL, 6, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_ERR_MAYBE);
	cr_assert(c.got_err_version_on_retry);

	/* after ErrWrongLeader the second attempt is a retry too (the refusing
	 * server might have been a deposed leader that did apply it) */
	start(&c, 20, op(KV_VPUT, "k", "v", 6));
	take(&c, 2);
	reply(&c, 21, 2, 3, KV_ERR_WRONG_LEADER, NULL, 0, 3);
	take(&c, 3);
	reply(&c, 22, 3, 3, KV_ERR_VERSION, NULL, 7, 0);
	cr_assert_eq(result(&c).err, KV_ERR_MAYBE);

	/* OK on a retry is OK; ErrNoKey is ErrNoKey */
	start(&c, 30, op(KV_VPUT, "k", "v", 7));
	take(&c, 3);
	clerk_tick(&c, 30 + RETRY);
	take(&c, 1);
	reply(&c, 30 + RETRY, 1, 4, KV_OK, NULL, 8, 0);
	cr_assert_eq(result(&c).err, KV_OK);
	start(&c, 40, op(KV_VPUT, "m", "v", 7));
	take(&c, 1);
	clerk_tick(&c, 40 + RETRY);
	take(&c, 2);
	reply(&c, 40 + RETRY, 2, 5, KV_ERR_NOKEY, NULL, 0, 0);
	cr_assert_eq(result(&c).err, KV_ERR_NOKEY);
	/* a plain put's version is not sent */
	start(&c, 50, op(KV_PUT, "k", "v", 99));
	cr_assert_eq(take(&c, 2)->version, 0);
	clerk_free(&c);
}

Test(clerk, get_missing_key_is_empty)
{
	struct clerk c;
	struct clerk_result res;
	init(&c, 7, 3, 0);
	start(&c, 0, op(KV_GET, "nope", NULL, 0));
	take(&c, 1);
	reply(&c, 1, 1, 1, KV_ERR_NOKEY, NULL, 0, 0);
	res = result(&c);
	cr_assert_eq(res.err, KV_OK);
	cr_assert_eq(res.value_len, 0);
	cr_assert_not_null(res.value);
	cr_assert_eq(res.version, 0);
	clerk_free(&c);
}

Test(clerk, local_get_does_not_move_the_leader)
{
	struct clerk c;
	struct kv_request req = op(KV_GET, "k", NULL, 0);
	init(&c, 7, 3, 0);
	req.local = true;
	start(&c, 0, req);
	cr_assert(take(&c, 1)->local);
	clerk_tick(&c, RETRY);
	take(&c, 2);
	reply(&c, RETRY, 2, 1, KV_OK, "v", 3, 0);
	cr_assert_eq(result(&c).server, 2);
	cr_assert_eq(c.leader, 1);
	start(&c, 1000, op(KV_GET, "k", NULL, 0));
	cr_assert(!take(&c, 1)->local);
	clerk_free(&c);
}

/* ---- lossy runs ------------------------------------------------------------------------- */

struct lossy {
	struct rng g;
	struct clerk c;
	struct kv_store kv;                  /* the service's state, whoever serves it */
	uint32_t leader;                     /* who serves it; the others say ErrWrongLeader */
	uint64_t now;
	uint8_t *held;                       /* a reply held back, delivered later */
	size_t held_len;
	uint32_t held_from;
	uint64_t sent, lost, wrong_leader;
};

static void deliver(struct lossy *l, const uint8_t *p, size_t n, uint32_t from)
{
	struct kv_reply rep;
	const char *why;
	cr_assert_eq(kv_decode_reply(p, n, &rep, &why), 0, "%s", why);
	clerk_reply(&l->c, ++l->now, from, &rep);
}

/* One attempt: the request crosses the network, a server answers, the
 * reply crosses back (or is held back for later). */
static void exchange(struct lossy *l, uint32_t to, const struct kv_request *req)
{
	struct kv_request in;
	struct kv_reply rep;
	const char *why;
	uint8_t *p;
	size_t n;

	l->sent++;
	cr_assert_eq(kv_encode_request(req, &p, &n), 0);
	if (rng_double(&l->g) < 0.3) {
		l->lost++;
		free(p);
		return;
	}
	cr_assert_eq(kv_decode_request(p, n, &in, &why), 0, "%s", why);
	if (to == l->leader) {
		cr_assert_eq(kv_apply(&l->kv, &in, &rep, NULL), 0, "%s", l->kv.errmsg);
	} else {
		l->wrong_leader++;
		rep = (struct kv_reply){ .client = in.client, .seq = in.seq,
					 .err = KV_ERR_WRONG_LEADER, .value = (const uint8_t *)"",
					 .leader_hint = rng_range(&l->g, 0, 2) ? l->leader : 0 };
	}
	uint8_t *q;
	size_t m;
	cr_assert_eq(kv_encode_reply(&rep, &q, &m), 0);
	free(p);
	if (rng_double(&l->g) < 0.3) {
		l->lost++;
		free(q);
		return;
	}
	if (!l->held && rng_double(&l->g) < 0.1) {
		l->held = q;
		l->held_len = m;
		l->held_from = to;
		return;
	}
	deliver(l, q, m, to);
	free(q);
}

/* 1000 appends of "<i>," to one key by one clerk; returns the final value
 * (a NUL-terminated copy) and checks each append's result. */
static char *lossy_run(uint32_t n_servers, bool dedup, bool move_leader, uint64_t seed,
		       struct lossy *l)
{
	char token[16];
	memset(l, 0, sizeof(*l));
	rng_seed(&l->g, seed);
	kv_init(&l->kv, dedup);
	init(&l->c, 100, n_servers, seed);
	l->leader = 1;
	for (int i = 0; i < 1000; i++) {
		struct clerk_result res;
		if (move_leader && i % 50 == 49)
			l->leader = l->leader % n_servers + 1;
		snprintf(token, sizeof(token), "%d,", i);
		start(&l->c, l->now, op(KV_APPEND, "log", token, 0));
		for (int steps = 0; !clerk_result(&l->c, &res); steps++) {
			const struct kv_request *req;
			uint32_t to;
			cr_assert_lt(steps, 1000, "append %d never finished", i);
			if (clerk_take(&l->c, &to, &req)) {
				exchange(l, to, req);
			} else if (l->held && rng_range(&l->g, 0, 2)) {
				deliver(l, l->held, l->held_len, l->held_from);
				free(l->held);
				l->held = NULL;
			} else {
				uint64_t d = clerk_deadline(&l->c);
				cr_assert_neq(d, CLERK_NO_DEADLINE);
				cr_assert_geq(d, l->now);
				l->now = d;
				clerk_tick(&l->c, l->now);
			}
		}
		cr_assert_eq(res.err, KV_OK);
		cr_assert_eq(res.server, l->leader);
		cr_assert_geq(res.attempts, 1);
	}
	free(l->held);
	const struct kv_entry *e = kv_lookup(&l->kv, (const uint8_t *)"log", 3);
	cr_assert_not_null(e);
	char *value = malloc(e->value_len + 1);
	memcpy(value, e->value, e->value_len);
	value[e->value_len] = 0;
	clerk_free(&l->c);
	kv_free(&l->kv);
	return value;
}

static char *expected_log(void)
{
	char *s = malloc(1000 * 6 + 1), *p = s;
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "%d,", i);
	return s;
}

Test(clerk, lossy_appends_exactly_once)
{
	struct lossy l;
	char *want = expected_log();
	char *got = lossy_run(1, true, false, 2024, &l);
	cr_assert_str_eq(got, want, "every append exactly once, in order");
	cr_assert_gt(l.lost, 300, "the network did lose messages (%" PRIu64 ")", l.lost);
	cr_assert_gt(l.sent, 1300);
	free(got);
	free(want);
}

Test(clerk, lossy_appends_with_a_moving_leader)
{
	struct lossy l;
	char *want = expected_log();
	char *got = lossy_run(5, true, true, 7, &l);
	cr_assert_str_eq(got, want, "every append exactly once, in order");
	cr_assert_gt(l.wrong_leader, 20);
	free(got);
	free(want);
}

Test(clerk, lossy_appends_without_dedup_duplicate)
{
	struct lossy l;
	char *want = expected_log();
	char *got = lossy_run(1, false, false, 2024, &l);
	cr_assert_gt(strlen(got), strlen(want), "lost replies make retries append twice");
	free(got);
	free(want);
}

/* A follower stranded in a minority with the old leader still names it:
 * once the old leader has let the operation time out, the clerk does not
 * go back to it on the follower's word but tries the others. */
Test(clerk, stale_hint_to_a_silent_server_is_not_followed)
{
	struct clerk c;
	struct clerk_config cfg = { .id = 1001, .n_servers = 5, .retry = 100, .seed = 0 };
	clerk_init(&c, &cfg);                /* tries server 1 first */
	struct kv_request req = { .op = KV_PUT, .key = (const uint8_t *)"x", .key_len = 1,
				  .value = (const uint8_t *)"1", .value_len = 1 };
	cr_assert_eq(clerk_start(&c, 0, &req), 0);
	uint32_t to;
	const struct kv_request *out;
	cr_assert(clerk_take(&c, &to, &out));
	cr_assert_eq(to, 1);
	clerk_tick(&c, 100);                 /* server 1 (the stranded leader) is silent */
	cr_assert(clerk_take(&c, &to, &out));
	cr_assert_eq(to, 2);
	struct kv_reply rep = { .client = 1001, .seq = out->seq, .err = KV_ERR_WRONG_LEADER,
				.leader_hint = 1 };
	clerk_reply(&c, 101, 2, &rep);       /* server 2 still believes 1 leads */
	cr_assert(clerk_take(&c, &to, &out));
	cr_assert_neq(to, 1, "followed a hint to a server that had just timed out");
	cr_assert_eq(to, 3);
	rep.leader_hint = 4;                 /* a fresh hint is followed */
	clerk_reply(&c, 102, 3, &rep);
	cr_assert(clerk_take(&c, &to, &out));
	cr_assert_eq(to, 4);
	clerk_free(&c);
}

/* After a heal: servers that refused or timed out during the split are not
 * tried again and again while one server has not been asked at all. */
Test(clerk, every_server_is_tried_before_any_again)
{
	struct clerk c;
	struct clerk_config cfg = { .id = 1001, .n_servers = 5, .retry = 100, .seed = 1 };
	clerk_init(&c, &cfg);                /* tries server 2 first */
	struct kv_request req = { .op = KV_GET, .key = (const uint8_t *)"x", .key_len = 1 };
	cr_assert_eq(clerk_start(&c, 0, &req), 0);
	uint32_t to, seen = 0;
	const struct kv_request *out;
	uint64_t now = 0;
	for (int i = 0; i < 5; i++) {
		cr_assert(clerk_take(&c, &to, &out));
		seen |= 1u << to;
		/* everyone refuses and names server 3, which refused already */
		struct kv_reply rep = { .client = 1001, .seq = out->seq, .err = KV_ERR_WRONG_LEADER,
					.leader_hint = 3 };
		if (to == 4) {
			clerk_tick(&c, now += 100);      /* server 4 is silent instead */
			continue;
		}
		clerk_reply(&c, ++now, to, &rep);
	}
	cr_assert_eq(seen, 0x3e, "servers asked: %#x (every one of 1..5 expected)", seen);
	clerk_free(&c);
}
