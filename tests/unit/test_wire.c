/*
 * test_wire.c — unit tests of the wire codec (src/wire).
 *
 * Every frame and message type (raft, InstallSnapshot included, the
 * key/value request/reply envelope, whose endpoints must be a client and a
 * node the right way round, and the MapReduce ask/order/done, whose ends
 * must both be nodes) is round-tripped; the frame splitter is fed
 * the same stream split at every byte boundary, byte by byte, all at once
 * and in seeded random chunks; malformed headers must be refused as soon as
 * the header is there; every proper prefix of an encoded message must fail
 * to decode with an error and without reading out of bounds (each prefix
 * lives in its own exactly-sized allocation so AddressSanitizer sees any
 * overread).  Deterministic: the only randomness is a fixed-seed rng.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/kv.h"
#include "../../src/core/mr.h"
#include "../../src/core/rng.h"
#include "../../src/wire/wire.h"

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	cr_assert(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static void assert_msg_eq(const struct raft_msg *a, const struct raft_msg *b)
{
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->from, b->from);
	cr_assert_eq(a->to, b->to);
	cr_assert_eq(a->term, b->term);
	cr_assert_eq(a->last_log_index, b->last_log_index);
	cr_assert_eq(a->last_log_term, b->last_log_term);
	cr_assert_eq(a->vote_granted, b->vote_granted);
	cr_assert_eq(a->prev_log_index, b->prev_log_index);
	cr_assert_eq(a->prev_log_term, b->prev_log_term);
	cr_assert_eq(a->leader_commit, b->leader_commit);
	cr_assert_eq(a->n_entries, b->n_entries);
	for (uint32_t i = 0; i < a->n_entries; i++) {
		cr_assert_eq(a->entries[i].term, b->entries[i].term);
		cr_assert_eq(a->entries[i].len, b->entries[i].len);
		if (a->entries[i].len)
			cr_assert_arr_eq(a->entries[i].data, b->entries[i].data,
					 a->entries[i].len);
	}
	cr_assert_eq(a->success, b->success);
	cr_assert_eq(a->match_index, b->match_index);
	cr_assert_eq(a->conflict_term, b->conflict_term);
	cr_assert_eq(a->conflict_index, b->conflict_index);
	cr_assert_eq(a->last_included_index, b->last_included_index);
	cr_assert_eq(a->last_included_term, b->last_included_term);
	cr_assert_eq(a->snapshot_len, b->snapshot_len);
	if (a->snapshot_len)
		cr_assert_arr_eq(a->snapshot_data, b->snapshot_data, a->snapshot_len);
}

static struct raft_entry many[300];
static uint8_t many_data[300][40];

/* The sample messages every round-trip test walks over. */
static size_t sample_msgs(struct raft_msg *out)
{
	static struct raft_entry one[1];
	static uint8_t x[] = "x=1";
	static const uint8_t snap[] = "kv snapshot: \0\1\2 a=1 b=22";
	size_t n = 0;

	one[0] = (struct raft_entry){ .term = 3, .len = 3, .data = x };
	for (int i = 0; i < 300; i++) {
		int len = i % 3 == 0 ? 0 : i % 40;   /* some entries are empty */
		for (int j = 0; j < len; j++)
			many_data[i][j] = (uint8_t)(i * 7 + j);
		many[i] = (struct raft_entry){ .term = 1 + (uint64_t)i / 50,
					       .len = (uint32_t)len,
					       .data = many_data[i] };
	}
	out[n++] = (struct raft_msg){ .type = RAFT_REQUEST_VOTE, .from = 1,
		.to = 9, .term = 0x0102030405060708ULL,
		.last_log_index = 77, .last_log_term = UINT64_MAX };
	out[n++] = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY,
		.from = 2, .to = 1, .term = 5, .vote_granted = true };
	out[n++] = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY,
		.from = 3, .to = 1, .term = 5, .vote_granted = false };
	out[n++] = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES, .from = 1,
		.to = 2, .term = 4, .prev_log_index = 10, .prev_log_term = 3,
		.leader_commit = 9, .n_entries = 0 };
	out[n++] = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES, .from = 1,
		.to = 3, .term = 4, .prev_log_index = 10, .prev_log_term = 3,
		.leader_commit = 9, .n_entries = 1, .entries = one };
	out[n++] = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES, .from = 5,
		.to = 4, .term = 6, .prev_log_index = 0, .prev_log_term = 0,
		.leader_commit = 0, .n_entries = 300, .entries = many };
	out[n++] = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES_REPLY,
		.from = 2, .to = 1, .term = 4, .success = true,
		.match_index = 11 };
	out[n++] = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES_REPLY,
		.from = 2, .to = 1, .term = 4, .success = false,
		.conflict_term = 2, .conflict_index = 6 };
	out[n++] = (struct raft_msg){ .type = RAFT_INSTALL_SNAPSHOT,
		.from = 1, .to = 4, .term = 7, .last_included_index = 120,
		.last_included_term = 6, .snapshot_len = sizeof snap - 1,
		.snapshot_data = snap };
	out[n++] = (struct raft_msg){ .type = RAFT_INSTALL_SNAPSHOT,
		.from = 9, .to = 1, .term = UINT64_MAX,
		.last_included_index = UINT64_MAX, .last_included_term = 1,
		.snapshot_len = 0, .snapshot_data = NULL };   /* an empty snapshot */
	out[n++] = (struct raft_msg){ .type = RAFT_INSTALL_SNAPSHOT_REPLY,
		.from = 4, .to = 1, .term = 7, .last_included_index = 120 };
	out[n++] = (struct raft_msg){ .type = RAFT_INSTALL_SNAPSHOT_REPLY,
		.from = 4, .to = 1, .term = 8 };   /* refused: stale term, index 0 */
	return n;
}

/* Decode bytes [0, n) copied into an exactly-sized allocation. */
static int decode_copy(const uint8_t *p, size_t n, struct raft_msg *m,
		       const char **err)
{
	uint8_t *copy = dup_bytes(p, n);
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	struct rbuf r;
	rbuf_init(&r, copy, n);
	int rc = wire_get_raft_msg(&r, m, &scratch, &cap);
	if (rc == 0 && !rbuf_done(&r))
		rc = -1;
	*err = r.err;
	free(scratch);
	free(copy);
	m->entries = NULL;              /* they pointed into copy */
	return rc;
}

/* A stream of frames of assorted types and sizes, and what it holds. */
struct expect {
	uint8_t type;
	size_t off, len;                /* payload within the stream */
};

static size_t build_stream(struct wbuf *b, struct expect *ex)
{
	static const uint8_t types[] = {
		WIRE_HELLO, WIRE_SEND, WIRE_PROPOSED, WIRE_STATE, WIRE_APPEND,
		WIRE_TRUNCATE, WIRE_APPLY, WIRE_NOTE, WIRE_DONE, WIRE_FATAL,
		WIRE_SNAPSHOT, WIRE_KV_SET, WIRE_KV_RESET, WIRE_MR_JOB,
		WIRE_MR_TASK, WIRE_MR_WORKER, WIRE_BYE,
		WIRE_TICK, WIRE_DELIVER, WIRE_PROPOSE, WIRE_TIMEOUT_NOW,
		WIRE_SET_TIMER,
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof types; i++) {
		size_t at = wire_frame_begin(b, types[i]);
		size_t len = (i * 13) % 37;     /* 0 bytes for the first */
		for (size_t j = 0; j < len; j++)
			wbuf_u8(b, (uint8_t)(i + j));
		wire_frame_end(b, at);
		ex[n++] = (struct expect){ types[i], at + WIRE_HEADER, len };
	}
	return n;
}

static void check_frame(const struct wbuf *b, const struct expect *e,
			const struct wire_frame *f)
{
	cr_assert_eq(f->type, e->type);
	cr_assert_eq(f->len, e->len);
	if (e->len)
		cr_assert_arr_eq(f->payload, b->data + e->off, e->len);
}

/* ---- wbuf and rbuf ------------------------------------------------------ */

Test(wire, scalars_are_little_endian_and_round_trip)
{
	struct wbuf b;
	wbuf_init(&b);
	wbuf_u8(&b, 0xab);
	wbuf_u16(&b, 0x0102);
	wbuf_u32(&b, 0x01020304);
	wbuf_u64(&b, 0x0102030405060708ULL);
	wbuf_raw(&b, "xyz", 3);
	wbuf_bytes(&b, "hello", 5);
	wbuf_bytes(&b, NULL, 0);
	wbuf_str(&b, "str");
	wbuf_str(&b, "");
	cr_assert(!b.failed);
	static const uint8_t want[] = {
		0xab, 0x02, 0x01, 0x04, 0x03, 0x02, 0x01,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		'x', 'y', 'z', 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o',
		0, 0, 0, 0, 3, 0, 0, 0, 's', 't', 'r', 0, 0, 0, 0,
	};
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);

	struct rbuf r;
	uint8_t raw[3];
	uint32_t n;
	const uint8_t *p;
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(rbuf_u8(&r), 0xab);
	cr_assert_eq(rbuf_u16(&r), 0x0102);
	cr_assert_eq(rbuf_u32(&r), 0x01020304u);
	cr_assert_eq(rbuf_u64(&r), 0x0102030405060708ULL);
	cr_assert(rbuf_raw(&r, raw, 3));
	cr_assert_arr_eq(raw, "xyz", 3);
	p = rbuf_bytes(&r, &n);
	cr_assert(p && n == 5 && memcmp(p, "hello", 5) == 0);
	p = rbuf_bytes(&r, &n);
	cr_assert(p != NULL, "an empty byte string is not an error");
	cr_assert_eq(n, 0);
	p = rbuf_bytes(&r, &n);
	cr_assert(p && n == 3 && memcmp(p, "str", 3) == 0);
	p = rbuf_bytes(&r, &n);
	cr_assert(p && n == 0);
	cr_assert(rbuf_done(&r));
	cr_assert_null(r.err);

	wbuf_reset(&b);
	cr_assert_eq(b.len, 0);
	wbuf_free(&b);
	cr_assert_null(b.data);
}

Test(wire, wbuf_grows_through_large_appends)
{
	struct wbuf b;
	wbuf_init(&b);
	uint8_t *big = malloc(1 << 20);
	cr_assert(big);
	for (size_t i = 0; i < (1 << 20); i++)
		big[i] = (uint8_t)(i * 31);
	for (int i = 0; i < 5; i++)
		wbuf_raw(&b, big, 1 << 20);
	cr_assert(!b.failed);
	cr_assert_eq(b.len, 5u << 20);
	for (int i = 0; i < 5; i++)
		cr_assert_arr_eq(b.data + ((size_t)i << 20), big, 1 << 20);
	free(big);
	wbuf_free(&b);
}

Test(wire, rbuf_first_failure_sticks)
{
	static const uint8_t in[] = { 1, 2, 3 };
	struct rbuf r;
	rbuf_init(&r, in, sizeof in);
	cr_assert_eq(rbuf_u32(&r), 0);
	cr_assert_str_eq(r.err, "truncated u32");
	/* three bytes are there, but a failed reader stays failed */
	cr_assert_eq(rbuf_u8(&r), 0);
	cr_assert_eq(rbuf_u16(&r), 0);
	cr_assert_str_eq(r.err, "truncated u32");
	cr_assert(!rbuf_done(&r));
	cr_assert_str_eq(r.err, "truncated u32");

	rbuf_init(&r, in, sizeof in);
	cr_assert_eq(rbuf_u64(&r), 0);
	cr_assert_str_eq(r.err, "truncated u64");

	rbuf_init(&r, in, 1);
	cr_assert_eq(rbuf_u16(&r), 0);
	cr_assert_str_eq(r.err, "truncated u16");

	rbuf_init(&r, in, 0);
	cr_assert_eq(rbuf_u8(&r), 0);
	cr_assert_str_eq(r.err, "truncated u8");

	rbuf_init(&r, NULL, 0);
	cr_assert_eq(rbuf_u8(&r), 0);
	cr_assert_not_null(r.err);

	uint8_t out[4] = { 9, 9, 9, 9 };
	rbuf_init(&r, in, sizeof in);
	cr_assert(!rbuf_raw(&r, out, 4));
	cr_assert_not_null(r.err);
	cr_assert_eq(out[0], 0, "a failed raw read zeroes its output");
}

Test(wire, rbuf_bytes_checks_the_length)
{
	/* length 5, only 4 bytes follow */
	static const uint8_t in[] = { 5, 0, 0, 0, 'a', 'b', 'c', 'd' };
	for (size_t cut = 0; cut <= sizeof in; cut++) {
		uint8_t *copy = dup_bytes(in, cut);
		struct rbuf r;
		uint32_t n = 99;
		rbuf_init(&r, copy, cut);
		cr_assert_null(rbuf_bytes(&r, &n));
		cr_assert_eq(n, 0);
		cr_assert_str_eq(r.err, cut < 4 ? "truncated u32"
					       : "truncated bytes");
		free(copy);
	}
	/* a length near UINT32_MAX must not wrap the bounds check */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	struct rbuf r;
	uint32_t n;
	rbuf_init(&r, huge, sizeof huge);
	cr_assert_null(rbuf_bytes(&r, &n));
	cr_assert_str_eq(r.err, "truncated bytes");
}

