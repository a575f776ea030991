/*
 * hub_kv.c — the key/value side of a cluster's hub: client endpoints, the
 * history of their operations, and the mirror of every replica's table.
 *
 * A client is a clerk (src/core/clerk) run by the controller between hub
 * events.  Its requests and the servers' replies are messages like any
 * other: recorded, subject to loss, delay and duplication, dropped when the
 * link is down.  A client's links are its own: `reach` names the nodes it
 * may talk to (6.824's tests connect each clerk to a set of servers), an
 * isolated node talks to no client, and partitions between nodes leave
 * clients alone.
 *
 * Every operation is recorded at its call and its return (virtual ms) in a
 * lincheck history, so the checker can say whether what the clients saw is
 * linearizable, and the events file carries "op" records of both.
 *
 * It must never block: a clerk's retry is a hub event (HEV_CLIENT), and
 * results go to the hub's user through hooks.client_done.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"
#include "hub_int.h"

#define CLERK_RETRY_MS 250

static struct hub_client *client_of(struct hub *h, uint32_t k)
{
	return k >= 1 && k <= h->n_clients ? &h->clients[k - 1] : NULL;
}

static uint32_t all_nodes(const struct hub *h)
{
	return (uint32_t)(((1ull << (h->cfg.n + 1)) - 1) & ~1ull);
}

const char *hub__client_blocked(const struct hub *h, uint32_t from, uint32_t to)
{
	bool to_node = wire_is_client(from);
	uint32_t k = (to_node ? from : to) - WIRE_CLIENT_BASE, id = to_node ? to : from;
	if (k < 1 || k > h->n_clients || id < 1 || id > h->cfg.n)
		return "no such endpoint";
	if (!(h->clients[k - 1].reach & (1u << id)) || h->net.isolated[id])
		return "partition";
	const struct hub_node *n = &h->nodes[id];
	if (to_node && n->status != HUB_NODE_UP && n->status != HUB_NODE_STARTING)
		return n->status == HUB_NODE_FAILED ? "failed" : "crashed";
	return NULL;
}

bool hub_client_can_reach(const struct hub *h, uint32_t k, uint32_t id)
{
	return hub__client_blocked(h, WIRE_CLIENT_BASE + k, id) == NULL;
}

static void ev_bytes(json_t *ev, const char *k, const uint8_t *p, uint32_t len)
{
	json_object_set_new(ev, k, evlog_bytes(p, len));
}

/* Record a key/value message and send it on its way. */
void hub__route_kv(struct hub *h, const uint8_t *bytes, uint32_t len, uint8_t type,
		   uint32_t from, uint32_t to)
{
	uint64_t id = ++h->next_msg_id;
	h->client_msgs++;
	json_t *ev = hub__ev_new(h, "send");
	ev_int(ev, "id", (int64_t)id);
	ev_int(ev, "from", from);
	ev_int(ev, "to", to);
	ev_str(ev, "type", wire_msg_name(type));
	/* in brief, what it asks or answers */
	struct rbuf r;
	rbuf_init(&r, bytes, len);
	uint8_t t;
	uint32_t f, d, blen;
	const uint8_t *body = wire_get_kv_msg(&r, &t, &f, &d, &blen);
	const char *why;
	if (body && type == WIRE_MSG_KV_REQUEST) {
		struct kv_request req;
		if (kv_decode_request(body, blen, &req, &why) == 0) {
			ev_str(ev, "op", kv_op_name(req.op));
			ev_bytes(ev, "key", req.key, req.key_len);
			ev_int(ev, "seq", (int64_t)req.seq);
			if (req.local)
				json_object_set_new(ev, "local", json_true());
		}
	} else if (body) {
		struct kv_reply rep;
		if (kv_decode_reply(body, blen, &rep, &why) == 0) {
			ev_str(ev, "err", kv_err_name(rep.err));
			ev_int(ev, "seq", (int64_t)rep.seq);
		}
	}
	hub__emit(h, ev);
	if (!wire_is_client(from))
		h->nodes[from].msgs_out++;
	hub__send(h, id, from, to, type, type == WIRE_MSG_KV_REPLY, bytes, len);
}

