/*
 * clerk.c — the client clerk of the key/value services.  See clerk.h.
 *
 * One operation at a time.  clerk_start copies the request into the
 * clerk's buffer and numbers it; from then on every attempt sends the same
 * bytes (same client, same seq), which is what lets the servers' duplicate
 * tables recognise a retry.  An attempt is "waiting" until the shell takes
 * it (clerk_take), then "in flight" until an answer, an ErrWrongLeader from
 * its server, or its deadline.  The clerk owns its buffer and the value of
 * the last result; it never sends anything itself.
 *
 * What it must never do: I/O, read a clock (time comes with every input,
 * and the last `now` seen is what a taken attempt's deadline counts from),
 * or report a vput as failed when an earlier attempt may have done it.
 */
#include "clerk.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct clerk *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_server(const struct clerk *c, uint32_t id)
{
	return id >= 1 && id <= c->cfg.n_servers;
}

/* The server after `id`, round the ring (itself when there is only one). */
static uint32_t after(const struct clerk *c, uint32_t id)
{
	return id % c->cfg.n_servers + 1;
}

/* Servers this operation has nothing more to hope from, for now. */
static bool tried(const struct clerk *c, uint32_t id)
{
	return ((c->silent | c->refused) >> id) & 1u;
}

/* The next server after id, other than id, that has neither timed out nor
 * refused this operation; when every other server has, forget it all and
 * start over with the one after id. */
static uint32_t next_hopeful(struct clerk *c, uint32_t id)
{
	uint32_t s = id;
	for (uint32_t i = 0; i + 1 < c->cfg.n_servers; i++) {
		s = after(c, s);
		if (!tried(c, s))
			return s;
	}
	/* a whole round without an answer (no leader yet, or none within
	 * reach): pause before the next round instead of spinning */
	c->silent = c->refused = 0;
	if (c->cfg.n_servers > 1)        /* one server: its timeout was the wait */
		c->pause_until = c->now + c->cfg.retry / 2;
	return after(c, id);
}

static void send_to(struct clerk *c, uint32_t server)
{
	c->next = server;
	c->to_send = true;
	c->deadline = CLERK_NO_DEADLINE;     /* the timer starts when it is taken */
}

void clerk_init(struct clerk *c, const struct clerk_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->leader = cfg->n_servers ? (uint32_t)(cfg->seed % cfg->n_servers) + 1 : 1;
	c->deadline = CLERK_NO_DEADLINE;
}

void clerk_free(struct clerk *c)
{
	free(c->buf);
	free(c->result.value);
	c->buf = NULL;
	c->result.value = NULL;
	c->busy = c->done = c->to_send = false;
}

int clerk_start(struct clerk *c, uint64_t now, const struct kv_request *req)
{
	bool valued = req->op == KV_PUT || req->op == KV_APPEND || req->op == KV_VPUT;
	uint32_t value_len = valued ? req->value_len : 0;
	uint8_t *buf;

	c->now = now;
	if (c->busy)
		return fail(c, "clerk %" PRIu32 ": busy with request %" PRIu64, c->cfg.id, c->seq);
	if (c->cfg.n_servers < 1 || c->cfg.n_servers > CLERK_MAX_SERVERS)
		return fail(c, "clerk %" PRIu32 ": %" PRIu32 " servers (1..%d)", c->cfg.id,
			    c->cfg.n_servers, CLERK_MAX_SERVERS);
	if (!valued && req->op != KV_GET && req->op != KV_DEL && req->op != KV_INCR)
		return fail(c, "clerk %" PRIu32 ": bad op %d", c->cfg.id, (int)req->op);
	if (req->local && req->op != KV_GET)
		return fail(c, "clerk %" PRIu32 ": a local %s (only gets are local)", c->cfg.id,
			    kv_op_name(req->op));
	if (req->key_len > KV_MAX_KEY || (!req->key && req->key_len))
		return fail(c, "clerk %" PRIu32 ": bad key (%" PRIu32 " bytes, at most %u)",
			    c->cfg.id, req->key_len, KV_MAX_KEY);
	if (value_len > KV_MAX_VALUE || (!req->value && value_len))
		return fail(c, "clerk %" PRIu32 ": bad value (%" PRIu32 " bytes, at most %u)",
			    c->cfg.id, value_len, KV_MAX_VALUE);
	buf = malloc((size_t)req->key_len + value_len + 1);
	if (!buf)
		return fail(c, "clerk %" PRIu32 ": out of memory copying a %s", c->cfg.id,
			    kv_op_name(req->op));
	if (req->key_len)
		memcpy(buf, req->key, req->key_len);
	if (value_len)
		memcpy(buf + req->key_len, req->value, value_len);
	free(c->buf);
	free(c->result.value);
	c->buf = buf;

	c->req = *req;
	c->req.client = c->cfg.id;
	c->req.seq = ++c->seq;
	c->silent = c->refused = 0;
	c->pause_until = 0;
	c->req.key = buf;
	c->req.value = buf + req->key_len;
	c->req.value_len = value_len;
	if (req->op != KV_VPUT)
		c->req.version = 0;
	c->busy = true;
	c->done = false;
	c->attempts = 0;
	c->target = 0;
	c->got_err_version_on_retry = false;
	c->result = (struct clerk_result){ .op = req->op };
	send_to(c, c->leader);
	return 0;
}