Test(wire, rbuf_done_wants_every_byte)
{
	static const uint8_t in[] = { 1, 2 };
	struct rbuf r;
	rbuf_init(&r, in, sizeof in);
	(void)rbuf_u8(&r);
	cr_assert(!rbuf_done(&r));
	cr_assert_str_eq(r.err, "trailing bytes");
	rbuf_init(&r, in, sizeof in);
	(void)rbuf_u16(&r);
	cr_assert(rbuf_done(&r));
}

/* ---- raft messages ------------------------------------------------------ */

Test(wire, raft_messages_round_trip)
{
	struct raft_msg msgs[16];
	size_t n = sample_msgs(msgs);
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		struct wbuf b;
		wbuf_init(&b);
		wire_put_raft_msg(&b, &msgs[i]);
		cr_assert(!b.failed);
		struct rbuf r;
		struct raft_msg m;
		rbuf_init(&r, b.data, b.len);
		cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), 0,
			     "message %zu: %s", i, r.err);
		cr_assert(rbuf_done(&r), "message %zu: %s", i, r.err);
		assert_msg_eq(&m, &msgs[i]);
		/* entries point into the input, not into copies */
		for (uint32_t j = 0; j < m.n_entries; j++)
			cr_assert(m.entries[j].data >= b.data &&
				  m.entries[j].data + m.entries[j].len <=
				  b.data + b.len);
		/* and so does a snapshot */
		if (m.type == RAFT_INSTALL_SNAPSHOT)
			cr_assert(m.snapshot_data != NULL &&
				  m.snapshot_data >= b.data &&
				  m.snapshot_data + m.snapshot_len <= b.data + b.len,
				  "message %zu: snapshot outside the input", i);
		/* re-encoding gives the same bytes */
		struct wbuf b2;
		wbuf_init(&b2);
		wire_put_raft_msg(&b2, &m);
		cr_assert_eq(b2.len, b.len);
		cr_assert_arr_eq(b2.data, b.data, b.len);
		wbuf_free(&b2);
		wbuf_free(&b);
	}
	cr_assert_geq(cap, 300);
	free(scratch);
}

Test(wire, raft_message_layout)
{
	struct raft_msg m = { .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
			      .to = 7, .term = 0x1122, .vote_granted = true };
	struct wbuf b;
	wbuf_init(&b);
	wire_put_raft_msg(&b, &m);
	static const uint8_t want[] = {
		2, 2, 0, 0, 0, 7, 0, 0, 0,
		0x22, 0x11, 0, 0, 0, 0, 0, 0, 1,
	};
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);
	wbuf_free(&b);
}

Test(wire, every_truncated_message_fails_in_bounds)
{
	struct raft_msg msgs[16];
	size_t n = sample_msgs(msgs);
	for (size_t i = 0; i < n; i++) {
		struct wbuf b;
		wbuf_init(&b);
		wire_put_raft_msg(&b, &msgs[i]);
		for (size_t cut = 0; cut < b.len; cut++) {
			struct raft_msg m;
			const char *err;
			cr_assert_eq(decode_copy(b.data, cut, &m, &err), -1,
				     "message %zu cut at %zu decoded", i, cut);
			cr_assert_not_null(err);
		}
		/* and one byte too many is the caller's trailing bytes */
		wbuf_u8(&b, 0);
		struct raft_msg m;
		const char *err;
		cr_assert_eq(decode_copy(b.data, b.len, &m, &err), -1);
		cr_assert_str_eq(err, "trailing bytes");
		wbuf_free(&b);
	}
}

static void expect_refused(const struct raft_msg *src, size_t patch_at,
			   uint8_t value, const char *want)
{
	struct wbuf b;
	wbuf_init(&b);
	wire_put_raft_msg(&b, src);
	cr_assert_lt(patch_at, b.len);
	b.data[patch_at] = value;
	struct raft_msg m;
	const char *err;
	cr_assert_eq(decode_copy(b.data, b.len, &m, &err), -1);
	cr_assert_str_eq(err, want);
	wbuf_free(&b);
}

Test(wire, bad_types_ids_and_booleans_are_refused)
{
	struct raft_msg rv = { .type = RAFT_REQUEST_VOTE, .from = 1, .to = 2,
			       .term = 1 };
	struct raft_msg rvr = { .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
				.to = 1, .term = 1, .vote_granted = true };
	struct raft_msg aer = { .type = RAFT_APPEND_ENTRIES_REPLY, .from = 2,
				.to = 1, .term = 1, .success = true };
	expect_refused(&rv, 0, 0, "unknown raft message type");
	expect_refused(&rv, 0, RAFT_INSTALL_SNAPSHOT_REPLY + 1, "unknown raft message type");
	expect_refused(&rv, 0, WIRE_MSG_KV_REQUEST, "unknown raft message type");
	expect_refused(&rv, 0, WIRE_MSG_KV_REPLY, "unknown raft message type");
	expect_refused(&rv, 0, WIRE_MSG_MR_ASK, "unknown raft message type");
	expect_refused(&rv, 0, WIRE_MSG_MR_ORDER, "unknown raft message type");
	expect_refused(&rv, 0, WIRE_MSG_MR_DONE, "unknown raft message type");
	expect_refused(&rv, 0, 0xff, "unknown raft message type");
	expect_refused(&rv, 1, 0, "node id out of range");            /* from 0 */
	expect_refused(&rv, 1, RAFT_MAX_NODES + 1, "node id out of range");
	expect_refused(&rv, 5, 0, "node id out of range");            /* to 0 */
	expect_refused(&rv, 8, 1, "node id out of range");            /* to 2 + 2^24 */
	expect_refused(&rvr, 17, 2, "bad boolean");
	expect_refused(&rvr, 17, 0xff, "bad boolean");
	expect_refused(&aer, 17, 2, "bad boolean");

	/* ids 1 and RAFT_MAX_NODES are fine */
	struct raft_msg edge = { .type = RAFT_REQUEST_VOTE, .from = 1,
				 .to = RAFT_MAX_NODES, .term = 1 };
	struct wbuf b;
	wbuf_init(&b);
	wire_put_raft_msg(&b, &edge);
	struct raft_msg m;
	const char *err;
	cr_assert_eq(decode_copy(b.data, b.len, &m, &err), 0);
	wbuf_free(&b);
}

Test(wire, huge_entry_count_is_refused_before_allocating)
{
	struct wbuf b;
	wbuf_init(&b);
	wbuf_u8(&b, RAFT_APPEND_ENTRIES);
	wbuf_u32(&b, 1);
	wbuf_u32(&b, 2);
	wbuf_u64(&b, 3);
	wbuf_u64(&b, 0);
	wbuf_u64(&b, 0);
	wbuf_u64(&b, 0);
	wbuf_u32(&b, UINT32_MAX);
	wbuf_raw(&b, "0123456789", 10);

	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	struct rbuf r;
	struct raft_msg m;
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), -1);
	cr_assert_str_eq(r.err, "too many entries");
	cr_assert_null(scratch);
	cr_assert_eq(cap, 0);

	/* 3 entries need at least 36 bytes; 35 is not enough */
	wbuf_reset(&b);
	wbuf_u8(&b, RAFT_APPEND_ENTRIES);
	wbuf_u32(&b, 1);
	wbuf_u32(&b, 2);
	wbuf_u64(&b, 3);
	wbuf_u64(&b, 0);
	wbuf_u64(&b, 0);
	wbuf_u64(&b, 0);
	wbuf_u32(&b, 3);
	for (int i = 0; i < 35; i++)
		wbuf_u8(&b, 0);
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), -1);
	cr_assert_str_eq(r.err, "too many entries");
	cr_assert_null(scratch);

	/* with 36 bytes: three empty entries */
	wbuf_u8(&b, 0);
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), 0, "%s", r.err);
	cr_assert(rbuf_done(&r));
	cr_assert_eq(m.n_entries, 3);
	cr_assert_eq(cap, 3);
	cr_assert_eq(m.entries[2].len, 0);
	free(scratch);
	wbuf_free(&b);
}

Test(wire, scratch_is_reused_and_grown)
{
	struct raft_msg msgs[16];
	size_t n = sample_msgs(msgs);
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	/* the one-entry message, then the 300-entry one, then one again */
	size_t order[] = { 4, 5, 4 };
	for (size_t k = 0; k < 3; k++) {
		cr_assert_lt(order[k], n);
		struct wbuf b;
		wbuf_init(&b);
		wire_put_raft_msg(&b, &msgs[order[k]]);
		struct rbuf r;
		struct raft_msg m;
		rbuf_init(&r, b.data, b.len);
		cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), 0);
		cr_assert_eq(m.entries, scratch);
		assert_msg_eq(&m, &msgs[order[k]]);
		wbuf_free(&b);
	}
	cr_assert_eq(cap, 300);
	free(scratch);
}

/* ---- InstallSnapshot ---------------------------------------------------- */

Test(wire, install_snapshot_layout)
{
	static const uint8_t data[] = { 0xde, 0xad, 0xbe };
	struct raft_msg m = { .type = RAFT_INSTALL_SNAPSHOT, .from = 1, .to = 3,
			      .term = 2, .last_included_index = 0x0102,
			      .last_included_term = 0x0a, .snapshot_len = 3,
			      .snapshot_data = data };
	struct raft_msg rep = { .type = RAFT_INSTALL_SNAPSHOT_REPLY, .from = 3,
				.to = 1, .term = 2, .last_included_index = 0x0102 };
	struct wbuf b;
	wbuf_init(&b);
	wire_put_raft_msg(&b, &m);
	wire_put_raft_msg(&b, &rep);
	static const uint8_t want[] = {
		5, 1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
		0x02, 0x01, 0, 0, 0, 0, 0, 0,   /* last_included_index */
		0x0a, 0, 0, 0, 0, 0, 0, 0,      /* last_included_term */
		3, 0, 0, 0, 0xde, 0xad, 0xbe,   /* bytes data */
		6, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
		0x02, 0x01, 0, 0, 0, 0, 0, 0,   /* last_included_index */
	};
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);
	wbuf_free(&b);
}

Test(wire, install_snapshot_of_index_0_is_refused)
{
	static const uint8_t data[] = "state";
	struct raft_msg m = { .type = RAFT_INSTALL_SNAPSHOT, .from = 1, .to = 2,
			      .term = 3, .last_included_index = 0,
			      .last_included_term = 0, .snapshot_len = 5,
			      .snapshot_data = data };
	struct wbuf b;
	struct raft_msg out;
	const char *err;
	wbuf_init(&b);
	wire_put_raft_msg(&b, &m);
	cr_assert_eq(decode_copy(b.data, b.len, &out, &err), -1);
	cr_assert_str_eq(err, "snapshot of index 0");

	/* empty, and index 0 with a term: the same */
	m.snapshot_len = 0;
	m.snapshot_data = NULL;
	m.last_included_term = 4;
	wbuf_reset(&b);
	wire_put_raft_msg(&b, &m);
	cr_assert_eq(decode_copy(b.data, b.len, &out, &err), -1);
	cr_assert_str_eq(err, "snapshot of index 0");

	/* cut short, the first failure is what is reported */
	cr_assert_eq(decode_copy(b.data, b.len - 1, &out, &err), -1);
	cr_assert_str_eq(err, "truncated u32");

	/* index 1 is the smallest snapshot there is */
	m.last_included_index = 1;
	wbuf_reset(&b);
	wire_put_raft_msg(&b, &m);
	cr_assert_eq(decode_copy(b.data, b.len, &out, &err), 0, "%s", err);
	cr_assert_eq(out.last_included_index, 1);
	cr_assert_eq(out.last_included_term, 4);
	cr_assert_eq(out.snapshot_len, 0);

	/* a reply of index 0 (a refusal for a stale term) is fine */
	struct raft_msg rep = { .type = RAFT_INSTALL_SNAPSHOT_REPLY, .from = 2,
				.to = 1, .term = 9 };
	wbuf_reset(&b);
	wire_put_raft_msg(&b, &rep);
	cr_assert_eq(decode_copy(b.data, b.len, &out, &err), 0, "%s", err);
	assert_msg_eq(&out, &rep);
	wbuf_free(&b);
}

