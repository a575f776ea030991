/*
 * resp.c — the RESP gateway: sockets, connections, commands.  See resp.h.
 *
 * A connection is a small machine driven from resp_pump:
 *
 *   bytes arrive (on_read)  -> look: parse requests in order; each is answered
 *                              at once (PING, INFO, an error) or becomes a
 *                              command on the cluster (GET, SET, ...)
 *   a command starts        -> one clerk operation (DEL and EXISTS: one per
 *                              key, in turn); the connection parses nothing
 *                              more until the command is answered
 *   the result comes        -> (resp_client_done records it) the reply is
 *                              written, parsing goes on
 *   the timeout passes      -> (resp_timer) an error reply; the clerk is
 *                              abandoned to its retries and the connection
 *                              takes a fresh one
 *
 * Replies accumulate in `out` and go to libuv as one write (`wbuf`) at a
 * time, so a pipeline of a thousand GETs is answered in a few writes.
 * Clerks are hub clients and the hub never forgets one, so the gateway
 * keeps the idle ones of closed connections and hands them to new
 * connections (a clerk's requests stay numbered in order: reuse is safe);
 * a clerk abandoned with an operation in flight joins them when that
 * operation ends.
 *
 * It must never: block, run a hub operation from a socket or hub callback
 * (those only set `look` and ask for a pump), or crash on a client's bytes
 * (a malformed stream is answered "-ERR Protocol error: ..." and closed).
 */
#include "resp.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../version.h"
#include "resp_parse.h"

#define IN_MIN (16u << 10)                   /* first input buffer; it doubles up to RESP_IN_MAX */

enum cmd_op { CMD_NONE, CMD_GET, CMD_SET, CMD_APPEND, CMD_INCR, CMD_DEL, CMD_EXISTS };

struct conn {
	uv_tcp_t tcp;                        /* first: the handle is the connection */
	uv_write_t wreq;
	struct resp_server *srv;
	struct conn *prev, *next;
	uint64_t id;
	char peer[64];
	uint32_t clerk;                      /* its hub client; 0: none yet */
	/* input: in[in_off..in_len) not yet parsed */
	uint8_t *in;
	size_t in_len, in_off, in_cap;
	bool reading, eof;
	bool look;                           /* resp_pump has something to do for it */
	/* the command on the cluster: its arguments (after the name), copied */
	enum cmd_op cmd;
	uint8_t **argv;
	size_t *argl, argc;
	uint8_t *mem;
	size_t key_at;                       /* del, exists: the key at hand */
	int64_t count;
	bool busy;                           /* an operation in flight at the hub */
	uint64_t token, started;             /* its token and start (virtual ms) */
	uint64_t timer_id;                   /* a hub timer it set, 0: none */
	bool timer_fired;
	bool done;                           /* an operation ended: its result is in res */
	struct {
		enum kv_err err;
		uint8_t *value;
		uint32_t value_len;
		uint64_t version, n;
	} res;
	/* output */
	struct resp_buf out, wbuf;
	bool writing, quitting, closing;
	uint64_t commands;
};

struct resp_server {
	uv_tcp_t listener;
	uv_loop_t *loop;
	struct resp_config cfg;
	bool closing;
	size_t handles;                      /* open: the listener and each connection */
	struct conn *conns;
	size_t n_conns;
	uint64_t next_id, next_token;
	struct hub *hub;                     /* the cluster served, or NULL */
	int number;
	uint32_t reach;                      /* 0: all nodes */
	uint32_t *clerks, *idle;             /* every clerk made; the ones free to hand out */
	size_t n_clerks, cap_clerks, n_idle, cap_idle;
	bool work;
	uint64_t commands, ops, timeouts;
	struct resp_request req;             /* the request being parsed */
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void start_op(struct conn *c);

/* ---- small things ---------------------------------------------------------- */

static void wake(struct conn *c)
{
	struct resp_server *s = c->srv;
	c->look = true;
	if (!s->work) {
		s->work = true;
		if (s->cfg.kick)
			s->cfg.kick(s->cfg.ud);
	}
}

static bool push_id(uint32_t **arr, size_t *n, size_t *cap, uint32_t k)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		uint32_t *p = realloc(*arr, nc * sizeof *p);
		if (!p)
			return false;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = k;
	return true;
}

