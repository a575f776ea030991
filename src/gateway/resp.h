/*
 * resp.h — the RESP gateway: a Redis-protocol server on 127.0.0.1 in front
 * of a key/value cluster, so redis-cli, redis-benchmark and any Redis client
 * library can use the replicated store.
 *
 * Each connection is a clerk of its own (a hub client, with its own client
 * id, so the servers deduplicate its retries), and every command goes
 * through the cluster like a script's: GET, SET, APPEND, INCR, DEL and
 * EXISTS are log entries (or local reads, if the cluster reads locally),
 * answered once a replica has applied them.  Commands of one connection
 * run one at a time (a clerk has one operation outstanding), in order, and
 * pipelined ones wait in the connection's input buffer.  A request nobody
 * answers within the timeout (virtual time: the wall clock in real pace)
 * gets an error saying so rather than a stale answer or a silence; the
 * connection then goes on with a fresh clerk, and the abandoned one keeps
 * trying, as a clerk does: its operation may still take effect.
 *
 * The runtime owns the gateway: it serves one cluster at a time (the first
 * key/value cluster started, then the next one when that one stops), routes
 * to it the client results whose token is the gateway's (resp_token) and
 * the hub timers it set, and calls resp_pump when no hub is busy.  The
 * gateway never runs a hub operation from inside a hub callback or a
 * socket callback: those only record and ask for a pump.
 *
 * Ownership, libuv's way: the listening socket lives in the server, each
 * connection's socket in its connection; one close path each; memory goes
 * in the last close callback.  Input is bounded (RESP_IN_MAX per
 * connection; reading stops while it is full), output too (processing
 * stops while RESP_OUT_HIGH bytes wait to be written).
 */
#ifndef TERMSCOPE_RESP_H
#define TERMSCOPE_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../hub/hub.h"

#define RESP_IN_MAX (1u << 20)               /* bytes of unprocessed input per connection */
#define RESP_OUT_HIGH (1u << 20)             /* stop processing while this much waits to go out */
#define RESP_MAX_CONNS 1000
#define RESP_TIMEOUT_MS 5000                 /* default */
#define RESP_TOKEN_BIT (1ull << 63)          /* client-op tokens with this bit are the gateway's */

struct resp_config {
	int port;                            /* 1..65535, on 127.0.0.1 */
	uint64_t timeout_ms;                 /* 0: RESP_TIMEOUT_MS */
	void (*kick)(void *ud);              /* the gateway has work: call resp_pump soon */
	void *ud;
};

struct resp_server;

/* Listen on 127.0.0.1:port.  NULL with err filled if that fails. */
struct resp_server *resp_new(uv_loop_t *loop, const struct resp_config *cfg, char *err, size_t errlen);
/* Close the listener and every connection; the memory goes once libuv has
 * closed them (run the loop).  After it the server must not be used. */
void resp_close(struct resp_server *s);

/* Serve this cluster (kind kv or kvsrv); `number` names it in INFO. */
void resp_attach(struct resp_server *s, struct hub *h, int number);
/* The cluster is stopping: its connections get an error for what they wait
 * for and close; the gateway serves no cluster until the next attach. */
void resp_detach(struct resp_server *s, struct hub *h);
struct hub *resp_hub(const struct resp_server *s);

/* A token hub_client_op was given by the gateway. */
static inline bool resp_token(uint64_t token)
{
	return (token & RESP_TOKEN_BIT) != 0;
}
/* hooks.client_done for a gateway token; hooks.timer for any timer (the
 * gateway ignores ids it did not set). */
void resp_client_done(struct resp_server *s, struct hub *h, uint32_t k, uint64_t token,
		      const struct clerk_result *res);
void resp_timer(struct resp_server *s, struct hub *h, uint64_t id);

/* Has the gateway work for resp_pump?  resp_pump must run only while no hub
 * is busy (hub operations are made from it). */
bool resp_has_work(const struct resp_server *s);
void resp_pump(struct resp_server *s);

/* Settings (ts.resp{} in Lua).  reach: the nodes the gateway's clerks may
 * talk to (bit i: node i; 0: all), applied to every clerk it has made and
 * will make.  0, or -1 with why (no cluster to confine clerks in). */
int resp_set_reach(struct resp_server *s, uint32_t reach, const char **why);
void resp_set_timeout(struct resp_server *s, uint64_t ms);

struct resp_stats {
	int port;
	uint64_t timeout_ms;
	uint32_t reach;
	int cluster;                         /* the served cluster's number, 0: none */
	size_t connections;
	size_t clerks;                       /* hub clients made for connections */
	uint64_t commands, ops, timeouts;
};
void resp_stats(const struct resp_server *s, struct resp_stats *st);

#endif