/* A 1 MiB snapshot in a SEND frame, through the reader in 64 KiB feeds. */
Test(wire, install_snapshot_of_1_mib_round_trips)
{
	enum { SNAP = 1 << 20 };
	uint8_t *data = malloc(SNAP);
	cr_assert(data);
	for (size_t i = 0; i < SNAP; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 11));
	struct raft_msg m = { .type = RAFT_INSTALL_SNAPSHOT, .from = 2, .to = 5,
			      .term = 41, .last_included_index = 100000,
			      .last_included_term = 40, .snapshot_len = SNAP,
			      .snapshot_data = data };
	struct wbuf b;
	wbuf_init(&b);
	size_t at = wire_frame_begin(&b, WIRE_SEND);
	wire_put_raft_msg(&b, &m);
	wire_frame_end(&b, at);
	cr_assert(!b.failed);
	/* header 5, type/from/to/term 17, index/term 16, length 4 */
	cr_assert_eq(b.len, (size_t)WIRE_HEADER + 17 + 16 + 4 + SNAP);

	struct wire_reader wr;
	struct wire_frame f;
	const char *why = NULL;
	int got = 0;
	wire_reader_init(&wr);
	for (size_t off = 0; off < b.len; off += 65536) {
		size_t n = b.len - off < 65536 ? b.len - off : 65536;
		cr_assert_eq(wire_reader_feed(&wr, b.data + off, n), 0);
		int rc;
		while ((rc = wire_reader_next(&wr, &f, &why)) == 1) {
			cr_assert_eq(f.type, WIRE_SEND);
			struct rbuf r;
			struct raft_msg out;
			struct raft_entry *scratch = NULL;
			size_t cap = 0;
			rbuf_init(&r, f.payload, f.len);
			cr_assert_eq(wire_get_raft_msg(&r, &out, &scratch, &cap), 0, "%s", r.err);
			cr_assert(rbuf_done(&r));
			assert_msg_eq(&out, &m);
			cr_assert(out.snapshot_data >= f.payload &&
				  out.snapshot_data + out.snapshot_len <= f.payload + f.len);
			cr_assert_null(scratch, "no entries, no scratch");
			struct wbuf b2;
			wbuf_init(&b2);
			wire_put_raft_msg(&b2, &out);
			cr_assert_eq(b2.len, f.len);
			cr_assert_arr_eq(b2.data, f.payload, f.len);
			wbuf_free(&b2);
			got++;
		}
		cr_assert_eq(rc, 0, "%s", why);
	}
	cr_assert_eq(got, 1);
	wire_reader_free(&wr);

	/* cuts: every one in the fixed part, and a few in the data */
	const uint8_t *msg = b.data + WIRE_HEADER;
	size_t len = b.len - WIRE_HEADER;
	size_t cuts[64];
	size_t n_cuts = 0;
	for (size_t c = 0; c <= 37; c++)
		cuts[n_cuts++] = c;
	cuts[n_cuts++] = 38;
	cuts[n_cuts++] = len / 2;
	cuts[n_cuts++] = len - 1;
	for (size_t k = 0; k < n_cuts; k++) {
		struct raft_msg out;
		const char *err;
		cr_assert_eq(decode_copy(msg, cuts[k], &out, &err), -1, "cut at %zu", cuts[k]);
		cr_assert_not_null(err);
	}
	/* a length one byte longer than the data that follows */
	uint8_t *copy = dup_bytes(msg, len);
	wire_put_le(copy + 37 - 4, SNAP + 1, 4);
	struct rbuf r;
	struct raft_msg out;
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	rbuf_init(&r, copy, len);
	cr_assert_eq(wire_get_raft_msg(&r, &out, &scratch, &cap), -1);
	cr_assert_str_eq(r.err, "truncated bytes");
	free(scratch);
	free(copy);
	free(data);
	wbuf_free(&b);
}

Test(wire, message_types_and_names)
{
	static const char *const raft_names[] = {
		NULL, "RequestVote", "RequestVoteReply", "AppendEntries",
		"AppendEntriesReply", "InstallSnapshot", "InstallSnapshotReply",
	};
	int named = 0;
	for (int t = 0; t < 256; t++) {
		bool raft = t >= RAFT_REQUEST_VOTE && t <= RAFT_INSTALL_SNAPSHOT_REPLY;
		bool mr = t == WIRE_MSG_MR_ASK || t == WIRE_MSG_MR_ORDER || t == WIRE_MSG_MR_DONE;
		cr_assert_eq(wire_msg_is_raft((uint8_t)t), raft, "type %d", t);
		cr_assert_eq(wire_msg_is_mr((uint8_t)t), mr, "type %d", t);
		const char *want = raft ? raft_names[t]
			: t == WIRE_MSG_KV_REQUEST ? "KvRequest"
			: t == WIRE_MSG_KV_REPLY ? "KvReply"
			: t == WIRE_MSG_MR_ASK ? "MrAsk"
			: t == WIRE_MSG_MR_ORDER ? "MrOrder"
			: t == WIRE_MSG_MR_DONE ? "MrDone" : "?";
		cr_assert_str_eq(wire_msg_name((uint8_t)t), want, "type %d", t);
		if (strcmp(want, "?") != 0)
			named++;
	}
	cr_assert_eq(named, 6 + 2 + 3);
	/* the numbers other programs (the hub's events, scripts) rely on */
	cr_assert_eq(WIRE_MSG_KV_REQUEST, 16);
	cr_assert_eq(WIRE_MSG_KV_REPLY, 17);
	cr_assert_eq(WIRE_MSG_MR_ASK, 18);
	cr_assert_eq(WIRE_MSG_MR_ORDER, 19);
	cr_assert_eq(WIRE_MSG_MR_DONE, 20);
}

/* ---- key/value messages ------------------------------------------------- */

/* wire_get_kv_msg over bytes [0, n) copied into an exactly-sized
 * allocation; the whole input must be one message.  Returns the body's
 * offset in the input, or -1 with *err set. */
static long kv_get_copy(const uint8_t *p, size_t n, uint8_t *type,
			uint32_t *from, uint32_t *to, uint32_t *len,
			const char **err)
{
	uint8_t *copy = dup_bytes(p, n);
	struct rbuf r;
	rbuf_init(&r, copy, n);
	const uint8_t *body = wire_get_kv_msg(&r, type, from, to, len);
	long off = -1;
	if (body) {
		cr_assert(body >= copy && body + *len <= copy + n,
			  "the body lies outside the input");
		cr_assert_null(r.err);
		if (rbuf_done(&r))
			off = body - copy;
	} else {
		cr_assert_not_null(r.err, "refused without a reason");
	}
	*err = r.err;
	free(copy);
	return off;
}

static void sample_kv_request(struct wbuf *b, uint32_t from, uint32_t to,
			      uint8_t **body, size_t *len)
{
	static const uint8_t key[] = "account/7";
	static const uint8_t value[] = "+15";
	struct kv_request req = { .client = from, .seq = 12, .op = KV_APPEND,
				  .key = key, .key_len = 9, .value = value,
				  .value_len = 3 };
	cr_assert_eq(kv_encode_request(&req, body, len), 0);
	wire_put_kv_msg(b, WIRE_MSG_KV_REQUEST, from, to, *body, *len);
	cr_assert(!b->failed);
}

static void sample_kv_reply(struct wbuf *b, uint32_t from, uint32_t to,
			    uint8_t **body, size_t *len)
{
	static const uint8_t value[] = "balance=115";
	struct kv_reply rep = { .client = to, .seq = 12, .err = KV_OK,
				.value = value, .value_len = 11, .version = 3 };
	cr_assert_eq(kv_encode_reply(&rep, body, len), 0);
	wire_put_kv_msg(b, WIRE_MSG_KV_REPLY, from, to, *body, *len);
	cr_assert(!b->failed);
}

Test(wire, kv_request_round_trips)
{
	struct wbuf b;
	uint8_t *body;
	size_t blen;
	uint32_t client = WIRE_CLIENT_BASE + 1;
	wbuf_init(&b);
	sample_kv_request(&b, client, 3, &body, &blen);

	/* u8 type, u32 from, u32 to, u32 length, the kv encoding */
	cr_assert_eq(b.len, 13 + blen);
	cr_assert_eq(b.data[0], WIRE_MSG_KV_REQUEST);
	cr_assert_eq(wire_get_le(b.data + 1, 4), client);
	cr_assert_eq(wire_get_le(b.data + 5, 4), 3);
	cr_assert_eq(wire_get_le(b.data + 9, 4), blen);
	cr_assert_arr_eq(b.data + 13, body, blen);

	uint8_t type = 0;
	uint32_t from = 0, to = 0, len = 0;
	cr_assert_eq(wire_peek_msg(b.data, b.len, &type, &from, &to), 0);
	cr_assert_eq(type, WIRE_MSG_KV_REQUEST);
	cr_assert_eq(from, client);
	cr_assert_eq(to, 3);
	cr_assert(!wire_msg_is_raft(type));

	const char *err;
	type = 0;
	from = to = 0;
	cr_assert_eq(kv_get_copy(b.data, b.len, &type, &from, &to, &len, &err), 13, "%s", err);
	cr_assert_eq(type, WIRE_MSG_KV_REQUEST);
	cr_assert_eq(from, client);
	cr_assert_eq(to, 3);
	cr_assert_eq(len, blen);

	/* the body points into the input and is the kv encoding */
	struct rbuf r;
	rbuf_init(&r, b.data, b.len);
	const uint8_t *p = wire_get_kv_msg(&r, &type, &from, &to, &len);
	cr_assert_eq(p, b.data + 13);
	cr_assert(rbuf_done(&r));
	struct kv_request req;
	const char *why;
	cr_assert_eq(kv_decode_request(p, len, &req, &why), 0, "%s", why);
	cr_assert_eq(req.client, client);
	cr_assert_eq(req.seq, 12);
	cr_assert_eq(req.op, KV_APPEND);
	cr_assert(req.key_len == 9 && memcmp(req.key, "account/7", 9) == 0);
	cr_assert(req.value_len == 3 && memcmp(req.value, "+15", 3) == 0);

	/* re-encoding gives the same bytes */
	struct wbuf b2;
	wbuf_init(&b2);
	wire_put_kv_msg(&b2, type, from, to, p, len);
	cr_assert_eq(b2.len, b.len);
	cr_assert_arr_eq(b2.data, b.data, b.len);
	wbuf_free(&b2);
	free(body);
	wbuf_free(&b);
}

Test(wire, kv_reply_round_trips)
{
	/* the highest node to the highest client, and an empty value */
	uint32_t client = WIRE_CLIENT_BASE + WIRE_MAX_CLIENTS;
	for (int empty = 0; empty <= 1; empty++) {
		struct kv_reply rep = { .client = client, .seq = UINT64_MAX,
					.err = empty ? KV_ERR_WRONG_LEADER : KV_ERR_VERSION,
					.value = (const uint8_t *)"v",
					.value_len = empty ? 0 : 1,
					.version = 77, .leader_hint = empty ? 4 : 0 };
		uint8_t *body;
		size_t blen;
		cr_assert_eq(kv_encode_reply(&rep, &body, &blen), 0);
		struct wbuf b;
		wbuf_init(&b);
		wire_put_kv_msg(&b, WIRE_MSG_KV_REPLY, RAFT_MAX_NODES, client, body, blen);
		uint8_t type;
		uint32_t from, to, len;
		cr_assert_eq(wire_peek_msg(b.data, b.len, &type, &from, &to), 0);
		cr_assert_eq(type, WIRE_MSG_KV_REPLY);
		cr_assert_eq(from, RAFT_MAX_NODES);
		cr_assert_eq(to, client);

		struct rbuf r;
		rbuf_init(&r, b.data, b.len);
		const uint8_t *p = wire_get_kv_msg(&r, &type, &from, &to, &len);
		cr_assert_not_null(p, "%s", r.err);
		cr_assert(rbuf_done(&r));
		cr_assert_eq(type, WIRE_MSG_KV_REPLY);
		cr_assert_eq(from, RAFT_MAX_NODES);
		cr_assert_eq(to, client);
		cr_assert_eq(len, blen);
		struct kv_reply out;
		const char *why;
		cr_assert_eq(kv_decode_reply(p, len, &out, &why), 0, "%s", why);
		cr_assert_eq(out.client, client);
		cr_assert_eq(out.seq, UINT64_MAX);
		cr_assert_eq(out.err, rep.err);
		cr_assert_eq(out.value_len, rep.value_len);
		if (out.value_len)
			cr_assert_eq(out.value[0], 'v');
		cr_assert_eq(out.version, 77);
		cr_assert_eq(out.leader_hint, rep.leader_hint);
		free(body);
		wbuf_free(&b);
	}

	/* the envelope does not look inside: an empty body passes it (the
	 * kv decoder is what refuses that) */
	struct wbuf b;
	wbuf_init(&b);
	wire_put_kv_msg(&b, WIRE_MSG_KV_REPLY, 1, WIRE_CLIENT_BASE + 1, NULL, 0);
	cr_assert_eq(b.len, 13);
	uint8_t type;
	uint32_t from, to, len;
	const char *err;
	cr_assert_eq(kv_get_copy(b.data, b.len, &type, &from, &to, &len, &err), 13, "%s", err);
	cr_assert_eq(len, 0);

	/* a body too long for its u32 length fails the buffer, rather than
	 * being cut to the low 32 bits of its length (nothing is read from it) */
	if (SIZE_MAX > UINT32_MAX) {
		static const uint8_t small[1];
		wbuf_reset(&b);
		wire_put_kv_msg(&b, WIRE_MSG_KV_REPLY, 1, WIRE_CLIENT_BASE + 1, small,
				(size_t)UINT32_MAX + 1);
		cr_assert(b.failed);
	}
	wbuf_free(&b);
}

