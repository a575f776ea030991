/*
 * hub.c — one cluster's hub: router, network model, virtual clock, supervisor
 * and mirror.  See hub.h for the contract.
 *
 * Ownership: struct hub owns its listening socket, one struct hub_conn per
 * TCP connection, one struct hub_proc per spawned process, the event heap
 * and every message in flight.  Each libuv handle lives inside the struct
 * that owns it and is freed in its close callback; the hub itself is freed
 * once its last handle has closed (hub->handles counts them).
 *
 * It must never run user Lua, never draw, and never let a node's or a
 * stranger's bytes take the controller down: a bad frame closes that one
 * connection with a logged reason.
 */
#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../core/rng.h"
#include "hub_int.h"

static void conn_close(struct hub_conn *c, const char *why);
static int spawn_node(struct hub *h, uint32_t id);
static void on_bye(struct hub *h, struct hub_node *n, uint8_t how);
static void on_conn_closed(uv_handle_t *handle);
static void node_failed(struct hub *h, uint32_t id, const char *fmt, ...);
static void maybe_free(struct hub *h);

/* ---- small helpers -------------------------------------------------- */

void hub__set_err(struct hub *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
	va_end(ap);
}

void hub__emit(struct hub *h, json_t *ev)
{
	evlog_emit(h->cfg.log, ev, h->cfg.number);
}

json_t *hub__ev_new(struct hub *h, const char *name)
{
	return evlog_new(h->now, name);
}

void hub__violation(struct hub *h, const char *fmt, ...)
{
	char msg[HUB_ERRMSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!h->violation[0])
		snprintf(h->violation, sizeof h->violation, "%s", msg);
	json_t *ev = hub__ev_new(h, "error");
	ev_str(ev, "what", "invariant");
	ev_str(ev, "text", msg);
	hub__emit(h, ev);
}

static bool valid_node(const struct hub *h, uint32_t id)
{
	return id >= 1 && id <= h->cfg.n;
}

void hub__kick(struct hub *h)
{
	if (h->cfg.hooks.kick)
		h->cfg.hooks.kick(h, h->cfg.hooks.ud);
}

void hub__progress(struct hub *h)
{
	if (h->cfg.hooks.progress)
		h->cfg.hooks.progress(h, h->cfg.hooks.ud);
}

/* ---- who is at work ------------------------------------------------------ */

/* In fast and paced time one node works at a time (h->busy); in real pace
 * every node may, on as many inputs as have been given it (h->rq). */
static void set_busy(struct hub *h, uint32_t id)
{
	if (h->pace == HUB_REAL) {
		if (h->rq[id].outstanding++ == 0)
			h->rq[id].since = uv_now(h->loop);
	} else {
		h->busy = id;
		h->busy_since = uv_now(h->loop);
	}
}

static bool node_busy(const struct hub *h, uint32_t id)
{
	return h->pace == HUB_REAL ? h->rq[id].outstanding > 0 : h->busy == id;
}

static void clear_busy(struct hub *h, uint32_t id)
{
	if (h->pace == HUB_REAL) {
		if (h->rq[id].outstanding > 0 && --h->rq[id].outstanding > 0)
			h->rq[id].since = uv_now(h->loop);
	} else if (h->busy == id) {
		h->busy = 0;
	}
}

/* Real pace: a node that is gone owes nothing more. */
static void drop_queue(struct hub *h, uint32_t id)
{
	h->rq[id].outstanding = 0;
}

/* ---- the event heap, ordered by (t, seq) ----------------------------- */

/* Ordered by time; within one millisecond, the cluster's own events come
 * first and users' timers last, each in the order they were queued.  So a
 * script wakes after everything the cluster did in that millisecond, which
 * is also when a person's action lands (the hub has caught up with the
 * wall clock first), and a recording replays exactly. */
static bool hev_less(const struct hev *a, const struct hev *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	bool la = a->kind == HEV_TIMER, lb = b->kind == HEV_TIMER;
	if (la != lb)
		return lb;
	return a->seq < b->seq;
}

int hub__heap_push(struct hub *h, struct hev e)
{
	if (h->n_heap == h->cap_heap) {
		size_t cap = h->cap_heap ? h->cap_heap * 2 : 256;
		struct hev *p = realloc(h->heap, cap * sizeof *p);
		if (!p)
			return -1;
		h->heap = p;
		h->cap_heap = cap;
	}
	e.seq = ++h->seq;
	size_t i = h->n_heap++;
	h->heap[i] = e;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!hev_less(&h->heap[i], &h->heap[parent]))
			break;
		struct hev tmp = h->heap[i];
		h->heap[i] = h->heap[parent];
		h->heap[parent] = tmp;
		i = parent;
	}
	return 0;
}

static struct hev heap_pop(struct hub *h)
{
	struct hev top = h->heap[0];
	h->heap[0] = h->heap[--h->n_heap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n_heap && hev_less(&h->heap[l], &h->heap[m]))
			m = l;
		if (r < h->n_heap && hev_less(&h->heap[r], &h->heap[m]))
			m = r;
		if (m == i)
			break;
		struct hev tmp = h->heap[i];
		h->heap[i] = h->heap[m];
		h->heap[m] = tmp;
		i = m;
	}
	return top;
}

/* A wake-up that was replaced by a newer deadline is skipped when popped. */
static bool hev_stale(const struct hub *h, const struct hev *e)
{
	if (e->kind == HEV_CLIENT)
		return hub__client_stale(h, e);
	return e->kind == HEV_WAKE && h->nodes[e->node].wake_seq != e->aux;
}

static const struct hev *heap_peek(struct hub *h)
{
	while (h->n_heap && hev_stale(h, &h->heap[0]))
		heap_pop(h);
	return h->n_heap ? &h->heap[0] : NULL;
}

/* ---- messages -------------------------------------------------------- */

void hub__msg_unlink(struct hub_msg *m)
{
	m->prev->next = m->next;
	m->next->prev = m->prev;
	m->prev = m->next = m;
}

void hub__msg_free(struct hub_msg *m)
{
	if (!m)
		return;
	free(m->bytes);
	free(m);
}

static void input_free(struct hub_input *in)
{
	if (!in)
		return;
	free(in->data);
	free(in);
}

/* Release whatever an event owns, for events that will never run. */
static void hev_discard(struct hev *e)
{
	if (e->kind == HEV_DELIVER) {
		hub__msg_unlink(e->msg);
		hub__msg_free(e->msg);
	} else if (e->kind == HEV_INPUT) {
		input_free(e->in);
	}
}

static const char *msg_type_name(uint8_t type)
{
	return wire_msg_name(type);
}

/* Count and record a drop. */
void hub__record_drop(struct hub *h, uint64_t id, uint32_t from, uint32_t to, const char *why)
{
	json_t *ev = hub__ev_new(h, "drop");
	ev_int(ev, "id", (int64_t)id);
	ev_str(ev, "why", why);
	hub__emit(h, ev);
	h->drops++;
	if (valid_node(h, to)) {
		h->nodes[to].dropped_to++;
		if (valid_node(h, from))
			h->link_drops[from][to]++;
	}
}

static void drop_msg(struct hub *h, struct hub_msg *m, const char *why, bool in_list)
{
	hub__record_drop(h, m->id, m->from, m->to, why);
	if (in_list)
		hub__msg_unlink(m);
	hub__msg_free(m);
}

/* Put a copy of a message on its way: into the in-flight list (oldest
 * first) and the event queue.  NULL if memory ran out (it is then lost). */
struct hub_msg *hub__msg_launch(struct hub *h, uint64_t id, uint32_t from, uint32_t to, uint8_t type,
				  const uint8_t *bytes, uint32_t len, uint64_t deliver_at, bool dup)
{
	struct hub_msg *m = calloc(1, sizeof *m);
	if (m)
		m->bytes = malloc(len ? len : 1);
	if (!m || !m->bytes) {
		free(m);
		return NULL;
	}
	memcpy(m->bytes, bytes, len);
	m->len = len;
	m->id = id;
	m->from = from;
	m->to = to;
	m->type = type;
	m->sent_at = h->now;
	m->deliver_at = deliver_at;
	m->dup = dup;
	m->prev = h->inflight.prev;
	m->next = &h->inflight;
	h->inflight.prev->next = m;
	h->inflight.prev = m;
	struct hev e = { .t = deliver_at, .kind = HEV_DELIVER, .node = to, .msg = m };
	if (hub__heap_push(h, e) != 0) {
		hub__msg_unlink(m);
		hub__msg_free(m);
		return NULL;
	}
	return m;
}

/* Why a message from -> to cannot travel now, or NULL if it can. */
static const char *blocked(const struct hub *h, uint32_t from, uint32_t to)
{
	if (wire_is_client(from) || wire_is_client(to))
		return hub__client_blocked(h, from, to);
	const struct hub_node *dst = &h->nodes[to];
	if (!net_link_up(&h->net, from, to))
		return "partition";
	if (dst->status != HUB_NODE_UP && dst->status != HUB_NODE_STARTING)
		return dst->status == HUB_NODE_FAILED ? "failed" :
		       dst->status == HUB_NODE_EXITED ? "exited" : "crashed";
	return NULL;
}