/* Schedule the client's retry timer at its clerk's deadline. */
static void client_arm(struct hub *h, uint32_t k)
{
	struct hub_client *c = &h->clients[k - 1];
	c->wake_seq++;
	uint64_t at = clerk_deadline(&c->clerk);
	if (at == CLERK_NO_DEADLINE)
		return;
	struct hev e = { .t = at < h->now ? h->now : at, .kind = HEV_CLIENT, .node = k, .aux = c->wake_seq };
	hub__heap_push(h, e);
}

bool hub__client_stale(const struct hub *h, const struct hev *e)
{
	return e->node < 1 || e->node > h->n_clients || h->clients[e->node - 1].wake_seq != e->aux;
}

/* The history's clock: virtual ms in thousandths, so that a call made in
 * the millisecond another operation returned still comes after it (the
 * hub runs one thing at a time, so the order within a millisecond is
 * real).  The events file and the screen show milliseconds. */
#define OP_UNITS 1000

static uint64_t op_time(struct hub *h)
{
	if (h->op_ms != h->now) {
		h->op_ms = h->now;
		h->op_sub = 0;
	}
	if (h->op_sub < OP_UNITS - 1)
		h->op_sub++;
	return h->now * OP_UNITS + h->op_sub;
}

static enum lincheck_kind lin_kind(enum kv_op op)
{
	switch (op) {
	case KV_PUT:
		return LINCHECK_PUT;
	case KV_APPEND:
		return LINCHECK_APPEND;
	case KV_VPUT:
		return LINCHECK_VPUT;
	case KV_DEL:
		return LINCHECK_DEL;
	case KV_INCR:
		return LINCHECK_INCR;
	default:
		return LINCHECK_GET;
	}
}

/* Does the op carry a value (put, append, vput)? */
static bool valued(enum kv_op op)
{
	return op == KV_PUT || op == KV_APPEND || op == KV_VPUT;
}

static enum lincheck_reply lin_reply(enum kv_err err)
{
	switch (err) {
	case KV_ERR_VERSION:
		return LINCHECK_REPLY_ERR_VERSION;
	case KV_ERR_NOKEY:
		return LINCHECK_REPLY_ERR_NOKEY;
	case KV_ERR_MAYBE:
		return LINCHECK_REPLY_ERR_MAYBE;
	case KV_ERR_NOT_INTEGER:
		return LINCHECK_REPLY_ERR_NOT_INTEGER;
	default:
		return LINCHECK_REPLY_OK;
	}
}

void hub__client_finish(struct hub *h, uint32_t k, const struct clerk_result *res)
{
	struct hub_client *c = &h->clients[k - 1];
	const struct lincheck_op *op = &h->history.ops[c->op];
	char *value = NULL;
	char number[24];
	if (op->kind == LINCHECK_GET) {
		value = malloc(res->value_len + 1);
		if (value) {
			memcpy(value, res->value, res->value_len);
			value[res->value_len] = 0;
		}
	}
	/* an incr's output is the value it made, as the store keeps it */
	snprintf(number, sizeof number, "%" PRId64, (int64_t)res->n);
	/* a value with a NUL cannot be compared as a string: the history keeps
	 * what precedes it, which is what a text-minded user typed anyway */
	lincheck_finish(&h->history, c->op, op_time(h),
			op->kind == LINCHECK_INCR ? number : value ? value : "", res->version, lin_reply(res->err));
	struct hub_opinfo *x = &h->opinfo[c->op];
	x->attempts = res->attempts;
	x->server = res->server;
	x->err = res->err;
	c->done++;

	json_t *ev = hub__ev_new(h, "op");
	ev_str(ev, "phase", "return");
	ev_int(ev, "client", k);
	ev_int(ev, "n", (int64_t)c->op + 1);
	ev_str(ev, "op", kv_op_name(res->op));
	ev_str(ev, "key", op->key);
	ev_str(ev, "err", kv_err_name(res->err));
	if (op->kind == LINCHECK_GET) {
		ev_bytes(ev, "value", res->value, res->value_len);
		ev_int(ev, "version", (int64_t)res->version);
	}
	if (op->kind == LINCHECK_DEL || (op->kind == LINCHECK_INCR && res->err == KV_OK))
		ev_int(ev, "n", (int64_t)res->n);
	ev_int(ev, "attempts", res->attempts);
	ev_int(ev, "server", res->server);
	ev_int(ev, "latency", (int64_t)(h->now - op->call / OP_UNITS));
	hub__emit(h, ev);
	free(value);
	if (h->cfg.hooks.client_done)
		h->cfg.hooks.client_done(h, k, c->token, res, h->cfg.hooks.ud);
}

