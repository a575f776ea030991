/*
 * clerk.h — the client side of the key/value services, as a pure state
 * machine: one operation at a time, sent to a server, retried until a
 * server answers it.
 *
 * A clerk remembers which server answered last (the leader, for kind kv)
 * and sends there first.  It moves on to another server when told
 * ErrWrongLeader (to the server the reply names, if any, else the next one)
 * or when no answer came within `retry` virtual ms.  A hint naming a server
 * that has already let this operation time out is not followed (a follower
 * in a minority still names the old leader stranded with it: following it
 * would bounce between the two forever), nor is one that has already
 * refused it; the clerk tries the servers it has not heard from first, and
 * starts over once it has tried them all, after a pause of retry/2 (no
 * leader yet, or none within reach: no point spinning) (a lost request or reply,
 * a crashed or partitioned server, a leader in a minority that can never
 * commit).  An ErrWrongLeader counts only from the server of the attempt in
 * flight (a late one from an earlier attempt would abandon a live attempt);
 * an answer (OK, ErrNoKey, ErrVersion) for the current seq counts from any
 * server, late or not: every attempt carries the same request.  A local get
 * takes the first answer and does not move the remembered leader.  Every request carries (client, seq), so a retry of a write that
 * did take effect is recognised by the servers' duplicate tables and not
 * applied twice.
 *
 * Versioned put (Lab 2): if the first attempt is answered ErrVersion, the
 * put did not happen and the clerk says ErrVersion; if only a retry is
 * answered ErrVersion, the first attempt may have happened and its reply
 * been lost, so the clerk says ErrMaybe.  A get of a missing key returns ""
 * and version 0.  A del answers OK (removed) or ErrNoKey (nothing to
 * remove), an incr OK with the new value in n or ErrNotInteger; with the
 * duplicate table a retry of either gets its first attempt's answer.
 *
 * Like every core: inputs carry `now`, outputs are collected, no I/O.
 *   clerk_start(op)     -> a request to send (clerk_take)
 *   clerk_reply(reply)  -> done (clerk_result) or another send
 *   clerk_tick()        -> at clerk_deadline(): another send
 */
#ifndef TERMSCOPE_CLERK_H
#define TERMSCOPE_CLERK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"

#define CLERK_MAX_SERVERS 9
#define CLERK_NO_DEADLINE UINT64_MAX

struct clerk_config {
	uint32_t id;                         /* this clerk's endpoint id (the request's client) */
	uint32_t n_servers;                  /* servers 1..n_servers */
	uint64_t retry;                      /* virtual ms to wait for an answer before trying another */
	uint64_t seed;                       /* which server to try first */
};

/* The outcome of one operation. */
struct clerk_result {
	enum kv_op op;
	enum kv_err err;                     /* OK, ErrNoKey, ErrVersion, ErrMaybe, ErrNotInteger */
	uint8_t *value;                      /* get: owned by the clerk until the next clerk_start
					      * (never NULL for a get); writes: NULL */
	uint32_t value_len;
	uint64_t version;
	uint64_t n;                          /* append: new length; incr: new value; del: keys removed */
	uint32_t attempts;                   /* requests sent for it */
	uint32_t server;                     /* who answered */
};

struct clerk {
	struct clerk_config cfg;
	uint64_t seq;                        /* of the current or last operation */
	uint32_t leader;                     /* who to try first */
	/* the operation in flight */
	bool busy, done;
	struct kv_request req;               /* strings point into buf */
	uint8_t *buf;
	uint32_t attempts;
	uint32_t target;                     /* the server of the last attempt */
	uint32_t next;                       /* the server of the attempt waiting to be sent */
	uint32_t silent;                     /* bit i: server i let an attempt of this op time out */
	uint32_t refused;                    /* bit i: server i answered this op ErrWrongLeader */
	uint64_t pause_until;                /* after a round with no answer: the next attempt waits */
	uint64_t now;                        /* of the last input: clerk_take's deadline counts from it */
	uint64_t deadline;
	bool got_err_version_on_retry;
	/* an attempt waiting to be sent */
	bool to_send;
	struct clerk_result result;
	char errmsg[KV_ERRMSG];
};

void clerk_init(struct clerk *c, const struct clerk_config *cfg);
void clerk_free(struct clerk *c);

/* Begin an operation (the clerk must be idle: !c->busy).  req->client and
 * req->seq are filled by the clerk; the strings are copied.  0, or -1 (busy,
 * bad arguments — n_servers not in 1..CLERK_MAX_SERVERS, a bad op, a local
 * write, a key or value over the kv.h limits — out of memory: c->errmsg). */
int clerk_start(struct clerk *c, uint64_t now, const struct kv_request *req);
/* A server's reply.  Stale replies (another seq or client, one already
 * answered, a server outside 1..n_servers, an ErrMaybe) are ignored.  After
 * it, check clerk_take and clerk_result.  If copying a get's value runs out
 * of memory the reply is dropped (c->errmsg) and the retry timer stands. */
void clerk_reply(struct clerk *c, uint64_t now, uint32_t from, const struct kv_reply *rep);
/* Time passed: at or after clerk_deadline(), retry at the next server
 * (the same one when there is only one). */
void clerk_tick(struct clerk *c, uint64_t now);
/* When clerk_tick has work: CLERK_NO_DEADLINE when idle, done, or with an
 * attempt waiting in clerk_take (the timer starts when it is taken). */
uint64_t clerk_deadline(const struct clerk *c);

/* An attempt to send: *to receives the server, *req the request (valid until
 * the next call).  Taking it counts the attempt and starts its timer:
 * deadline = the `now` of the last input + retry.  False if there is
 * nothing to send. */
bool clerk_take(struct clerk *c, uint32_t *to, const struct kv_request **req);
/* The operation finished: *res is filled and the clerk is idle again.
 * False while it is still running. */
bool clerk_result(struct clerk *c, struct clerk_result *res);

#endif