/* A node sent a message: record it and let the network decide its fate. */
static void route(struct hub *h, const uint8_t *bytes, uint32_t len, const struct raft_msg *rm)
{
	struct hub_node *src = &h->nodes[rm->from];
	uint64_t id = ++h->next_msg_id;
	h->rpc_count++;
	h->rpc_bytes += len;
	src->msgs_out++;
	json_t *ev = hub__ev_new(h, "send");
	ev_int(ev, "id", (int64_t)id);
	ev_int(ev, "from", rm->from);
	ev_int(ev, "to", rm->to);
	ev_str(ev, "type", msg_type_name(rm->type));
	ev_int(ev, "term", (int64_t)rm->term);
	/* what the message says, in brief: enough to follow an election or a
	 * follower refusing entries from the events alone */
	switch (rm->type) {
	case RAFT_REQUEST_VOTE_REPLY:
		json_object_set_new(ev, "granted", json_boolean(rm->vote_granted));
		break;
	case RAFT_APPEND_ENTRIES:
		ev_int(ev, "prev", (int64_t)rm->prev_log_index);
		ev_int(ev, "entries", rm->n_entries);
		break;
	case RAFT_APPEND_ENTRIES_REPLY:
		json_object_set_new(ev, "ok", json_boolean(rm->success));
		if (rm->success) {
			ev_int(ev, "match", (int64_t)rm->match_index);
		} else if (rm->conflict_index) {
			ev_int(ev, "conflict_term", (int64_t)rm->conflict_term);
			ev_int(ev, "conflict_index", (int64_t)rm->conflict_index);
		}
		break;
	default:
		break;
	}
	hub__emit(h, ev);

	hub__send(h, id, rm->from, rm->to, rm->type, raft_msg_is_reply(rm->type), bytes, len);
}

/* Let the network decide what becomes of message id: dropped (a cut link,
 * a crashed receiver, loss), or one or two copies on their way. */
void hub__send(struct hub *h, uint64_t id, uint32_t from, uint32_t to, uint8_t type, bool is_reply,
	       const uint8_t *bytes, uint32_t len)
{
	struct net_fate fate;
	net_decide(&h->net, &h->rng, is_reply, &fate);
	const char *why = blocked(h, from, to);
	if (why) {
		hub__record_drop(h, id, from, to, why);   /* no copy passes a cut link */
		return;
	}
	for (int copy = 0; copy < fate.copies; copy++) {
		if (copy == 0 && fate.lost) {
			hub__record_drop(h, id, from, to, "loss");
			continue;
		}
		if (copy > 0) {
			json_t *d = hub__ev_new(h, "dup");
			ev_int(d, "id", (int64_t)id);
			hub__emit(h, d);
		}
		hub__msg_launch(h, id, from, to, type, bytes, len, h->now + fate.delay[copy], copy > 0);
	}
}

/* ---- talking to nodes ------------------------------------------------ */

static void on_conn_written(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
}

static int conn_send(struct hub_conn *c, struct wbuf *b)
{
	if (b->failed)
		return -1;
	uv_write_t *req = malloc(sizeof *req);
	if (!req)
		return -1;
	uv_buf_t buf = uv_buf_init((char *)b->data, (unsigned)b->len);
	req->data = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	if (uv_write(req, (uv_stream_t *)&c->tcp, &buf, 1, on_conn_written) < 0) {
		free(req->data);
		free(req);
		return -1;
	}
	return 0;
}

/* Hand one input to node id and wait for its DONE. */
static void give(struct hub *h, uint32_t id, enum wire_type type, const void *body, size_t blen,
		 const struct hub_input *in)
{
	struct hub_node *n = &h->nodes[id];
	struct wbuf b;
	wbuf_init(&b);
	size_t at = wire_frame_begin(&b, type);
	wbuf_u64(&b, h->now);
	if (in && type == WIRE_PROPOSE) {
		wbuf_u64(&b, in->req);
		wbuf_bytes(&b, in->data, in->len);
	} else if (in && type == WIRE_SET_TIMER) {
		wbuf_u64(&b, in->arg);
	}
	if (body)
		wbuf_raw(&b, body, blen);
	wire_frame_end(&b, at);
	if (!n->conn || conn_send(n->conn, &b) != 0) {
		wbuf_free(&b);
		node_failed(h, id, "cannot write to its connection");
		return;
	}
	set_busy(h, id);
}

static void hold(struct hub *h, const struct hev *e)
{
	if (h->n_held == h->cap_held) {
		size_t cap = h->cap_held ? 2 * h->cap_held : 64;
		struct hev *p = realloc(h->held, cap * sizeof *p);
		if (!p) {
			struct hev copy = *e;
			hev_discard(&copy);
			return;
		}
		h->held = p;
		h->cap_held = cap;
	}
	h->held[h->n_held++] = *e;
}

/* What waited for node id (paused, or not yet started) arrives now, in the
 * order it came. */
static void release_held(struct hub *h, uint32_t id)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n_held; i++) {
		struct hev e = h->held[i];
		if (e.node != id) {
			h->held[k++] = e;
			continue;
		}
		if (e.kind == HEV_WAKE && e.aux != h->nodes[id].wake_seq)
			continue;
		e.t = h->now;
		if (hub__heap_push(h, e) != 0)
			hev_discard(&e);
	}
	h->n_held = k;
}

static void answer_proposal(struct hub *h, uint64_t req, uint64_t index, uint64_t term, bool ok)
{
	if (h->cfg.hooks.proposed)
		h->cfg.hooks.proposed(h, req, index, term, ok, h->cfg.hooks.ud);
}

/* Run one event.  Returns true if a node is now at work. */
static void run_event(struct hub *h, struct hev *e)
{
	/* e->node is a node, but a client endpoint for deliveries to clients
	 * and a client number for HEV_CLIENT */
	struct hub_node *n = e->node >= 1 && e->node <= HUB_MAX_NODES && e->kind != HEV_CLIENT ?
			     &h->nodes[e->node] : NULL;
	switch (e->kind) {
	case HEV_TIMER:
		if (h->cfg.hooks.timer)
			h->cfg.hooks.timer(h, e->aux, h->cfg.hooks.ud);
		return;
	case HEV_CLIENT:
		hub__client_wake(h, e->node);
		return;
	case HEV_WAKE:
		if (n->status != HUB_NODE_UP)
			return;
		if (n->paused) {
			hold(h, e);
			return;
		}
		n->wake_at = RAFT_NO_DEADLINE;
		give(h, e->node, WIRE_TICK, NULL, 0, NULL);
		return;
	case HEV_DELIVER: {
		struct hub_msg *m = e->msg;
		const char *why = blocked(h, m->from, m->to);
		if (why) {
			drop_msg(h, m, why, true);
			return;
		}
		if (wire_is_client(m->to)) {
			json_t *ev = hub__ev_new(h, "deliver");
			ev_int(ev, "id", (int64_t)m->id);
			hub__emit(h, ev);
			hub__msg_unlink(m);
			hub__client_deliver(h, m);
			hub__msg_free(m);
			return;
		}
		if (n->paused || n->status == HUB_NODE_STARTING) {
			hold(h, e);
			return;
		}
		json_t *ev = hub__ev_new(h, "deliver");
		ev_int(ev, "id", (int64_t)m->id);
		hub__emit(h, ev);
		n->msgs_in++;
		hub__msg_unlink(m);
		give(h, m->to, WIRE_DELIVER, m->bytes, m->len, NULL);
		hub__msg_free(m);
		return;
	}
	case HEV_INPUT: {
		struct hub_input *in = e->in;
		if (in->type == 0) {         /* the first start of a node */
			input_free(in);
			n->incarnation = 1;
			if (spawn_node(h, e->node) != 0) {
				n->status = HUB_NODE_FAILED;
				snprintf(n->why, sizeof n->why, "%s", h->errmsg);
			}
			return;
		}
		if (n->status != HUB_NODE_UP) {
			if (in->type == WIRE_PROPOSE)
				answer_proposal(h, in->req, 0, n->st.term, false);
			input_free(in);
			return;
		}
		if (n->paused) {
			hold(h, e);
			return;
		}
		give(h, e->node, in->type, NULL, 0, in);
		input_free(in);
		return;
	}
	}
}

/* ---- time ------------------------------------------------------------ */

static uint64_t wall_ms(const struct hub *h)
{
	return uv_hrtime() / 1000000u;
}

/* Paced: the virtual time the wall clock allows now. */
static uint64_t allowed(const struct hub *h)
{
	if (h->frozen)
		return h->base_virt;
	double dv = (double)(wall_ms(h) - h->base_wall) * h->speed;
	return h->base_virt + (uint64_t)dv;
}

static void rebase(struct hub *h)
{
	h->base_virt = h->now;
	h->base_wall = wall_ms(h);
}

static enum hub_step_result step_real(struct hub *h)
{
	uint64_t a = allowed(h);
	if (a > h->now)
		h->now = a;
	const struct hev *top = heap_peek(h);
	if (!top) {
		/* nothing due, but a node at work will say DONE and kick; etcd
		 * members live on their own, and their polls kick */
		if (h->etcd)
			return HUB_STEP_BUSY;
		for (uint32_t i = 1; i <= h->cfg.n; i++)
			if (h->rq[i].outstanding)
				return HUB_STEP_BUSY;
		return HUB_STEP_EMPTY;
	}
	if (top->t > h->now)
		return HUB_STEP_WAIT;
	struct hev e = heap_pop(h);
	run_event(h, &e);
	hub__progress(h);
	return HUB_STEP_DID;
}

enum hub_step_result hub_step(struct hub *h)
{
	if (h->stopping)
		return HUB_STEP_EMPTY;
	if (h->pace == HUB_REAL)
		return step_real(h);
	if (h->busy)
		return HUB_STEP_BUSY;
	const struct hev *top = heap_peek(h);
	if (!top)
		return HUB_STEP_EMPTY;
	/* frozen only stops the clock: what was already due still runs */
	if (h->pace == HUB_PACED && top->t > allowed(h))
		return h->frozen ? HUB_STEP_PAUSED : HUB_STEP_WAIT;
	struct hev e = heap_pop(h);
	if (e.t > h->now)
		h->now = e.t;
	run_event(h, &e);
	if (!h->busy)
		hub__progress(h);
	return HUB_STEP_DID;
}

enum hub_step_result hub_step_one(struct hub *h)
{
	if (h->stopping)
		return HUB_STEP_EMPTY;
	if (h->busy)
		return HUB_STEP_BUSY;
	if (!heap_peek(h))
		return HUB_STEP_EMPTY;
	struct hev e = heap_pop(h);
	if (e.t > h->now)
		h->now = e.t;
	run_event(h, &e);
	if (!h->busy)
		hub__progress(h);
	rebase(h);
	return HUB_STEP_DID;
}