/* Send what the clerk wants sent, re-arm its timer, and finish its
 * operation if it is done. */
static void client_flush(struct hub *h, uint32_t k)
{
	struct hub_client *c = &h->clients[k - 1];
	uint32_t to;
	const struct kv_request *req;
	while (clerk_take(&c->clerk, &to, &req)) {
		uint8_t *body;
		size_t blen;
		if (kv_encode_request(req, &body, &blen) != 0)
			continue;            /* out of memory: as if lost; the clerk retries */
		struct wbuf b;
		wbuf_init(&b);
		wire_put_kv_msg(&b, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + k, to, body, blen);
		free(body);
		if (!b.failed)
			hub__route_kv(h, b.data, (uint32_t)b.len, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + k, to);
		wbuf_free(&b);
	}
	client_arm(h, k);
	struct clerk_result res;
	if (clerk_result(&c->clerk, &res))
		hub__client_finish(h, k, &res);
}

void hub__client_deliver(struct hub *h, struct hub_msg *m)
{
	uint32_t k = m->to - WIRE_CLIENT_BASE;
	struct hub_client *c = client_of(h, k);
	struct rbuf r;
	rbuf_init(&r, m->bytes, m->len);
	uint8_t type;
	uint32_t from, to, blen;
	const uint8_t *body = wire_get_kv_msg(&r, &type, &from, &to, &blen);
	struct kv_reply rep;
	const char *why;
	if (!c || !body || type != WIRE_MSG_KV_REPLY || kv_decode_reply(body, blen, &rep, &why) != 0)
		return;              /* checked when the node sent it: cannot happen */
	clerk_reply(&c->clerk, h->now, from, &rep);
	client_flush(h, k);
}

void hub__client_wake(struct hub *h, uint32_t k)
{
	struct hub_client *c = client_of(h, k);
	if (!c)
		return;
	if (h->etcd) {
		hub__etcd_client_wake(h, k);
		return;
	}
	clerk_tick(&c->clerk, h->now);
	client_flush(h, k);
}

int hub_client_new(struct hub *h, const struct hub_client_config *cfg)
{
	if (strcmp(h->kind, "raft") == 0) {
		hub__set_err(h, "a raft cluster has no key/value clients (kind \"kv\" or \"kvsrv\" has)");
		return -1;
	}
	if (h->n_clients >= WIRE_MAX_CLIENTS) {
		hub__set_err(h, "too many clients (%u)", WIRE_MAX_CLIENTS);
		return -1;
	}
	if (h->n_clients == h->cap_clients) {
		uint32_t cap = h->cap_clients ? 2 * h->cap_clients : 8;
		struct hub_client *p = realloc(h->clients, cap * sizeof *p);
		if (!p) {
			hub__set_err(h, "out of memory");
			return -1;
		}
		h->clients = p;
		h->cap_clients = cap;
	}
	uint32_t k = ++h->n_clients;
	struct hub_client *c = &h->clients[k - 1];
	memset(c, 0, sizeof *c);
	struct clerk_config cc = {
		.id = WIRE_CLIENT_BASE + k,
		.n_servers = h->cfg.n,
		.retry = h->cfg.clerk_retry ? h->cfg.clerk_retry : CLERK_RETRY_MS,
		.seed = rng_mix(h->cfg.seed, k),
	};
	clerk_init(&c->clerk, &cc);
	c->reach = cfg->reach ? cfg->reach & all_nodes(h) : all_nodes(h);
	c->local_reads = cfg->reads < 0 ? h->cfg.local_reads : cfg->reads == 1;
	json_t *ev = hub__ev_new(h, "client");
	ev_int(ev, "client", k);
	json_t *reach = json_array();
	for (uint32_t i = 1; i <= h->cfg.n; i++)
		if (c->reach & (1u << i))
			json_array_append_new(reach, json_integer(i));
	json_object_set_new(ev, "reach", reach);
	ev_str(ev, "reads", c->local_reads ? "local" : "log");
	hub__emit(h, ev);
	return (int)k;
}