/* A clerk no connection holds, idle again: keep it for the next one. */
static void idle_put(struct resp_server *s, uint32_t k)
{
	if (s->hub)
		push_id(&s->idle, &s->n_idle, &s->cap_idle, k);   /* out of memory: it is just not reused */
}

/* A clerk for a connection: an idle one, or a new hub client.  0 if none
 * can be made (*why). */
static uint32_t take_clerk(struct resp_server *s, const char **why)
{
	if (s->n_idle)
		return s->idle[--s->n_idle];
	struct hub_client_config cfg = { .reach = s->reach, .reads = -1 };
	int k = hub_client_new(s->hub, &cfg);
	if (k < 0) {
		*why = hub_errmsg(s->hub);
		return 0;
	}
	if (!push_id(&s->clerks, &s->n_clerks, &s->cap_clerks, (uint32_t)k)) {
		*why = "out of memory";
		return 0;
	}
	return (uint32_t)k;
}

/* The connection lets go of its clerk: idle, it is kept for another; with
 * an operation in flight, it comes back when that ends (resp_client_done). */
static void release_clerk(struct conn *c)
{
	if (c->clerk && !c->busy)
		idle_put(c->srv, c->clerk);
	c->clerk = 0;
	c->busy = false;
}

static void end_cmd(struct conn *c)
{
	free(c->mem);
	free(c->argv);
	free(c->argl);
	c->mem = NULL;
	c->argv = NULL;
	c->argl = NULL;
	c->argc = 0;
	c->cmd = CMD_NONE;
}

static void lower(char *out, size_t len, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i < n && i + 1 < len; i++)
		out[i] = (char)tolower(p[i]);
	out[i] = 0;
}

static bool is(const uint8_t *p, size_t n, const char *word)
{
	size_t wl = strlen(word);
	if (n != wl)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower(p[i]) != word[i])
			return false;
	return true;
}

/* ---- output ------------------------------------------------------------ */

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = req->data;
	c->writing = false;
	c->wbuf.len = 0;
	if (c->wbuf.cap > 4 * RESP_OUT_HIGH)
		resp_buf_free(&c->wbuf);     /* after a huge reply, give the memory back */
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->closing)
		return;
	conn_flush(c);
	if (c->in_off < c->in_len || c->quitting || c->eof)
		wake(c);                     /* processing may have waited for room */
}

/* Hand what is in `out` to libuv, one write at a time; close a quitting
 * connection once everything is out. */
static void conn_flush(struct conn *c)
{
	if (c->closing)
		return;
	if (c->out.failed) {                 /* out of memory for a reply: give up on it */
		conn_close(c);
		return;
	}
	if (!c->writing && c->out.len) {
		struct resp_buf t = c->wbuf;
		c->wbuf = c->out;
		c->out = t;
		c->out.len = 0;
		uv_buf_t b = uv_buf_init((char *)c->wbuf.p, (unsigned)c->wbuf.len);
		c->wreq.data = c;
		if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
			conn_close(c);
			return;
		}
		c->writing = true;
	}
	if (!c->writing && !c->out.len && c->quitting)
		conn_close(c);
}

/* ---- the cluster commands ------------------------------------------------ */

static bool writes(enum cmd_op op)
{
	return op == CMD_SET || op == CMD_APPEND || op == CMD_INCR || op == CMD_DEL;
}

/* Copy a request's arguments (after the name) and start its first
 * operation. */
static void begin(struct conn *c, enum cmd_op op, const struct resp_request *r)
{
	size_t total = 0, n = r->argc - 1;
	for (size_t i = 1; i < r->argc; i++)
		total += r->argl[i];
	c->mem = malloc(total ? total : 1);
	c->argv = malloc(n * sizeof *c->argv);
	c->argl = malloc(n * sizeof *c->argl);
	if (!c->mem || !c->argv || !c->argl) {
		end_cmd(c);
		resp_error(&c->out, "ERR out of memory");
		return;
	}
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		c->argv[i] = c->mem + at;
		c->argl[i] = r->argl[i + 1];
		if (c->argl[i])
			memcpy(c->argv[i], r->argv[i + 1], c->argl[i]);
		at += c->argl[i];
	}
	c->argc = n;
	c->cmd = op;
	c->key_at = 0;
	c->count = 0;
	start_op(c);
}

