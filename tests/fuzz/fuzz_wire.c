/*
 * fuzz_wire.c — a libFuzzer target for the wire codec (src/wire).
 *
 * The input is a byte stream as it might arrive on the hub's port.  It is
 * fed to a wire_reader in chunks whose sizes come from a generator seeded
 * with a hash of the input (so one input always splits the same way, and a
 * corpus file is a plain stream of frames anyone can hexdump), and every
 * frame the reader yields is decoded with the decoder for its type.  When a
 * raft message, a key/value message (its envelope and the kv request or
 * reply inside), a MapReduce message or a state decodes cleanly it is
 * encoded again and must give back exactly the bytes it came from: the
 * encodings are canonical.  Each message is offered to all three message
 * decoders: at most one may take it, the one its peeked type names.
 *
 * It must never crash, leak or read out of bounds; a malformed frame ends
 * the stream the way it ends a connection.  Built with clang's
 * -fsanitize=fuzzer, or with gcc together with replay.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/kv.h"
#include "../../src/wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the compiler from dropping reads whose result is otherwise unused. */
static volatile uint64_t sink;

static void touch(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0;
	for (uint32_t i = 0; i < n; i++)
		h = h * 31 + p[i];
	sink += h;
}

/* p[0, n) lies inside [lo, lo + len). */
static bool inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t len)
{
	return p >= lo && n <= len && (size_t)(p - lo) <= len - n;
}

/* A payload that holds exactly one message (after `skip` bytes of other
 * fields) must re-encode to the same bytes. */
static void check_canonical(const struct wire_frame *f, size_t skip,
			    const struct wbuf *b)
{
	if (!b->failed &&
	    (b->len != f->len - skip || memcmp(b->data, f->payload + skip, b->len)))
		abort();
}

/* Returns true when the message decoded and was the whole payload. */
static bool decode_raft_msg(const struct wire_frame *f, struct rbuf *r,
			    struct raft_entry **scratch, size_t *cap)
{
	struct raft_msg m;
	size_t skip = r->pos;
	if (wire_get_raft_msg(r, &m, scratch, cap) < 0) {
		if (!r->err)
			abort();
		return false;
	}
	if (!wire_msg_is_raft((uint8_t)m.type) ||
	    m.type < RAFT_REQUEST_VOTE || m.type > RAFT_INSTALL_SNAPSHOT_REPLY ||
	    m.from < 1 || m.from > RAFT_MAX_NODES ||
	    m.to < 1 || m.to > RAFT_MAX_NODES)
		abort();
	for (uint32_t i = 0; i < m.n_entries; i++) {
		const struct raft_entry *e = &m.entries[i];
		/* entries point into the payload */
		if (!inside(e->data, e->len, f->payload, f->len))
			abort();
		touch(e->data, e->len);
		sink += e->term;
	}
	if (m.type == RAFT_INSTALL_SNAPSHOT) {
		/* a snapshot stands for at least one entry, and its bytes
		 * point into the payload */
		if (m.last_included_index == 0 || m.snapshot_data == NULL ||
		    !inside(m.snapshot_data, m.snapshot_len, f->payload, f->len))
			abort();
		touch(m.snapshot_data, m.snapshot_len);
	} else if (m.snapshot_len != 0 || m.snapshot_data != NULL) {
		abort();
	}
	sink += m.last_included_index + m.last_included_term;
	if (!rbuf_done(r))
		return false;
	struct wbuf b;
	wbuf_init(&b);
	wire_put_raft_msg(&b, &m);
	check_canonical(f, skip, &b);
	wbuf_free(&b);
	return true;
}

/* The kv body of a request or reply: decoded, its strings inside it, and
 * encoded again to the same bytes. */
static void decode_kv_body(uint8_t type, const uint8_t *body, uint32_t len)
{
	const char *why = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	if (type == WIRE_MSG_KV_REQUEST) {
		struct kv_request req;
		if (kv_decode_request(body, len, &req, &why) < 0) {
			if (!why || !why[0])
				abort();
			return;
		}
		if (why || (req.local && req.op != KV_GET) ||
		    req.key_len > KV_MAX_KEY || req.value_len > KV_MAX_VALUE ||
		    (req.key_len && !inside(req.key, req.key_len, body, len)) ||
		    (req.value_len && !inside(req.value, req.value_len, body, len)))
			abort();
		if (kv_encode_request(&req, &out, &out_len) < 0)
			abort();                /* decode took it: encode must too */
	} else {
		struct kv_reply rep;
		if (kv_decode_reply(body, len, &rep, &why) < 0) {
			if (!why || !why[0])
				abort();
			return;
		}
		if (why || rep.err == KV_ERR_MAYBE ||
		    (rep.value_len && !inside(rep.value, rep.value_len, body, len)))
			abort();
		if (kv_encode_reply(&rep, &out, &out_len) < 0)
			abort();
	}
	if (out_len != len || memcmp(out, body, len))
		abort();
	free(out);
}