int hub_client_set_reach(struct hub *h, uint32_t k, uint32_t reach)
{
	struct hub_client *c = client_of(h, k);
	if (!c) {
		hub__set_err(h, "no client %u", k);
		return -1;
	}
	c->reach = reach ? reach & all_nodes(h) : all_nodes(h);
	json_t *ev = hub__ev_new(h, "reach");
	ev_int(ev, "client", k);
	json_t *arr = json_array();
	for (uint32_t i = 1; i <= h->cfg.n; i++)
		if (c->reach & (1u << i))
			json_array_append_new(arr, json_integer(i));
	json_object_set_new(ev, "nodes", arr);
	hub__emit(h, ev);
	if (h->etcd)
		hub__etcd_net(h);
	return 0;
}

void hub__clients_reach_all(struct hub *h)
{
	for (uint32_t k = 1; k <= h->n_clients; k++)
		h->clients[k - 1].reach = all_nodes(h);
}

static int opinfo_reserve(struct hub *h, size_t need)
{
	if (need <= h->cap_opinfo)
		return 0;
	size_t cap = h->cap_opinfo ? 2 * h->cap_opinfo : 64;
	while (cap < need)
		cap *= 2;
	struct hub_opinfo *p = realloc(h->opinfo, cap * sizeof *p);
	if (!p)
		return -1;
	h->opinfo = p;
	h->cap_opinfo = cap;
	return 0;
}

int hub_client_op(struct hub *h, uint32_t k, const struct kv_request *req, uint64_t token)
{
	if (h->etcd)
		hub_sync_clock(h);           /* etcd: the call is stamped on the wall clock */
	struct hub_client *c = client_of(h, k);
	if (!c) {
		hub__set_err(h, "no client %u", k);
		return -1;
	}
	if (c->clerk.busy || (h->etcd && hub__etcd_client_busy(h, k))) {
		hub__set_err(h, "client %u is busy with another operation", k);
		return -1;
	}
	if (h->etcd && hub__etcd_check_op(h, req) != 0)
		return -1;
	struct kv_request r = *req;
	r.local = req->op == KV_GET && c->local_reads;
	char *key = strndup((const char *)req->key, req->key_len);
	char *value = !valued(req->op) ? NULL : strndup(req->value ? (const char *)req->value : "", req->value_len);
	if (!key || (valued(req->op) && !value) || opinfo_reserve(h, h->history.n + 1) != 0) {
		free(key);
		free(value);
		hub__set_err(h, "out of memory");
		return -1;
	}
	if (!h->etcd && clerk_start(&c->clerk, h->now, &r) != 0) {
		hub__set_err(h, "client %u: %s", k, c->clerk.errmsg);
		free(key);
		free(value);
		return -1;
	}
	struct lincheck_op op = {
		.client = k,
		.kind = lin_kind(req->op),
		.key = key,
		.value = value,
		.version = req->version,
		.call = op_time(h),
		.ret = LINCHECK_PENDING,
	};
	size_t at = 0;
	int rc = lincheck_add(&h->history, &op, &at);
	free(key);
	free(value);
	if (rc != LINCHECK_OK) {
		hub__set_err(h, "client %u: %s", k, h->history.errmsg);
		return -1;
	}
	h->opinfo[at] = (struct hub_opinfo){ .local = r.local };
	c->op = at;
	c->token = token;
	c->started++;

	json_t *ev = hub__ev_new(h, "op");
	ev_str(ev, "phase", "call");
	ev_int(ev, "client", k);
	ev_int(ev, "n", (int64_t)at + 1);
	ev_str(ev, "op", kv_op_name(req->op));
	ev_bytes(ev, "key", req->key, req->key_len);
	if (valued(req->op))
		ev_bytes(ev, "value", req->value, req->value_len);
	if (req->op == KV_VPUT)
		ev_int(ev, "version", (int64_t)req->version);
	if (r.local)
		json_object_set_new(ev, "local", json_true());
	hub__emit(h, ev);
	if (h->etcd) {
		if (hub__etcd_op(h, k, &r, r.local) != 0) {
			struct clerk_result res = { .op = req->op, .err = KV_OK };
			hub__client_finish(h, k, &res);   /* out of memory: never started */
		}
	} else {
		client_flush(h, k);
	}
	hub__kick(h);
	return 0;
}

