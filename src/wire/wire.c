/*
 * wire.c — the frame and message codec shared by the hub and the nodes.
 * See wire.h for the frame layout and the conversation.
 *
 * What it owns: growable output buffers (wbuf), a bounds-checked input
 * cursor (rbuf), the per-connection frame splitter (wire_reader) and the
 * encodings of raft messages and of a node's reported state.
 *
 * What it must never do: read a byte it was not given, trust a length or a
 * count before checking it against the bytes that are actually there, or
 * depend on the host's byte order (every integer is written and read one
 * byte at a time, little-endian).  It does no I/O and keeps no global state.
 *
 * The reader keeps its bytes in one buffer: buf[pos..len) is what has not
 * been taken yet.  Taking a frame only moves pos, so many small frames in
 * one feed cost no copying; the live bytes are moved to the front only when
 * a feed needs room and at least as many bytes were taken as are still live
 * (so every byte is moved at most about once), otherwise the buffer grows.
 */
#include "wire.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WBUF_MIN_CAP 256
#define WIRE_READER_MIN_CAP 4096
/* An idle reader gives back a buffer bigger than this (one huge frame). */
#define WIRE_READER_KEEP_CAP (1u << 20)

/* Bytes on the wire for one entry besides its data: u64 term, u32 len. */
#define WIRE_ENTRY_MIN 12

/* ---- output buffer ------------------------------------------------------ */