/* Returns true when the message decoded and was the whole payload. */
static bool decode_kv_msg(const struct wire_frame *f, struct rbuf *r)
{
	uint8_t type;
	uint32_t from, to, len;
	size_t skip = r->pos;
	const uint8_t *body = wire_get_kv_msg(r, &type, &from, &to, &len);
	if (!body) {
		if (!r->err)
			abort();
		return false;
	}
	uint32_t client = type == WIRE_MSG_KV_REQUEST ? from : to;
	uint32_t server = type == WIRE_MSG_KV_REQUEST ? to : from;
	if ((type != WIRE_MSG_KV_REQUEST && type != WIRE_MSG_KV_REPLY) ||
	    wire_msg_is_raft(type) || !wire_is_client(client) ||
	    server < 1 || server > RAFT_MAX_NODES ||
	    !inside(body, len, f->payload, f->len))
		abort();
	if (!rbuf_done(r))
		return false;
	struct wbuf b;
	wbuf_init(&b);
	wire_put_kv_msg(&b, type, from, to, body, len);
	check_canonical(f, skip, &b);
	wbuf_free(&b);
	decode_kv_body(type, body, len);
	return true;
}

/* Returns true when the message decoded and was the whole payload. */
static bool decode_mr_msg(const struct wire_frame *f, struct rbuf *r)
{
	struct wire_mr m;
	size_t skip = r->pos;
	if (wire_get_mr_msg(r, &m) < 0) {
		if (!r->err)
			abort();
		return false;
	}
	if (r->err || !wire_msg_is_mr(m.type) || wire_msg_is_raft(m.type) ||
	    m.from < 1 || m.from > RAFT_MAX_NODES ||
	    m.to < 1 || m.to > RAFT_MAX_NODES)
		abort();
	switch (m.type) {
	case WIRE_MSG_MR_ASK:
		/* the header and nothing else */
		if (m.order || m.task_type || m.task || m.n_map || m.n_reduce ||
		    m.bytes || m.file || m.file_len)
			abort();
		break;
	case WIRE_MSG_MR_ORDER:
		/* an order's file points into the payload, even an empty one */
		if (m.order > 3 || m.task_type || m.bytes || m.file == NULL ||
		    !inside(m.file, m.file_len, f->payload, f->len))
			abort();
		touch(m.file, m.file_len);
		sink += m.task + m.n_map + m.n_reduce;
		break;
	case WIRE_MSG_MR_DONE:
		if (m.task_type > 1 || m.order || m.n_map || m.n_reduce ||
		    m.file || m.file_len)
			abort();
		sink += m.task + m.bytes;
		break;
	default:
		abort();
	}
	if (!rbuf_done(r))
		return false;
	struct wbuf b;
	wbuf_init(&b);
	wire_put_mr_msg(&b, &m);
	check_canonical(f, skip, &b);
	wbuf_free(&b);
	return true;
}

/* The rest of r is one message, raft, key/value or MapReduce: peek names
 * which, and only that decoder may take it. */
static void decode_msg(const struct wire_frame *f, struct rbuf *r,
		       struct raft_entry **scratch, size_t *cap)
{
	uint8_t type = 0;
	uint32_t from = 0, to = 0;
	bool peeked = !r->err &&
		wire_peek_msg(r->p + r->pos, r->len - r->pos, &type, &from, &to) == 0;
	/* peek knows exactly the three families, which do not overlap, and
	 * names every type it knows */
	if (peeked && (wire_msg_is_raft(type) + wire_msg_is_mr(type) +
		       (type == WIRE_MSG_KV_REQUEST || type == WIRE_MSG_KV_REPLY) != 1 ||
		       !strcmp(wire_msg_name(type), "?")))
		abort();
	struct rbuf r2 = *r, r3 = *r;
	bool raft = decode_raft_msg(f, r, scratch, cap);
	bool kv = decode_kv_msg(f, &r2);
	bool mr = decode_mr_msg(f, &r3);
	if (raft + kv + mr > 1)
		abort();
	if ((raft || kv || mr) && !peeked)
		abort();
	if (raft && !wire_msg_is_raft(type))
		abort();
	if (kv && type != WIRE_MSG_KV_REQUEST && type != WIRE_MSG_KV_REPLY)
		abort();
	if (mr && !wire_msg_is_mr(type))
		abort();
}

static void decode_state(const struct wire_frame *f, struct rbuf *r)
{
	struct wire_state s;
	if (wire_get_state(r, &s) < 0)
		return;
	if (s.role > RAFT_LEADER || s.n_peers > RAFT_MAX_NODES)
		abort();
	if (!rbuf_done(r))
		return;
	struct wbuf b;
	wbuf_init(&b);
	wire_put_state(&b, &s);
	if (!b.failed && (b.len != f->len || memcmp(b.data, f->payload, b.len)))
		abort();
	wbuf_free(&b);
}