/* The next operation of the command in hand. */
static void start_op(struct conn *c)
{
	struct resp_server *s = c->srv;
	struct hub *h = s->hub;
	const char *why = NULL;
	if (!h) {
		resp_error(&c->out, "ERR no key/value cluster is running");
		end_cmd(c);
		return;
	}
	if (!c->clerk && !(c->clerk = take_clerk(s, &why))) {
		resp_error(&c->out, "ERR cannot make a clerk for this connection: %s", why);
		end_cmd(c);
		return;
	}
	struct kv_request req = { 0 };
	size_t key = c->cmd == CMD_DEL || c->cmd == CMD_EXISTS ? c->key_at : 0;
	req.key = c->argv[key];
	req.key_len = (uint32_t)c->argl[key];
	switch (c->cmd) {
	case CMD_GET:
	case CMD_EXISTS:
		req.op = KV_GET;
		break;
	case CMD_SET:
		req.op = KV_PUT;
		break;
	case CMD_APPEND:
		req.op = KV_APPEND;
		break;
	case CMD_INCR:
		req.op = KV_INCR;
		break;
	case CMD_DEL:
		req.op = KV_DEL;
		break;
	case CMD_NONE:
		return;
	}
	if (req.op == KV_PUT || req.op == KV_APPEND) {
		req.value = c->argv[1];
		req.value_len = (uint32_t)c->argl[1];
	}
	/* the call's time is the wall clock's (real, paced), not the last
	 * event's: the history must not say it was called earlier */
	hub_sync_clock(h);
	uint64_t token = RESP_TOKEN_BIT | ++s->next_token;
	if (hub_client_op(h, c->clerk, &req, token) != 0) {
		resp_error(&c->out, "ERR %s", hub_errmsg(h));
		end_cmd(c);
		return;
	}
	s->ops++;
	c->busy = true;
	c->token = token;
	c->started = hub_now(h);
	if (!c->timer_id)
		c->timer_id = hub_timer(h, c->started + s->cfg.timeout_ms);
}

/* The operation in hand ended: go on with the command or answer it. */
static void op_done(struct conn *c)
{
	bool more = false;
	switch (c->cmd) {
	case CMD_GET:
		if (c->res.version == 0)
			resp_nil(&c->out);
		else
			resp_bulk(&c->out, c->res.value, c->res.value_len);
		break;
	case CMD_SET:
		resp_simple(&c->out, "OK");
		break;
	case CMD_APPEND:
		resp_int(&c->out, (int64_t)c->res.n);
		break;
	case CMD_INCR:
		if (c->res.err == KV_ERR_NOT_INTEGER)
			resp_error(&c->out, "ERR value is not an integer or out of range");
		else
			resp_int(&c->out, (int64_t)c->res.n);
		break;
	case CMD_DEL:
	case CMD_EXISTS:
		c->count += c->cmd == CMD_DEL ? c->res.err == KV_OK : c->res.version > 0;
		more = ++c->key_at < c->argc;
		if (!more)
			resp_int(&c->out, c->count);
		break;
	case CMD_NONE:
		break;
	}
	free(c->res.value);
	c->res.value = NULL;
	if (more)
		start_op(c);
	else
		end_cmd(c);
}

/* The timer went off: answer with an error if the operation has waited
 * too long, else wait on. */
static void check_timeout(struct conn *c)
{
	struct resp_server *s = c->srv;
	if (!c->busy || !s->hub)
		return;
	uint64_t now = hub_now(s->hub);
	if (now < c->started + s->cfg.timeout_ms) {
		c->timer_id = hub_timer(s->hub, c->started + s->cfg.timeout_ms);
		return;
	}
	s->timeouts++;
	char secs[32];
	snprintf(secs, sizeof secs, "%g", (double)s->cfg.timeout_ms / 1000.0);
	if (writes(c->cmd))
		resp_error(&c->out, "ERR timeout: no majority answered within %s s; "
			   "the request may still take effect", secs);
	else
		resp_error(&c->out, "ERR timeout: no majority answered within %s s", secs);
	/* the clerk goes on trying; this connection goes on with another */
	c->clerk = 0;
	c->busy = false;
	end_cmd(c);
}