uint64_t hub_clock(struct hub *h)
{
	if (h->pace == HUB_FAST || h->busy)
		return h->now;
	uint64_t a = allowed(h);
	return a > h->now ? a : h->now;
}

bool hub_next_time(struct hub *h, uint64_t *t)
{
	const struct hev *top = heap_peek(h);
	if (top)
		*t = top->t;
	return top != NULL;
}

bool hub_caught_up(struct hub *h)
{
	if (h->busy)
		return false;
	if (h->pace != HUB_PACED)
		return true;                 /* fast: always; real: there is no catching up */
	const struct hev *top = heap_peek(h);
	return !top || top->t > allowed(h);
}

double hub_speed(const struct hub *h)
{
	return h->speed;
}

enum hub_pace hub_pace_of(const struct hub *h)
{
	return h->pace;
}

uint64_t hub_wall_wait(struct hub *h)
{
	const struct hev *top = heap_peek(h);
	if (!top || h->pace == HUB_FAST || h->frozen)
		return 0;
	uint64_t a = allowed(h);
	if (top->t <= a)
		return 0;
	double w = (double)(top->t - a) / h->speed;
	return (uint64_t)w + 1;
}

bool hub_busy(const struct hub *h)
{
	return h->busy != 0;
}

uint64_t hub_now(const struct hub *h)
{
	return h->now;
}

void hub_sync_clock(struct hub *h)
{
	if (h->pace == HUB_REAL) {
		uint64_t a = allowed(h);
		if (a > h->now)
			h->now = a;
		return;
	}
	if (h->pace != HUB_PACED || h->busy)
		return;
	uint64_t a = allowed(h);
	const struct hev *top = heap_peek(h);
	if (top && top->t < a)
		a = top->t;
	if (a > h->now)
		h->now = a;
}

void hub_set_pace(struct hub *h, enum hub_pace pace, double speed)
{
	/* real pace is chosen when the cluster starts and stays: its nodes
	 * work side by side, which the other paces do not allow */
	if (h->pace == HUB_REAL || pace == HUB_REAL)
		return;
	hub_sync_clock(h);
	h->pace = pace;
	if (speed > 0)
		h->speed = speed;
	rebase(h);
	hub__kick(h);
}

void hub_freeze(struct hub *h, bool frozen)
{
	if (h->pace == HUB_REAL)
		return;                      /* the wall clock does not stop */
	hub_sync_clock(h);
	h->frozen = frozen;
	rebase(h);
	hub__kick(h);
}

bool hub_frozen(const struct hub *h)
{
	return h->frozen;
}

uint64_t hub_timer(struct hub *h, uint64_t at)
{
	uint64_t id = ++h->next_timer;
	struct hev e = { .t = at < h->now ? h->now : at, .kind = HEV_TIMER, .aux = id };
	if (hub__heap_push(h, e) != 0)
		return 0;
	hub__kick(h);
	return id;
}

/* ---- the mirror ------------------------------------------------------ */

static int entries_reserve(struct hub_entry **arr, uint64_t *cap, uint64_t need)
{
	if (need <= *cap)
		return 0;
	uint64_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	struct hub_entry *p = realloc(*arr, c * sizeof *p);
	if (!p)
		return -1;
	memset(p + *cap, 0, (c - *cap) * sizeof *p);
	*arr = p;
	*cap = c;
	return 0;
}

static void entry_set(struct hub_entry *e, uint64_t term, const uint8_t *data, uint32_t len)
{
	free(e->data);
	e->data = malloc(len + 1);
	if (e->data) {
		memcpy(e->data, data, len);
		e->data[len] = 0;
	}
	e->len = e->data ? len : 0;
	e->term = term;
}

static void mirror_truncate(struct hub_node *n, uint64_t from)
{
	while (n->log_len > 0 && n->log_base + n->log_len >= from) {
		free(n->log[n->log_len - 1].data);
		n->log[n->log_len - 1].data = NULL;
		n->log_len--;
	}
}

/* Drop mirrored entries up to index: the node holds them in its snapshot. */
static void mirror_compact(struct hub_node *n, uint64_t index)
{
	if (index <= n->log_base)
		return;
	uint64_t drop = index - n->log_base;
	if (drop > n->log_len)
		drop = n->log_len;
	if (drop > 0) {
		for (uint64_t i = 0; i < drop; i++)
			free(n->log[i].data);
		memmove(n->log, n->log + drop, (n->log_len - drop) * sizeof *n->log);
		memset(n->log + n->log_len - drop, 0, drop * sizeof *n->log);
		n->log_len -= drop;
	}
	n->log_base = index;
}

uint64_t hub_last_index(const struct hub_node *n)
{
	return n->log_base + n->log_len;
}

const struct hub_entry *hub_entry_at(const struct hub_node *n, uint64_t index)
{
	if (index <= n->log_base || index > n->log_base + n->log_len)
		return NULL;
	return &n->log[index - n->log_base - 1];
}

static void on_snapshot(struct hub *h, struct hub_node *n, uint64_t index, uint64_t term,
			uint64_t bytes, uint8_t how)
{
	static const char *const hows[] = { "taken", "installed", "loaded" };
	json_t *ev = hub__ev_new(h, "snapshot");
	ev_int(ev, "node", n->id);
	ev_int(ev, "index", (int64_t)index);
	ev_int(ev, "term", (int64_t)term);
	ev_int(ev, "bytes", (int64_t)bytes);
	ev_str(ev, "how", hows[how]);
	hub__emit(h, ev);
	if (how != WIRE_SNAP_LOADED)
		n->snapshots++;
	mirror_compact(n, index);
	/* what the snapshot holds counts as applied: later applies follow it */
	if (n->applied_next < index + 1)
		n->applied_next = index + 1;
}

static void note_leader(struct hub *h, uint32_t id, uint64_t term)
{
	if (term >= h->n_terms) {
		uint64_t cap = h->n_terms ? h->n_terms : 64;
		while (cap <= term)
			cap *= 2;
		uint32_t *p = realloc(h->leader_of_term, cap * sizeof *p);
		if (!p)
			return;
		memset(p + h->n_terms, 0, (cap - h->n_terms) * sizeof *p);
		h->leader_of_term = p;
		h->n_terms = cap;
	}
	uint32_t prev = h->leader_of_term[term];
	if (prev && prev != id)
		hub__violation(h, "two leaders in term %" PRIu64 ": node %u and node %u", term, prev, id);
	else
		h->leader_of_term[term] = id;
}

static void on_state(struct hub *h, struct hub_node *n, const struct wire_state *s)
{
	struct wire_state old = n->st;
	n->st = *s;
	if (s->role != old.role || s->term != old.term) {
		json_t *ev = hub__ev_new(h, s->role != old.role ? "role" : "term");
		ev_int(ev, "node", n->id);
		if (s->role != old.role)
			ev_str(ev, "role", raft_role_name((enum raft_role)s->role));
		ev_int(ev, "term", (int64_t)s->term);
		hub__emit(h, ev);
	}
	if (s->voted_for && (s->voted_for != old.voted_for || s->term != old.term)) {
		json_t *ev = hub__ev_new(h, "vote");
		ev_int(ev, "node", n->id);
		ev_int(ev, "term", (int64_t)s->term);
		ev_int(ev, "for", s->voted_for);
		hub__emit(h, ev);
	}
	if (s->commit > old.commit) {
		json_t *ev = hub__ev_new(h, "commit");
		ev_int(ev, "node", n->id);
		ev_int(ev, "index", (int64_t)s->commit);
		hub__emit(h, ev);
	}
	if (s->role == RAFT_LEADER)
		note_leader(h, n->id, s->term);
}

static void on_apply(struct hub *h, struct hub_node *n, uint64_t index, uint64_t term,
		     const uint8_t *data, uint32_t len)
{
	json_t *ev = hub__ev_new(h, "apply");
	ev_int(ev, "node", n->id);
	ev_int(ev, "index", (int64_t)index);
	ev_int(ev, "term", (int64_t)term);
	if (strcmp(h->kind, "raft") == 0) {
		json_object_set_new(ev, "data", evlog_bytes(data, len));
	} else {
		char text[256];
		struct hub_entry e = { .term = term, .len = len, .data = (char *)data };
		hub_describe_entry(h, &e, text, sizeof text);
		ev_str(ev, "data", text);
	}
	hub__emit(h, ev);

	if (index != n->applied_next)
		hub__violation(h, "node %u applied index %" PRIu64 " out of order (expected %" PRIu64 ")",
			  n->id, index, n->applied_next);
	n->applied_next = index + 1;
	if (entries_reserve(&h->applied, &h->applied_cap, index + 1) != 0 ||
	    entries_reserve(&n->applied, &n->applied_cap, index + 1) != 0)
		return;
	struct hub_entry *g = &h->applied[index];
	if (!g->data) {
		entry_set(g, term, data, len);
	} else if (g->len != len || memcmp(g->data, data, len) != 0) {
		hub__violation(h, "apply mismatch at index %" PRIu64 ": node %u applied \"%.*s\", another node applied \"%.*s\"",
			  index, n->id, (int)(len > 60 ? 60 : len), data, (int)(g->len > 60 ? 60 : g->len), g->data);
	}
	entry_set(&n->applied[index], term, data, len);
	if (index > n->applied_max)
		n->applied_max = index;
}

/* ---- frames from nodes ---------------------------------------------- */