Test(wire, kv_messages_the_wrong_way_round_are_refused)
{
	const uint32_t c1 = WIRE_CLIENT_BASE + 1;
	const uint32_t cmax = WIRE_CLIENT_BASE + WIRE_MAX_CLIENTS;
	static const char *const range = "endpoint id out of range";
	static const char *const not_kv = "not a key/value message";
	const struct {
		uint8_t type;
		uint32_t from, to;
		const char *want;                /* NULL: accepted */
	} cases[] = {
		{ WIRE_MSG_KV_REQUEST, c1, 1, NULL },
		{ WIRE_MSG_KV_REQUEST, cmax, RAFT_MAX_NODES, NULL },
		{ WIRE_MSG_KV_REQUEST, 2, 3, range },                 /* sender is a node */
		{ WIRE_MSG_KV_REQUEST, 2, c1, range },                /* node to client */
		{ WIRE_MSG_KV_REQUEST, c1, c1 + 1, range },           /* client to client */
		{ WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE, 1, range },  /* client 0 */
		{ WIRE_MSG_KV_REQUEST, cmax + 1, 1, range },          /* beyond the max */
		{ WIRE_MSG_KV_REQUEST, 0, 1, range },
		{ WIRE_MSG_KV_REQUEST, UINT32_MAX, 1, range },
		{ WIRE_MSG_KV_REQUEST, c1, 0, range },
		{ WIRE_MSG_KV_REQUEST, c1, RAFT_MAX_NODES + 1, range },
		{ WIRE_MSG_KV_REPLY, 1, c1, NULL },
		{ WIRE_MSG_KV_REPLY, RAFT_MAX_NODES, cmax, NULL },
		{ WIRE_MSG_KV_REPLY, 1, 2, range },                   /* a reply to a node */
		{ WIRE_MSG_KV_REPLY, c1, 1, range },                  /* client to node */
		{ WIRE_MSG_KV_REPLY, c1, c1, range },
		{ WIRE_MSG_KV_REPLY, 1, WIRE_CLIENT_BASE, range },    /* client 0 */
		{ WIRE_MSG_KV_REPLY, 1, cmax + 1, range },
		{ WIRE_MSG_KV_REPLY, 1, UINT32_MAX, range },
		{ WIRE_MSG_KV_REPLY, 0, c1, range },
		{ WIRE_MSG_KV_REPLY, RAFT_MAX_NODES + 1, c1, range },
		{ RAFT_REQUEST_VOTE, c1, 1, not_kv },
		{ RAFT_INSTALL_SNAPSHOT_REPLY, 1, c1, not_kv },
		{ 0, c1, 1, not_kv },
		{ WIRE_MSG_MR_ASK, c1, 1, not_kv },
		{ WIRE_MSG_MR_ORDER, 1, c1, not_kv },
		{ WIRE_MSG_MR_DONE, 2, 1, not_kv },                   /* a real MR pair */
		{ WIRE_MSG_MR_DONE + 1, 1, c1, not_kv },
		{ 0xff, c1, 1, not_kv },
	};
	static const uint8_t body[] = { 1, 2, 3, 4, 5 };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wbuf b;
		wbuf_init(&b);
		/* by hand: wire_put_kv_msg asserts a kv type */
		wbuf_u8(&b, cases[i].type);
		wbuf_u32(&b, cases[i].from);
		wbuf_u32(&b, cases[i].to);
		wbuf_bytes(&b, body, sizeof body);
		uint8_t type;
		uint32_t from, to, len;
		const char *err;
		long off = kv_get_copy(b.data, b.len, &type, &from, &to, &len, &err);
		if (cases[i].want) {
			cr_assert_eq(off, -1, "case %zu accepted", i);
			cr_assert_str_eq(err, cases[i].want, "case %zu", i);
		} else {
			cr_assert_eq(off, 13, "case %zu: %s", i, err);
			cr_assert_eq(len, sizeof body);
		}
		/* what the header says is all the same */
		cr_assert_eq(type, cases[i].type);
		cr_assert_eq(from, cases[i].from);
		cr_assert_eq(to, cases[i].to);
		wbuf_free(&b);
	}
}

Test(wire, peek_reads_only_the_header)
{
	struct wbuf b;
	uint8_t *body;
	size_t blen;
	wbuf_init(&b);
	sample_kv_request(&b, WIRE_CLIENT_BASE + 42, 2, &body, &blen);
	free(body);
	/* short headers are refused, each in its own exact allocation */
	for (size_t cut = 0; cut < 9; cut++) {
		uint8_t *copy = dup_bytes(b.data, cut);
		uint8_t type;
		uint32_t from, to;
		cr_assert_eq(wire_peek_msg(copy, cut, &type, &from, &to), -1, "cut %zu", cut);
		free(copy);
	}
	/* nine bytes are enough: the rest is not looked at */
	uint8_t *copy = dup_bytes(b.data, 9);
	uint8_t type;
	uint32_t from, to;
	cr_assert_eq(wire_peek_msg(copy, 9, &type, &from, &to), 0);
	cr_assert_eq(type, WIRE_MSG_KV_REQUEST);
	cr_assert_eq(from, WIRE_CLIENT_BASE + 42);
	cr_assert_eq(to, 2);
	/* every type: known message types only */
	for (int t = 0; t < 256; t++) {
		copy[0] = (uint8_t)t;
		bool known = (t >= RAFT_REQUEST_VOTE && t <= RAFT_INSTALL_SNAPSHOT_REPLY) ||
			     t == WIRE_MSG_KV_REQUEST || t == WIRE_MSG_KV_REPLY ||
			     t == WIRE_MSG_MR_ASK || t == WIRE_MSG_MR_ORDER ||
			     t == WIRE_MSG_MR_DONE;
		cr_assert_eq(wire_peek_msg(copy, 9, &type, &from, &to), known ? 0 : -1,
			     "type %d", t);
	}
	free(copy);

	/* and a raft message peeks the same way */
	struct raft_msg m = { .type = RAFT_INSTALL_SNAPSHOT, .from = 3, .to = 7,
			      .term = 1, .last_included_index = 5 };
	wbuf_reset(&b);
	wire_put_raft_msg(&b, &m);
	cr_assert_eq(wire_peek_msg(b.data, b.len, &type, &from, &to), 0);
	cr_assert_eq(type, RAFT_INSTALL_SNAPSHOT);
	cr_assert_eq(from, 3);
	cr_assert_eq(to, 7);

	/* and a MapReduce one: an ask is the header and nothing else */
	struct wire_mr ask = { .type = WIRE_MSG_MR_ASK, .from = 6, .to = 1 };
	wbuf_reset(&b);
	wire_put_mr_msg(&b, &ask);
	cr_assert_eq(b.len, 9);
	copy = dup_bytes(b.data, b.len);
	cr_assert_eq(wire_peek_msg(copy, b.len, &type, &from, &to), 0);
	cr_assert_eq(type, WIRE_MSG_MR_ASK);
	cr_assert_eq(from, 6);
	cr_assert_eq(to, 1);
	free(copy);
	wbuf_free(&b);
}

Test(wire, every_truncated_kv_message_fails_in_bounds)
{
	for (int which = 0; which < 2; which++) {
		struct wbuf b;
		uint8_t *body;
		size_t blen;
		wbuf_init(&b);
		if (which == 0)
			sample_kv_request(&b, WIRE_CLIENT_BASE + 5, 1, &body, &blen);
		else
			sample_kv_reply(&b, 1, WIRE_CLIENT_BASE + 5, &body, &blen);
		uint8_t type;
		uint32_t from, to, len;
		const char *err;
		for (size_t cut = 0; cut < b.len; cut++) {
			cr_assert_eq(kv_get_copy(b.data, cut, &type, &from, &to, &len, &err), -1,
				     "message %d cut at %zu decoded", which, cut);
			cr_assert_str_eq(err, cut < 1 ? "truncated u8"
					 : cut < 13 ? "truncated u32" : "truncated bytes",
					 "message %d cut at %zu", which, cut);
		}
		/* a length that claims more than is there */
		uint8_t *copy = dup_bytes(b.data, b.len);
		wire_put_le(copy + 9, blen + 1, 4);
		cr_assert_eq(kv_get_copy(copy, b.len, &type, &from, &to, &len, &err), -1);
		cr_assert_str_eq(err, "truncated bytes");
		wire_put_le(copy + 9, UINT32_MAX, 4);
		cr_assert_eq(kv_get_copy(copy, b.len, &type, &from, &to, &len, &err), -1);
		cr_assert_str_eq(err, "truncated bytes");
		free(copy);
		/* one byte too many is the caller's trailing bytes */
		wbuf_u8(&b, 0);
		cr_assert_eq(kv_get_copy(b.data, b.len, &type, &from, &to, &len, &err), -1);
		cr_assert_str_eq(err, "trailing bytes");

		/* a well-framed envelope whose kv body is cut short: the kv
		 * decoder refuses every prefix, in bounds */
		for (size_t cut = 0; cut < blen; cut++) {
			uint8_t *pb = dup_bytes(body, cut);
			const char *why = NULL;
			int rc;
			if (which == 0) {
				struct kv_request req;
				rc = kv_decode_request(pb, cut, &req, &why);
			} else {
				struct kv_reply rep;
				rc = kv_decode_reply(pb, cut, &rep, &why);
			}
			cr_assert_eq(rc, -1, "body %d cut at %zu decoded", which, cut);
			cr_assert_not_null(why);
			free(pb);
		}
		free(body);
		wbuf_free(&b);
	}
}

/* ---- MapReduce messages ------------------------------------------------- */

static const uint8_t mr_file[] = "data/pg-being_ernest.txt";
static const uint8_t mr_binfile[] = { 'i', 0, 0xff, '/', 'x' };

/* The sample MapReduce messages: every type, every order and task type,
 * ids and numbers at their edges. */
static size_t sample_mr_msgs(struct wire_mr *out)
{
	size_t n = 0;
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ASK, .from = 2, .to = 1 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ASK, .from = RAFT_MAX_NODES, .to = 1 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ORDER, .from = 1, .to = 2,
		.order = MR_DO_MAP, .task = 7, .n_map = 8, .n_reduce = 10,
		.file = mr_file, .file_len = sizeof mr_file - 1 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ORDER, .from = 1,
		.to = RAFT_MAX_NODES, .order = MR_DO_REDUCE, .task = 9, .n_map = 8,
		.n_reduce = 10 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ORDER, .from = 1, .to = 3,
		.order = MR_WAIT, .n_map = 8, .n_reduce = 10 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ORDER, .from = 1, .to = 3,
		.order = MR_EXIT, .n_map = 8, .n_reduce = 10 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_ORDER, .from = RAFT_MAX_NODES,
		.to = 1, .order = MR_DO_MAP, .task = UINT32_MAX, .n_map = UINT32_MAX,
		.n_reduce = UINT32_MAX, .file = mr_binfile, .file_len = sizeof mr_binfile };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_DONE, .from = 3, .to = 1,
		.task_type = MR_MAP, .task = 7, .bytes = 4096 };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_DONE, .from = RAFT_MAX_NODES,
		.to = 1, .task_type = MR_REDUCE, .task = UINT32_MAX, .bytes = UINT64_MAX };
	out[n++] = (struct wire_mr){ .type = WIRE_MSG_MR_DONE, .from = 2, .to = 1,
		.task_type = MR_REDUCE, .task = 0, .bytes = 0 };
	return n;
}

static void assert_mr_eq(const struct wire_mr *a, const struct wire_mr *b)
{
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->from, b->from);
	cr_assert_eq(a->to, b->to);
	cr_assert_eq(a->order, b->order);
	cr_assert_eq(a->task_type, b->task_type);
	cr_assert_eq(a->task, b->task);
	cr_assert_eq(a->n_map, b->n_map);
	cr_assert_eq(a->n_reduce, b->n_reduce);
	cr_assert_eq(a->bytes, b->bytes);
	cr_assert_eq(a->file_len, b->file_len);
	if (a->file_len)
		cr_assert_arr_eq(a->file, b->file, a->file_len);
}

/* wire_get_mr_msg over bytes [0, n) copied into an exactly-sized
 * allocation; the whole input must be one message.  Returns 0, or -1 with
 * *err set.  An order's file must lie inside the input (it is cleared on
 * return: it pointed into the copy); other messages have none. */
static int mr_get_copy(const uint8_t *p, size_t n, struct wire_mr *m, const char **err)
{
	uint8_t *copy = dup_bytes(p, n);
	struct rbuf r;
	rbuf_init(&r, copy, n);
	int rc = wire_get_mr_msg(&r, m);
	if (rc == 0) {
		cr_assert_null(r.err);
		cr_assert(wire_msg_is_mr(m->type));
		if (m->type == WIRE_MSG_MR_ORDER)
			cr_assert(m->file != NULL && m->file >= copy &&
				  m->file + m->file_len <= copy + n,
				  "the file lies outside the input");
		else
			cr_assert(m->file == NULL && m->file_len == 0);
		if (!rbuf_done(&r))
			rc = -1;
	} else {
		cr_assert_eq(rc, -1);
		cr_assert_not_null(r.err, "refused without a reason");
	}
	*err = r.err;
	free(copy);
	m->file = NULL;
	return rc;
}