/* ---- the commands ------------------------------------------------------- */

static void wrong_args(struct conn *c, const char *name)
{
	resp_error(&c->out, "ERR wrong number of arguments for '%s' command", name);
}

/* A key (and value) within the store's limits?  Else an error reply. */
static bool fits(struct conn *c, const struct resp_request *r, bool value)
{
	if (r->argl[1] > KV_MAX_KEY) {
		resp_error(&c->out, "ERR key too long: %zu bytes (at most %u)", r->argl[1], KV_MAX_KEY);
		return false;
	}
	if (value && r->argl[2] > KV_MAX_VALUE) {
		resp_error(&c->out, "ERR value too long: %zu bytes (at most %u)", r->argl[2], KV_MAX_VALUE);
		return false;
	}
	return true;
}

static void cmd_get(struct conn *c, const struct resp_request *r)
{
	if (fits(c, r, false))
		begin(c, CMD_GET, r);
}

static void cmd_set(struct conn *c, const struct resp_request *r)
{
	if (r->argc > 3) {
		resp_error(&c->out, "ERR SET options (EX, PX, NX, XX, GET, KEEPTTL, ...) are not supported "
			   "by the termscope gateway: plain SET key value only");
		return;
	}
	if (fits(c, r, true))
		begin(c, CMD_SET, r);
}

static void cmd_append(struct conn *c, const struct resp_request *r)
{
	if (fits(c, r, true))
		begin(c, CMD_APPEND, r);
}

static void cmd_incr(struct conn *c, const struct resp_request *r)
{
	if (fits(c, r, false))
		begin(c, CMD_INCR, r);
}

static bool keys_fit(struct conn *c, const struct resp_request *r)
{
	for (size_t i = 1; i < r->argc; i++)
		if (r->argl[i] > KV_MAX_KEY) {
			resp_error(&c->out, "ERR key too long: %zu bytes (at most %u)", r->argl[i], KV_MAX_KEY);
			return false;
		}
	return true;
}

static void cmd_del(struct conn *c, const struct resp_request *r)
{
	if (keys_fit(c, r))
		begin(c, CMD_DEL, r);
}

static void cmd_exists(struct conn *c, const struct resp_request *r)
{
	if (keys_fit(c, r))
		begin(c, CMD_EXISTS, r);
}

static void cmd_ping(struct conn *c, const struct resp_request *r)
{
	if (r->argc > 2)
		wrong_args(c, "ping");
	else if (r->argc == 2)
		resp_bulk(&c->out, r->argv[1], r->argl[1]);
	else
		resp_simple(&c->out, "PONG");
}

static void cmd_echo(struct conn *c, const struct resp_request *r)
{
	resp_bulk(&c->out, r->argv[1], r->argl[1]);
}

static void cmd_quit(struct conn *c, const struct resp_request *r)
{
	resp_simple(&c->out, "OK");
	c->quitting = true;
}

static void cmd_select(struct conn *c, const struct resp_request *r)
{
	if (is(r->argv[1], r->argl[1], "0"))
		resp_simple(&c->out, "OK");
	else
		resp_error(&c->out, "ERR DB index is out of range (the termscope gateway has database 0 only)");
}

/* redis-cli asks at start; an empty list is a valid answer */
static void cmd_command(struct conn *c, const struct resp_request *r)
{
	resp_array(&c->out, 0);
}

/* redis-benchmark asks for save and appendonly; anything else: nothing */
static void cmd_config(struct conn *c, const struct resp_request *r)
{
	if (!is(r->argv[1], r->argl[1], "get")) {
		char sub[40];
		resp_quote(sub, sizeof sub, r->argv[1], r->argl[1], 32);
		resp_error(&c->out, "ERR CONFIG %s is not supported by the termscope gateway", sub);
		return;
	}
	if (r->argc != 3) {
		wrong_args(c, "config|get");
		return;
	}
	const char *value = is(r->argv[2], r->argl[2], "save") ? ""
			  : is(r->argv[2], r->argl[2], "appendonly") ? "no" : NULL;
	if (!value) {
		resp_array(&c->out, 0);
		return;
	}
	resp_array(&c->out, 2);
	resp_bulk(&c->out, r->argv[2], r->argl[2]);
	resp_bulk(&c->out, value, strlen(value));
}