static void node_ready(struct hub *h, struct hub_node *n, uint64_t deadline)
{
	if (n->status == HUB_NODE_STARTING) {
		n->status = HUB_NODE_UP;
		/* the paced clock starts once the whole cluster is up: spawning
		 * processes takes wall time that must not count as virtual time */
		if (!h->started) {
			bool all = true;
			for (uint32_t i = 1; i <= h->cfg.n; i++)
				all &= h->nodes[i].incarnation >= 1 && h->nodes[i].status != HUB_NODE_STARTING;
			if (all) {
				h->started = true;
				rebase(h);
			}
		}
		json_t *ev = hub__ev_new(h, "up");
		ev_int(ev, "node", n->id);
		ev_int(ev, "incarnation", n->incarnation);
		ev_int(ev, "term", (int64_t)n->st.term);
		ev_int(ev, "log_len", (int64_t)hub_last_index(n));
		hub__emit(h, ev);
		/* real pace: messages that reached it while it started */
		if (!n->paused)
			release_held(h, n->id);
	}
	n->wake_seq++;
	n->wake_at = deadline;
	if (deadline != RAFT_NO_DEADLINE) {
		struct hev e = { .t = deadline < h->now ? h->now : deadline, .kind = HEV_WAKE,
				 .node = n->id, .aux = n->wake_seq };
		hub__heap_push(h, e);
	}
}

void hub__external_state(struct hub *h, uint32_t id, const struct wire_state *s)
{
	struct hub_node *n = &h->nodes[id];
	if (n->status == HUB_NODE_STARTING)
		node_ready(h, n, RAFT_NO_DEADLINE);
	if (n->status != HUB_NODE_UP)
		return;
	on_state(h, n, s);
	hub__progress(h);
	hub__kick(h);
}

/* One frame from a node that has said HELLO.  Returns NULL, or why the
 * connection must close. */
static const char *node_frame(struct hub *h, struct hub_conn *c, const struct wire_frame *f)
{
	struct hub_node *n = &h->nodes[c->node];
	struct rbuf r;
	rbuf_init(&r, f->payload, f->len);
	if (!node_busy(h, n->id) && f->type != WIRE_FATAL && f->type != WIRE_NOTE)
		return "spoke out of turn";
	switch (f->type) {
	case WIRE_SEND: {
		struct raft_msg m;
		uint8_t type;
		uint32_t from, to;
		if (wire_peek_msg(f->payload, f->len, &type, &from, &to) != 0)
			return "sent an unknown message";
		if (wire_msg_is_mr(type)) {
			struct wire_mr mm;
			if (wire_get_mr_msg(&r, &mm) != 0 || !rbuf_done(&r))
				return r.err;
			if (mm.from != n->id || !valid_node(h, mm.to) || mm.to == mm.from)
				return "a MapReduce message with a bad sender or receiver";
			hub__route_mr(h, f->payload, f->len, &mm);
			return NULL;
		}
		if (!wire_msg_is_raft(type)) {
			uint32_t blen;
			if (!wire_get_kv_msg(&r, &type, &from, &to, &blen) || !rbuf_done(&r))
				return r.err;
			if (type != WIRE_MSG_KV_REPLY || from != n->id || to - WIRE_CLIENT_BASE > h->n_clients)
				return "a key/value reply with a bad sender or receiver";
			hub__route_kv(h, f->payload, f->len, type, from, to);
			return NULL;
		}
		if (wire_get_raft_msg(&r, &m, &h->scratch, &h->scratch_cap) != 0 || !rbuf_done(&r))
			return r.err;
		if (m.from != n->id || !valid_node(h, m.to) || m.to == m.from)
			return "message with a bad sender or receiver";
		route(h, f->payload, f->len, &m);
		return NULL;
	}
	case WIRE_PROPOSED: {
		uint64_t req = rbuf_u64(&r), index = rbuf_u64(&r), term = rbuf_u64(&r);
		uint8_t ok = rbuf_u8(&r);
		if (!rbuf_done(&r))
			return r.err;
		answer_proposal(h, req, index, term, ok != 0);
		return NULL;
	}
	case WIRE_STATE: {
		struct wire_state s;
		if (wire_get_state(&r, &s) != 0 || !rbuf_done(&r))
			return r.err;
		on_state(h, n, &s);
		return NULL;
	}
	case WIRE_APPEND: {
		uint64_t index = rbuf_u64(&r), term = rbuf_u64(&r);
		uint32_t len;
		const uint8_t *data = rbuf_bytes(&r, &len);
		uint8_t recovered = rbuf_u8(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (index != n->log_base + n->log_len + 1)
			return "appended an entry out of sequence";
		if (entries_reserve(&n->log, &n->log_cap, n->log_len + 1) != 0)
			return "out of memory";
		entry_set(&n->log[n->log_len], term, data, len);
		n->log_len++;
		if (!recovered) {
			json_t *ev = hub__ev_new(h, "append");
			ev_int(ev, "node", n->id);
			ev_int(ev, "index", (int64_t)index);
			ev_int(ev, "term", (int64_t)term);
			hub__emit(h, ev);
		}
		return NULL;
	}
	case WIRE_TRUNCATE: {
		uint64_t from = rbuf_u64(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (from == 0)
			return "truncated at index 0";
		json_t *ev = hub__ev_new(h, "truncate");
		ev_int(ev, "node", n->id);
		ev_int(ev, "from", (int64_t)from);
		hub__emit(h, ev);
		mirror_truncate(n, from);
		return NULL;
	}
	case WIRE_APPLY: {
		uint64_t index = rbuf_u64(&r), term = rbuf_u64(&r);
		uint32_t len;
		const uint8_t *data = rbuf_bytes(&r, &len);
		if (!rbuf_done(&r))
			return r.err;
		on_apply(h, n, index, term, data, len);
		return NULL;
	}
	case WIRE_SNAPSHOT: {
		uint64_t index = rbuf_u64(&r), term = rbuf_u64(&r), bytes = rbuf_u64(&r);
		uint8_t how = rbuf_u8(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (how > WIRE_SNAP_LOADED || index == 0)
			return "a bad snapshot report";
		on_snapshot(h, n, index, term, bytes, how);
		return NULL;
	}
	case WIRE_KV_SET: {
		uint32_t klen, vlen;
		const uint8_t *key = rbuf_bytes(&r, &klen);
		const uint8_t *value = rbuf_bytes(&r, &vlen);
		uint64_t version = rbuf_u64(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (hub__kv_set(h, n, key, klen, value, vlen, version) != 0)
			return "out of memory";
		return NULL;
	}
	case WIRE_KV_RESET:
		if (!rbuf_done(&r))
			return r.err;
		hub__kv_reset(n);
		return NULL;
	case WIRE_MR_JOB:
	case WIRE_MR_TASK:
	case WIRE_MR_WORKER:
		return hub__mr_frame(h, n, f);
	case WIRE_BYE: {
		uint8_t how = rbuf_u8(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (how > 1)
			return "a bad BYE";
		on_bye(h, n, how);
		return NULL;
	}
	case WIRE_NOTE: {
		uint8_t level = rbuf_u8(&r);
		uint32_t len;
		const uint8_t *text = rbuf_bytes(&r, &len);
		if (!rbuf_done(&r))
			return r.err;
		json_t *ev = hub__ev_new(h, "note");
		ev_int(ev, "node", n->id);
		ev_str(ev, "level", level ? "warning" : "info");
		json_object_set_new(ev, "text", evlog_bytes(text, len));
		hub__emit(h, ev);
		return NULL;
	}
	case WIRE_DONE: {
		uint64_t deadline = rbuf_u64(&r);
		if (!rbuf_done(&r))
			return r.err;
		node_ready(h, n, deadline);
		clear_busy(h, n->id);
		hub__progress(h);
		hub__kick(h);
		return NULL;
	}
	case WIRE_FATAL: {
		uint32_t len;
		const uint8_t *text = rbuf_bytes(&r, &len);
		if (!rbuf_done(&r))
			return r.err;
		node_failed(h, n->id, "%.*s", (int)len, text);
		return NULL;
	}
	default:
		return "sent a frame only the hub may send";
	}
}

static const char *hello_frame(struct hub *h, struct hub_conn *c, const struct wire_frame *f)
{
	if (f->type != WIRE_HELLO)
		return "first frame is not HELLO";
	struct rbuf r;
	rbuf_init(&r, f->payload, f->len);
	uint16_t version = rbuf_u16(&r);
	uint8_t token[WIRE_TOKEN_LEN];
	rbuf_raw(&r, token, sizeof token);
	uint32_t id = rbuf_u32(&r), inc = rbuf_u32(&r);
	(void)rbuf_u32(&r);                  /* pid: the supervisor knows it already */
	if (!rbuf_done(&r))
		return r.err;
	if (version != WIRE_VERSION)
		return "protocol version mismatch";
	if (memcmp(token, h->token, sizeof token) != 0)
		return "bad token";
	if (!valid_node(h, id))
		return "node id out of range";
	struct hub_node *n = &h->nodes[id];
	if (n->status != HUB_NODE_STARTING || n->incarnation != inc || n->conn)
		return "unexpected node incarnation";
	c->node = id;
	c->incarnation = inc;
	n->conn = c;
	return NULL;
}

static void conn_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static char slab[65536];
	*buf = uv_buf_init(slab, sizeof slab);
}

static void on_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct hub_conn *c = s->data;
	struct hub *h = c->hub;
	if (c->closing)
		return;
	if (nread < 0) {
		if (c->rd.len > 0)
			conn_close(c, "connection closed in the middle of a frame");
		else
			conn_close(c, c->node ? "connection closed" : "connection closed before HELLO");
		return;
	}
	if (nread == 0)
		return;
	if (wire_reader_feed(&c->rd, buf->base, (size_t)nread) != 0) {
		conn_close(c, "out of memory");
		return;
	}
	while (!c->closing) {
		struct wire_frame f;
		const char *why = NULL;
		int rc = wire_reader_next(&c->rd, &f, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			conn_close(c, why);
			return;
		}
		why = c->node ? node_frame(h, c, &f) : hello_frame(h, c, &f);
		if (why) {
			conn_close(c, why);
			return;
		}
	}
}

static void on_conn_closed(uv_handle_t *handle)
{
	struct hub_conn *c = handle->data;
	struct hub *h = c->hub;
	struct hub_conn **pp = &h->conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	wire_reader_free(&c->rd);
	free(c);
	h->handles--;
	maybe_free(h);
}

static void conn_close(struct hub_conn *c, const char *why)
{
	struct hub *h = c->hub;
	if (c->closing)
		return;
	c->closing = true;
	uint32_t id = c->node;
	if (id && h->nodes[id].conn == c) {
		h->nodes[id].conn = NULL;
		struct hub_node *n = &h->nodes[id];
		if (n->status == HUB_NODE_UP || n->status == HUB_NODE_STARTING)
			node_failed(h, id, "%s", why ? why : "connection closed");
	} else if (!id && !h->stopping) {
		snprintf(h->last_reject, sizeof h->last_reject, "%s", why ? why : "closed");
		json_t *ev = hub__ev_new(h, "reject");
		ev_str(ev, "why", h->last_reject);
		hub__emit(h, ev);
		if (!h->cfg.quiet)
			fprintf(stderr, "termscope: hub: closed a connection: %s\n", h->last_reject);
	}
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct hub *h = server->data;
	if (status < 0 || h->stopping)
		return;
	struct hub_conn *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->hub = h;
	wire_reader_init(&c->rd);
	uv_tcp_init(h->loop, &c->tcp);
	c->tcp.data = c;
	h->handles++;
	c->next = h->conns;
	h->conns = c;
	c->opened = uv_now(h->loop);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, on_conn_read) != 0) {
		conn_close(c, "accept failed");
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
}

/* ---- supervisor ------------------------------------------------------ */

static void on_proc_closed(uv_handle_t *handle)
{
	struct hub_proc *p = handle->data;
	struct hub *h = p->hub;
	free(p);
	h->handles--;
	maybe_free(h);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
	struct hub_proc *p = proc->data;
	struct hub *h = p->hub;
	p->exited = true;
	struct hub_node *n = &h->nodes[p->node];
	if (n->proc == p)
		n->proc = NULL;
	if (!p->killed && !h->stopping && n->incarnation == p->incarnation) {
		if (h->etcd && n->status == HUB_NODE_STARTING && !sig && hub__etcd_retry_start(h, p->node)) {
			/* started again on new ports */
		} else if (n->status == HUB_NODE_UP || n->status == HUB_NODE_STARTING) {
			if (sig)
				node_failed(h, p->node, "killed by signal %d", sig);
			else
				node_failed(h, p->node, "exited with status %d", (int)status);
		} else if (n->status == HUB_NODE_FAILED && (sig || status)) {
			size_t l = strlen(n->why);
			snprintf(n->why + l, sizeof n->why - l, sig ? " (killed by signal %d)" : " (exit status %d)",
				 sig ? sig : (int)status);
		}
	}
	uv_close((uv_handle_t *)proc, on_proc_closed);
}

static void proc_kill(struct hub_proc *p)
{
	if (!p || p->exited)
		return;
	p->killed = true;
	uv_process_kill(&p->proc, SIGKILL);
}

static int spawn_node(struct hub *h, uint32_t id)
{
	if (h->etcd)
		return hub__etcd_spawn(h, id);
	struct hub_node *n = &h->nodes[id];
	char a_id[16], a_n[16], a_port[16], a_seed[32], a_inc[16], a_now[32], a_hb[32], a_el[32];
	char a_max[32], a_every[32];
	char dir[4096];
	snprintf(a_id, sizeof a_id, "%u", id);
	snprintf(a_n, sizeof a_n, "%u", h->cfg.n);
	snprintf(a_port, sizeof a_port, "%d", h->port);
	snprintf(a_seed, sizeof a_seed, "%" PRIu64, h->cfg.seed);
	snprintf(a_inc, sizeof a_inc, "%u", n->incarnation);
	snprintf(a_now, sizeof a_now, "%" PRIu64, h->now);
	snprintf(a_hb, sizeof a_hb, "%" PRIu64, h->cfg.heartbeat ? h->cfg.heartbeat : 100);
	snprintf(a_el, sizeof a_el, "%" PRIu64, h->cfg.election ? h->cfg.election : 300);
	snprintf(a_max, sizeof a_max, "%" PRIu64, h->cfg.maxraftstate);
	snprintf(a_every, sizeof a_every, "%" PRIu64, h->cfg.snapshot_every);
	snprintf(dir, sizeof dir, "%s/node-%u", h->dir, id);
	char *args[] = { h->exe, "node", "--id", a_id, "--nodes", a_n, "--port", a_port,
			 "--dir", dir, "--seed", a_seed, "--inc", a_inc, "--now", a_now,
			 "--heartbeat", a_hb, "--election", a_el, "--kind", h->kind,
			 "--maxraftstate", a_max, "--snapshot-every", a_every,
			 "--dedup", h->cfg.no_dedup ? "0" : "1", "--real", h->pace == HUB_REAL ? "1" : "0",
			 "--fsync", h->fsync,
			 h->mr_job ? "--job" : NULL, h->mr_job, NULL };
	if (hub__spawn_process(h, id, h->exe, args) != 0)
		return -1;
	set_busy(h, id);
	return 0;
}

int hub__spawn_process(struct hub *h, uint32_t id, const char *file, char **args)
{
	struct hub_node *n = &h->nodes[id];
	char errpath[4200];
	snprintf(errpath, sizeof errpath, "%s/node-%u.stderr", h->dir, id);

	/* environment: ours plus the token and our pid */
	extern char **environ;
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **env = calloc(ne + 3, sizeof *env);
	if (!env)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "TERMSCOPE_TOKEN=", 16) != 0 && strncmp(environ[i], "TERMSCOPE_PPID=", 15) != 0)
			env[k++] = environ[i];
	char tok[64], ppid[64];
	snprintf(tok, sizeof tok, "TERMSCOPE_TOKEN=%s", h->token_hex);
	snprintf(ppid, sizeof ppid, "TERMSCOPE_PPID=%d", (int)getpid());
	env[k++] = tok;
	env[k++] = ppid;
	env[k] = NULL;

	int errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_IGNORE },
		{ .flags = errfd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = errfd },
	};
	struct hub_proc *p = calloc(1, sizeof *p);
	if (!p) {
		free(env);
		if (errfd >= 0)
			close(errfd);
		return -1;
	}
	p->hub = h;
	p->node = id;
	p->incarnation = n->incarnation;
	p->proc.data = p;
	uv_process_options_t opt = {
		.exit_cb = on_exit_cb,
		.file = file,
		.args = args,
		.env = env,
		.stdio_count = 3,
		.stdio = stdio,
	};
	int rc = uv_spawn(h->loop, &p->proc, &opt);
	free(env);
	if (errfd >= 0)
		close(errfd);
	if (rc != 0) {
		free(p);
		hub__set_err(h, "cannot start node %u (%s): %s", id, file, uv_strerror(rc));
		return -1;
	}
	h->handles++;
	n->proc = p;
	n->pid = p->proc.pid;
	n->status = HUB_NODE_STARTING;
	json_t *ev = hub__ev_new(h, "spawn");
	ev_int(ev, "node", id);
	ev_int(ev, "incarnation", n->incarnation);
	ev_int(ev, "pid", n->pid);
	hub__emit(h, ev);
	return 0;
}