Test(wire, mr_messages_round_trip)
{
	struct wire_mr msgs[16];
	size_t n = sample_mr_msgs(msgs);
	for (size_t i = 0; i < n; i++) {
		struct wbuf b;
		wbuf_init(&b);
		wire_put_mr_msg(&b, &msgs[i]);
		cr_assert(!b.failed);

		uint8_t type = 0;
		uint32_t from = 0, to = 0;
		cr_assert_eq(wire_peek_msg(b.data, b.len, &type, &from, &to), 0, "message %zu", i);
		cr_assert_eq(type, msgs[i].type);
		cr_assert_eq(from, msgs[i].from);
		cr_assert_eq(to, msgs[i].to);
		cr_assert(wire_msg_is_mr(type) && !wire_msg_is_raft(type));

		struct rbuf r;
		struct wire_mr m;
		rbuf_init(&r, b.data, b.len);
		cr_assert_eq(wire_get_mr_msg(&r, &m), 0, "message %zu: %s", i, r.err);
		cr_assert(rbuf_done(&r), "message %zu: %s", i, r.err);
		assert_mr_eq(&m, &msgs[i]);
		/* an order's file points into the input, even an empty one */
		if (m.type == WIRE_MSG_MR_ORDER)
			cr_assert(m.file != NULL && m.file >= b.data &&
				  m.file + m.file_len <= b.data + b.len,
				  "message %zu: file outside the input", i);
		else
			cr_assert_null(m.file);

		/* re-encoding gives the same bytes */
		struct wbuf b2;
		wbuf_init(&b2);
		wire_put_mr_msg(&b2, &m);
		cr_assert_eq(b2.len, b.len);
		cr_assert_arr_eq(b2.data, b.data, b.len);
		wbuf_free(&b2);

		/* and in an exact allocation */
		const char *err;
		cr_assert_eq(mr_get_copy(b.data, b.len, &m, &err), 0, "message %zu: %s", i, err);

		/* no other decoder takes it */
		struct raft_msg rm;
		struct raft_entry *scratch = NULL;
		size_t cap = 0;
		rbuf_init(&r, b.data, b.len);
		cr_assert_eq(wire_get_raft_msg(&r, &rm, &scratch, &cap), -1, "message %zu", i);
		cr_assert_not_null(r.err);
		cr_assert_null(scratch);
		uint32_t len;
		rbuf_init(&r, b.data, b.len);
		cr_assert_null(wire_get_kv_msg(&r, &type, &from, &to, &len), "message %zu", i);
		cr_assert_not_null(r.err);
		wbuf_free(&b);
	}
}

/* Where each field sits: the hub routes these bytes unchanged. */
Test(wire, mr_message_layout)
{
	static const uint8_t in[] = "in";
	/* an ask carries nothing but its header, whatever else is set */
	struct wire_mr ask = { .type = WIRE_MSG_MR_ASK, .from = 4, .to = 1,
			       .order = MR_WAIT, .task_type = MR_REDUCE, .task = 5,
			       .n_map = 6, .n_reduce = 7, .bytes = 8,
			       .file = in, .file_len = 2 };
	struct wire_mr order = { .type = WIRE_MSG_MR_ORDER, .from = 1, .to = 4,
				 .order = MR_DO_MAP, .task = 0x0102, .n_map = 3,
				 .n_reduce = 0x0a0b0c0d, .file = in, .file_len = 2,
				 .task_type = MR_REDUCE, .bytes = 9 };   /* not an order's */
	struct wire_mr done = { .type = WIRE_MSG_MR_DONE, .from = 4, .to = 1,
				.task_type = MR_REDUCE, .task = 2,
				.bytes = 0x0102030405060708ULL,
				.order = MR_EXIT, .n_map = 1, .n_reduce = 1,
				.file = in, .file_len = 2 };         /* not a done's */
	struct wbuf b;
	wbuf_init(&b);
	wire_put_mr_msg(&b, &ask);
	cr_assert_eq(b.len, 9);
	wire_put_mr_msg(&b, &order);
	cr_assert_eq(b.len, 9 + 26 + 2);
	wire_put_mr_msg(&b, &done);
	static const uint8_t want[] = {
		WIRE_MSG_MR_ASK, 4, 0, 0, 0, 1, 0, 0, 0,
		WIRE_MSG_MR_ORDER, 1, 0, 0, 0, 4, 0, 0, 0,
		MR_DO_MAP,
		0x02, 0x01, 0, 0,                       /* task */
		3, 0, 0, 0,                             /* n_map */
		0x0d, 0x0c, 0x0b, 0x0a,                 /* n_reduce */
		2, 0, 0, 0, 'i', 'n',                   /* bytes file */
		WIRE_MSG_MR_DONE, 4, 0, 0, 0, 1, 0, 0, 0,
		MR_REDUCE,
		2, 0, 0, 0,                             /* task */
		8, 7, 6, 5, 4, 3, 2, 1,                 /* bytes */
	};
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);
	cr_assert_eq(WIRE_MSG_MR_ASK, 18);
	cr_assert_eq(WIRE_MSG_MR_ORDER, 19);
	cr_assert_eq(WIRE_MSG_MR_DONE, 20);

	/* decoded, what was not on the wire is zero */
	struct wire_mr m;
	const char *err;
	cr_assert_eq(mr_get_copy(want, 9, &m, &err), 0, "%s", err);
	struct wire_mr bare = { .type = WIRE_MSG_MR_ASK, .from = 4, .to = 1 };
	assert_mr_eq(&m, &bare);
	cr_assert_eq(mr_get_copy(want + 9 + 28, 22, &m, &err), 0, "%s", err);
	cr_assert(m.order == 0 && m.n_map == 0 && m.n_reduce == 0 && m.file_len == 0);
	cr_assert(m.task_type == MR_REDUCE && m.task == 2 && m.bytes == 0x0102030405060708ULL);
	cr_assert_eq(mr_get_copy(want + 9, 28, &m, &err), 0, "%s", err);
	cr_assert(m.task_type == 0 && m.bytes == 0);
	cr_assert(m.order == MR_DO_MAP && m.task == 0x0102 && m.n_map == 3 &&
		  m.n_reduce == 0x0a0b0c0d && m.file_len == 2);
	wbuf_free(&b);
}

/* The error a message cut at `cut` must report: the field the cut falls in. */
static const char *mr_cut_err(uint8_t type, size_t cut)
{
	if (cut < 1)
		return "truncated u8";
	if (cut < 9)
		return "truncated u32";
	if (cut < 10)
		return "truncated u8";
	if (type == WIRE_MSG_MR_ORDER)
		return cut < 26 ? "truncated u32" : "truncated bytes";
	return cut < 14 ? "truncated u32" : "truncated u64";
}

Test(wire, every_truncated_mr_message_fails_in_bounds)
{
	struct wire_mr msgs[16];
	size_t n = sample_mr_msgs(msgs);
	for (size_t i = 0; i < n; i++) {
		struct wbuf b;
		struct wire_mr m;
		const char *err;
		wbuf_init(&b);
		wire_put_mr_msg(&b, &msgs[i]);
		for (size_t cut = 0; cut < b.len; cut++) {
			cr_assert_eq(mr_get_copy(b.data, cut, &m, &err), -1,
				     "message %zu cut at %zu decoded", i, cut);
			cr_assert_str_eq(err, mr_cut_err(msgs[i].type, cut),
					 "message %zu cut at %zu", i, cut);
		}
		if (msgs[i].type == WIRE_MSG_MR_ORDER) {
			/* a file length that claims more than is there */
			uint8_t *copy = dup_bytes(b.data, b.len);
			wire_put_le(copy + 22, msgs[i].file_len + 1, 4);
			cr_assert_eq(mr_get_copy(copy, b.len, &m, &err), -1);
			cr_assert_str_eq(err, "truncated bytes");
			wire_put_le(copy + 22, UINT32_MAX, 4);
			cr_assert_eq(mr_get_copy(copy, b.len, &m, &err), -1);
			cr_assert_str_eq(err, "truncated bytes");
			free(copy);
		}
		/* one byte too many is the caller's trailing bytes */
		wbuf_u8(&b, 0);
		cr_assert_eq(mr_get_copy(b.data, b.len, &m, &err), -1);
		cr_assert_str_eq(err, "trailing bytes");
		wbuf_free(&b);
	}
}

/* Encode a MapReduce-shaped message by hand (wire_put_mr_msg asserts a
 * MapReduce type): the header, then an order's or a done's fields with
 * `field` as the order or task type. */
static void put_mr_by_hand(struct wbuf *b, uint8_t type, uint32_t from, uint32_t to,
			   uint8_t field)
{
	wbuf_u8(b, type);
	wbuf_u32(b, from);
	wbuf_u32(b, to);
	if (type == WIRE_MSG_MR_ORDER) {
		wbuf_u8(b, field);
		wbuf_u32(b, 3);
		wbuf_u32(b, 4);
		wbuf_u32(b, 2);
		wbuf_bytes(b, "f", 1);
	} else if (type == WIRE_MSG_MR_DONE) {
		wbuf_u8(b, field);
		wbuf_u32(b, 1);
		wbuf_u64(b, 99);
	}
}

Test(wire, mr_messages_with_bad_ends_or_fields_are_refused)
{
	const uint32_t c1 = WIRE_CLIENT_BASE + 1;
	static const char *const range = "node id out of range";
	static const char *const not_mr = "not a MapReduce message";
	static const char *const bad_order = "unknown MapReduce order";
	static const char *const bad_task = "unknown MapReduce task type";
	const struct {
		uint8_t type;
		uint32_t from, to;
		uint8_t field;                   /* the order or the task type */
		const char *want;                /* NULL: accepted */
	} cases[] = {
		{ WIRE_MSG_MR_ASK, 2, 1, 0, NULL },
		/* the codec does not know who coordinates: any two nodes */
		{ WIRE_MSG_MR_ASK, 1, RAFT_MAX_NODES, 0, NULL },
		{ WIRE_MSG_MR_ASK, 0, 1, 0, range },
		{ WIRE_MSG_MR_ASK, 2, 0, 0, range },
		{ WIRE_MSG_MR_ASK, RAFT_MAX_NODES + 1, 1, 0, range },
		{ WIRE_MSG_MR_ASK, 2, RAFT_MAX_NODES + 1, 0, range },
		{ WIRE_MSG_MR_ASK, c1, 1, 0, range },             /* a client asks */
		{ WIRE_MSG_MR_ASK, 2, c1, 0, range },
		{ WIRE_MSG_MR_ASK, UINT32_MAX, 1, 0, range },
		{ WIRE_MSG_MR_ASK, 2, 1 + (1u << 24), 0, range },
		{ WIRE_MSG_MR_ORDER, 1, 2, MR_DO_MAP, NULL },
		{ WIRE_MSG_MR_ORDER, 1, 2, MR_DO_REDUCE, NULL },
		{ WIRE_MSG_MR_ORDER, 1, 2, MR_WAIT, NULL },
		{ WIRE_MSG_MR_ORDER, RAFT_MAX_NODES, 1, MR_EXIT, NULL },
		{ WIRE_MSG_MR_ORDER, 1, 2, MR_EXIT + 1, bad_order },
		{ WIRE_MSG_MR_ORDER, 1, 2, 0xff, bad_order },
		{ WIRE_MSG_MR_ORDER, 1, c1, MR_DO_MAP, range },   /* an order to a client */
		{ WIRE_MSG_MR_ORDER, c1, 2, MR_DO_MAP, range },
		{ WIRE_MSG_MR_ORDER, 0, 2, MR_WAIT, range },
		{ WIRE_MSG_MR_ORDER, 1, RAFT_MAX_NODES + 1, MR_WAIT, range },
		/* the ends are checked before the body */
		{ WIRE_MSG_MR_ORDER, 1, 0, 0xff, range },
		{ WIRE_MSG_MR_DONE, 2, 1, MR_MAP, NULL },
		{ WIRE_MSG_MR_DONE, RAFT_MAX_NODES, 1, MR_REDUCE, NULL },
		{ WIRE_MSG_MR_DONE, 2, 1, MR_REDUCE + 1, bad_task },
		{ WIRE_MSG_MR_DONE, 2, 1, 0xff, bad_task },
		{ WIRE_MSG_MR_DONE, c1, 1, MR_MAP, range },       /* a client reports */
		{ WIRE_MSG_MR_DONE, 2, c1, MR_MAP, range },
		{ WIRE_MSG_MR_DONE, 2, 0, MR_MAP, range },
		{ WIRE_MSG_MR_DONE, RAFT_MAX_NODES + 1, 1, MR_MAP, range },
		{ 0, 2, 1, 0, not_mr },
		{ RAFT_REQUEST_VOTE, 1, 2, 0, not_mr },
		{ RAFT_INSTALL_SNAPSHOT_REPLY, 2, 1, 0, not_mr },
		{ WIRE_MSG_KV_REQUEST, c1, 1, 0, not_mr },
		{ WIRE_MSG_KV_REPLY, 1, c1, 0, not_mr },
		{ WIRE_MSG_MR_DONE + 1, 2, 1, 0, not_mr },
		{ 0xff, 2, 1, 0, not_mr },
		/* the type is checked before the ends */
		{ WIRE_MSG_KV_REPLY, 0, 0, 0, not_mr },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wbuf b;
		wbuf_init(&b);
		put_mr_by_hand(&b, cases[i].type, cases[i].from, cases[i].to, cases[i].field);
		struct wire_mr m;
		const char *err;
		int rc = mr_get_copy(b.data, b.len, &m, &err);
		if (cases[i].want) {
			cr_assert_eq(rc, -1, "case %zu accepted", i);
			cr_assert_str_eq(err, cases[i].want, "case %zu", i);
		} else {
			cr_assert_eq(rc, 0, "case %zu: %s", i, err);
			if (cases[i].type == WIRE_MSG_MR_ORDER)
				cr_assert(m.order == cases[i].field && m.task == 3 &&
					  m.n_map == 4 && m.n_reduce == 2 && m.file_len == 1);
			if (cases[i].type == WIRE_MSG_MR_DONE)
				cr_assert(m.task_type == cases[i].field && m.task == 1 &&
					  m.bytes == 99);
		}
		/* what the header says is all the same */
		cr_assert_eq(m.type, cases[i].type, "case %zu", i);
		cr_assert_eq(m.from, cases[i].from, "case %zu", i);
		cr_assert_eq(m.to, cases[i].to, "case %zu", i);
		wbuf_free(&b);
	}

	/* cut short, the first failure is what is reported: a bad order or
	 * task type is not looked at until the whole body is there */
	struct wbuf b;
	struct wire_mr m;
	const char *err;
	wbuf_init(&b);
	put_mr_by_hand(&b, WIRE_MSG_MR_ORDER, 1, 2, MR_EXIT + 1);
	cr_assert_eq(mr_get_copy(b.data, b.len - 1, &m, &err), -1);
	cr_assert_str_eq(err, "truncated bytes");
	cr_assert_eq(mr_get_copy(b.data, 10, &m, &err), -1);
	cr_assert_str_eq(err, "truncated u32");
	wbuf_reset(&b);
	put_mr_by_hand(&b, WIRE_MSG_MR_DONE, 2, 1, 7);
	cr_assert_eq(mr_get_copy(b.data, b.len - 1, &m, &err), -1);
	cr_assert_str_eq(err, "truncated u64");
	/* a bad end on a message cut short is still a bad end */
	wbuf_reset(&b);
	put_mr_by_hand(&b, WIRE_MSG_MR_DONE, 0, 1, MR_MAP);
	cr_assert_eq(mr_get_copy(b.data, 9, &m, &err), -1);
	cr_assert_str_eq(err, "node id out of range");
	wbuf_free(&b);
}