static void cmd_client(struct conn *c, const struct resp_request *r)
{
	struct resp_server *s = c->srv;
	const char *why = NULL;
	if (is(r->argv[1], r->argl[1], "id") && r->argc == 2) {
		/* the clerk's client number, as the dashboard and the history name it */
		if (!c->clerk && s->hub && !(c->clerk = take_clerk(s, &why))) {
			resp_error(&c->out, "ERR cannot make a clerk for this connection: %s", why);
			return;
		}
		resp_int(&c->out, c->clerk);
	} else if (is(r->argv[1], r->argl[1], "setname") && r->argc == 3) {
		resp_simple(&c->out, "OK");
	} else if (is(r->argv[1], r->argl[1], "getname") && r->argc == 2) {
		resp_nil(&c->out);
	} else {
		char sub[40];
		resp_quote(sub, sizeof sub, r->argv[1], r->argl[1], 32);
		resp_error(&c->out, "ERR CLIENT %s is not supported by the termscope gateway "
			   "(CLIENT ID, SETNAME and GETNAME are)", sub);
	}
}

static const char *node_state(const struct hub_node *n)
{
	if (n->paused)
		return "paused";
	switch (n->status) {
	case HUB_NODE_DOWN: return "crashed";
	case HUB_NODE_STARTING: return "starting";
	case HUB_NODE_UP: return "up";
	case HUB_NODE_FAILED: return "failed";
	case HUB_NODE_EXITED: return "exited";
	}
	return "?";
}

