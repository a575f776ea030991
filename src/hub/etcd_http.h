/*
 * etcd_http.h — talking to an etcd member through its v3 HTTP/JSON gateway
 * (etcd 3.4: POST /v3/kv/put, /v3/kv/range, /v3/kv/deleterange,
 * /v3/kv/txn) and its Raft status page (GET /debug/vars), asynchronously on the hub's libuv
 * loop.  One HTTP/1.1 request per connection (Connection: close), with a
 * deadline.  Keys and values are byte strings (base64 on the wire); etcd's
 * 64-bit numbers come as JSON strings and are parsed here.
 *
 * Two layers: pure functions that build a request body and read a response
 * body (unit-tested), and etcd_call(), the asynchronous exchange.
 */
#ifndef TERMSCOPE_ETCD_HTTP_H
#define TERMSCOPE_ETCD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* ---- its Raft state, as etcd publishes it (GET /debug/vars, "raft.status":
 * the raft library's own Status; the term in /v3/maintenance/status is the
 * term of the last applied entry, not the member's current term) ---------- */
#define ETCD_VARS_PATH "/debug/vars"
#define ETCD_MAX_PROGRESS 16
struct etcd_progress {
	uint64_t id, match, next;
};
struct etcd_raft {
	uint64_t id, term, vote, lead, commit, applied;
	char state[24];                      /* StateLeader, StateFollower, StateCandidate, StatePreCandidate */
	struct etcd_progress progress[ETCD_MAX_PROGRESS];   /* a leader's: one per member */
	uint32_t n_progress;
};
/* Read /debug/vars.  0, or -1 with err filled. */
int etcd_parse_raft(int http_status, const char *body, size_t len, struct etcd_raft *out, char *err,
		    size_t errlen);

/* ---- key/value requests ------------------------------------------------- */
enum etcd_op {
	ETCD_GET,                            /* range on one key, linearizable */
	ETCD_PUT,
	ETCD_DEL,                            /* deleterange on one key */
	ETCD_VPUT,                           /* txn: if version(key) == v then put, else range */
};

struct etcd_request {
	enum etcd_op op;
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;                /* put, vput */
	uint32_t value_len;
	uint64_t version;                    /* vput: the version expected (0: the key must not exist) */
	bool serializable;                   /* get: any member's own state, not linearizable */
	/* Exactly once (put, del, vput): the client's marker key and this
	 * operation's number (1, 2, ... per client, one at a time).  The write
	 * is a txn that also puts the marker, and happens only if the marker's
	 * version is seq - 1: a retry of an operation that took effect finds
	 * the marker at seq and changes nothing (ETCD_ALREADY).  A del records
	 * in the marker's value whether it removed the key.  NULL: a plain
	 * request, which a retry may apply twice. */
	const uint8_t *marker;
	uint32_t marker_len;
	uint64_t seq;
};

enum etcd_outcome {
	ETCD_OK,                             /* done; see found/version/deleted */
	ETCD_FAILED_COMPARE,                 /* vput: the version did not match (see found/version) */
	ETCD_ERROR,                          /* etcd answered an error (text in err): it may or may not
					      * have applied it (a timeout, "no leader") */
	ETCD_ALREADY,                        /* with a marker: an earlier attempt took effect (del:
					      * deleted says what it removed) */
};

struct etcd_reply {
	enum etcd_outcome outcome;
	bool found;                          /* get / failed vput: the key exists */
	uint8_t *value;                      /* get: malloc'd (NUL-terminated for convenience), else NULL */
	uint32_t value_len;
	uint64_t version;                    /* get, failed vput: the key's version (0: absent);
					      * put, vput: the version it now has is not reported by
					      * etcd and is left 0 */
	uint64_t revision;                   /* header.revision */
	uint64_t deleted;                    /* del: keys removed */
	char err[160];                       /* ETCD_ERROR: etcd's words (or HTTP status) */
};
void etcd_reply_free(struct etcd_reply *r);

/* The path and JSON body for a request.  The body is malloc'd.  0, or -1
 * (out of memory). */
int etcd_build(const struct etcd_request *req, const char **path, char **body);
/* Read an HTTP status and response body for req (what etcd_build made).
 * 0 and *out filled (outcome may be ETCD_ERROR: etcd said no), or -1 with
 * out->err saying what was malformed. */
int etcd_parse(const struct etcd_request *req, int http_status, const char *body, size_t len,
	       struct etcd_reply *out);

/* ---- the exchange ------------------------------------------------------- */
struct etcd_call;

/* status: the HTTP status (0 if there was no answer: err says why — refused,
 * reset, timed out); body: the response body (valid during the callback
 * only). */
typedef void (*etcd_call_cb)(struct etcd_call *c, int status, const char *body, size_t len,
			     const char *err, void *ud);

/* POST body (JSON) to http://127.0.0.1:port/path (body NULL: GET it); answer through cb exactly
 * once (unless cancelled), at the latest after timeout_ms.  NULL if it could
 * not even start (out of memory; then cb is never called). */
struct etcd_call *etcd_call(uv_loop_t *loop, int port, const char *path, const char *body,
			    uint64_t timeout_ms, etcd_call_cb cb, void *ud);
/* Forget it: cb will not be called; the connection is closed. */
/* c is gone once cb has returned; from inside its own cb, etcd_cancel(c)
 * does nothing.  Memory is freed in libuv's close callbacks: after the
 * last call ends, run the loop once more before uv_loop_close.  An answer
 * body is NUL-terminated (body[len] == 0) and never NULL ("" when status
 * is 0); bodies over 16 MiB are refused ("answer too large"). */
void etcd_cancel(struct etcd_call *c);

#endif