/* ---- state -------------------------------------------------------------- */

static void sample_leader_state(struct wire_state *s)
{
	memset(s, 0, sizeof *s);
	s->role = RAFT_LEADER;
	s->term = 12;
	s->voted_for = 3;
	s->leader = 3;
	s->commit = 100;
	s->applied = 99;
	s->last_index = 104;
	s->snapshot_index = 40;
	s->election_deadline = RAFT_NO_DEADLINE;
	s->snapshot_term = 9;
	s->raft_bytes = 123456;
	s->snapshot_bytes = 7890;
	s->kv_keys = 33;
	s->kv_dup_bytes = 480;
	s->n_peers = 5;
	for (int i = 1; i <= 5; i++) {
		s->next_index[i] = 100 + (uint64_t)i;
		s->match_index[i] = 90 + (uint64_t)i;
	}
}

Test(wire, state_round_trips)
{
	struct wire_state in[4];
	sample_leader_state(&in[0]);
	memset(&in[1], 0, sizeof in[1]);
	in[1].role = RAFT_FOLLOWER;
	in[1].term = 1;
	in[1].election_deadline = 12345;
	sample_leader_state(&in[2]);
	in[2].n_peers = RAFT_MAX_NODES;
	for (int i = 1; i <= RAFT_MAX_NODES; i++)
		in[2].next_index[i] = in[2].match_index[i] = UINT64_MAX - (uint64_t)i;
	/* a follower after InstallSnapshot, the new fields at their extremes */
	memset(&in[3], 0, sizeof in[3]);
	in[3].role = RAFT_CANDIDATE;
	in[3].term = 8;
	in[3].voted_for = RAFT_MAX_NODES;
	in[3].commit = in[3].applied = in[3].last_index = UINT64_MAX;
	in[3].snapshot_index = UINT64_MAX;
	in[3].snapshot_term = UINT64_MAX;
	in[3].raft_bytes = UINT64_MAX - 1;
	in[3].snapshot_bytes = (uint64_t)1 << 40;
	in[3].kv_keys = 0x0102030405060708ULL;
	in[3].kv_dup_bytes = UINT64_MAX;
	for (int k = 0; k < 4; k++) {
		struct wbuf b;
		wbuf_init(&b);
		wire_put_state(&b, &in[k]);
		cr_assert_eq(b.len, 101 + 16 * (size_t)in[k].n_peers);
		struct rbuf r;
		struct wire_state out;
		rbuf_init(&r, b.data, b.len);
		cr_assert_eq(wire_get_state(&r, &out), 0, "%s", r.err);
		cr_assert(rbuf_done(&r));
		cr_assert_eq(memcmp(&out, &in[k], sizeof out), 0);
		cr_assert_eq(out.snapshot_term, in[k].snapshot_term);
		cr_assert_eq(out.raft_bytes, in[k].raft_bytes);
		cr_assert_eq(out.snapshot_bytes, in[k].snapshot_bytes);
		cr_assert_eq(out.kv_keys, in[k].kv_keys);
		cr_assert_eq(out.kv_dup_bytes, in[k].kv_dup_bytes);

		/* every proper prefix fails, in bounds */
		for (size_t cut = 0; cut < b.len; cut++) {
			uint8_t *copy = dup_bytes(b.data, cut);
			rbuf_init(&r, copy, cut);
			cr_assert_eq(wire_get_state(&r, &out), -1);
			cr_assert_not_null(r.err);
			free(copy);
		}
		wbuf_free(&b);
	}
}

/* Where each field of the state sits: the hub and any other reader of the
 * port depend on it. */
Test(wire, state_layout)
{
	struct wire_state s;
	sample_leader_state(&s);
	struct wbuf b;
	wbuf_init(&b);
	wire_put_state(&b, &s);
	cr_assert_eq(b.data[0], RAFT_LEADER);
	cr_assert_eq(wire_get_le(b.data + 1, 8), 12);          /* term */
	cr_assert_eq(wire_get_le(b.data + 9, 4), 3);           /* voted_for */
	cr_assert_eq(wire_get_le(b.data + 13, 4), 3);          /* leader */
	cr_assert_eq(wire_get_le(b.data + 17, 8), 100);        /* commit */
	cr_assert_eq(wire_get_le(b.data + 25, 8), 99);         /* applied */
	cr_assert_eq(wire_get_le(b.data + 33, 8), 104);        /* last_index */
	cr_assert_eq(wire_get_le(b.data + 41, 8), 40);         /* snapshot_index */
	cr_assert_eq(wire_get_le(b.data + 49, 8), RAFT_NO_DEADLINE);
	cr_assert_eq(wire_get_le(b.data + 57, 8), 9);          /* snapshot_term */
	cr_assert_eq(wire_get_le(b.data + 65, 8), 123456);     /* raft_bytes */
	cr_assert_eq(wire_get_le(b.data + 73, 8), 7890);       /* snapshot_bytes */
	cr_assert_eq(wire_get_le(b.data + 81, 8), 33);         /* kv_keys */
	cr_assert_eq(wire_get_le(b.data + 89, 8), 480);        /* kv_dup_bytes */
	cr_assert_eq(wire_get_le(b.data + 97, 4), 5);          /* n_peers */
	cr_assert_eq(wire_get_le(b.data + 101, 8), 101);       /* next_index[1] */
	cr_assert_eq(wire_get_le(b.data + 109, 8), 91);        /* match_index[1] */
	cr_assert_eq(b.len, 101 + 5 * 16);
	wbuf_free(&b);
}

Test(wire, bad_state_is_refused)
{
	struct wire_state s;
	struct wbuf b;
	struct rbuf r;
	struct wire_state out;

	sample_leader_state(&s);
	wbuf_init(&b);
	wire_put_state(&b, &s);
	b.data[0] = 3;                          /* role */
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_state(&r, &out), -1);
	cr_assert_str_eq(r.err, "bad role");

	wbuf_reset(&b);
	wire_put_state(&b, &s);
	b.data[97] = RAFT_MAX_NODES + 1;        /* n_peers */
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_state(&r, &out), -1);
	cr_assert_str_eq(r.err, "too many peers");

	wbuf_reset(&b);
	wire_put_state(&b, &s);
	b.data[9] = RAFT_MAX_NODES + 1;         /* voted_for */
	rbuf_init(&r, b.data, b.len);
	cr_assert_eq(wire_get_state(&r, &out), -1);
	cr_assert_str_eq(r.err, "node id out of range");
	wbuf_free(&b);
}

/* ---- frames and the reader ---------------------------------------------- */

Test(wire, type_names)
{
	cr_assert_str_eq(wire_type_name(WIRE_HELLO), "HELLO");
	cr_assert_str_eq(wire_type_name(WIRE_SEND), "SEND");
	cr_assert_str_eq(wire_type_name(WIRE_PROPOSED), "PROPOSED");
	cr_assert_str_eq(wire_type_name(WIRE_STATE), "STATE");
	cr_assert_str_eq(wire_type_name(WIRE_APPEND), "APPEND");
	cr_assert_str_eq(wire_type_name(WIRE_TRUNCATE), "TRUNCATE");
	cr_assert_str_eq(wire_type_name(WIRE_APPLY), "APPLY");
	cr_assert_str_eq(wire_type_name(WIRE_NOTE), "NOTE");
	cr_assert_str_eq(wire_type_name(WIRE_DONE), "DONE");
	cr_assert_str_eq(wire_type_name(WIRE_FATAL), "FATAL");
	cr_assert_str_eq(wire_type_name(WIRE_SNAPSHOT), "SNAPSHOT");
	cr_assert_str_eq(wire_type_name(WIRE_KV_SET), "KV_SET");
	cr_assert_str_eq(wire_type_name(WIRE_KV_RESET), "KV_RESET");
	cr_assert_str_eq(wire_type_name(WIRE_MR_JOB), "MR_JOB");
	cr_assert_str_eq(wire_type_name(WIRE_MR_TASK), "MR_TASK");
	cr_assert_str_eq(wire_type_name(WIRE_MR_WORKER), "MR_WORKER");
	cr_assert_str_eq(wire_type_name(WIRE_BYE), "BYE");
	cr_assert_str_eq(wire_type_name(WIRE_TICK), "TICK");
	cr_assert_str_eq(wire_type_name(WIRE_DELIVER), "DELIVER");
	cr_assert_str_eq(wire_type_name(WIRE_PROPOSE), "PROPOSE");
	cr_assert_str_eq(wire_type_name(WIRE_TIMEOUT_NOW), "TIMEOUT_NOW");
	cr_assert_str_eq(wire_type_name(WIRE_SET_TIMER), "SET_TIMER");
	int known = 0;
	for (int t = 0; t < 256; t++) {
		if (wire_type_known((uint8_t)t))
			known++;
		else
			cr_assert_str_eq(wire_type_name((uint8_t)t), "?");
	}
	cr_assert_eq(known, 22);
	/* the numbers are the protocol: a node and a hub built apart agree */
	cr_assert_eq(WIRE_KV_RESET, 13);
	cr_assert_eq(WIRE_MR_JOB, 14);
	cr_assert_eq(WIRE_MR_TASK, 15);
	cr_assert_eq(WIRE_MR_WORKER, 16);
	cr_assert_eq(WIRE_BYE, 17);
	cr_assert_eq(WIRE_TICK, 20);
}

Test(wire, frame_header_layout)
{
	struct wbuf b;
	wbuf_init(&b);
	size_t at = wire_frame_begin(&b, WIRE_DONE);
	wbuf_u64(&b, 0x0807060504030201ULL);
	wire_frame_end(&b, at);
	size_t at2 = wire_frame_begin(&b, WIRE_TICK);
	wire_frame_end(&b, at2);
	static const uint8_t want[] = {
		8, 0, 0, 0, WIRE_DONE, 1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 0, WIRE_TICK,
	};
	cr_assert_eq(at, 0);
	cr_assert_eq(at2, 13);
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);
	wbuf_free(&b);
}

/* Encode one frame of every type with its documented payload, decode each
 * with the matching decoder.  SEND and DELIVER carry each kind of message:
 * raft (AppendEntries, InstallSnapshot and their replies), key/value and
 * MapReduce (ask, order, done). */