static void line(struct resp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct resp_buf *b, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	resp_add(b, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
	resp_add(b, "\r\n", 2);
}

static void reach_text(char *buf, size_t len, uint32_t reach, uint32_t n)
{
	size_t at = 0;
	if (!reach) {
		snprintf(buf, len, "all");
		return;
	}
	buf[0] = 0;
	for (uint32_t i = 1; i <= n && at + 4 < len; i++)
		if (reach & (1u << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%u", at ? "," : "", i);
}

/* INFO [section]: the cluster's state as the hub last saw it, in Redis's
 * "# Section" / "field:value" form.  The section argument is accepted and
 * ignored: everything is short. */
static void cmd_info(struct conn *c, const struct resp_request *r)
{
	struct resp_server *s = c->srv;
	struct hub *h = s->hub;
	struct resp_buf b = { 0 };
	char reach[64];
	static const char *const paces[] = { "fast", "paced", "real" };
	line(&b, "# Server");
	line(&b, "redis_version:7.0.0");
	line(&b, "termscope_version:%s", TERMSCOPE_VERSION);
	line(&b, "tcp_port:%d", s->cfg.port);
	resp_add(&b, "\r\n", 2);
	line(&b, "# Clients");
	line(&b, "connected_clients:%zu", s->n_conns);
	resp_add(&b, "\r\n", 2);
	line(&b, "# Gateway");
	line(&b, "request_timeout_ms:%" PRIu64, s->cfg.timeout_ms);
	reach_text(reach, sizeof reach, s->reach, h ? hub_size(h) : HUB_MAX_NODES);
	line(&b, "clerk_reach:%s", reach);
	line(&b, "clerks:%zu", s->n_clerks);
	line(&b, "commands_processed:%" PRIu64, s->commands);
	line(&b, "cluster_ops:%" PRIu64, s->ops);
	line(&b, "timeouts:%" PRIu64, s->timeouts);
	resp_add(&b, "\r\n", 2);
	line(&b, "# Cluster");
	if (!h) {
		line(&b, "cluster:none");
	} else {
		uint32_t n = hub_size(h), leader = hub_leader(h);
		uint64_t term = 0;
		bool raft = strcmp(hub_kind(h), "kvsrv") != 0;
		for (uint32_t i = 1; i <= n; i++)
			if (hub_node(h, i)->st.term > term)
				term = hub_node(h, i)->st.term;
		if (leader)
			term = hub_node(h, leader)->st.term;
		line(&b, "cluster:%d", s->number);
		line(&b, "kind:%s", hub_kind(h));
		line(&b, "pace:%s", paces[hub_pace_of(h) <= HUB_REAL ? hub_pace_of(h) : 0]);
		line(&b, "virtual_time_ms:%" PRIu64, hub_clock(h));
		line(&b, "nodes:%u", n);
		line(&b, "leader:%u", leader);
		line(&b, "term:%" PRIu64, term);
		for (uint32_t i = 1; i <= n; i++) {
			const struct hub_node *nd = hub_node(h, i);
			line(&b, "node%u:state=%s,role=%s,term=%" PRIu64 ",commit=%" PRIu64 ",applied=%" PRIu64
			     ",log=%" PRIu64 ",keys=%" PRIu64 ",quorum=%s", i, node_state(nd),
			     raft ? raft_role_name((enum raft_role)nd->st.role) : "server", nd->st.term,
			     nd->st.commit, nd->st.applied, nd->st.last_index, nd->st.kv_keys,
			     hub_quorum(h, i) ? "yes" : "no");
		}
	}
	resp_add(&b, "\r\n", 2);
	line(&b, "# Connections");
	for (struct conn *o = s->conns; o; o = o->next) {
		static const char *const names[] = { "none", "get", "set", "append", "incr", "del", "exists" };
		uint64_t waited = o->busy && h ? hub_now(h) - o->started : 0;
		line(&b, "conn%" PRIu64 ":addr=%s,clerk=%u,cmd=%s,waiting_ms=%" PRIu64 ",commands=%" PRIu64,
		     o->id, o->peer, o->clerk, names[o->cmd], waited, o->commands);
	}
	if (b.failed)
		resp_error(&c->out, "ERR out of memory");
	else
		resp_bulk(&c->out, b.p, b.len);
	resp_buf_free(&b);
}

struct command {
	const char *name;
	int arity;                           /* Redis's: n exactly, -n at least n (the name counts) */
	bool cluster;                        /* needs the cluster */
	void (*run)(struct conn *c, const struct resp_request *r);
};

static const struct command commands[] = {
	{ "get", 2, true, cmd_get },
	{ "set", -3, true, cmd_set },
	{ "append", 3, true, cmd_append },
	{ "incr", 2, true, cmd_incr },
	{ "del", -2, true, cmd_del },
	{ "exists", -2, true, cmd_exists },
	{ "ping", -1, false, cmd_ping },
	{ "echo", 2, false, cmd_echo },
	{ "quit", -1, false, cmd_quit },
	{ "info", -1, false, cmd_info },
	{ "command", -1, false, cmd_command },
	{ "config", -2, false, cmd_config },
	{ "client", -2, false, cmd_client },
	{ "select", 2, false, cmd_select },
};

static void dispatch(struct conn *c, const struct resp_request *r)
{
	struct resp_server *s = c->srv;
	char name[24];
	c->commands++;
	s->commands++;
	lower(name, sizeof name, r->argv[0], r->argl[0]);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *cmd = &commands[i];
		if (r->argl[0] >= sizeof name || strcmp(cmd->name, name) != 0)
			continue;
		if ((cmd->arity > 0 && r->argc != (size_t)cmd->arity) ||
		    (cmd->arity < 0 && r->argc < (size_t)-cmd->arity)) {
			wrong_args(c, cmd->name);
			return;
		}
		if (cmd->cluster && !s->hub) {
			resp_error(&c->out, "ERR no key/value cluster is running");
			return;
		}
		cmd->run(c, r);
		return;
	}
	/* as Redis words it: the name, then the first arguments */
	char shown[160], args[200] = "";
	size_t at = 0;
	resp_quote(shown, sizeof shown, r->argv[0], r->argl[0], 128);
	for (size_t i = 1; i < r->argc && at + 40 < sizeof args; i++) {
		char a[40];
		resp_quote(a, sizeof a, r->argv[i], r->argl[i], 32);
		at += (size_t)snprintf(args + at, sizeof args - at, "'%s' ", a);
	}
	resp_error(&c->out, "ERR unknown command '%s', with args beginning with: %s", shown, args);
}

/* ---- input ------------------------------------------------------------------ */

/* Move what is not parsed yet to the front of the buffer. */
static void compact(struct conn *c)
{
	if (!c->in_off)
		return;
	memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
	c->in_len -= c->in_off;
	c->in_off = 0;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)handle;
	compact(c);
	if (c->in_cap - c->in_len < IN_MIN / 2 && c->in_cap < RESP_IN_MAX) {
		size_t cap = c->in_cap ? 2 * c->in_cap : IN_MIN;
		if (cap > RESP_IN_MAX)
			cap = RESP_IN_MAX;
		uint8_t *p = realloc(c->in, cap);
		if (p) {
			c->in = p;
			c->in_cap = cap;
		}
	}
	*buf = uv_buf_init((char *)(c->in ? c->in + c->in_len : NULL), (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)stream;
	if (nread > 0) {
		c->in_len += (size_t)nread;
	} else if (nread == UV_EOF) {
		c->eof = true;
	} else if (nread == UV_ENOBUFS) {
		;                            /* full: conn_reading stops reading */
	} else if (nread < 0) {
		conn_close(c);
		return;
	} else {
		return;                      /* 0: nothing this time */
	}
	if (c->eof || c->in_len == c->in_cap) {
		uv_read_stop(stream);
		c->reading = false;
	}
	wake(c);
}

/* Read while there is room and nothing holds us back. */
static void conn_reading(struct conn *c)
{
	if (c->closing)
		return;
	compact(c);
	bool want = !c->quitting && !c->eof && c->in_len < RESP_IN_MAX &&
		    c->out.len + c->wbuf.len < RESP_OUT_HIGH;
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
			conn_close(c);
			return;
		}
		c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* Parse and run requests while the connection is free to. */
static void conn_run(struct conn *c)
{
	struct resp_server *s = c->srv;
	while (c->cmd == CMD_NONE && !c->closing && !c->quitting && c->out.len < RESP_OUT_HIGH &&
	       c->in_off < c->in_len) {
		size_t used = 0;
		const char *why = NULL;
		enum resp_parse_result r = resp_parse(c->in + c->in_off, c->in_len - c->in_off, &s->req, &used, &why);
		if (r == RESP_MORE) {
			if (c->in_len - c->in_off >= RESP_IN_MAX) {
				resp_error(&c->out, "ERR Protocol error: a request larger than %u bytes",
					   RESP_IN_MAX);
				c->quitting = true;
			}
			break;
		}
		if (r == RESP_BAD) {
			resp_error(&c->out, "ERR %s", why);
			c->quitting = true;
			break;
		}
		c->in_off += used;
		if (s->req.argc)
			dispatch(c, &s->req);
	}
	/* the other side is done sending: once all it sent is answered, close */
	if (c->eof && c->cmd == CMD_NONE && c->out.len < RESP_OUT_HIGH)
		c->quitting = true;
}

static void conn_step(struct conn *c)
{
	c->look = false;
	if (c->done) {
		c->done = false;
		op_done(c);
	}
	if (c->timer_fired) {
		c->timer_fired = false;
		check_timeout(c);
	}
	if (c->cmd == CMD_NONE)
		conn_run(c);
	conn_flush(c);
	conn_reading(c);
}

/* ---- connections ------------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *handle)
{
	struct conn *c = (struct conn *)handle;
	struct resp_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	end_cmd(c);
	free(c->res.value);
	free(c->in);
	resp_buf_free(&c->out);
	resp_buf_free(&c->wbuf);
	free(c);
	if (--s->handles == 0 && s->closing) {
		free(s->clerks);
		free(s->idle);
		free(s);
	}
}

/* The one way a connection ends. */
static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	release_clerk(c);
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct resp_server *s = server->data;
	if (status < 0 || s->closing)
		return;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return;                      /* the connection waits in the backlog */
	if (uv_tcp_init(s->loop, &c->tcp) != 0) {
		free(c);
		return;
	}
	c->srv = s;
	c->id = ++s->next_id;
	s->handles++;
	s->n_conns++;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	snprintf(c->peer, sizeof c->peer, "?");
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		char ip[32];
		uv_ip4_name(sin, ip, sizeof ip);
		snprintf(c->peer, sizeof c->peer, "%s:%u", ip, ntohs(sin->sin_port));
	}
	if (s->n_conns > RESP_MAX_CONNS) {
		resp_error(&c->out, "ERR max number of clients reached (%d)", RESP_MAX_CONNS);
		c->quitting = true;
	}
	wake(c);
}