static void drop_held(struct hub *h, uint32_t id, const char *why);

/* A node leaves on its own: its work is done (0), or its app crashed it
 * (1, as if SIGKILLed: it can be restarted). */
static void on_bye(struct hub *h, struct hub_node *n, uint8_t how)
{
	json_t *ev = hub__ev_new(h, how ? "crash" : "exit");
	ev_int(ev, "node", n->id);
	if (how)
		ev_str(ev, "why", "its app crashed it");
	hub__emit(h, ev);
	n->status = how ? HUB_NODE_DOWN : HUB_NODE_EXITED;
	n->paused = false;
	n->wake_seq++;
	n->wake_at = RAFT_NO_DEADLINE;
	drop_held(h, n->id, how ? "crashed" : "exited");
	if (h->etcd)
		hub__etcd_down(h, n->id);
	/* the connection is over too: its close, read later, must not be
	 * taken for a failure of whatever incarnation comes next */
	if (n->conn) {
		n->conn->node = 0;
		n->conn->closing = true;
		uv_close((uv_handle_t *)&n->conn->tcp, on_conn_closed);
		n->conn = NULL;
	}
	if (h->pace == HUB_REAL)
		drop_queue(h, n->id);
	else if (h->busy == n->id)
		h->busy = 0;
	hub__progress(h);
	hub__kick(h);
}

static void reset_mirror(struct hub_node *n)
{
	mirror_truncate(n, 1);
	n->log_base = 0;
	hub__kv_reset(n);
	memset(&n->st, 0, sizeof n->st);
	n->applied_next = 1;
	n->wake_seq++;
	n->wake_at = RAFT_NO_DEADLINE;
}

/* Drop everything held for a paused node that went down. */
static void drop_held(struct hub *h, uint32_t id, const char *why)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n_held; i++) {
		struct hev *e = &h->held[i];
		if (e->node != id) {
			h->held[k++] = *e;
			continue;
		}
		if (e->kind == HEV_DELIVER)
			drop_msg(h, e->msg, why, true);
		else if (e->kind == HEV_INPUT && e->in->type == WIRE_PROPOSE) {
			answer_proposal(h, e->in->req, 0, 0, false);
			input_free(e->in);
		} else
			hev_discard(e);
	}
	h->n_held = k;
}

/* What a failed node said on its stderr (a sanitizer report, say), so the
 * user sees it even though the run dir will be removed. */
static void show_stderr_tail(struct hub *h, uint32_t id)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/node-%u.stderr", h->dir, id);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char buf[4096];
	if (fseek(f, -(long)sizeof buf + 1, SEEK_END) != 0)
		rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	if (n > 0)
		fprintf(stderr, "termscope: node %u's last words:\n%s%s", id, buf, buf[n - 1] == '\n' ? "" : "\n");
}