Test(wire, every_frame_type_round_trips)
{
	struct raft_msg msgs[16];
	size_t nm = sample_msgs(msgs);
	struct wire_state st;
	sample_leader_state(&st);
	uint8_t token[WIRE_TOKEN_LEN];
	for (int i = 0; i < WIRE_TOKEN_LEN; i++)
		token[i] = (uint8_t)(0xa0 + i);
	cr_assert_gt(nm, 10);
	static const uint8_t binkey[] = { 'k', 0, 0xff };

	/* the messages SEND and DELIVER carry, in order */
	uint8_t *kv_rep, *kv_req;
	size_t kv_rep_len, kv_req_len;
	struct wbuf kvs;
	wbuf_init(&kvs);
	sample_kv_reply(&kvs, 3, WIRE_CLIENT_BASE + 9, &kv_rep, &kv_rep_len);
	wbuf_reset(&kvs);
	sample_kv_request(&kvs, WIRE_CLIENT_BASE + 9, 3, &kv_req, &kv_req_len);
	wbuf_free(&kvs);
	struct wire_mr mrs[16];
	size_t nmr = sample_mr_msgs(mrs);
	cr_assert_gt(nmr, 8);
	/* raft, MapReduce, or (neither) key/value */
	struct carried {
		const struct raft_msg *raft;
		const struct wire_mr *mr;
	};
	const struct carried sends[] = {
		{ &msgs[5], NULL }, { NULL, NULL }, { &msgs[8], NULL }, { &msgs[11], NULL },
		{ NULL, &mrs[2] }, { NULL, &mrs[7] },      /* an order to map, a done */
	};
	const struct carried delivers[] = {
		{ &msgs[7], NULL }, { NULL, NULL }, { &msgs[9], NULL }, { &msgs[10], NULL },
		{ NULL, &mrs[0] }, { NULL, &mrs[6] }, { NULL, &mrs[8] },
	};
	const size_t n_sends = sizeof sends / sizeof sends[0];
	const size_t n_delivers = sizeof delivers / sizeof delivers[0];

	struct wbuf b;
	size_t at;
	wbuf_init(&b);
	at = wire_frame_begin(&b, WIRE_HELLO);
	wbuf_u16(&b, WIRE_VERSION);
	wbuf_raw(&b, token, sizeof token);
	wbuf_u32(&b, 3);
	wbuf_u32(&b, 2);
	wbuf_u32(&b, 4242);
	wire_frame_end(&b, at);
	for (size_t i = 0; i < n_sends; i++) {
		at = wire_frame_begin(&b, WIRE_SEND);
		if (sends[i].raft)
			wire_put_raft_msg(&b, sends[i].raft);
		else if (sends[i].mr)
			wire_put_mr_msg(&b, sends[i].mr);
		else
			wire_put_kv_msg(&b, WIRE_MSG_KV_REPLY, 3, WIRE_CLIENT_BASE + 9,
					kv_rep, kv_rep_len);
		wire_frame_end(&b, at);
	}
	at = wire_frame_begin(&b, WIRE_PROPOSED);
	wbuf_u64(&b, 17);
	wbuf_u64(&b, 8);
	wbuf_u64(&b, 2);
	wbuf_u8(&b, 1);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_STATE);
	wire_put_state(&b, &st);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_APPEND);
	wbuf_u64(&b, 8);
	wbuf_u64(&b, 2);
	wbuf_bytes(&b, "x=1", 3);
	wbuf_u8(&b, 0);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_TRUNCATE);
	wbuf_u64(&b, 5);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_APPLY);
	wbuf_u64(&b, 8);
	wbuf_u64(&b, 2);
	wbuf_bytes(&b, "", 0);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_NOTE);
	wbuf_u8(&b, 1);
	wbuf_str(&b, "log: bad CRC at record 4, cut 40 bytes");
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_DONE);
	wbuf_u64(&b, UINT64_MAX);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_FATAL);
	wbuf_str(&b, "cannot open data dir");
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_SNAPSHOT);
	wbuf_u64(&b, 120);
	wbuf_u64(&b, 6);
	wbuf_u64(&b, 4096);
	wbuf_u8(&b, WIRE_SNAP_INSTALLED);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_KV_RESET);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_KV_SET);
	wbuf_bytes(&b, binkey, sizeof binkey);
	wbuf_bytes(&b, "", 0);
	wbuf_u64(&b, UINT64_MAX);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_MR_JOB);
	wbuf_u8(&b, MR_REDUCING);
	wbuf_u32(&b, 8);
	wbuf_u32(&b, 10);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_MR_TASK);
	wbuf_u8(&b, MR_REDUCE);
	wbuf_u32(&b, 9);
	wbuf_u8(&b, MR_RUNNING);
	wbuf_u32(&b, 4);
	wbuf_u64(&b, 12000);
	wbuf_u64(&b, 0);
	wbuf_u32(&b, 2);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_MR_WORKER);
	wbuf_u8(&b, WIRE_MRW_MAPPING);
	wbuf_u8(&b, MR_MAP);
	wbuf_u32(&b, 7);
	wbuf_u64(&b, 11500);
	wbuf_u64(&b, (uint64_t)1 << 33);
	wbuf_u64(&b, UINT64_MAX);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_BYE);
	wbuf_u8(&b, 1);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_TICK);
	wbuf_u64(&b, 1000);
	wire_frame_end(&b, at);
	for (size_t i = 0; i < n_delivers; i++) {
		at = wire_frame_begin(&b, WIRE_DELIVER);
		wbuf_u64(&b, 1001 + i);
		if (delivers[i].raft)
			wire_put_raft_msg(&b, delivers[i].raft);
		else if (delivers[i].mr)
			wire_put_mr_msg(&b, delivers[i].mr);
		else
			wire_put_kv_msg(&b, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + 9, 3,
					kv_req, kv_req_len);
		wire_frame_end(&b, at);
	}
	at = wire_frame_begin(&b, WIRE_PROPOSE);
	wbuf_u64(&b, 1005);
	wbuf_u64(&b, 18);
	wbuf_bytes(&b, "y=2", 3);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_TIMEOUT_NOW);
	wbuf_u64(&b, 1006);
	wire_frame_end(&b, at);
	at = wire_frame_begin(&b, WIRE_SET_TIMER);
	wbuf_u64(&b, 1007);
	wbuf_u64(&b, 1500);
	wire_frame_end(&b, at);
	cr_assert(!b.failed);

	struct wire_reader wr;
	struct wire_frame f;
	const char *why = NULL;
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	wire_reader_init(&wr);
	cr_assert_eq(wire_reader_feed(&wr, b.data, b.len), 0);
	int seen = 0, n_send = 0, n_deliver = 0;
	bool types_seen[256] = { false };
	int rc;
	while ((rc = wire_reader_next(&wr, &f, &why)) == 1) {
		struct rbuf r;
		struct raft_msg m;
		struct wire_mr mm;
		struct wire_state s2;
		uint32_t n;
		const uint8_t *p;
		uint8_t tok[WIRE_TOKEN_LEN];
		const struct carried *want = NULL;
		rbuf_init(&r, f.payload, f.len);
		switch (f.type) {
		case WIRE_HELLO:
			cr_assert_eq(rbuf_u16(&r), WIRE_VERSION);
			cr_assert(rbuf_raw(&r, tok, sizeof tok));
			cr_assert_arr_eq(tok, token, sizeof tok);
			cr_assert_eq(rbuf_u32(&r), 3);
			cr_assert_eq(rbuf_u32(&r), 2);
			cr_assert_eq(rbuf_u32(&r), 4242);
			break;
		case WIRE_SEND:
		case WIRE_DELIVER:
			if (f.type == WIRE_DELIVER) {
				cr_assert_lt((size_t)n_deliver, n_delivers);
				cr_assert_eq(rbuf_u64(&r), 1001 + (uint64_t)n_deliver);
				want = &delivers[n_deliver++];
			} else {
				cr_assert_lt((size_t)n_send, n_sends);
				want = &sends[n_send++];
			}
			uint8_t type;
			uint32_t from, to;
			cr_assert_eq(wire_peek_msg(r.p + r.pos, r.len - r.pos, &type, &from, &to), 0);
			cr_assert_eq(wire_msg_is_raft(type), want->raft != NULL);
			cr_assert_eq(wire_msg_is_mr(type), want->mr != NULL);
			if (want->raft) {
				cr_assert_eq(type, want->raft->type);
				cr_assert_eq(from, want->raft->from);
				cr_assert_eq(to, want->raft->to);
				cr_assert_eq(wire_get_raft_msg(&r, &m, &scratch, &cap), 0, "%s", r.err);
				assert_msg_eq(&m, want->raft);
				break;
			}
			if (want->mr) {
				cr_assert_eq(type, want->mr->type);
				cr_assert_eq(from, want->mr->from);
				cr_assert_eq(to, want->mr->to);
				cr_assert_eq(wire_get_mr_msg(&r, &mm), 0, "%s", r.err);
				assert_mr_eq(&mm, want->mr);
				if (mm.type == WIRE_MSG_MR_ORDER)
					cr_assert(mm.file >= f.payload &&
						  mm.file + mm.file_len <= f.payload + f.len);
				break;
			}
			p = wire_get_kv_msg(&r, &type, &from, &to, &n);
			cr_assert_not_null(p, "%s", r.err);
			if (f.type == WIRE_SEND) {
				cr_assert_eq(type, WIRE_MSG_KV_REPLY);
				cr_assert(from == 3 && to == WIRE_CLIENT_BASE + 9);
				cr_assert(n == kv_rep_len && memcmp(p, kv_rep, n) == 0);
			} else {
				cr_assert_eq(type, WIRE_MSG_KV_REQUEST);
				cr_assert(from == WIRE_CLIENT_BASE + 9 && to == 3);
				cr_assert(n == kv_req_len && memcmp(p, kv_req, n) == 0);
			}
			break;
		case WIRE_PROPOSED:
			cr_assert_eq(rbuf_u64(&r), 17);
			cr_assert_eq(rbuf_u64(&r), 8);
			cr_assert_eq(rbuf_u64(&r), 2);
			cr_assert_eq(rbuf_u8(&r), 1);
			break;
		case WIRE_STATE:
			cr_assert_eq(wire_get_state(&r, &s2), 0);
			cr_assert_eq(memcmp(&s2, &st, sizeof st), 0);
			break;
		case WIRE_APPEND:
			cr_assert_eq(rbuf_u64(&r), 8);
			cr_assert_eq(rbuf_u64(&r), 2);
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 3 && memcmp(p, "x=1", 3) == 0);
			cr_assert_eq(rbuf_u8(&r), 0);
			break;
		case WIRE_TRUNCATE:
			cr_assert_eq(rbuf_u64(&r), 5);
			break;
		case WIRE_APPLY:
			cr_assert_eq(rbuf_u64(&r), 8);
			cr_assert_eq(rbuf_u64(&r), 2);
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 0);
			break;
		case WIRE_NOTE:
			cr_assert_eq(rbuf_u8(&r), 1);
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 38 &&
				  memcmp(p, "log: bad CRC at record 4, cut 40 bytes", 38) == 0);
			break;
		case WIRE_DONE:
			cr_assert_eq(rbuf_u64(&r), UINT64_MAX);
			break;
		case WIRE_FATAL:
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 20);
			break;
		case WIRE_SNAPSHOT:
			cr_assert_eq(f.len, 25);
			cr_assert_eq(rbuf_u64(&r), 120);
			cr_assert_eq(rbuf_u64(&r), 6);
			cr_assert_eq(rbuf_u64(&r), 4096);
			cr_assert_eq(rbuf_u8(&r), WIRE_SNAP_INSTALLED);
			break;
		case WIRE_KV_SET:
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == sizeof binkey && memcmp(p, binkey, n) == 0);
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 0);
			cr_assert_eq(rbuf_u64(&r), UINT64_MAX);
			break;
		case WIRE_KV_RESET:
			cr_assert_eq(f.len, 0);
			break;
		case WIRE_MR_JOB:
			cr_assert_eq(f.len, 9);
			cr_assert_eq(rbuf_u8(&r), MR_REDUCING);
			cr_assert_eq(rbuf_u32(&r), 8);
			cr_assert_eq(rbuf_u32(&r), 10);
			break;
		case WIRE_MR_TASK:
			cr_assert_eq(f.len, 30);
			cr_assert_eq(rbuf_u8(&r), MR_REDUCE);
			cr_assert_eq(rbuf_u32(&r), 9);
			cr_assert_eq(rbuf_u8(&r), MR_RUNNING);
			cr_assert_eq(rbuf_u32(&r), 4);
			cr_assert_eq(rbuf_u64(&r), 12000);
			cr_assert_eq(rbuf_u64(&r), 0);
			cr_assert_eq(rbuf_u32(&r), 2);
			break;
		case WIRE_MR_WORKER:
			cr_assert_eq(f.len, 30);
			cr_assert_eq(rbuf_u8(&r), WIRE_MRW_MAPPING);
			cr_assert_eq(rbuf_u8(&r), MR_MAP);
			cr_assert_eq(rbuf_u32(&r), 7);
			cr_assert_eq(rbuf_u64(&r), 11500);
			cr_assert_eq(rbuf_u64(&r), (uint64_t)1 << 33);
			cr_assert_eq(rbuf_u64(&r), UINT64_MAX);
			break;
		case WIRE_BYE:
			cr_assert_eq(f.len, 1);
			cr_assert_eq(rbuf_u8(&r), 1);
			break;
		case WIRE_TICK:
			cr_assert_eq(rbuf_u64(&r), 1000);
			break;
		case WIRE_PROPOSE:
			cr_assert_eq(rbuf_u64(&r), 1005);
			cr_assert_eq(rbuf_u64(&r), 18);
			p = rbuf_bytes(&r, &n);
			cr_assert(p && n == 3 && memcmp(p, "y=2", 3) == 0);
			break;
		case WIRE_TIMEOUT_NOW:
			cr_assert_eq(rbuf_u64(&r), 1006);
			break;
		case WIRE_SET_TIMER:
			cr_assert_eq(rbuf_u64(&r), 1007);
			cr_assert_eq(rbuf_u64(&r), 1500);
			break;
		}
		cr_assert(rbuf_done(&r), "%s: %s", wire_type_name(f.type), r.err);
		types_seen[f.type] = true;
		seen++;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(seen, 22 + (int)(n_sends - 1) + (int)(n_delivers - 1));
	cr_assert_eq(n_send, (int)n_sends);
	cr_assert_eq(n_deliver, (int)n_delivers);
	for (int t = 0; t < 256; t++)
		cr_assert_eq(types_seen[t], wire_type_known((uint8_t)t), "frame type %d", t);
	free(kv_rep);
	free(kv_req);
	free(scratch);
	wire_reader_free(&wr);
	wbuf_free(&b);
}