/* ---- the server ---------------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *handle)
{
	struct resp_server *s = handle->data;
	if (--s->handles == 0 && s->closing) {
		free(s->clerks);
		free(s->idle);
		free(s);
	}
}

struct resp_server *resp_new(uv_loop_t *loop, const struct resp_config *cfg, char *err, size_t errlen)
{
	struct resp_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->cfg = *cfg;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = RESP_TIMEOUT_MS;
	int rc = uv_tcp_init(loop, &s->listener);
	if (rc != 0) {
		snprintf(err, errlen, "cannot make a socket: %s", uv_strerror(rc));
		free(s);
		return NULL;
	}
	s->listener.data = s;
	s->handles = 1;
	struct sockaddr_in addr;
	rc = uv_ip4_addr("127.0.0.1", cfg->port, &addr);
	if (rc == 0)
		rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", cfg->port, uv_strerror(rc));
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return NULL;
	}
	return s;
}

void resp_close(struct resp_server *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	s->hub = NULL;
	for (struct conn *c = s->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

void resp_attach(struct resp_server *s, struct hub *h, int number)
{
	if (s->closing || s->hub)
		return;
	s->hub = h;
	s->number = number;
	s->n_clerks = s->n_idle = 0;
	s->reach = 0;
}

void resp_detach(struct resp_server *s, struct hub *h)
{
	if (!s || s->hub != h || !h)
		return;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->cmd != CMD_NONE)
			resp_error(&c->out, "ERR the key/value cluster stopped");
		end_cmd(c);
		c->clerk = 0;
		c->busy = c->done = c->timer_fired = false;
		c->timer_id = 0;
		c->quitting = true;
		conn_flush(c);
	}
	s->hub = NULL;
	s->number = 0;
	s->n_clerks = s->n_idle = 0;
}

struct hub *resp_hub(const struct resp_server *s)
{
	return s ? s->hub : NULL;
}

void resp_client_done(struct resp_server *s, struct hub *h, uint32_t k, uint64_t token,
		      const struct clerk_result *res)
{
	if (!s || s->hub != h || !resp_token(token))
		return;
	for (struct conn *c = s->conns; c; c = c->next) {
		if (c->closing || !c->busy || c->token != token)
			continue;
		c->busy = false;
		c->done = true;
		c->res.err = res->err;
		c->res.version = res->version;
		c->res.n = res->n;
		c->res.value = NULL;
		c->res.value_len = 0;
		if (res->value && res->value_len) {
			c->res.value = malloc(res->value_len);
			if (!c->res.value) {
				resp_error(&c->out, "ERR out of memory");
				c->quitting = true;
			} else {
				memcpy(c->res.value, res->value, res->value_len);
				c->res.value_len = res->value_len;
			}
		}
		wake(c);
		return;
	}
	idle_put(s, k);                      /* its connection gave up on it, or left */
}