static void decode_bytes(struct rbuf *r)
{
	uint32_t n;
	const uint8_t *p = rbuf_bytes(r, &n);
	if (p)
		touch(p, n);
	else if (!r->err || n != 0)
		abort();
}

static void decode_frame(const struct wire_frame *f,
			 struct raft_entry **scratch, size_t *cap)
{
	struct rbuf r;
	uint8_t token[WIRE_TOKEN_LEN];

	if (!wire_type_known(f->type) || !wire_type_name(f->type)[0])
		abort();
	rbuf_init(&r, f->payload, f->len);
	switch (f->type) {
	case WIRE_HELLO:
		sink += rbuf_u16(&r);
		rbuf_raw(&r, token, sizeof token);
		touch(token, sizeof token);
		sink += rbuf_u32(&r);
		sink += rbuf_u32(&r);
		sink += rbuf_u32(&r);
		break;
	case WIRE_SEND:
		decode_msg(f, &r, scratch, cap);
		break;
	case WIRE_PROPOSED:
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		sink += rbuf_u8(&r);
		break;
	case WIRE_STATE:
		decode_state(f, &r);
		break;
	case WIRE_APPEND:
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		decode_bytes(&r);
		if (r.pos < r.len)
			sink += rbuf_u8(&r);    /* recovered */
		break;
	case WIRE_APPLY:
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		decode_bytes(&r);
		break;
	case WIRE_NOTE:
		sink += rbuf_u8(&r);
		decode_bytes(&r);
		break;
	case WIRE_FATAL:
		decode_bytes(&r);
		break;
	case WIRE_TRUNCATE:
	case WIRE_DONE:
	case WIRE_TICK:
	case WIRE_TIMEOUT_NOW:
		sink += rbuf_u64(&r);
		break;
	case WIRE_SET_TIMER:
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		break;
	case WIRE_SNAPSHOT:
		sink += rbuf_u64(&r);           /* index */
		sink += rbuf_u64(&r);           /* term */
		sink += rbuf_u64(&r);           /* bytes */
		sink += rbuf_u8(&r);            /* how */
		break;
	case WIRE_KV_SET:
		decode_bytes(&r);               /* key */
		decode_bytes(&r);               /* value */
		sink += rbuf_u64(&r);           /* version */
		break;
	case WIRE_KV_RESET:
		break;
	case WIRE_MR_JOB:
		sink += rbuf_u8(&r);            /* phase */
		sink += rbuf_u32(&r);           /* n_map */
		sink += rbuf_u32(&r);           /* n_reduce */
		break;
	case WIRE_MR_TASK:
		sink += rbuf_u8(&r);            /* type */
		sink += rbuf_u32(&r);           /* id */
		sink += rbuf_u8(&r);            /* state */
		sink += rbuf_u32(&r);           /* worker */
		sink += rbuf_u64(&r);           /* started */
		sink += rbuf_u64(&r);           /* finished */
		sink += rbuf_u32(&r);           /* runs */
		break;
	case WIRE_MR_WORKER:
		sink += rbuf_u8(&r);            /* state */
		sink += rbuf_u8(&r);            /* type */
		sink += rbuf_u32(&r);           /* task */
		sink += rbuf_u64(&r);           /* since */
		sink += rbuf_u64(&r);           /* bytes_in */
		sink += rbuf_u64(&r);           /* bytes_out */
		break;
	case WIRE_BYE:
		sink += rbuf_u8(&r);            /* how */
		break;
	case WIRE_DELIVER:
		sink += rbuf_u64(&r);
		decode_msg(f, &r, scratch, cap);
		break;
	case WIRE_PROPOSE:
		sink += rbuf_u64(&r);
		sink += rbuf_u64(&r);
		decode_bytes(&r);
		break;
	}
	(void)rbuf_done(&r);
	/* a failed reader reads zeroes from then on */
	if (r.err && (rbuf_u64(&r) != 0 || r.pos > r.len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* FNV-1a of the input seeds the chunk sizes */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;

	struct wire_reader wr;
	struct raft_entry *scratch = NULL;
	size_t cap = 0;
	wire_reader_init(&wr);
	if ((h & 3) == 0)                   /* sometimes a lower limit */
		wr.max_frame = 1 + (size_t)(h >> 8) % 512;

	size_t off = 0;
	int rc = 0;
	while (off < size && rc >= 0) {
		h ^= h << 13;
		h ^= h >> 7;
		h ^= h << 17;
		size_t n = 1 + (size_t)(h % (1u << (h >> 60)));
		if (n > size - off)
			n = size - off;
		if (wire_reader_feed(&wr, data + off, n) < 0)
			break;
		off += n;
		struct wire_frame f;
		const char *why = NULL;
		while ((rc = wire_reader_next(&wr, &f, &why)) == 1) {
			if (f.len > wr.max_frame)
				abort();
			decode_frame(&f, &scratch, &cap);
		}
		if (rc < 0 && (!why || !why[0]))
			abort();
	}
	free(scratch);
	wire_reader_free(&wr);
	return 0;
}