/* Take every frame the reader has; check them against ex[*k...]. */
static void drain(struct wire_reader *wr, const struct wbuf *b,
		  const struct expect *ex, size_t n_ex, size_t *k)
{
	struct wire_frame f;
	const char *why = NULL;
	int rc;
	while ((rc = wire_reader_next(wr, &f, &why)) == 1) {
		cr_assert_lt(*k, n_ex, "more frames than were sent");
		check_frame(b, &ex[*k], &f);
		(*k)++;
	}
	cr_assert_eq(rc, 0, "reader failed: %s", why);
}

Test(wire, reader_split_at_every_byte_boundary)
{
	struct wbuf b;
	struct expect ex[32];
	wbuf_init(&b);
	size_t n_ex = build_stream(&b, ex);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct wire_reader wr;
		size_t k = 0;
		wire_reader_init(&wr);
		cr_assert_eq(wire_reader_feed(&wr, b.data, cut), 0);
		drain(&wr, &b, ex, n_ex, &k);
		cr_assert_eq(wire_reader_feed(&wr, b.data + cut, b.len - cut), 0);
		drain(&wr, &b, ex, n_ex, &k);
		cr_assert_eq(k, n_ex, "cut at %zu: %zu frames", cut, k);
		wire_reader_free(&wr);
	}
	/* two cuts: every pair (i, j) */
	for (size_t i = 0; i <= b.len; i += 3) {
		for (size_t j = i; j <= b.len; j += 5) {
			struct wire_reader wr;
			size_t k = 0;
			wire_reader_init(&wr);
			wire_reader_feed(&wr, b.data, i);
			drain(&wr, &b, ex, n_ex, &k);
			wire_reader_feed(&wr, b.data + i, j - i);
			drain(&wr, &b, ex, n_ex, &k);
			wire_reader_feed(&wr, b.data + j, b.len - j);
			drain(&wr, &b, ex, n_ex, &k);
			cr_assert_eq(k, n_ex);
			wire_reader_free(&wr);
		}
	}
	wbuf_free(&b);
}

Test(wire, reader_byte_by_byte)
{
	struct wbuf b;
	struct expect ex[32];
	wbuf_init(&b);
	size_t n_ex = build_stream(&b, ex);
	struct wire_reader wr;
	size_t k = 0;
	wire_reader_init(&wr);
	for (size_t i = 0; i < b.len; i++) {
		cr_assert_eq(wire_reader_feed(&wr, b.data + i, 1), 0);
		drain(&wr, &b, ex, n_ex, &k);
	}
	cr_assert_eq(k, n_ex);
	wire_reader_free(&wr);
	wbuf_free(&b);
}

Test(wire, reader_many_frames_in_one_feed)
{
	enum { N = 200000 };
	struct wbuf b;
	wbuf_init(&b);
	for (uint32_t i = 0; i < N; i++) {
		size_t at = wire_frame_begin(&b, WIRE_TICK);
		wbuf_u64(&b, i);
		wire_frame_end(&b, at);
	}
	cr_assert(!b.failed);
	struct wire_reader wr;
	struct wire_frame f;
	const char *why;
	wire_reader_init(&wr);
	cr_assert_eq(wire_reader_feed(&wr, b.data, b.len), 0);
	uint32_t k = 0;
	int rc;
	while ((rc = wire_reader_next(&wr, &f, &why)) == 1) {
		struct rbuf r;
		rbuf_init(&r, f.payload, f.len);
		cr_assert_eq(rbuf_u64(&r), k);
		k++;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(k, N);
	wire_reader_free(&wr);
	wbuf_free(&b);
}

Test(wire, reader_keeps_a_small_buffer_for_small_frames)
{
	/* a frame and a half per feed, forever: the buffer must not creep */
	struct wbuf b;
	wbuf_init(&b);
	for (uint32_t i = 0; i < 3000; i++) {
		size_t at = wire_frame_begin(&b, WIRE_DONE);
		wbuf_u64(&b, i);
		wire_frame_end(&b, at);
	}
	struct wire_reader wr;
	struct wire_frame f;
	const char *why;
	wire_reader_init(&wr);
	uint32_t k = 0;
	for (size_t off = 0; off < b.len; off += 20) {
		size_t n = b.len - off < 20 ? b.len - off : 20;
		cr_assert_eq(wire_reader_feed(&wr, b.data + off, n), 0);
		while (wire_reader_next(&wr, &f, &why) == 1) {
			struct rbuf r;
			rbuf_init(&r, f.payload, f.len);
			cr_assert_eq(rbuf_u64(&r), k);
			k++;
		}
		cr_assert_leq(wr.cap, 4096);
	}
	cr_assert_eq(k, 3000);
	wire_reader_free(&wr);
	wbuf_free(&b);
}

Test(wire, reader_random_chunks_and_big_frames)
{
	struct rng g;
	rng_seed(&g, 42);
	struct wbuf b;
	struct expect ex[400];
	size_t n_ex = 0;
	wbuf_init(&b);
	for (int i = 0; i < 400; i++) {
		size_t len;
		switch (rng_range(&g, 0, 4)) {
		case 0: len = 0; break;
		case 1: len = rng_range(&g, 1, 64); break;
		case 2: len = rng_range(&g, 64, 5000); break;
		default: len = rng_range(&g, 5000, 300000); break;
		}
		size_t at = wire_frame_begin(&b, WIRE_APPLY);
		for (size_t j = 0; j < len; j++)
			wbuf_u8(&b, (uint8_t)rng_next(&g));
		wire_frame_end(&b, at);
		ex[n_ex++] = (struct expect){ WIRE_APPLY, at + WIRE_HEADER, len };
	}
	cr_assert(!b.failed);
	struct wire_reader wr;
	size_t k = 0;
	wire_reader_init(&wr);
	for (size_t off = 0; off < b.len;) {
		size_t n = (size_t)rng_range(&g, 1, 1 + (1u << rng_range(&g, 0, 18)));
		if (n > b.len - off)
			n = b.len - off;
		cr_assert_eq(wire_reader_feed(&wr, b.data + off, n), 0);
		off += n;
		/* sometimes let bytes pile up before taking frames */
		if (rng_range(&g, 0, 4) != 0)
			drain(&wr, &b, ex, n_ex, &k);
	}
	drain(&wr, &b, ex, n_ex, &k);
	cr_assert_eq(k, n_ex);
	wire_reader_free(&wr);
	wbuf_free(&b);
}

Test(wire, oversize_frame_is_refused_at_the_header)
{
	uint8_t h[WIRE_HEADER] = { 0, 0, 0, 0, WIRE_SEND };
	struct wire_reader wr;
	struct wire_frame f;
	const char *why = NULL;
	char want[128];

	/* exactly the limit is fine: the reader just waits for the payload */
	uint32_t len = WIRE_MAX_FRAME;
	for (int i = 0; i < 4; i++)
		h[i] = (uint8_t)(len >> (8 * i));
	wire_reader_init(&wr);
	wire_reader_feed(&wr, h, sizeof h);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), 0);
	wire_reader_free(&wr);

	len = WIRE_MAX_FRAME + 1;
	for (int i = 0; i < 4; i++)
		h[i] = (uint8_t)(len >> (8 * i));
	wire_reader_init(&wr);
	wire_reader_feed(&wr, h, 4);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), 0, "no header yet");
	wire_reader_feed(&wr, h + 4, 1);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), -1);
	snprintf(want, sizeof want, "frame of %u bytes exceeds the limit of %u",
		 WIRE_MAX_FRAME + 1, WIRE_MAX_FRAME);
	cr_assert_str_eq(why, want);
	wire_reader_free(&wr);

	/* UINT32_MAX, and a limit set lower */
	memset(h, 0xff, 4);
	wire_reader_init(&wr);
	wire_reader_feed(&wr, h, sizeof h);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), -1);
	cr_assert_str_eq(why, "frame of 4294967295 bytes exceeds the limit of 16777216");
	wire_reader_free(&wr);

	wire_reader_init(&wr);
	wr.max_frame = 100;
	uint8_t h2[WIRE_HEADER + 101] = { 101, 0, 0, 0, WIRE_TICK };
	wire_reader_feed(&wr, h2, sizeof h2);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), -1);
	cr_assert_str_eq(why, "frame of 101 bytes exceeds the limit of 100");
	wire_reader_free(&wr);
}

Test(wire, unknown_frame_type_is_refused_at_the_header)
{
	/* 18 and 19 lie between the last node -> hub type and the first
	 * hub -> node one (they are MapReduce message numbers, not frames) */
	static const uint8_t bad[] = { 0, WIRE_BYE + 1, 19, WIRE_SET_TIMER + 1, 255 };
	for (size_t i = 0; i < sizeof bad; i++) {
		uint8_t h[WIRE_HEADER] = { 8, 0, 0, 0, bad[i] };
		struct wire_reader wr;
		struct wire_frame f;
		const char *why = NULL;
		char want[64];
		wire_reader_init(&wr);
		wire_reader_feed(&wr, h, sizeof h);
		cr_assert_eq(wire_reader_next(&wr, &f, &why), -1);
		snprintf(want, sizeof want, "unknown frame type %u", bad[i]);
		cr_assert_str_eq(why, want);
		wire_reader_free(&wr);
	}
}

Test(wire, bad_frame_after_good_ones)
{
	struct wbuf b;
	wbuf_init(&b);
	size_t at = wire_frame_begin(&b, WIRE_TICK);
	wbuf_u64(&b, 1);
	wire_frame_end(&b, at);
	wbuf_raw(&b, "\x01\x00\x00\x00\x63", 5);  /* type 99 */
	struct wire_reader wr;
	struct wire_frame f;
	const char *why = NULL;
	wire_reader_init(&wr);
	wire_reader_feed(&wr, b.data, b.len);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), 1);
	cr_assert_eq(f.type, WIRE_TICK);
	cr_assert_eq(wire_reader_next(&wr, &f, &why), -1);
	cr_assert_str_eq(why, "unknown frame type 99");
	wire_reader_free(&wr);
	wbuf_free(&b);
}

Test(wire, truncated_frame_payloads_fail_in_bounds)
{
	/* a DELIVER whose frame is intact but whose payload is cut short: the
	 * frame is valid, the decoder must refuse it */
	struct raft_msg msgs[16];
	size_t nm = sample_msgs(msgs);
	for (size_t i = 0; i < nm; i++) {
		struct wbuf full;
		wbuf_init(&full);
		wbuf_u64(&full, 99);
		wire_put_raft_msg(&full, &msgs[i]);
		for (size_t cut = 0; cut < full.len; cut += 1 + cut / 16) {
			struct wbuf b;
			wbuf_init(&b);
			size_t at = wire_frame_begin(&b, WIRE_DELIVER);
			wbuf_raw(&b, full.data, cut);
			wire_frame_end(&b, at);
			uint8_t *copy = dup_bytes(b.data, b.len);
			struct wire_reader wr;
			struct wire_frame f;
			const char *why;
			wire_reader_init(&wr);
			wire_reader_feed(&wr, copy, b.len);
			free(copy);
			cr_assert_eq(wire_reader_next(&wr, &f, &why), 1);
			/* the payload in its own exact allocation */
			uint8_t *pl = dup_bytes(f.payload, f.len);
			struct rbuf r;
			struct raft_msg m;
			struct raft_entry *scratch = NULL;
			size_t cap = 0;
			rbuf_init(&r, pl, f.len);
			(void)rbuf_u64(&r);
			int rc = wire_get_raft_msg(&r, &m, &scratch, &cap);
			cr_assert_eq(rc, -1);
			cr_assert_not_null(r.err);
			free(scratch);
			free(pl);
			wire_reader_free(&wr);
			wbuf_free(&b);
		}
		wbuf_free(&full);
	}

	/* and the same for every MapReduce message, every cut */
	struct wire_mr mrs[16];
	size_t nmr = sample_mr_msgs(mrs);
	for (size_t i = 0; i < nmr; i++) {
		struct wbuf full;
		wbuf_init(&full);
		wbuf_u64(&full, 99);
		wire_put_mr_msg(&full, &mrs[i]);
		for (size_t cut = 0; cut < full.len; cut++) {
			struct wbuf b;
			wbuf_init(&b);
			size_t at = wire_frame_begin(&b, WIRE_DELIVER);
			wbuf_raw(&b, full.data, cut);
			wire_frame_end(&b, at);
			struct wire_reader wr;
			struct wire_frame f;
			const char *why;
			wire_reader_init(&wr);
			wire_reader_feed(&wr, b.data, b.len);
			cr_assert_eq(wire_reader_next(&wr, &f, &why), 1);
			uint8_t *pl = dup_bytes(f.payload, f.len);
			struct rbuf r;
			struct wire_mr m;
			rbuf_init(&r, pl, f.len);
			(void)rbuf_u64(&r);
			cr_assert_eq(wire_get_mr_msg(&r, &m), -1, "message %zu cut at %zu", i, cut);
			cr_assert_not_null(r.err);
			free(pl);
			wire_reader_free(&wr);
			wbuf_free(&b);
		}
		wbuf_free(&full);
	}
}