void wbuf_init(struct wbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void wbuf_free(struct wbuf *b)
{
	free(b->data);
	wbuf_init(b);
}

void wbuf_reset(struct wbuf *b)
{
	b->len = 0;
	b->failed = false;
}

/* Make room for n more bytes; false (and `failed` set) if there is none. */
static bool wbuf_reserve(struct wbuf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : WBUF_MIN_CAP;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}


static void wbuf_le(struct wbuf *b, uint64_t v, int n)
{
	if (!wbuf_reserve(b, (size_t)n))
		return;
	wire_put_le(b->data + b->len, v, n);
	b->len += (size_t)n;
}

void wbuf_u8(struct wbuf *b, uint8_t v)
{
	wbuf_le(b, v, 1);
}

void wbuf_u16(struct wbuf *b, uint16_t v)
{
	wbuf_le(b, v, 2);
}

void wbuf_u32(struct wbuf *b, uint32_t v)
{
	wbuf_le(b, v, 4);
}

void wbuf_u64(struct wbuf *b, uint64_t v)
{
	wbuf_le(b, v, 8);
}

void wbuf_raw(struct wbuf *b, const void *p, size_t n)
{
	if (n == 0 || !wbuf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void wbuf_bytes(struct wbuf *b, const void *p, uint32_t n)
{
	wbuf_u32(b, n);
	wbuf_raw(b, p, n);
}

void wbuf_str(struct wbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > UINT32_MAX) {
		b->failed = true;
		return;
	}
	wbuf_bytes(b, s, (uint32_t)n);
}

size_t wire_frame_begin(struct wbuf *b, enum wire_type type)
{
	size_t at = b->len;
	wbuf_u32(b, 0);
	wbuf_u8(b, (uint8_t)type);
	return at;
}

void wire_frame_end(struct wbuf *b, size_t at)
{
	if (b->failed)
		return;
	assert(at + WIRE_HEADER <= b->len);
	size_t n = b->len - at - WIRE_HEADER;
	if (n > UINT32_MAX) {
		b->failed = true;
		return;
	}
	wire_put_le(b->data + at, n, 4);
}

/* ---- bounds-checked input ----------------------------------------------- */

void rbuf_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->pos = 0;
	r->err = NULL;
}

/* True when n more bytes are there; otherwise records `what` as the error. */
static bool rbuf_have(struct rbuf *r, size_t n, const char *what)
{
	if (r->err)
		return false;
	if (n > r->len - r->pos) {
		r->err = what;
		return false;
	}
	return true;
}

static uint64_t rbuf_le(struct rbuf *r, int n, const char *what)
{
	if (!rbuf_have(r, (size_t)n, what))
		return 0;
	uint64_t v = wire_get_le(r->p + r->pos, n);
	r->pos += (size_t)n;
	return v;
}

uint8_t rbuf_u8(struct rbuf *r)
{
	return (uint8_t)rbuf_le(r, 1, "truncated u8");
}

uint16_t rbuf_u16(struct rbuf *r)
{
	return (uint16_t)rbuf_le(r, 2, "truncated u16");
}

uint32_t rbuf_u32(struct rbuf *r)
{
	return (uint32_t)rbuf_le(r, 4, "truncated u32");
}

uint64_t rbuf_u64(struct rbuf *r)
{
	return rbuf_le(r, 8, "truncated u64");
}

const uint8_t *rbuf_bytes(struct rbuf *r, uint32_t *n)
{
	uint32_t len = rbuf_u32(r);
	*n = 0;
	if (!rbuf_have(r, len, "truncated bytes"))
		return NULL;
	/* r->p is not NULL here: the length itself was read from it */
	const uint8_t *p = r->p + r->pos;
	r->pos += len;
	*n = len;
	return p;
}

bool rbuf_raw(struct rbuf *r, void *out, size_t n)
{
	if (!rbuf_have(r, n, "truncated raw bytes")) {
		if (n)
			memset(out, 0, n);
		return false;
	}
	if (n)
		memcpy(out, r->p + r->pos, n);
	r->pos += n;
	return true;
}

bool rbuf_done(struct rbuf *r)
{
	if (r->err)
		return false;
	if (r->pos != r->len) {
		r->err = "trailing bytes";
		return false;
	}
	return true;
}

/* ---- frame splitter ----------------------------------------------------- */

void wire_reader_init(struct wire_reader *wr)
{
	wr->buf = NULL;
	wr->len = 0;
	wr->cap = 0;
	wr->max_frame = WIRE_MAX_FRAME;
	wr->pos = 0;
	wr->why[0] = '\0';
}

void wire_reader_free(struct wire_reader *wr)
{
	free(wr->buf);
	wr->buf = NULL;
	wr->len = wr->cap = wr->pos = 0;
}

/* Every call starts here: the frame handed out last is now released. */
static void reader_settle(struct wire_reader *wr)
{
	if (wr->pos != wr->len)
		return;
	wr->pos = wr->len = 0;
	if (wr->cap > WIRE_READER_KEEP_CAP) {
		free(wr->buf);
		wr->buf = NULL;
		wr->cap = 0;
	}
}

int wire_reader_feed(struct wire_reader *wr, const void *p, size_t n)
{
	reader_settle(wr);
	if (n == 0)
		return 0;
	size_t live = wr->len - wr->pos;
	if (n > wr->cap - wr->len) {
		if (n > SIZE_MAX / 2 - live)
			return -1;
		if (wr->pos >= live && n <= wr->cap - live) {
			/* compact: move no more bytes than were taken */
			memmove(wr->buf, wr->buf + wr->pos, live);
		} else {
			size_t cap = wr->cap ? wr->cap * 2 : WIRE_READER_MIN_CAP;
			while (cap < live + n)
				cap *= 2;
			uint8_t *nb = malloc(cap);
			if (!nb)
				return -1;
			if (live)
				memcpy(nb, wr->buf + wr->pos, live);
			free(wr->buf);
			wr->buf = nb;
			wr->cap = cap;
		}
		wr->pos = 0;
		wr->len = live;
	}
	memcpy(wr->buf + wr->len, p, n);
	wr->len += n;
	return 0;
}

int wire_reader_next(struct wire_reader *wr, struct wire_frame *f,
		     const char **why)
{
	reader_settle(wr);
	size_t live = wr->len - wr->pos;
	if (live < WIRE_HEADER)
		return 0;
	const uint8_t *h = wr->buf + wr->pos;
	uint32_t len = (uint32_t)wire_get_le(h, 4);
	uint8_t type = h[4];
	size_t max = wr->max_frame ? wr->max_frame : WIRE_MAX_FRAME;
	if (len > max) {
		snprintf(wr->why, sizeof wr->why,
			 "frame of %u bytes exceeds the limit of %zu", len, max);
		*why = wr->why;
		return -1;
	}
	if (!wire_type_known(type)) {
		snprintf(wr->why, sizeof wr->why, "unknown frame type %u",
			 (unsigned)type);
		*why = wr->why;
		return -1;
	}
	if (live - WIRE_HEADER < len)
		return 0;
	f->type = (enum wire_type)type;
	f->payload = h + WIRE_HEADER;
	f->len = len;
	wr->pos += WIRE_HEADER + (size_t)len;
	return 1;
}

static const char *const wire_type_names[] = {
	[WIRE_HELLO] = "HELLO",
	[WIRE_SEND] = "SEND",
	[WIRE_PROPOSED] = "PROPOSED",
	[WIRE_STATE] = "STATE",
	[WIRE_APPEND] = "APPEND",
	[WIRE_TRUNCATE] = "TRUNCATE",
	[WIRE_APPLY] = "APPLY",
	[WIRE_NOTE] = "NOTE",
	[WIRE_DONE] = "DONE",
	[WIRE_FATAL] = "FATAL",
	[WIRE_SNAPSHOT] = "SNAPSHOT",
	[WIRE_KV_SET] = "KV_SET",
	[WIRE_KV_RESET] = "KV_RESET",
	[WIRE_MR_JOB] = "MR_JOB",
	[WIRE_MR_TASK] = "MR_TASK",
	[WIRE_MR_WORKER] = "MR_WORKER",
	[WIRE_BYE] = "BYE",
	[WIRE_TICK] = "TICK",
	[WIRE_DELIVER] = "DELIVER",
	[WIRE_PROPOSE] = "PROPOSE",
	[WIRE_TIMEOUT_NOW] = "TIMEOUT_NOW",
	[WIRE_SET_TIMER] = "SET_TIMER",
};

bool wire_type_known(uint8_t type)
{
	return type < sizeof wire_type_names / sizeof wire_type_names[0] &&
	       wire_type_names[type] != NULL;
}

const char *wire_type_name(uint8_t type)
{
	return wire_type_known(type) ? wire_type_names[type] : "?";
}

/* ---- raft messages ------------------------------------------------------ */

void wire_put_raft_msg(struct wbuf *b, const struct raft_msg *m)
{
	wbuf_u8(b, (uint8_t)m->type);
	wbuf_u32(b, m->from);
	wbuf_u32(b, m->to);
	wbuf_u64(b, m->term);
	switch (m->type) {
	case RAFT_REQUEST_VOTE:
		wbuf_u64(b, m->last_log_index);
		wbuf_u64(b, m->last_log_term);
		break;
	case RAFT_REQUEST_VOTE_REPLY:
		wbuf_u8(b, m->vote_granted ? 1 : 0);
		break;
	case RAFT_APPEND_ENTRIES:
		assert(m->n_entries == 0 || m->entries != NULL);
		wbuf_u64(b, m->prev_log_index);
		wbuf_u64(b, m->prev_log_term);
		wbuf_u64(b, m->leader_commit);
		wbuf_u32(b, m->n_entries);
		for (uint32_t i = 0; i < m->n_entries; i++) {
			wbuf_u64(b, m->entries[i].term);
			wbuf_bytes(b, m->entries[i].data, m->entries[i].len);
		}
		break;
	case RAFT_APPEND_ENTRIES_REPLY:
		wbuf_u8(b, m->success ? 1 : 0);
		wbuf_u64(b, m->match_index);
		wbuf_u64(b, m->conflict_term);
		wbuf_u64(b, m->conflict_index);
		break;
	case RAFT_INSTALL_SNAPSHOT:
		assert(m->snapshot_len == 0 || m->snapshot_data != NULL);
		wbuf_u64(b, m->last_included_index);
		wbuf_u64(b, m->last_included_term);
		wbuf_bytes(b, m->snapshot_data, m->snapshot_len);
		break;
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		wbuf_u64(b, m->last_included_index);
		break;
	}
}

/* A boolean is exactly 0 or 1 on the wire. */
static bool get_bool(struct rbuf *r)
{
	uint8_t v = rbuf_u8(r);
	if (v > 1 && !r->err)
		r->err = "bad boolean";
	return v == 1;
}

static bool node_id_ok(uint32_t id)
{
	return id >= 1 && id <= RAFT_MAX_NODES;
}

static int get_entries(struct rbuf *r, struct raft_msg *m,
		       struct raft_entry **scratch, size_t *scratch_cap)
{
	uint32_t n = rbuf_u32(r);
	if (r->err)
		return -1;
	/* each entry takes at least WIRE_ENTRY_MIN bytes: refuse a count the
	 * payload cannot hold before allocating anything for it */
	if (n > (r->len - r->pos) / WIRE_ENTRY_MIN) {
		r->err = "too many entries";
		return -1;
	}
	if (n == 0)
		return 0;
	if (n > *scratch_cap) {
		/* no overflow: n * 16 <= 4/3 of the bytes r holds */
		struct raft_entry *e = realloc(*scratch, n * sizeof *e);
		if (!e) {
			r->err = "out of memory";
			return -1;
		}
		*scratch = e;
		*scratch_cap = n;
	}
	struct raft_entry *e = *scratch;
	for (uint32_t i = 0; i < n; i++) {
		e[i].term = rbuf_u64(r);
		/* borrowed from r's buffer; the decoder never writes through it */
		e[i].data = (uint8_t *)rbuf_bytes(r, &e[i].len);
		if (r->err)
			return -1;
	}
	m->n_entries = n;
	m->entries = e;
	return 0;
}

int wire_get_raft_msg(struct rbuf *r, struct raft_msg *m,
		      struct raft_entry **scratch, size_t *scratch_cap)
{
	memset(m, 0, sizeof *m);
	uint8_t type = rbuf_u8(r);
	m->from = rbuf_u32(r);
	m->to = rbuf_u32(r);
	m->term = rbuf_u64(r);
	if (r->err)
		return -1;
	if (!wire_msg_is_raft(type)) {
		r->err = "unknown raft message type";
		return -1;
	}
	m->type = (enum raft_msg_type)type;
	if (!node_id_ok(m->from) || !node_id_ok(m->to)) {
		r->err = "node id out of range";
		return -1;
	}
	switch (m->type) {
	case RAFT_REQUEST_VOTE:
		m->last_log_index = rbuf_u64(r);
		m->last_log_term = rbuf_u64(r);
		break;
	case RAFT_REQUEST_VOTE_REPLY:
		m->vote_granted = get_bool(r);
		break;
	case RAFT_APPEND_ENTRIES:
		m->prev_log_index = rbuf_u64(r);
		m->prev_log_term = rbuf_u64(r);
		m->leader_commit = rbuf_u64(r);
		if (get_entries(r, m, scratch, scratch_cap) < 0)
			return -1;
		break;
	case RAFT_APPEND_ENTRIES_REPLY:
		m->success = get_bool(r);
		m->match_index = rbuf_u64(r);
		m->conflict_term = rbuf_u64(r);
		m->conflict_index = rbuf_u64(r);
		break;
	case RAFT_INSTALL_SNAPSHOT:
		m->last_included_index = rbuf_u64(r);
		m->last_included_term = rbuf_u64(r);
		m->snapshot_data = rbuf_bytes(r, &m->snapshot_len);
		if (!r->err && m->last_included_index == 0)
			r->err = "snapshot of index 0";
		break;
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		m->last_included_index = rbuf_u64(r);
		break;
	}
	return r->err ? -1 : 0;
}

bool wire_msg_is_raft(uint8_t type)
{
	return type >= RAFT_REQUEST_VOTE && type <= RAFT_INSTALL_SNAPSHOT_REPLY;
}

const char *wire_msg_name(uint8_t type)
{
	if (wire_msg_is_raft(type))
		return raft_msg_type_name((enum raft_msg_type)type);
	if (type == WIRE_MSG_KV_REQUEST)
		return "KvRequest";
	if (type == WIRE_MSG_KV_REPLY)
		return "KvReply";
	if (type == WIRE_MSG_MR_ASK)
		return "MrAsk";
	if (type == WIRE_MSG_MR_ORDER)
		return "MrOrder";
	if (type == WIRE_MSG_MR_DONE)
		return "MrDone";
	return "?";
}

int wire_peek_msg(const uint8_t *p, size_t len, uint8_t *type, uint32_t *from, uint32_t *to)
{
	if (len < 9)
		return -1;
	*type = p[0];
	*from = (uint32_t)wire_get_le(p + 1, 4);
	*to = (uint32_t)wire_get_le(p + 5, 4);
	if (!wire_msg_is_raft(*type) && *type != WIRE_MSG_KV_REQUEST && *type != WIRE_MSG_KV_REPLY &&
	    !wire_msg_is_mr(*type))
		return -1;
	return 0;
}

bool wire_msg_is_mr(uint8_t type)
{
	return type >= WIRE_MSG_MR_ASK && type <= WIRE_MSG_MR_DONE;
}

void wire_put_mr_msg(struct wbuf *b, const struct wire_mr *m)
{
	assert(wire_msg_is_mr(m->type));
	wbuf_u8(b, m->type);
	wbuf_u32(b, m->from);
	wbuf_u32(b, m->to);
	switch (m->type) {
	case WIRE_MSG_MR_ORDER:
		wbuf_u8(b, m->order);
		wbuf_u32(b, m->task);
		wbuf_u32(b, m->n_map);
		wbuf_u32(b, m->n_reduce);
		wbuf_bytes(b, m->file, m->file_len);
		break;
	case WIRE_MSG_MR_DONE:
		wbuf_u8(b, m->task_type);
		wbuf_u32(b, m->task);
		wbuf_u64(b, m->bytes);
		break;
	default:
		break;
	}
}

int wire_get_mr_msg(struct rbuf *r, struct wire_mr *m)
{
	memset(m, 0, sizeof *m);
	m->type = rbuf_u8(r);
	m->from = rbuf_u32(r);
	m->to = rbuf_u32(r);
	if (r->err)
		return -1;
	if (!wire_msg_is_mr(m->type)) {
		r->err = "not a MapReduce message";
		return -1;
	}
	if (!node_id_ok(m->from) || !node_id_ok(m->to)) {
		r->err = "node id out of range";
		return -1;
	}
	switch (m->type) {
	case WIRE_MSG_MR_ORDER:
		m->order = rbuf_u8(r);
		m->task = rbuf_u32(r);
		m->n_map = rbuf_u32(r);
		m->n_reduce = rbuf_u32(r);
		m->file = rbuf_bytes(r, &m->file_len);
		if (!r->err && m->order > 3)
			r->err = "unknown MapReduce order";
		break;
	case WIRE_MSG_MR_DONE:
		m->task_type = rbuf_u8(r);
		m->task = rbuf_u32(r);
		m->bytes = rbuf_u64(r);
		if (!r->err && m->task_type > 1)
			r->err = "unknown MapReduce task type";
		break;
	default:
		break;
	}
	return r->err ? -1 : 0;
}

void wire_put_kv_msg(struct wbuf *b, uint8_t type, uint32_t from, uint32_t to,
		     const uint8_t *body, size_t len)
{
	assert(type == WIRE_MSG_KV_REQUEST || type == WIRE_MSG_KV_REPLY);
	if (len > UINT32_MAX) {              /* would not fit its u32 length */
		b->failed = true;
		return;
	}
	wbuf_u8(b, type);
	wbuf_u32(b, from);
	wbuf_u32(b, to);
	wbuf_bytes(b, body, (uint32_t)len);
}

const uint8_t *wire_get_kv_msg(struct rbuf *r, uint8_t *type, uint32_t *from, uint32_t *to,
			       uint32_t *len)
{
	*type = rbuf_u8(r);
	*from = rbuf_u32(r);
	*to = rbuf_u32(r);
	const uint8_t *body = rbuf_bytes(r, len);
	if (r->err)
		return NULL;
	uint32_t client = *type == WIRE_MSG_KV_REQUEST ? *from : *to;
	uint32_t server = *type == WIRE_MSG_KV_REQUEST ? *to : *from;
	if (*type != WIRE_MSG_KV_REQUEST && *type != WIRE_MSG_KV_REPLY) {
		r->err = "not a key/value message";
		return NULL;
	}
	if (!wire_is_client(client) || !node_id_ok(server)) {
		r->err = "endpoint id out of range";
		return NULL;
	}
	return body;
}

/* ---- node state --------------------------------------------------------- */

void wire_put_state(struct wbuf *b, const struct wire_state *s)
{
	assert(s->n_peers <= RAFT_MAX_NODES);
	wbuf_u8(b, s->role);
	wbuf_u64(b, s->term);
	wbuf_u32(b, s->voted_for);
	wbuf_u32(b, s->leader);
	wbuf_u64(b, s->commit);
	wbuf_u64(b, s->applied);
	wbuf_u64(b, s->last_index);
	wbuf_u64(b, s->snapshot_index);
	wbuf_u64(b, s->election_deadline);
	wbuf_u64(b, s->snapshot_term);
	wbuf_u64(b, s->raft_bytes);
	wbuf_u64(b, s->snapshot_bytes);
	wbuf_u64(b, s->kv_keys);
	wbuf_u64(b, s->kv_dup_bytes);
	wbuf_u32(b, s->n_peers);
	for (uint32_t i = 1; i <= s->n_peers && i <= RAFT_MAX_NODES; i++) {
		wbuf_u64(b, s->next_index[i]);
		wbuf_u64(b, s->match_index[i]);
	}
}

int wire_get_state(struct rbuf *r, struct wire_state *s)
{
	memset(s, 0, sizeof *s);
	s->role = rbuf_u8(r);
	s->term = rbuf_u64(r);
	s->voted_for = rbuf_u32(r);
	s->leader = rbuf_u32(r);
	s->commit = rbuf_u64(r);
	s->applied = rbuf_u64(r);
	s->last_index = rbuf_u64(r);
	s->snapshot_index = rbuf_u64(r);
	s->election_deadline = rbuf_u64(r);
	s->snapshot_term = rbuf_u64(r);
	s->raft_bytes = rbuf_u64(r);
	s->snapshot_bytes = rbuf_u64(r);
	s->kv_keys = rbuf_u64(r);
	s->kv_dup_bytes = rbuf_u64(r);
	s->n_peers = rbuf_u32(r);
	if (r->err)
		return -1;
	if (s->role > RAFT_LEADER) {
		r->err = "bad role";
		return -1;
	}
	if (s->voted_for > RAFT_MAX_NODES || s->leader > RAFT_MAX_NODES) {
		r->err = "node id out of range";
		return -1;
	}
	if (s->n_peers > RAFT_MAX_NODES) {
		r->err = "too many peers";
		return -1;
	}
	for (uint32_t i = 1; i <= s->n_peers; i++) {
		s->next_index[i] = rbuf_u64(r);
		s->match_index[i] = rbuf_u64(r);
	}
	return r->err ? -1 : 0;
}