static void node_failed(struct hub *h, uint32_t id, const char *fmt, ...)
{
	struct hub_node *n = &h->nodes[id];
	if (n->status == HUB_NODE_FAILED || n->status == HUB_NODE_DOWN)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n->why, sizeof n->why, fmt, ap);
	va_end(ap);
	n->status = HUB_NODE_FAILED;
	n->paused = false;
	n->wake_seq++;
	json_t *ev = hub__ev_new(h, "error");
	ev_str(ev, "what", "node");
	ev_int(ev, "node", id);
	ev_str(ev, "text", n->why);
	hub__emit(h, ev);
	if (!h->stopping && !h->cfg.quiet) {
		fprintf(stderr, "termscope: node %u failed: %s\n", id, n->why);
		show_stderr_tail(h, id);
	}
	drop_held(h, id, "failed");
	if (h->etcd)
		hub__etcd_down(h, id);
	if (n->conn) {
		struct hub_conn *c = n->conn;
		n->conn = NULL;
		conn_close(c, NULL);
	}
	proc_kill(n->proc);
	if (h->pace == HUB_REAL) {
		drop_queue(h, id);
		hub__kick(h);
	} else if (h->busy == id) {
		h->busy = 0;
		hub__progress(h);
		hub__kick(h);
	}
}

static void on_watchdog(uv_timer_t *t)
{
	struct hub *h = t->data;
	if (h->busy && uv_now(h->loop) - h->busy_since > WATCHDOG_MS)
		node_failed(h, h->busy, "did not answer within %d s", WATCHDOG_MS / 1000);
	for (uint32_t i = 1; h->pace == HUB_REAL && i <= h->cfg.n; i++)
		if (h->rq[i].outstanding && !h->nodes[i].paused && uv_now(h->loop) - h->rq[i].since > WATCHDOG_MS)
			node_failed(h, i, "did not answer within %d s", WATCHDOG_MS / 1000);
	uint64_t now = uv_now(h->loop);
	for (struct hub_conn *c = h->conns; c; c = c->next)
		if (!c->node && !c->closing && now - c->opened > HELLO_MS)
			conn_close(c, "no HELLO in time");
}

/* ---- faults ---------------------------------------------------------- */

static int check_id(struct hub *h, uint32_t id)
{
	if (!valid_node(h, id)) {
		hub__set_err(h, "no node %u (the cluster has nodes 1-%u)", id, h->cfg.n);
		return -1;
	}
	if (h->busy) {
		hub__set_err(h, "the hub is busy");
		return -1;
	}
	return 0;
}

static void ev_node(struct hub *h, const char *name, uint32_t id)
{
	json_t *ev = hub__ev_new(h, name);
	ev_int(ev, "node", id);
	hub__emit(h, ev);
}

int hub_crash(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	struct hub_node *n = &h->nodes[id];
	if (n->status == HUB_NODE_DOWN) {
		hub__set_err(h, "node %u is already down", id);
		return -1;
	}
	if (n->status == HUB_NODE_EXITED) {
		hub__set_err(h, "node %u has exited: its work was done", id);
		return -1;
	}
	ev_node(h, "crash", id);
	n->status = HUB_NODE_DOWN;
	n->paused = false;
	n->wake_seq++;
	drop_held(h, id, "crashed");
	if (h->pace == HUB_REAL)
		drop_queue(h, id);
	if (h->etcd)
		hub__etcd_down(h, id);
	if (n->conn) {
		struct hub_conn *c = n->conn;
		n->conn = NULL;
		c->node = 0;
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	}
	proc_kill(n->proc);
	hub__progress(h);
	return 0;
}

int hub_restart(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	struct hub_node *n = &h->nodes[id];
	if (n->status == HUB_NODE_UP && hub_crash(h, id) != 0)
		return -1;
	n->incarnation++;
	reset_mirror(n);
	n->why[0] = 0;
	json_t *ev = hub__ev_new(h, "restart");
	ev_int(ev, "node", id);
	ev_int(ev, "incarnation", n->incarnation);
	hub__emit(h, ev);
	if (spawn_node(h, id) != 0) {
		n->status = HUB_NODE_FAILED;
		snprintf(n->why, sizeof n->why, "%s", h->errmsg);
		return -1;
	}
	return 0;
}

int hub_pause(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	struct hub_node *n = &h->nodes[id];
	if (n->status != HUB_NODE_UP || n->paused) {
		hub__set_err(h, "node %u is not running", id);
		return -1;
	}
	n->paused = true;
	ev_node(h, "pause", id);
	/* real pace: it stops for real, mid-input if it was at work (in the
	 * other paces it is simply given nothing: it cannot be mid-input) */
	if (h->pace == HUB_REAL && n->pid > 0)
		kill(n->pid, SIGSTOP);
	hub__progress(h);
	return 0;
}

int hub_resume(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	struct hub_node *n = &h->nodes[id];
	if (!n->paused) {
		hub__set_err(h, "node %u is not paused", id);
		return -1;
	}
	n->paused = false;
	ev_node(h, "resume", id);
	if (h->pace == HUB_REAL && n->pid > 0 && n->status == HUB_NODE_UP)
		kill(n->pid, SIGCONT);
	release_held(h, id);
	hub__progress(h);
	hub__kick(h);
	return 0;
}

static void ev_net(struct hub *h, const char *name)
{
	json_t *ev = hub__ev_new(h, name);
	hub__emit(h, ev);
}

int hub_partition(struct hub *h, const uint32_t *group_of)
{
	if (h->busy) {
		hub__set_err(h, "the hub is busy");
		return -1;
	}
	net_partition(&h->net, group_of);
	/* the event lists the groups, in order of their lowest member */
	json_t *ev = hub__ev_new(h, "partition");
	json_t *groups = json_array();
	bool seen[HUB_MAX_NODES + 1] = { 0 };
	for (uint32_t i = 1; i <= h->cfg.n; i++) {
		if (seen[i] || !group_of[i])
			continue;
		json_t *g = json_array();
		for (uint32_t j = i; j <= h->cfg.n; j++)
			if (group_of[j] == group_of[i]) {
				seen[j] = true;
				json_array_append_new(g, json_integer(j));
			}
		json_array_append_new(groups, g);
	}
	json_object_set_new(ev, "groups", groups);
	hub__emit(h, ev);
	if (h->etcd)
		hub__etcd_net(h);
	hub__progress(h);
	return 0;
}

int hub_isolate(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	net_isolate(&h->net, id);
	ev_node(h, "isolate", id);
	if (h->etcd)
		hub__etcd_net(h);
	hub__progress(h);
	return 0;
}

int hub_connect(struct hub *h, uint32_t id)
{
	if (check_id(h, id) != 0)
		return -1;
	net_connect(&h->net, id);
	ev_node(h, "connect", id);
	if (h->etcd)
		hub__etcd_net(h);
	hub__progress(h);
	return 0;
}

int hub_cut(struct hub *h, uint32_t from, uint32_t to)
{
	if (check_id(h, from) != 0 || check_id(h, to) != 0)
		return -1;
	if (from == to) {
		hub__set_err(h, "a node cannot be cut from itself");
		return -1;
	}
	net_cut(&h->net, from, to);
	json_t *ev = hub__ev_new(h, "cut");
	ev_int(ev, "from", from);
	ev_int(ev, "to", to);
	hub__emit(h, ev);
	if (h->etcd)
		hub__etcd_net(h);
	hub__progress(h);
	return 0;
}

int hub_heal(struct hub *h)
{
	if (h->busy) {
		hub__set_err(h, "the hub is busy");
		return -1;
	}
	net_heal(&h->net);
	hub__clients_reach_all(h);       /* a confined client too: everything is reachable */
	ev_net(h, "heal");
	if (h->etcd)
		hub__etcd_net(h);
	hub__progress(h);
	return 0;
}

int hub_set_net(struct hub *h, const struct net_params *p)
{
	if (p->drop < 0 || p->drop > 1 || p->dup < 0 || p->dup > 1) {
		hub__set_err(h, "probabilities must be between 0 and 1");
		return -1;
	}
	if (p->delay_min > p->delay_max || p->delay_max > 3600000) {
		hub__set_err(h, "delay must be {min, max} with 0 <= min <= max <= 3600000 ms");
		return -1;
	}
	if (h->etcd && (p->drop > 0 || p->dup > 0 || p->delay_max > 0 || p->reorder || p->long_delays)) {
		hub__set_err(h, "an etcd cluster's traffic is real TCP through the hub's proxies: partitions, "
			     "isolation and cuts apply, loss, delay and duplication do not");
		return -1;
	}
	h->net.p = *p;
	json_t *ev = hub__ev_new(h, "net");
	json_object_set_new(ev, "drop", json_real(p->drop));
	json_t *d = json_array();
	json_array_append_new(d, json_integer((json_int_t)p->delay_min));
	json_array_append_new(d, json_integer((json_int_t)p->delay_max));
	json_object_set_new(ev, "delay", d);
	json_object_set_new(ev, "dup", json_real(p->dup));
	json_object_set_new(ev, "reorder", json_boolean(p->reorder));
	json_object_set_new(ev, "long_delays", json_boolean(p->long_delays));
	hub__emit(h, ev);
	return 0;
}

/* The levers that reach into a node's Raft: not an etcd member's. */
static int not_etcd(struct hub *h, const char *what)
{
	if (!h->etcd)
		return 0;
	hub__set_err(h, "etcd keeps its Raft to itself: %s (its members take commands from clients, "
		     "and their timers are their own)", what);
	return -1;
}

