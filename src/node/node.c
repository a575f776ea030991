/*
 * node.c — one server as a process: a libuv shell around the pure cores.
 *
 * The node owns its data dir (through store/), its Raft core (for the kinds
 * that replicate), its kind's state (service.h) and one TCP connection to
 * the hub.  It has no clock: every input from the hub carries
 * the virtual time `now`.  For each input it runs the core, then carries out
 * the core's batch in the order Raft needs — persist (and fsync), then send,
 * then apply and report — and ends with DONE naming when it next wants to be
 * woken.  All of one input's output goes out in a single write.
 *
 * It must never act on its own: no timers, no reads of the wall clock.  When
 * the hub connection closes, or the controller that spawned it dies, the
 * process exits at once, so no node ever outlives its controller.
 */
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <uv.h>

#include "../core/raft.h"
#include "../core/rng.h"
#include "../store/store.h"
#include "../wire/wire.h"
#include "service.h"

static const struct node_kind *const node_kinds[] = {
	&node_kind_raft, &node_kind_kv, &node_kind_kvsrv, &node_kind_mr,
};


static void die_now(int code)
{
	/* The hub is gone or the node cannot go on: leave at once.  Nothing
	 * buffered matters: everything durable was fsync'd before DONE. */
	_exit(code);
}

static void on_written(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
	if (status < 0)
		die_now(0);
}

/* Send everything accumulated in n->out in one write. */
static void flush_out(struct node *n)
{
	if (n->out.failed) {
		fprintf(stderr, "termscope node %u: out of memory\n", n->id);
		die_now(1);
	}
	if (n->out.len == 0)
		return;
	uv_write_t *req = malloc(sizeof *req);
	if (!req)
		die_now(1);
	uv_buf_t buf = uv_buf_init((char *)n->out.data, (unsigned)n->out.len);
	req->data = n->out.data;
	/* hand the buffer to the write; start a fresh one */
	n->out.data = NULL;
	n->out.len = n->out.cap = 0;
	if (uv_write(req, (uv_stream_t *)&n->tcp, &buf, 1, on_written) < 0) {
		free(req->data);
		free(req);
		die_now(0);
	}
}

static void send_note(struct node *n, int level, const char *text)
{
	size_t at = wire_frame_begin(&n->out, WIRE_NOTE);
	wbuf_u8(&n->out, (uint8_t)level);
	wbuf_str(&n->out, text);
	wire_frame_end(&n->out, at);
}

/* The node's last words (FATAL or BYE): write what is in n->out, then
 * exit with `code` once it is out. */
static int last_code;

static void on_last_written(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
	die_now(last_code);
}

static void send_last(struct node *n, int code)
{
	last_code = code;
	uv_write_t *req = malloc(sizeof *req);
	if (!req || n->out.failed)
		die_now(1);
	uv_buf_t buf = uv_buf_init((char *)n->out.data, (unsigned)n->out.len);
	req->data = n->out.data;
	n->out.data = NULL;
	n->out.len = n->out.cap = 0;
	if (uv_write(req, (uv_stream_t *)&n->tcp, &buf, 1, on_last_written) < 0)
		die_now(1);
}