void resp_timer(struct resp_server *s, struct hub *h, uint64_t id)
{
	if (!s || s->hub != h || !id)
		return;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->timer_id == id && !c->closing) {
			c->timer_id = 0;
			c->timer_fired = true;
			wake(c);
			return;
		}
}

bool resp_has_work(const struct resp_server *s)
{
	return s && s->work;
}

void resp_pump(struct resp_server *s)
{
	if (!s)
		return;
	s->work = false;
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->look && !c->closing)
			conn_step(c);
}

int resp_set_reach(struct resp_server *s, uint32_t reach, const char **why)
{
	if (!s->hub) {
		*why = "no key/value cluster is running";
		return -1;
	}
	s->reach = reach;
	for (size_t i = 0; i < s->n_clerks; i++)
		if (hub_client_set_reach(s->hub, s->clerks[i], reach) != 0) {
			*why = hub_errmsg(s->hub);
			return -1;
		}
	return 0;
}

void resp_set_timeout(struct resp_server *s, uint64_t ms)
{
	s->cfg.timeout_ms = ms ? ms : RESP_TIMEOUT_MS;
}

void resp_stats(const struct resp_server *s, struct resp_stats *st)
{
	*st = (struct resp_stats){
		.port = s->cfg.port,
		.timeout_ms = s->cfg.timeout_ms,
		.reach = s->reach,
		.cluster = s->hub ? s->number : 0,
		.connections = s->n_conns,
		.clerks = s->n_clerks,
		.commands = s->commands,
		.ops = s->ops,
		.timeouts = s->timeouts,
	};
}