uint32_t hub_clients(const struct hub *h)
{
	return h->n_clients;
}

int hub_client_view(const struct hub *h, uint32_t k, struct hub_client_view *v)
{
	if (k < 1 || k > h->n_clients)
		return -1;
	const struct hub_client *c = &h->clients[k - 1];
	v->reach = c->reach;
	v->local_reads = c->local_reads;
	v->busy = c->clerk.busy || (h->etcd && hub__etcd_client_busy(h, k));
	v->since = v->busy ? h->history.ops[c->op].call / OP_UNITS : 0;
	v->done = c->done;
	v->started = c->started;
	v->leader = h->etcd ? hub__etcd_client_leader(h, k) : c->clerk.leader;
	return 0;
}

uint64_t hub_client_msgs(const struct hub *h)
{
	return h->client_msgs;
}

const struct lincheck_history *hub_history(const struct hub *h)
{
	return &h->history;
}

void hub_history_extra(const struct hub *h, size_t i, struct hub_op_extra *x)
{
	memset(x, 0, sizeof *x);
	if (i >= h->history.n)
		return;
	const struct hub_opinfo *o = &h->opinfo[i];
	x->attempts = o->attempts;
	x->server = o->server;
	x->err = o->err;
	x->local = o->local;
}

int hub_check_linearizable(struct hub *h, uint64_t budget, char *buf, size_t len,
			   struct lincheck_result *out)
{
	int rc = lincheck_check(&h->history, budget, out);
	if (rc == LINCHECK_ENOMEM) {
		if (buf && len)
			snprintf(buf, len, "out of memory: %s", out->errmsg);
		return -1;
	}
	if (buf && len)
		lincheck_explain(out, &h->history, buf, len);
	json_t *ev = hub__ev_new(h, "check");
	ev_str(ev, "verdict", lincheck_status_name(out->verdict));
	ev_int(ev, "ops", (int64_t)out->n_ops);
	ev_int(ev, "steps", (int64_t)out->steps);
	if (out->key)
		ev_str(ev, "key", out->key);
	hub__emit(h, ev);
	return out->verdict;
}

int hub_history_export(struct hub *h, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		hub__set_err(h, "%s: cannot write: %m", path);
		return -1;
	}
	for (size_t i = 0; i < h->history.n; i++) {
		const struct lincheck_op *op = &h->history.ops[i];
		const struct hub_opinfo *x = &h->opinfo[i];
		json_t *o = json_object();
		ev_int(o, "n", (int64_t)i + 1);
		ev_int(o, "client", op->client);
		ev_str(o, "op", lincheck_kind_name(op->kind));
		ev_str(o, "key", op->key);
		if (op->value)
			ev_str(o, "value", op->value);
		if (op->kind == LINCHECK_VPUT)
			ev_int(o, "version", (int64_t)op->version);
		/* ms, and the exact order (thousandths of a ms) the check uses */
		ev_int(o, "call", (int64_t)(op->call / OP_UNITS));
		ev_int(o, "call_order", (int64_t)op->call);
		if (op->ret == LINCHECK_PENDING) {
			json_object_set_new(o, "ret", json_null());
		} else {
			ev_int(o, "ret", (int64_t)(op->ret / OP_UNITS));
			ev_int(o, "ret_order", (int64_t)op->ret);
			ev_str(o, "err", kv_err_name(x->err));
			if (op->kind == LINCHECK_GET) {
				ev_str(o, "out", op->out_value ? op->out_value : "");
				ev_int(o, "out_version", (int64_t)op->out_version);
			}
			if (op->kind == LINCHECK_INCR && op->out_value)
				ev_str(o, "out", op->out_value);
			ev_int(o, "attempts", x->attempts);
			ev_int(o, "server", x->server);
		}
		if (x->local)
			json_object_set_new(o, "local", json_true());
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (line) {
			fputs(line, f);
			fputc('\n', f);
			free(line);
		}
	}
	if (fclose(f) != 0) {
		hub__set_err(h, "%s: cannot write: %m", path);
		return -1;
	}
	return 0;
}