static int push_input(struct hub *h, uint32_t id, enum wire_type type, uint64_t req, uint64_t arg,
		      const void *data, uint32_t len)
{
	struct hub_input *in = calloc(1, sizeof *in);
	if (!in || !(in->data = malloc(len ? len : 1))) {
		free(in);
		hub__set_err(h, "out of memory");
		return -1;
	}
	in->type = type;
	in->req = req;
	in->arg = arg;
	in->len = len;
	if (len)
		memcpy(in->data, data, len);
	struct hev e = { .t = h->now, .kind = HEV_INPUT, .node = id, .in = in };
	if (hub__heap_push(h, e) != 0) {
		input_free(in);
		hub__set_err(h, "out of memory");
		return -1;
	}
	hub__kick(h);
	return 0;
}

int hub_propose(struct hub *h, uint32_t id, const void *data, uint32_t len, uint64_t req)
{
	if (not_etcd(h, "no command can be submitted at a member") != 0)
		return -1;
	if (len > WIRE_MAX_COMMAND) {
		hub__set_err(h, "a command of %u bytes is too big (the limit is %u)", len, WIRE_MAX_COMMAND);
		return -1;
	}
	if (!valid_node(h, id)) {
		hub__set_err(h, "no node %u (the cluster has nodes 1-%u)", id, h->cfg.n);
		return -1;
	}
	return push_input(h, id, WIRE_PROPOSE, req, 0, data, len);
}

int hub_timeout_now(struct hub *h, uint32_t id)
{
	if (not_etcd(h, "a member cannot be timed out by hand") != 0)
		return -1;
	if (check_id(h, id) != 0)
		return -1;
	ev_node(h, "timeout", id);
	return push_input(h, id, WIRE_TIMEOUT_NOW, 0, 0, NULL, 0);
}

int hub_align_timers(struct hub *h)
{
	if (not_etcd(h, "election timers cannot be aligned") != 0)
		return -1;
	uint64_t at = h->now + (h->cfg.election ? h->cfg.election : 300);
	json_t *ev = hub__ev_new(h, "align");
	ev_int(ev, "at", (int64_t)at);
	hub__emit(h, ev);
	for (uint32_t id = 1; id <= h->cfg.n; id++)
		if (h->nodes[id].status == HUB_NODE_UP && h->nodes[id].st.role != RAFT_LEADER)
			push_input(h, id, WIRE_SET_TIMER, 0, at, NULL, 0);
	return 0;
}

const char *hub_errmsg(const struct hub *h)
{
	return h->errmsg;
}

/* ---- message control ------------------------------------------------- */

static struct hub_msg *msg_by_id(const struct hub *h, uint64_t id)
{
	for (struct hub_msg *m = h->inflight.next; m != &h->inflight; m = m->next)
		if (m->id == id)
			return m;
	return NULL;
}

const struct hub_msg *hub_msg_find(const struct hub *h, uint64_t id)
{
	return msg_by_id(h, id);
}

/* Find the heap slot of a message's delivery. */
static size_t heap_find_msg(const struct hub *h, const struct hub_msg *m)
{
	for (size_t i = 0; i < h->n_heap; i++)
		if (h->heap[i].kind == HEV_DELIVER && h->heap[i].msg == m)
			return i;
	return SIZE_MAX;
}

/* Take heap slot i out, keeping the heap ordered. */
static struct hev heap_remove(struct hub *h, size_t i)
{
	struct hev out = h->heap[i];
	/* move it to the top by giving it the smallest key, then pop */
	h->heap[i].t = 0;
	h->heap[i].seq = 0;
	h->heap[i].kind = HEV_DELIVER;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct hev tmp = h->heap[i];
		h->heap[i] = h->heap[parent];
		h->heap[parent] = tmp;
		i = parent;
	}
	(void)heap_pop(h);
	return out;
}

static struct hub_msg *msg_for_control(struct hub *h, uint64_t id, size_t *slot)
{
	if (h->busy) {
		hub__set_err(h, "the hub is busy");
		return NULL;
	}
	struct hub_msg *m = msg_by_id(h, id);
	if (!m) {
		hub__set_err(h, "no message %" PRIu64 " in flight", id);
		return NULL;
	}
	*slot = heap_find_msg(h, m);
	if (*slot == SIZE_MAX) {
		hub__set_err(h, "message %" PRIu64 " is held for a paused node", id);
		return NULL;
	}
	return m;
}

int hub_msg_deliver_now(struct hub *h, uint64_t id)
{
	size_t slot;
	struct hub_msg *m = msg_for_control(h, id, &slot);
	if (!m)
		return -1;
	struct hev e = heap_remove(h, slot);
	e.t = h->now;
	m->deliver_at = h->now;
	hub__heap_push(h, e);
	json_t *ev = hub__ev_new(h, "hurry");
	ev_int(ev, "id", (int64_t)id);
	hub__emit(h, ev);
	hub__kick(h);
	return 0;
}

int hub_msg_drop(struct hub *h, uint64_t id)
{
	size_t slot;
	struct hub_msg *m = msg_for_control(h, id, &slot);
	if (!m)
		return -1;
	heap_remove(h, slot);
	drop_msg(h, m, "by hand", true);
	hub__progress(h);
	return 0;
}

int hub_msg_dup(struct hub *h, uint64_t id)
{
	size_t slot;
	struct hub_msg *m = msg_for_control(h, id, &slot);
	if (!m)
		return -1;
	if (!hub__msg_launch(h, m->id, m->from, m->to, m->type, m->bytes, m->len, m->deliver_at, true)) {
		hub__set_err(h, "out of memory");
		return -1;
	}
	json_t *ev = hub__ev_new(h, "dup");
	ev_int(ev, "id", (int64_t)id);
	ev_str(ev, "by", "hand");
	hub__emit(h, ev);
	hub__progress(h);
	return 0;
}

/* ---- queries --------------------------------------------------------- */

uint32_t hub_size(const struct hub *h)
{
	return h->cfg.n;
}

const struct hub_node *hub_node(const struct hub *h, uint32_t id)
{
	return valid_node(h, id) ? &h->nodes[id] : NULL;
}

static bool running(const struct hub_node *n)
{
	return n->status == HUB_NODE_UP && !n->paused;
}

bool hub_can_reach(const struct hub *h, uint32_t from, uint32_t to)
{
	return net_link_up(&h->net, from, to);
}

bool hub_quorum(const struct hub *h, uint32_t id)
{
	if (!valid_node(h, id) || !running(&h->nodes[id]))
		return false;
	uint32_t reach = 0;
	for (uint32_t j = 1; j <= h->cfg.n; j++)
		if (running(&h->nodes[j]) && net_link_up(&h->net, id, j) && net_link_up(&h->net, j, id))
			reach++;
	return 2 * reach > h->cfg.n;
}

uint32_t hub_leader(const struct hub *h)
{
	uint32_t best = 0;
	uint64_t best_term = 0;
	for (uint32_t i = 1; i <= h->cfg.n; i++) {
		const struct hub_node *n = &h->nodes[i];
		if (n->st.role != RAFT_LEADER || !hub_quorum(h, i))
			continue;
		if (!best || n->st.term > best_term) {
			best = i;
			best_term = n->st.term;
		}
	}
	return best;
}

const struct net_model *hub_net(const struct hub *h)
{
	return &h->net;
}

const struct hub_msg *hub_inflight(const struct hub *h)
{
	return h->inflight.next == &h->inflight ? NULL : h->inflight.next;
}

const struct hub_msg *hub_inflight_next(const struct hub *h, const struct hub_msg *m)
{
	return m->next == &h->inflight ? NULL : m->next;
}

uint64_t hub_rpc_count(const struct hub *h)
{
	return h->rpc_count;
}

uint64_t hub_rpc_bytes(const struct hub *h)
{
	return h->rpc_bytes;
}

uint64_t hub_drop_count(const struct hub *h)
{
	return h->drops;
}

uint64_t hub_link_drops(const struct hub *h, uint32_t from, uint32_t to)
{
	return valid_node(h, from) && valid_node(h, to) ? h->link_drops[from][to] : 0;
}

int hub_number(const struct hub *h)
{
	return h->cfg.number;
}

int hub_port(const struct hub *h)
{
	return h->port;
}

const char *hub_dir(const struct hub *h)
{
	return h->dir;
}

uint64_t hub_seed(const struct hub *h)
{
	return h->cfg.seed;
}

const char *hub_violation(const struct hub *h)
{
	return h->violation[0] ? h->violation : NULL;
}

const char *hub_kind(const struct hub *h)
{
	return h->kind;
}

const char *hub_fsync(const struct hub *h)
{
	return h->fsync;
}

uint32_t hub_committed(const struct hub *h, uint64_t index, const struct hub_entry **cmd)
{
	uint32_t count = 0;
	*cmd = NULL;
	for (uint32_t i = 1; i <= h->cfg.n; i++) {
		const struct hub_node *n = &h->nodes[i];
		if (index < n->applied_cap && n->applied[index].data) {
			count++;
			if (!*cmd)
				*cmd = &n->applied[index];
		}
	}
	return count;
}

/* ---- probes ---------------------------------------------------------- */

static void probe_report(struct probe *p, const char *why)
{
	if (p->reported)
		return;
	p->reported = true;
	if (p->cb)
		p->cb(p->hub, why, p->ud);
}

static void on_probe_closed(uv_handle_t *handle)
{
	struct probe *p = handle->data;
	struct hub *h = p->hub;
	if (h->probe == p)
		h->probe = NULL;
	free(p->bytes);
	free(p);
	h->handles--;
	maybe_free(h);
}

static void probe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct probe *p = s->data;
	if (nread >= 0)
		return;                      /* the hub has nothing to say to strangers */
	probe_report(p, p->hub->last_reject[0] ? p->hub->last_reject : "closed");
	uv_close((uv_handle_t *)&p->tcp, on_probe_closed);
}

static void probe_shut(uv_shutdown_t *req, int status)
{
}

static void probe_written(uv_write_t *req, int status)
{
	struct probe *p = req->data;
	if (status == 0)
		uv_shutdown(&p->shutdown, (uv_stream_t *)&p->tcp, probe_shut);
}