bool clerk_take(struct clerk *c, uint32_t *to, const struct kv_request **req)
{
	if (!c->busy || c->done || !c->to_send || c->now < c->pause_until)
		return false;
	c->to_send = false;
	c->attempts++;
	c->target = c->next;
	c->deadline = c->now > UINT64_MAX - c->cfg.retry ? UINT64_MAX - 1 : c->now + c->cfg.retry;
	*to = c->target;
	*req = &c->req;
	return true;
}

/* The operation is answered: fill the result. */
static void finish(struct clerk *c, uint32_t from, const struct kv_reply *rep)
{
	struct clerk_result *res = &c->result;

	res->err = rep->err;
	res->version = rep->version;
	res->n = rep->n;
	if (c->req.op == KV_GET) {
		uint32_t len = rep->err == KV_OK ? rep->value_len : 0;
		uint8_t *value = malloc(len ? len : 1);
		if (!value) {
			fail(c, "clerk %" PRIu32 ": out of memory copying a %" PRIu32 "-byte value"
			     " (reply dropped)", c->cfg.id, len);
			return;
		}
		if (len)
			memcpy(value, rep->value, len);
		if (rep->err == KV_ERR_NOKEY) {  /* a missing key reads as "" */
			res->err = KV_OK;
			res->version = 0;
		}
		res->value = value;
		res->value_len = len;
	} else if (c->req.op == KV_VPUT && rep->err == KV_ERR_VERSION && c->attempts > 1) {
		/* an earlier attempt may have done it and its reply been lost */
		c->got_err_version_on_retry = true;
		res->err = KV_ERR_MAYBE;
	}
	res->attempts = c->attempts;
	res->server = from;
	if (!c->req.local)
		c->leader = from;
	c->done = true;
	c->to_send = false;
	c->deadline = CLERK_NO_DEADLINE;
}

void clerk_reply(struct clerk *c, uint64_t now, uint32_t from, const struct kv_reply *rep)
{
	c->now = now;
	if (!c->busy || c->done || c->attempts == 0 || rep->client != c->cfg.id ||
	    rep->seq != c->seq || !is_server(c, from))
		return;
	switch (rep->err) {
	case KV_OK:
	case KV_ERR_NOKEY:
	case KV_ERR_VERSION:
	case KV_ERR_NOT_INTEGER:
		finish(c, from, rep);
		return;
	case KV_ERR_WRONG_LEADER:
		/* only the attempt in flight can be turned away */
		if (c->to_send || from != c->target)
			return;
		c->silent &= ~(1u << from);
		c->refused |= 1u << from;
		if (is_server(c, rep->leader_hint) && rep->leader_hint != from && !tried(c, rep->leader_hint))
			send_to(c, rep->leader_hint);
		else
			send_to(c, next_hopeful(c, from));
		return;
	case KV_ERR_MAYBE:                   /* never from a server */
		return;
	}
}

void clerk_tick(struct clerk *c, uint64_t now)
{
	c->now = now;
	if (c->busy && !c->done && !c->to_send && now >= c->deadline) {
		c->silent |= 1u << c->target;
		send_to(c, next_hopeful(c, c->target));
	}
}

uint64_t clerk_deadline(const struct clerk *c)
{
	if (!c->busy || c->done)
		return CLERK_NO_DEADLINE;
	if (c->to_send)
		return c->now < c->pause_until ? c->pause_until : CLERK_NO_DEADLINE;
	return c->deadline;
}

bool clerk_result(struct clerk *c, struct clerk_result *res)
{
	if (!c->busy || !c->done)
		return false;
	*res = c->result;
	c->busy = false;
	c->done = false;
	return true;
}