static size_t quoted(char *buf, size_t len, const uint8_t *p, uint32_t n)
{
	size_t at = 0;
	for (uint32_t i = 0; i < n && at + 5 < len; i++) {
		uint8_t ch = p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			buf[at++] = (char)ch;
		else
			at += (size_t)snprintf(buf + at, len - at, "\\x%02x", ch);
	}
	if (len)
		buf[at < len ? at : len - 1] = 0;
	return at;
}

size_t hub_describe_entry(const struct hub *h, const struct hub_entry *e, char *buf, size_t len)
{
	struct kv_request req;
	const char *why;
	if (strcmp(h->kind, "raft") == 0 ||
	    kv_decode_request((const uint8_t *)e->data, e->len, &req, &why) != 0)
		return (size_t)snprintf(buf, len, "%.*s", (int)e->len, e->data ? e->data : "");
	char key[80], value[80];
	quoted(key, sizeof key, req.key, req.key_len);
	quoted(value, sizeof value, req.value, req.value_len);
	uint32_t c = req.client > WIRE_CLIENT_BASE ? req.client - WIRE_CLIENT_BASE : req.client;
	switch (req.op) {
	case KV_GET:
	case KV_DEL:
	case KV_INCR:
		return (size_t)snprintf(buf, len, "%s %s  c%u#%" PRIu64, kv_op_name(req.op), key, c, req.seq);
	case KV_VPUT:
		return (size_t)snprintf(buf, len, "put %s \"%s\" if v%" PRIu64 "  c%u#%" PRIu64, key, value,
					req.version, c, req.seq);
	default:
		return (size_t)snprintf(buf, len, "%s %s \"%s\"  c%u#%" PRIu64, kv_op_name(req.op), key, value,
					c, req.seq);
	}
}

/* ---- the mirror of the replicas' tables --------------------------------- */

/* A replica reports every key a write changed, as kv_lookup then shows it:
 * a deleted key comes as its tombstone, "" at version 0, which kv_set turns
 * into a tombstone of the mirror (missing to every reader). */
int hub__kv_set(struct hub *h, struct hub_node *n, const uint8_t *key, uint32_t klen,
		const uint8_t *value, uint32_t vlen, uint64_t version)
{
	if (!n->kv) {
		n->kv = malloc(sizeof *n->kv);
		if (!n->kv)
			return -1;
		kv_init(n->kv, false);
	}
	return kv_set(n->kv, key, klen, value, vlen, version);
}

void hub__kv_reset(struct hub_node *n)
{
	if (!n->kv)
		return;
	kv_free(n->kv);
	kv_init(n->kv, false);
}

void hub__kv_free(struct hub *h)
{
	for (uint32_t i = 1; i <= HUB_MAX_NODES; i++) {
		if (h->nodes[i].kv)
			kv_free(h->nodes[i].kv);
		free(h->nodes[i].kv);
		h->nodes[i].kv = NULL;
	}
	for (uint32_t k = 0; k < h->n_clients; k++) {
		clerk_free(&h->clients[k].clerk);
		hub__etcd_client_free(h->clients[k].etcd);
	}
	free(h->clients);
	lincheck_history_free(&h->history);
	free(h->opinfo);
}