static void probe_connected(uv_connect_t *req, int status)
{
	struct probe *p = req->data;
	if (status < 0) {
		probe_report(p, uv_strerror(status));
		uv_close((uv_handle_t *)&p->tcp, on_probe_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&p->tcp, conn_alloc, probe_read);
	uv_buf_t buf = uv_buf_init((char *)p->bytes, (unsigned)p->len);
	p->write.data = p;
	if (uv_write(&p->write, (uv_stream_t *)&p->tcp, &buf, 1, probe_written) != 0)
		uv_shutdown(&p->shutdown, (uv_stream_t *)&p->tcp, probe_shut);
}

int hub_probe(struct hub *h, const void *bytes, size_t len, hub_probe_cb cb, void *ud)
{
	if (h->probe || h->stopping) {
		hub__set_err(h, "a probe is already under way");
		return -1;
	}
	struct probe *p = calloc(1, sizeof *p);
	if (!p || !(p->bytes = malloc(len ? len : 1))) {
		free(p);
		hub__set_err(h, "out of memory");
		return -1;
	}
	memcpy(p->bytes, bytes, len);
	p->len = len;
	p->hub = h;
	p->cb = cb;
	p->ud = ud;
	h->last_reject[0] = 0;
	uv_tcp_init(h->loop, &p->tcp);
	p->tcp.data = p;
	p->connect.data = p;
	h->handles++;
	h->probe = p;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", h->port, &addr);
	if (uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&addr, probe_connected) != 0) {
		p->cb = NULL;
		uv_close((uv_handle_t *)&p->tcp, on_probe_closed);
		hub__set_err(h, "cannot connect to the hub");
		return -1;
	}
	return 0;
}

/* ---- life ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *handle)
{
	struct hub *h = handle->data;
	h->handles--;
	maybe_free(h);
}

static void hub_free(struct hub *h)
{
	while (h->n_heap) {
		struct hev e = heap_pop(h);
		if (!hev_stale(h, &e))
			hev_discard(&e);
		else if (e.kind == HEV_INPUT)
			input_free(e.in);
	}
	for (size_t i = 0; i < h->n_held; i++)
		hev_discard(&h->held[i]);
	while (h->inflight.next != &h->inflight) {
		struct hub_msg *m = h->inflight.next;
		hub__msg_unlink(m);
		hub__msg_free(m);
	}
	for (uint32_t i = 1; i <= HUB_MAX_NODES; i++) {
		struct hub_node *n = &h->nodes[i];
		mirror_truncate(n, 1);
		free(n->log);
		for (uint64_t k = 0; k < n->applied_cap; k++)
			free(n->applied[k].data);
		free(n->applied);
	}
	for (uint64_t k = 0; k < h->applied_cap; k++)
		free(h->applied[k].data);
	free(h->applied);
	hub__kv_free(h);
	hub__mr_free(h);
	hub__etcd_free(h);

	free(h->mr_job);
	free(h->leader_of_term);
	free(h->heap);
	free(h->held);
	free(h->scratch);
	free(h->exe);
	free(h->dir);
	free(h);
}

void hub__maybe_free(struct hub *h)
{
	maybe_free(h);
}

static void maybe_free(struct hub *h)
{
	if (h->stopping && h->handles == 0)
		hub_free(h);
}

void hub_stop(struct hub *h)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	h->busy = 0;
	for (uint32_t i = 1; i <= h->cfg.n; i++) {
		struct hub_node *n = &h->nodes[i];
		proc_kill(n->proc);
		n->conn = NULL;
	}
	for (struct hub_conn *c = h->conns; c; c = c->next)
		if (!c->closing) {
			c->closing = true;
			uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
		}
	if (h->probe && !uv_is_closing((uv_handle_t *)&h->probe->tcp)) {
		h->probe->cb = NULL;
		uv_close((uv_handle_t *)&h->probe->tcp, on_probe_closed);
	}
	if (h->etcd)
		hub__etcd_stop(h);
	uv_close((uv_handle_t *)&h->server, on_handle_closed);
	uv_close((uv_handle_t *)&h->watchdog, on_handle_closed);
}

bool hub_stopped(const struct hub *h)
{
	return h->stopping;
}

struct hub *hub_new(uv_loop_t *loop, const struct hub_config *cfg, char *err, size_t errlen)
{
	if (cfg->n < 1 || cfg->n > HUB_MAX_NODES) {
		snprintf(err, errlen, "nodes must be between 1 and %d", HUB_MAX_NODES);
		return NULL;
	}
	if (strcmp(cfg->kind, "raft") != 0 && strcmp(cfg->kind, "kv") != 0 && strcmp(cfg->kind, "kvsrv") != 0 &&
	    strcmp(cfg->kind, "mr") != 0 && strcmp(cfg->kind, "etcd") != 0) {
		snprintf(err, errlen, "kind \"%s\" is not available (this build has: raft, kv, kvsrv, mr, etcd)", cfg->kind);
		return NULL;
	}
	if (cfg->fsync && strcmp(cfg->fsync, "always") != 0 && strcmp(cfg->fsync, "batch") != 0 &&
	    strcmp(cfg->fsync, "never") != 0) {
		snprintf(err, errlen, "fsync is \"always\", \"batch\" or \"never\", not \"%s\"", cfg->fsync);
		return NULL;
	}
	if (strcmp(cfg->kind, "mr") == 0 && (cfg->n < 2 || !cfg->mr_job)) {
		snprintf(err, errlen, "kind \"mr\" needs a coordinator and at least one worker, and a job");
		return NULL;
	}
	if (strcmp(cfg->kind, "kvsrv") == 0 && cfg->n != 1) {
		snprintf(err, errlen, "kind \"kvsrv\" is one server (nodes = 1), not %u", cfg->n);
		return NULL;
	}
	struct hub *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->loop = loop;
	h->cfg = *cfg;
	snprintf(h->kind, sizeof h->kind, "%s", cfg->kind);
	h->cfg.kind = h->kind;
	h->exe = strdup(cfg->exe);
	h->mr_job = cfg->mr_job ? strdup(cfg->mr_job) : NULL;
	snprintf(h->fsync, sizeof h->fsync, "%s", cfg->fsync ? cfg->fsync : "batch");
	h->dir = strdup(cfg->dir);
	h->inflight.prev = h->inflight.next = &h->inflight;
	lincheck_history_init(&h->history);
	h->history.units_per_ms = 1000;
	/* etcd keeps its own time: the wall clock */
	h->pace = strcmp(cfg->kind, "etcd") == 0 ? HUB_REAL : cfg->pace;
	h->cfg.pace = h->pace;
	h->speed = h->pace == HUB_REAL ? 1.0 : cfg->speed > 0 ? cfg->speed : 1.0;
	rng_seed(&h->rng, rng_mix(cfg->seed, 0x6e6574776f726bULL));   /* "network" */
	net_init(&h->net, cfg->n);
	/* real pace: the hub forwards at once; loopback is the network (a
	 * delay, loss or duplication set with c:net still applies) */
	if (h->pace == HUB_REAL)
		h->net.p.delay_min = h->net.p.delay_max = 0;
	for (uint32_t i = 1; i <= HUB_MAX_NODES; i++) {
		h->nodes[i].id = i;
		h->nodes[i].wake_at = RAFT_NO_DEADLINE;
		h->nodes[i].applied_next = 1;
	}
	if (!h->exe || !h->dir) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (getrandom(h->token, sizeof h->token, 0) != (ssize_t)sizeof h->token) {
		snprintf(err, errlen, "cannot draw a run token: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < WIRE_TOKEN_LEN; i++)
		sprintf(h->token_hex + 2 * i, "%02x", h->token[i]);

	uv_tcp_init(loop, &h->server);
	h->server.data = h;
	h->handles++;
	uv_timer_init(loop, &h->watchdog);
	h->watchdog.data = h;
	h->handles++;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	int rc = uv_tcp_bind(&h->server, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&h->server, 64, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1: %s", uv_strerror(rc));
		hub_stop(h);
		return NULL;
	}
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	uv_tcp_getsockname(&h->server, (struct sockaddr *)&ss, &sl);
	h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_timer_start(&h->watchdog, on_watchdog, 1000, 1000);
	uv_unref((uv_handle_t *)&h->watchdog);
	if (strcmp(cfg->kind, "etcd") == 0) {
		if (hub__etcd_new(h, err, errlen) != 0) {
			hub_stop(h);
			return NULL;
		}
		hub__etcd_start(h);
	}

	/* Facts of the real world (port, wall-clock time) go under "wall", so
	 * that two runs of one seed write identical files but for "wall"/"pid". */
	json_t *ev = hub__ev_new(h, "hub");
	ev_int(ev, "seed", (int64_t)cfg->seed);
	ev_str(ev, "kind", cfg->kind);
	ev_int(ev, "nodes", cfg->n);
	ev_str(ev, "fsync", h->fsync);
	json_t *wall = json_object();
	ev_int(wall, "port", h->port);
	uv_timeval64_t tv;
	if (uv_gettimeofday(&tv) == 0)
		ev_int(wall, "unix_ms", tv.tv_sec * 1000 + tv.tv_usec / 1000);
	json_object_set_new(ev, "wall", wall);
	hub__emit(h, ev);
	rebase(h);

	/* The nodes start one after the other, each finishing its start-up
	 * before the next is spawned: a pending start is an event like any other. */
	for (uint32_t i = 1; i <= cfg->n; i++) {
		struct hub_input *in = calloc(1, sizeof *in);
		if (!in) {
			snprintf(err, errlen, "out of memory");
			hub_stop(h);
			return NULL;
		}
		in->type = 0;                /* 0: start this node */
		struct hev e = { .t = 0, .kind = HEV_INPUT, .node = i, .in = in };
		hub__heap_push(h, e);
	}
	return h;
fail:
	free(h->mr_job);
	free(h->exe);
	free(h->dir);
	free(h);
	return NULL;
}