/* A fatal error: tell the hub why, then exit once the words are out. */
static void fatal(struct node *n, const char *fmt, ...)
{
	char msg[STORE_ERRMSG + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wbuf_reset(&n->out);
	size_t at = wire_frame_begin(&n->out, WIRE_FATAL);
	wbuf_str(&n->out, msg);
	wire_frame_end(&n->out, at);
	send_last(n, 1);
}

static void fill_state(struct node *n, struct wire_state *s)
{
	memset(s, 0, sizeof *s);
	if (n->kind->raft) {
		const struct raft *r = &n->raft;
		s->role = (uint8_t)r->role;
		s->term = r->current_term;
		s->voted_for = r->voted_for;
		s->leader = r->leader_id;
		s->commit = r->commit_index;
		s->applied = r->last_applied;
		s->last_index = raft_last_index(r);
		s->snapshot_index = r->snapshot_index;
		s->snapshot_term = r->snapshot_term;
		s->election_deadline = r->role == RAFT_LEADER ? RAFT_NO_DEADLINE : r->election_deadline;
		if (r->role == RAFT_LEADER) {
			s->n_peers = r->cfg.n;
			for (uint32_t i = 1; i <= r->cfg.n; i++) {
				s->next_index[i] = r->progress[i].next_index;
				s->match_index[i] = r->progress[i].match_index;
			}
		}
		s->raft_bytes = store_raft_size(&n->store);
		s->snapshot_bytes = store_snapshot_size(&n->store);
	} else {
		s->election_deadline = RAFT_NO_DEADLINE;
	}
	if (n->kind->fill)
		n->kind->fill(n, s);
}

static void report_state(struct node *n)
{
	struct wire_state s;
	fill_state(n, &s);
	if (n->state_sent && memcmp(&s, &n->last_state, sizeof s) == 0)
		return;
	n->last_state = s;
	n->state_sent = true;
	size_t at = wire_frame_begin(&n->out, WIRE_STATE);
	wire_put_state(&n->out, &s);
	wire_frame_end(&n->out, at);
}

static void report_entry(struct node *n, enum wire_type type, uint64_t index,
			 const struct raft_entry *e, bool recovered)
{
	size_t at = wire_frame_begin(&n->out, type);
	wbuf_u64(&n->out, index);
	wbuf_u64(&n->out, e->term);
	wbuf_bytes(&n->out, e->data, e->len);
	if (type == WIRE_APPEND)
		wbuf_u8(&n->out, recovered ? 1 : 0);
	wire_frame_end(&n->out, at);
}

void node_report_apply(struct node *n, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len)
{
	struct raft_entry e = { .term = term, .len = len, .data = (uint8_t *)data };
	report_entry(n, WIRE_APPLY, index, &e, false);
}

void node_send_kv(struct node *n, uint8_t type, uint32_t to, const struct kv_reply *rep)
{
	uint8_t *body;
	size_t len;
	if (kv_encode_reply(rep, &body, &len) != 0) {
		n->out.failed = true;
		return;
	}
	size_t at = wire_frame_begin(&n->out, WIRE_SEND);
	wire_put_kv_msg(&n->out, type, n->id, to, body, len);
	wire_frame_end(&n->out, at);
	free(body);
}

void node_report_kv(struct node *n, const struct kv_entry *e)
{
	size_t at = wire_frame_begin(&n->out, WIRE_KV_SET);
	wbuf_bytes(&n->out, e->key, e->key_len);
	wbuf_bytes(&n->out, e->value, e->value_len);
	wbuf_u64(&n->out, e->version);
	wire_frame_end(&n->out, at);
}

void node_report_kv_table(struct node *n, const struct kv_store *kv)
{
	size_t at = wire_frame_begin(&n->out, WIRE_KV_RESET);
	wire_frame_end(&n->out, at);
	size_t it = 0;
	const struct kv_entry *e;
	while ((e = kv_next(kv, &it)) != NULL)
		node_report_kv(n, e);
}

void node_note(struct node *n, int level, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	send_note(n, level, text);
}

static void report_snapshot(struct node *n, uint64_t index, uint64_t term, enum wire_snapshot_how how)
{
	size_t at = wire_frame_begin(&n->out, WIRE_SNAPSHOT);
	wbuf_u64(&n->out, index);
	wbuf_u64(&n->out, term);
	wbuf_u64(&n->out, store_snapshot_size(&n->store));
	wbuf_u8(&n->out, (uint8_t)how);
	wire_frame_end(&n->out, at);
}

static void send_done(struct node *n)
{
	if (n->exiting)
		return;
	size_t at = wire_frame_begin(&n->out, WIRE_DONE);
	wbuf_u64(&n->out, n->kind->raft ? raft_deadline(&n->raft) :
			  n->kind->deadline ? n->kind->deadline(n) : RAFT_NO_DEADLINE);
	wire_frame_end(&n->out, at);
}

/* An input is handled.  In real pace a Raft node owes its DONE until the
 * end of the read: the commands the read's inputs proposed (PROPOSE, or
 * client requests a key/value leader took) then go out together, one
 * AppendEntries per follower (see on_read). */
static void done_or_owe(struct node *n)
{
	if (n->kind->raft && n->raft.cfg.batch_appends)
		n->owed_done++;
	else
		send_done(n);
}

void node_send_mr(struct node *n, const struct wire_mr *m)
{
	size_t at = wire_frame_begin(&n->out, WIRE_SEND);
	wire_put_mr_msg(&n->out, m);
	wire_frame_end(&n->out, at);
}

void node_exit(struct node *n, int how)
{
	if (n->exiting)
		return;
	n->exiting = true;
	size_t at = wire_frame_begin(&n->out, WIRE_BYE);
	wbuf_u8(&n->out, (uint8_t)how);
	wire_frame_end(&n->out, at);
	send_last(n, 0);
}

void node_fatal(struct node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n->exiting = true;
	fatal(n, "%s", msg);
}

/* The kind asked for a snapshot: take it at the last applied entry, store
 * it, then compact the stored log (in that order: see store.h). */
static int take_snapshot(struct node *n)
{
	struct raft *r = &n->raft;
	uint64_t index = r->last_applied, term;
	if (index <= r->snapshot_index || !raft_term_at(r, index, &term))
		return 0;
	uint8_t *data;
	size_t len;
	if (!n->kind->snapshot(n, &data, &len)) {
		fatal(n, "node %u: out of memory taking a snapshot", n->id);
		return -1;
	}
	if (len > WIRE_MAX_FRAME / 2) {
		free(data);
		fatal(n, "node %u: a snapshot of %zu bytes is more than one message can carry", n->id, len);
		return -1;
	}
	if (raft_snapshot(r, index, data, (uint32_t)len) != RAFT_OK) {
		free(data);
		fatal(n, "node %u: the Raft core refused a snapshot at %" PRIu64, n->id, index);
		return -1;
	}
	int rc = store_save_snapshot(&n->store, index, term, data, (uint32_t)len);
	free(data);
	if (rc != 0 || store_compact(&n->store, index) != 0) {
		fatal(n, "node %u: %s", n->id, n->store.errmsg);
		return -1;
	}
	report_snapshot(n, index, term, WIRE_SNAP_TAKEN);
	return 0;
}

/* What the fsync policy says to do with appends and truncations now:
 * always: fsync them before anything is sent; batch: fsync once for all
 * the inputs of one read from the hub (group commit: nothing is sent
 * before that fsync either); never: leave it to the kernel (a power loss
 * could lose acknowledged entries: for measuring, not for safety). */
static int make_durable(struct node *n)
{
	if (n->fsync == NODE_FSYNC_BATCH) {
		n->sync_pending = true;
		return 0;
	}
	if (n->fsync == NODE_FSYNC_ALWAYS && store_sync(&n->store) != 0) {
		fatal(n, "node %u: %s", n->id, n->store.errmsg);
		return -1;
	}
	return 0;
}

/*
 * Carry out the core's batch: persist, then send, then apply; then report
 * state and DONE.  Persisting first is what makes a vote or an acknowledged
 * entry survive a crash that happens right after the message leaves.
 */
static void process_ready(struct node *n)
{
	struct raft *r = &n->raft;
	if (!n->kind->raft) {
		report_state(n);
		return;
	}
	if (r->failed) {
		fatal(n, "node %u: out of memory in the Raft core", n->id);
		return;
	}
	if (!raft_has_ready(r)) {
		if (n->kind->settle)
			n->kind->settle(n);
		report_state(n);
		return;
	}
	struct raft_ready rd;
	raft_ready(r, &rd);

	bool dirty = false;
	if (rd.meta_changed) {
		if (store_save_meta(&n->store, rd.term, rd.voted_for) != 0) {
			fatal(n, "node %u: %s", n->id, n->store.errmsg);
			return;
		}
	}
	if (rd.snapshot) {
		if (store_save_snapshot(&n->store, rd.snapshot_index, rd.snapshot_term,
					rd.snapshot_data, rd.snapshot_len) != 0 ||
		    store_compact(&n->store, rd.snapshot_index) != 0) {
			fatal(n, "node %u: %s", n->id, n->store.errmsg);
			return;
		}
	}
	if (rd.truncate_from) {
		if (store_truncate(&n->store, rd.truncate_from) != 0) {
			fatal(n, "node %u: %s", n->id, n->store.errmsg);
			return;
		}
		dirty = true;
		size_t at = wire_frame_begin(&n->out, WIRE_TRUNCATE);
		wbuf_u64(&n->out, rd.truncate_from);
		wire_frame_end(&n->out, at);
	}
	for (uint64_t i = 0; i < rd.n_append; i++) {
		uint64_t index = rd.append_from + i;
		const struct raft_entry *e = raft_entry_at(r, index);
		if (store_append(&n->store, index, e->term, e->data, e->len) != 0) {
			fatal(n, "node %u: %s", n->id, n->store.errmsg);
			return;
		}
		dirty = true;
		report_entry(n, WIRE_APPEND, index, e, false);
	}
	if (dirty && make_durable(n) != 0)
		return;
	/* the new role, term and vote first: they are why the messages go out */
	report_state(n);
	for (size_t i = 0; i < rd.n_msgs; i++) {
		size_t at = wire_frame_begin(&n->out, WIRE_SEND);
		wire_put_raft_msg(&n->out, &rd.msgs[i]);
		wire_frame_end(&n->out, at);
	}
	if (rd.snapshot) {
		const char *why = NULL;
		if (!n->kind->restore(n, rd.snapshot_data, rd.snapshot_len, WIRE_SNAP_INSTALLED, &why)) {
			fatal(n, "node %u: the snapshot from the leader (index %" PRIu64 ") is unusable: %s",
			      n->id, rd.snapshot_index, why ? why : "?");
			return;
		}
		/* after the kind's own report of what it now holds (kind raft
		 * reports the commands as applied): the hub's apply order
		 * moves past the snapshot here */
		report_snapshot(n, rd.snapshot_index, rd.snapshot_term, WIRE_SNAP_INSTALLED);
	}
	for (uint64_t index = rd.apply_from + 1; index <= rd.apply_to; index++) {
		const struct raft_entry *e = raft_entry_at(r, index);
		report_entry(n, WIRE_APPLY, index, e, false);
		n->kind->apply(n, index, e);
	}
	raft_advance(r, &rd);
	if (n->kind->settle)
		n->kind->settle(n);
	if (n->kind->wants_snapshot && n->kind->wants_snapshot(n) && take_snapshot(n) != 0)
		return;
	report_state(n);
}

static bool start_raft(struct node *n)
{
	struct store_state st;
	if (store_load(&n->store, &st) != 0) {
		flush_out(n);
		fatal(n, "%s", n->store.errmsg);
		return false;
	}
	struct raft_config cfg = {
		.id = n->id,
		.n = n->n,
		.seed = rng_mix(rng_mix(n->seed, n->id), n->incarnation),
		.heartbeat = n->heartbeat,
		.election_min = n->election_min,
		.election_max = n->election_max,
		/* real pace: the leader batches a read's worth of commands
		 * into one AppendEntries per follower (see on_read) */
		.batch_appends = n->real,
	};
	if (raft_init(&n->raft, &cfg, n->now) != RAFT_OK) {
		store_state_free(&st);
		flush_out(n);
		fatal(n, "node %u: bad Raft configuration", n->id);
		return false;
	}
	n->raft_ready_ = true;
	if (st.snapshot_index) {
		const char *why = NULL;
		if (raft_restore_snapshot(&n->raft, st.snapshot_index, st.snapshot_term,
					  st.snapshot_data, st.snapshot_len) != RAFT_OK ||
		    !n->kind->restore(n, st.snapshot_data, st.snapshot_len, WIRE_SNAP_LOADED, &why)) {
			store_state_free(&st);
			flush_out(n);
			fatal(n, "%s/%s: cannot load the snapshot: %s", n->dir, STORE_SNAPSHOT,
			      why ? why : "out of memory");
			return false;
		}
	}
	if (!st.fresh && raft_restore(&n->raft, st.term, st.voted_for, st.entries, st.n_entries) != RAFT_OK) {
		store_state_free(&st);
		flush_out(n);
		fatal(n, "%s/%s: vote for node %u is out of range", n->dir, STORE_META, st.voted_for);
		return false;
	}
	if (st.torn) {
		char text[256];
		snprintf(text, sizeof text,
			 "%s/%s: %s at record %" PRIu64 "; %" PRIu64 " bytes truncated",
			 n->dir, STORE_LOG, st.torn_why, st.torn_record, st.torn_bytes);
		send_note(n, 1, text);
	}
	if (st.log_discarded)
		node_note(n, 1, "%s/%s: the log did not continue the snapshot at %" PRIu64 "; dropped",
			  n->dir, STORE_LOG, st.snapshot_index);
	if (st.snapshot_index)
		report_snapshot(n, st.snapshot_index, st.snapshot_term, WIRE_SNAP_LOADED);
	for (uint64_t i = 0; i < st.n_entries; i++)
		report_entry(n, WIRE_APPEND, st.first_index + i, &st.entries[i], true);
	store_state_free(&st);
	return true;
}

static void node_start(struct node *n)
{
	size_t at = wire_frame_begin(&n->out, WIRE_HELLO);
	wbuf_u16(&n->out, WIRE_VERSION);
	wbuf_raw(&n->out, n->token, WIRE_TOKEN_LEN);
	wbuf_u32(&n->out, n->id);
	wbuf_u32(&n->out, n->incarnation);
	wbuf_u32(&n->out, (uint32_t)getpid());
	wire_frame_end(&n->out, at);

	const char *why = NULL;
	if (!n->kind->init(n, &why)) {
		flush_out(n);
		fatal(n, "node %u: %s", n->id, why ? why : "out of memory");
		return;
	}
	if (n->kind->raft) {
		if (store_open(&n->store, n->dir) != 0) {
			flush_out(n);
			fatal(n, "%s", n->store.errmsg);
			return;
		}
		n->store_open = true;
		if (!start_raft(n))
			return;
	} else if (n->kind->begin) {
		n->kind->begin(n);
		if (n->exiting)
			return;
	}
	report_state(n);
	send_done(n);
	flush_out(n);
}

/* A message from the hub: Raft to the core, a client's request to the kind. */
static void deliver(struct node *n, struct rbuf *r)
{
	uint8_t type;
	uint32_t from, to;
	if (wire_peek_msg(r->p + r->pos, r->len - r->pos, &type, &from, &to) != 0) {
		r->err = "unknown message";
		return;
	}
	if (to != n->id) {
		r->err = "message for another node";
		return;
	}
	if (wire_msg_is_raft(type)) {
		struct raft_msg m;
		if (!n->kind->raft) {
			r->err = "a Raft message to a server without Raft";
			return;
		}
		if (wire_get_raft_msg(r, &m, &n->scratch, &n->scratch_cap) != 0 || !rbuf_done(r))
			return;
		raft_step(&n->raft, n->now, &m);
		return;
	}
	if (wire_msg_is_mr(type)) {
		struct wire_mr m;
		if (!n->kind->message) {
			r->err = "a MapReduce message to a server of another kind";
			return;
		}
		if (wire_get_mr_msg(r, &m) != 0 || !rbuf_done(r))
			return;
		n->kind->message(n, &m);
		return;
	}
	uint32_t len;
	const uint8_t *body = wire_get_kv_msg(r, &type, &from, &to, &len);
	if (!body || !rbuf_done(r))
		return;
	if (type != WIRE_MSG_KV_REQUEST || !n->kind->client) {
		r->err = "a message this kind of server does not take";
		return;
	}
	n->kind->client(n, from, body, len);
}

static void handle_frame(struct node *n, const struct wire_frame *f)
{
	if (n->exiting)
		return;                      /* it said BYE: nothing more to do */
	struct rbuf r;
	rbuf_init(&r, f->payload, f->len);
	uint64_t now = rbuf_u64(&r);
	if (now < n->now && !r.err) {
		fatal(n, "node %u: time went backwards (%" PRIu64 " < %" PRIu64 ")", n->id, now, n->now);
		return;
	}
	n->now = now;
	if (!n->kind->raft && f->type != WIRE_DELIVER && f->type != WIRE_TICK) {
		fatal(n, "node %u: a %s frame for a server without Raft", n->id, wire_type_name(f->type));
		return;
	}
	switch (f->type) {
	case WIRE_TICK:
		if (!rbuf_done(&r))
			break;
		if (n->kind->raft)
			raft_tick(&n->raft, now);
		else if (n->kind->tick)
			n->kind->tick(n);
		break;
	case WIRE_DELIVER:
		deliver(n, &r);
		break;
	case WIRE_PROPOSE: {
		uint64_t req = rbuf_u64(&r);
		uint32_t len;
		const uint8_t *data = rbuf_bytes(&r, &len);
		if (!rbuf_done(&r))
			break;
		uint64_t index = 0, term = 0;
		int rc = raft_propose(&n->raft, now, data ? data : (const uint8_t *)"", len, &index, &term);
		/* persist and replicate first: the answer comes after the entry is durable */
		process_ready(n);
		size_t at = wire_frame_begin(&n->out, WIRE_PROPOSED);
		wbuf_u64(&n->out, req);
		wbuf_u64(&n->out, index);
		wbuf_u64(&n->out, term);
		wbuf_u8(&n->out, rc == RAFT_OK);
		wire_frame_end(&n->out, at);
		done_or_owe(n);
		return;
	}
	case WIRE_TIMEOUT_NOW:
		if (!rbuf_done(&r))
			break;
		raft_timeout_now(&n->raft, now);
		break;
	case WIRE_SET_TIMER: {
		uint64_t at = rbuf_u64(&r);
		if (!rbuf_done(&r))
			break;
		raft_set_election_deadline(&n->raft, at);
		break;
	}
	default:
		r.err = "unexpected frame type";
		break;
	}
	if (r.err) {
		fatal(n, "node %u: bad %s frame from the hub: %s", n->id, wire_type_name(f->type), r.err);
		return;
	}
	if (n->exiting)
		return;                      /* BYE or FATAL is on its way */
	process_ready(n);
	done_or_owe(n);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[65536];
	*buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct node *n = s->data;
	if (nread < 0)
		die_now(0);                  /* the hub is gone: so are we */
	if (nread == 0)
		return;
	if (wire_reader_feed(&n->rd, buf->base, (size_t)nread) != 0)
		die_now(1);
	for (;;) {
		struct wire_frame f;
		const char *why = NULL;
		int rc = wire_reader_next(&n->rd, &f, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr, "termscope node %u: bad frame from the hub: %s\n", n->id, why);
			die_now(1);
		}
		handle_frame(n, &f);
		if (n->exiting)
			return;
	}
	/* every input of this read handled: the commands it proposed go to
	 * the followers together, one AppendEntries each; then the inputs are
	 * done */
	if (n->owed_done) {
		raft_flush(&n->raft);
		process_ready(n);
		for (; n->owed_done && !n->exiting; n->owed_done--)
			send_done(n);
		n->owed_done = 0;
		if (n->exiting)
			return;
	}
	/* make their appends durable at once (fsync batch), then let their
	 * output go */
	if (n->sync_pending) {
		n->sync_pending = false;
		if (store_sync(&n->store) != 0) {
			fatal(n, "node %u: %s", n->id, n->store.errmsg);
			return;
		}
	}
	flush_out(n);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct node *n = req->data;
	if (status < 0) {
		fprintf(stderr, "termscope node %u: cannot reach the hub on port %u: %s\n",
			n->id, n->port, uv_strerror(status));
		die_now(1);
	}
	uv_tcp_nodelay(&n->tcp, 1);
	if (uv_read_start((uv_stream_t *)&n->tcp, alloc_cb, on_read) < 0)
		die_now(1);
	node_start(n);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_token(const char *hex, uint8_t *out)
{
	if (!hex || strlen(hex) != 2 * WIRE_TOKEN_LEN)
		return -1;
	for (int i = 0; i < WIRE_TOKEN_LEN; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "termscope node: started by termscope itself, not by hand\n"
		"usage: termscope node --id N --nodes N --port P --dir DIR --seed S --inc I --now T\n"
		"         [--kind raft|kv|kvsrv] [--heartbeat MS] [--election MS]\n"
		"         [--maxraftstate BYTES] [--snapshot-every N] [--dedup 0|1] [--real 0|1] [--job FILE]\n"
		"         [--fsync always|batch|never]\n");
	return 2;
}

/* Die with the controller even if it is SIGKILLed (for our nodes the
 * closed socket would tell too; this makes it immediate).  False when the
 * controller is already gone. */
static bool tied_to_controller(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	const char *ppid = getenv("TERMSCOPE_PPID");
	uint64_t v;
	return !(ppid && parse_u64(ppid, &v) == 0 && (pid_t)v != getppid());
}

/* termscope child PROGRAM ARGS...: become PROGRAM (found on PATH), tied to
 * the controller like a node: how the supervisor starts processes that are
 * not ours (etcd members), so none outlives it.  The tie survives exec. */
int child_main(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: termscope child PROGRAM [ARGS...] (the supervisor's, not for people)\n");
		return 2;
	}
	if (!tied_to_controller())
		return 0;
	execvp(argv[0], argv);
	fprintf(stderr, "termscope child: cannot run %s: %s\n", argv[0], strerror(errno));
	return 127;
}

int node_main(int argc, char **argv)
{
	static struct node n;
	n.heartbeat = 100;
	n.election_min = 300;
	n.election_max = 600;
	n.kind = &node_kind_raft;
	n.dedup = true;
	uint64_t v;
	bool have_id = false, have_n = false, have_port = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			return usage();
		if (strcmp(a, "--dir") == 0) {
			n.dir = val;
		} else if (strcmp(a, "--job") == 0) {
			n.job = val;
		} else if (strcmp(a, "--fsync") == 0) {
			if (strcmp(val, "always") == 0)
				n.fsync = NODE_FSYNC_ALWAYS;
			else if (strcmp(val, "batch") == 0)
				n.fsync = NODE_FSYNC_BATCH;
			else if (strcmp(val, "never") == 0)
				n.fsync = NODE_FSYNC_NEVER;
			else
				return usage();
		} else if (strcmp(a, "--kind") == 0) {
			n.kind = NULL;
			for (size_t k = 0; k < sizeof node_kinds / sizeof node_kinds[0]; k++)
				if (strcmp(val, node_kinds[k]->name) == 0)
					n.kind = node_kinds[k];
			if (!n.kind)
				return usage();
		} else if (parse_u64(val, &v) != 0) {
			return usage();
		} else if (strcmp(a, "--id") == 0) {
			n.id = (uint32_t)v, have_id = true;
		} else if (strcmp(a, "--nodes") == 0) {
			n.n = (uint32_t)v, have_n = true;
		} else if (strcmp(a, "--port") == 0) {
			n.port = (uint16_t)v, have_port = v > 0 && v < 65536;
		} else if (strcmp(a, "--seed") == 0) {
			n.seed = v;
		} else if (strcmp(a, "--inc") == 0) {
			n.incarnation = (uint32_t)v;
		} else if (strcmp(a, "--now") == 0) {
			n.now = v;
		} else if (strcmp(a, "--heartbeat") == 0) {
			n.heartbeat = v;
		} else if (strcmp(a, "--election") == 0) {
			n.election_min = v, n.election_max = 2 * v;
		} else if (strcmp(a, "--maxraftstate") == 0) {
			n.maxraftstate = v;
		} else if (strcmp(a, "--snapshot-every") == 0) {
			n.snapshot_every = v;
		} else if (strcmp(a, "--dedup") == 0) {
			n.dedup = v != 0;
		} else if (strcmp(a, "--real") == 0) {
			n.real = v != 0;
		} else {
			return usage();
		}
		i++;
	}
	if (!have_id || !have_n || !have_port || !n.dir || n.id < 1 || n.id > n.n ||
	    n.n > RAFT_MAX_NODES || parse_token(getenv("TERMSCOPE_TOKEN"), n.token) != 0)
		return usage();

	if (!tied_to_controller())
		return 0;
	signal(SIGPIPE, SIG_IGN);

	n.loop = uv_default_loop();
	wire_reader_init(&n.rd);
	wbuf_init(&n.out);
	uv_tcp_init(n.loop, &n.tcp);
	n.tcp.data = &n;
	n.connect_req.data = &n;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", n.port, &addr);
	if (uv_tcp_connect(&n.connect_req, &n.tcp, (const struct sockaddr *)&addr, on_connect) < 0) {
		fprintf(stderr, "termscope node %u: cannot connect to the hub\n", n.id);
		return 1;
	}
	uv_run(n.loop, UV_RUN_DEFAULT);
	return 0;
}
