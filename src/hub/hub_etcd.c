/*
 * hub_etcd.c — kind etcd: real etcd members under the hub.
 *
 * The members are etcd processes (Debian's etcd-server) that the supervisor
 * starts, kills, stops and continues like our nodes.  They do not speak our
 * wire protocol, so the hub reaches them in two other ways:
 *
 *   their traffic  every member listens on ports of its own but advertises
 *                  ports of the hub (src/hub/proxy.c): peers dial member
 *                  j's advertised peer URL and land in the hub, which
 *                  forwards to j while the network model lets the bytes
 *                  through and stalls them while it does not.  Client URLs
 *                  are proxied the same way, so an isolated member is cut
 *                  from clients too (etcdctl included).
 *   their state    every ETCD_POLL_MS the hub reads each running member's
 *                  Raft status (GET /debug/vars: the raft library's own
 *                  Status — state, term, vote, leader, commit, applied, a
 *                  leader's progress per follower) on its own client port,
 *                  not through the proxy: watching must not depend on the
 *                  partition.  (/v3/maintenance/status reports the term of
 *                  the last applied entry, which hides a candidate's rising
 *                  term.)  That is the mirror the panels draw.
 *
 * Clients (c:client(), the RESP gateway) are clerks written for etcd's
 * HTTP/JSON gateway: each request goes to one member through its proxied
 * client port, with a deadline; on no answer or an error it goes to the
 * next member the client can reach, pausing after a full round.  etcd has
 * no duplicate table: a retried put may be applied twice, as with any etcd
 * client that retries.  Versioned put is a transaction on the key's
 * version (etcd's versions are ours: 1 at creation, +1 a put, 0 absent);
 * a retried one that meets another version reports ErrMaybe, as kvsrv's
 * clerk does.  etcd has no append or incr (they would need a client-side
 * compare-and-swap loop, not exactly-once): the hub says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etcd_http.h"
#include "hub_int.h"
#include "proxy.h"

#define ETCD_POLL_MS 100
#define ETCD_POLL_TIMEOUT_MS 1000
#define ETCD_NO_ROUTE_MS 100         /* no member reachable: look again */
#define ETCD_ERROR_PAUSE_MS 50       /* etcd said no (no leader, ...): next member after this */

/* One client's operation against etcd. */
struct etcd_clerk {
	struct hub *h;
	uint32_t k;
	bool busy;
	enum kv_op op;
	struct etcd_request req;
	uint8_t *key, *value;                /* owned copies behind req */
	bool serializable;                   /* a local read: any member's own state */
	uint32_t server;                     /* the member asked now (or last) */
	uint32_t leader;                     /* the member that answered last */
	uint32_t attempts, round;
	struct etcd_call *call;
	uint64_t timeout;                    /* wall ms per request */
	char marker[96];                     /* exactly once: this clerk's marker key */
	uint64_t seq;                        /* its operations so far */
};

struct hub_etcd {
	struct proxy *proxy;
	uv_timer_t poll;
	bool poll_open;
	int peer_port[HUB_MAX_NODES + 1];    /* where member i listens */
	int client_port[HUB_MAX_NODES + 1];
	int peer_proxy[HUB_MAX_NODES + 1];   /* what it advertises: the hub's ports */
	int client_proxy[HUB_MAX_NODES + 1];
	uint64_t member_id[HUB_MAX_NODES + 1];
	struct etcd_call *status[HUB_MAX_NODES + 1];
	struct status_ctx {                  /* what a status call's answer is for */
		struct hub *h;
		uint32_t id, incarnation;
	} status_ctx[HUB_MAX_NODES + 1];
	uint32_t start_tries[HUB_MAX_NODES + 1];
	char token[48];
};

/* ---- the network: what the proxy may let through -------------------- */

static bool etcd_allow(void *ud, uint32_t from, uint32_t to)
{
	struct hub *h = ud;
	if (from == 0 || to == 0) {          /* an outside client and a member */
		uint32_t id = from ? from : to;
		return id <= h->cfg.n && !h->net.isolated[id];
	}
	if (from > h->cfg.n || to > h->cfg.n)
		return false;
	return net_link_up(&h->net, from, to);
}

/* n ports nobody uses now on 127.0.0.1, all different: the kernel's picks,
 * each socket held until all are picked (a port given back at once could
 * be picked again).  etcd binds them a moment later; should another
 * program take one in between, the member fails to start and is started
 * again on new ports (hub__etcd_retry_start).  0, or -1. */
static int free_ports(int *out, int n)
{
	uv_loop_t loop;
	if (n > 2 * HUB_MAX_NODES || uv_loop_init(&loop) != 0)
		return -1;
	uv_tcp_t t[2 * HUB_MAX_NODES];
	int rc = 0;
	for (int i = 0; i < n; i++) {
		uv_tcp_init(&loop, &t[i]);
		struct sockaddr_in a;
		uv_ip4_addr("127.0.0.1", 0, &a);
		struct sockaddr_storage ss;
		int len = sizeof ss;
		out[i] = -1;
		if (uv_tcp_bind(&t[i], (const struct sockaddr *)&a, 0) == 0 &&
		    uv_tcp_getsockname(&t[i], (struct sockaddr *)&ss, &len) == 0)
			out[i] = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		if (out[i] <= 0)
			rc = -1;
	}
	for (int i = 0; i < n; i++)
		uv_close((uv_handle_t *)&t[i], NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return rc;
}

/* Is etcd installed?  (PATH, as uv_spawn looks.) */
bool hub_etcd_available(void)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	char buf[4096];
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && len < sizeof buf - 8) {
			snprintf(buf, sizeof buf, "%.*s/etcd", (int)len, p);
			if (access(buf, X_OK) == 0)
				return true;
		}
		p += len + (e ? 1 : 0);
		if (!e)
			break;
	}
	return false;
}

int hub__etcd_new(struct hub *h, char *err, size_t errlen)
{
	if (!hub_etcd_available()) {
		snprintf(err, errlen, "kind \"etcd\" needs etcd, which is not installed "
			 "(Debian: apt-get install etcd-server)");
		return -1;
	}
	struct hub_etcd *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->etcd = e;
	snprintf(e->token, sizeof e->token, "termscope-%d-%d", (int)getpid(), h->port);
	e->proxy = proxy_new(h->loop, etcd_allow, h);
	if (!e->proxy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->handles++;                        /* the proxy, until it says it is closed */
	int ports[2 * HUB_MAX_NODES];
	if (free_ports(ports, (int)(2 * h->cfg.n)) != 0) {
		snprintf(err, errlen, "cannot find free ports on 127.0.0.1");
		return -1;
	}
	for (uint32_t i = 1; i <= h->cfg.n; i++) {
		e->peer_port[i] = ports[2 * (i - 1)];
		e->client_port[i] = ports[2 * (i - 1) + 1];
		int rc = proxy_listen(e->proxy, i, e->peer_port[i], &e->peer_proxy[i]);
		if (rc == 0)
			rc = proxy_listen(e->proxy, i, e->client_port[i], &e->client_proxy[i]);
		if (rc != 0) {
			snprintf(err, errlen, "cannot listen on 127.0.0.1: %s", uv_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* The argument vector of member id (strings in buf, pointers in argv). */
static void member_args(struct hub *h, uint32_t id, char *buf, size_t len, char **argv, size_t max)
{
	struct hub_etcd *e = h->etcd;
	size_t used = 0, n = 0;
#define ARG(...)                                                                          \
	do {                                                                               \
		int w_ = snprintf(buf + used, len - used, __VA_ARGS__);                    \
		if (w_ < 0 || (size_t)w_ >= len - used || n + 2 > max)                     \
			break;                                                             \
		argv[n++] = buf + used;                                                    \
		used += (size_t)w_ + 1;                                                    \
	} while (0)
	/* through `termscope child`, so that the member dies with us */
	ARG("%s", h->exe);
	ARG("child");
	ARG("etcd");
	ARG("--name=m%u", id);
	ARG("--data-dir=%s/node-%u", h->dir, id);
	ARG("--listen-peer-urls=http://127.0.0.1:%d", e->peer_port[id]);
	ARG("--initial-advertise-peer-urls=http://127.0.0.1:%d", e->peer_proxy[id]);
	ARG("--listen-client-urls=http://127.0.0.1:%d", e->client_port[id]);
	ARG("--advertise-client-urls=http://127.0.0.1:%d", e->client_proxy[id]);
	char cluster[2048] = "";
	size_t cl = 0;
	for (uint32_t i = 1; i <= h->cfg.n; i++)
		cl += (size_t)snprintf(cluster + cl, sizeof cluster - cl, "%sm%u=http://127.0.0.1:%d",
				       i > 1 ? "," : "", i, e->peer_proxy[i]);
	ARG("--initial-cluster=%s", cluster);
	ARG("--initial-cluster-token=%s", e->token);
	ARG("--initial-cluster-state=new");
	ARG("--heartbeat-interval=%" PRIu64, h->cfg.heartbeat ? h->cfg.heartbeat : 100);
	ARG("--election-timeout=%" PRIu64, h->cfg.election ? h->cfg.election : 1000);
	ARG("--logger=zap");
	ARG("--log-outputs=stderr");
	ARG("--log-level=warn");
#undef ARG
	argv[n] = NULL;
}

int hub__etcd_spawn(struct hub *h, uint32_t id)
{
	char buf[8192];
	char *argv[32];
	member_args(h, id, buf, sizeof buf, argv, 32);
	if (hub__spawn_process(h, id, h->exe, argv) != 0)
		return -1;
	proxy_set_pid(h->etcd->proxy, id, h->nodes[id].pid);
	return 0;
}

/* Member id exited while it started (its ports taken in between, most
 * likely: its stderr says): start it again on new ports, a few times,
 * behind the same advertised ones.  True if it is being started again. */
bool hub__etcd_retry_start(struct hub *h, uint32_t id)
{
	struct hub_etcd *e = h->etcd;
	int ports[2];
	if (e->start_tries[id] >= 3 || free_ports(ports, 2) != 0)
		return false;
	e->start_tries[id]++;
	e->peer_port[id] = ports[0];
	e->client_port[id] = ports[1];
	proxy_retarget(e->proxy, e->peer_proxy[id], ports[0]);
	proxy_retarget(e->proxy, e->client_proxy[id], ports[1]);
	json_t *ev = hub__ev_new(h, "note");
	ev_int(ev, "node", id);
	ev_str(ev, "level", "warning");
	ev_str(ev, "text", "the etcd member exited while starting: started again on new ports");
	hub__emit(h, ev);
	return hub__etcd_spawn(h, id) == 0;
}

/* Member id is gone (crashed, failed, exited): nothing of it stays open. */
void hub__etcd_down(struct hub *h, uint32_t id)
{
	struct hub_etcd *e = h->etcd;
	proxy_set_pid(e->proxy, id, 0);
	proxy_drop_node(e->proxy, id);
	if (e->status[id]) {
		etcd_cancel(e->status[id]);
		e->status[id] = NULL;
	}
}

/* ---- watching: the status poll --------------------------------------- */

static uint32_t node_of_member(const struct hub_etcd *e, uint32_t n, uint64_t member)
{
	for (uint32_t i = 1; member && i <= n; i++)
		if (e->member_id[i] == member)
			return i;
	return 0;
}


static void on_status(struct etcd_call *call, int status, const char *body, size_t len, const char *why,
		      void *ud)
{
	struct status_ctx *x = ud;
	struct hub *h = x->h;
	struct hub_etcd *e = h->etcd;
	uint32_t id = x->id;
	bool current = x->incarnation == h->nodes[id].incarnation;
	if (e->status[id] == call)
		e->status[id] = NULL;
	hub_sync_clock(h);                   /* a wall-clock moment, not the last step's */
	struct hub_node *n = &h->nodes[id];
	if (!current || h->stopping || (n->status != HUB_NODE_UP && n->status != HUB_NODE_STARTING))
		return;
	struct etcd_raft st;
	char err[128];
	if (status == 0 || etcd_parse_raft(status, body, len, &st, err, sizeof err) != 0)
		return;                      /* starting, or busy: the next poll asks again */
	e->member_id[id] = st.id;
	struct wire_state s = n->st;
	s.term = st.term;
	s.leader = node_of_member(e, h->cfg.n, st.lead);
	s.voted_for = node_of_member(e, h->cfg.n, st.vote);
	s.role = !strcmp(st.state, "StateLeader") ? RAFT_LEADER :
		 !strcmp(st.state, "StateCandidate") || !strcmp(st.state, "StatePreCandidate") ? RAFT_CANDIDATE :
		 RAFT_FOLLOWER;
	s.commit = st.commit;
	s.applied = st.applied;
	s.last_index = st.commit;
	s.election_deadline = RAFT_NO_DEADLINE;
	/* a leader's next index for each member, by node id */
	s.n_peers = 0;
	memset(s.next_index, 0, sizeof s.next_index);
	if (s.role == RAFT_LEADER) {
		for (uint32_t k = 0; k < st.n_progress; k++) {
			uint32_t j = node_of_member(e, h->cfg.n, st.progress[k].id);
			if (j)
				s.next_index[j] = st.progress[k].next;
		}
		s.n_peers = h->cfg.n;
	}
	hub__external_state(h, id, &s);
}

static void poll_member(struct hub *h, uint32_t id)
{
	struct hub_etcd *e = h->etcd;
	struct hub_node *n = &h->nodes[id];
	if (e->status[id] || n->paused || (n->status != HUB_NODE_UP && n->status != HUB_NODE_STARTING))
		return;
	struct status_ctx *x = &e->status_ctx[id];
	*x = (struct status_ctx){ h, id, n->incarnation };
	e->status[id] = etcd_call(h->loop, e->client_port[id], ETCD_VARS_PATH, NULL, ETCD_POLL_TIMEOUT_MS,
				  on_status, x);
}

static void on_poll(uv_timer_t *t)
{
	struct hub *h = t->data;
	for (uint32_t i = 1; i <= h->cfg.n; i++)
		poll_member(h, i);
}

static void on_poll_closed(uv_handle_t *handle)
{
	struct hub *h = handle->data;
	h->handles--;
	hub__maybe_free(h);
}

void hub__etcd_start(struct hub *h)
{
	struct hub_etcd *e = h->etcd;
	uv_timer_init(h->loop, &e->poll);
	e->poll.data = h;
	e->poll_open = true;
	h->handles++;
	uv_timer_start(&e->poll, on_poll, ETCD_POLL_MS, ETCD_POLL_MS);
	uv_unref((uv_handle_t *)&e->poll);
}

/* ---- clients ---------------------------------------------------------- */

static void clerk_drop_call(struct etcd_clerk *ec)
{
	if (ec->call) {
		etcd_cancel(ec->call);
		ec->call = NULL;
	}
}

static void clerk_wake_at(struct hub *h, uint32_t k, uint64_t after)
{
	struct hub_client *c = &h->clients[k - 1];
	c->wake_seq++;
	struct hev ev = { .t = h->now + after, .kind = HEV_CLIENT, .node = k, .aux = c->wake_seq };
	hub__heap_push(h, ev);
	hub__kick(h);
}

static void clerk_done(struct etcd_clerk *ec, struct clerk_result *res)
{
	struct hub *h = ec->h;
	ec->busy = false;
	clerk_drop_call(ec);
	h->clients[ec->k - 1].wake_seq++;
	res->op = ec->op;
	res->attempts = ec->attempts;
	res->server = ec->server;
	hub__client_finish(h, ec->k, res);
	free(ec->key);
	free(ec->value);
	ec->key = ec->value = NULL;
}

static void clerk_send(struct etcd_clerk *ec);

static void on_answer(struct etcd_call *call, int status, const char *body, size_t len, const char *why,
		      void *ud)
{
	struct etcd_clerk *ec = ud;
	struct hub *h = ec->h;
	ec->call = NULL;
	if (h->stopping || !ec->busy)
		return;
	/* the history's return time is now, on the wall clock */
	hub_sync_clock(h);
	struct etcd_reply rep;
	memset(&rep, 0, sizeof rep);
	if (status == 0 || etcd_parse(&ec->req, status, body, len, &rep) != 0 || rep.outcome == ETCD_ERROR) {
		/* no answer, or etcd said no: the request may or may not have
		 * been applied; the next member is asked (after a breath if
		 * it answered: "no leader" comes back at once) */
		json_t *ev = hub__ev_new(h, "etcd_retry");
		ev_int(ev, "client", ec->k);
		ev_int(ev, "node", ec->server);
		ev_str(ev, "why", status == 0 ? (why ? why : "no answer") : rep.err[0] ? rep.err : "a bad answer");
		hub__emit(h, ev);
		etcd_reply_free(&rep);
		ec->round++;
		clerk_wake_at(h, ec->k, status == 0 ? 0 : ETCD_ERROR_PAUSE_MS);
		hub__progress(h);
		hub__kick(h);
		return;
	}
	ec->leader = ec->server;
	static uint8_t empty[1];
	struct clerk_result res = { .err = KV_OK, .value = empty };
	switch (ec->op) {
	case KV_GET:
		if (rep.found) {
			res.value = rep.value ? rep.value : empty;
			res.value_len = rep.value_len;
			res.version = rep.version;
		} else {
			res.err = KV_ERR_NOKEY;
		}
		break;
	case KV_DEL:
		res.n = rep.deleted;
		if (rep.deleted == 0)
			res.err = KV_ERR_NOKEY;     /* as our servers say it */
		break;
	case KV_VPUT:
		if (rep.outcome == ETCD_ALREADY) {
			res.version = ec->req.version + 1;   /* an earlier attempt put it */
		} else if (rep.outcome == ETCD_FAILED_COMPARE) {
			if (!rep.found && ec->req.version != 0)
				res.err = KV_ERR_NOKEY;
			else
				/* with a marker, no earlier attempt took effect
				 * (the marker would say): the answer is sure */
				res.err = ec->attempts > 1 && !ec->req.marker ? KV_ERR_MAYBE : KV_ERR_VERSION;
			/* it took no effect, so the marker did not move: the
			 * next write takes this number again */
			if (ec->req.marker)
				ec->seq--;
			res.version = rep.version;
		} else {
			res.version = ec->req.version + 1;
		}
		break;
	default:
		break;
	}
	clerk_done(ec, &res);
	etcd_reply_free(&rep);
	hub__progress(h);
	hub__kick(h);
}

/* Whom to ask: the leader the members name, if this client can reach it;
 * else the member that answered last; else the next one it can reach. */
static uint32_t pick(struct etcd_clerk *ec)
{
	struct hub *h = ec->h;
	uint32_t n = h->cfg.n;
	uint32_t lead = hub_leader(h);
	if (!ec->serializable && lead && ec->round == 0 && hub_client_can_reach(h, ec->k, lead))
		return lead;
	if (ec->leader && ec->round == 0 && hub_client_can_reach(h, ec->k, ec->leader))
		return ec->leader;
	for (uint32_t j = 1; j <= n; j++) {
		uint32_t i = (ec->server + j - 1) % n + 1;
		if (hub_client_can_reach(h, ec->k, i))
			return i;
	}
	return 0;
}

static void clerk_send(struct etcd_clerk *ec)
{
	struct hub *h = ec->h;
	struct hub_etcd *e = h->etcd;
	if (ec->round >= h->cfg.n) {
		/* a full round and no answer: wait before the next */
		ec->round = 0;
		clerk_wake_at(h, ec->k, ec->timeout / 2);
		return;
	}
	uint32_t to = pick(ec);
	if (!to) {
		clerk_wake_at(h, ec->k, ETCD_NO_ROUTE_MS);
		return;
	}
	const char *path;
	char *body;
	if (etcd_build(&ec->req, &path, &body) != 0) {
		clerk_wake_at(h, ec->k, ETCD_NO_ROUTE_MS);
		return;
	}
	ec->server = to;
	ec->attempts++;
	json_t *ev = hub__ev_new(h, "etcd_request");
	ev_int(ev, "client", ec->k);
	ev_int(ev, "node", to);
	ev_str(ev, "op", kv_op_name(ec->op));
	ev_int(ev, "attempt", ec->attempts);
	hub__emit(h, ev);
	ec->call = etcd_call(h->loop, e->client_proxy[to], path, body, ec->timeout, on_answer, ec);
	free(body);
	if (!ec->call)
		clerk_wake_at(h, ec->k, ETCD_NO_ROUTE_MS);
}

int hub__etcd_check_op(struct hub *h, const struct kv_request *req)
{
	if (req->op == KV_APPEND || req->op == KV_INCR) {
		hub__set_err(h, "etcd has no %s: put, get, del and versioned put work (an %s would be a "
			     "client's read and compare-and-swap loop)", kv_op_name(req->op), kv_op_name(req->op));
		return -1;
	}
	if (req->key_len == 0) {
		hub__set_err(h, "etcd keys cannot be empty");
		return -1;
	}
	return 0;
}

int hub__etcd_op(struct hub *h, uint32_t k, const struct kv_request *req, bool local)
{
	struct hub_etcd *e = h->etcd;
	struct hub_client *c = &h->clients[k - 1];
	if (!c->etcd) {
		c->etcd = calloc(1, sizeof *c->etcd);
		if (!c->etcd)
			return -1;
		c->etcd->h = h;
		c->etcd->k = k;
		c->etcd->server = (uint32_t)((k - 1) % h->cfg.n);
	}
	struct etcd_clerk *ec = c->etcd;
	ec->key = malloc(req->key_len + 1);
	ec->value = malloc(req->value_len + 1);
	if (!ec->key || !ec->value) {
		free(ec->key);
		free(ec->value);
		ec->key = ec->value = NULL;
		return -1;
	}
	memcpy(ec->key, req->key, req->key_len);
	if (req->value_len)
		memcpy(ec->value, req->value, req->value_len);
	ec->op = req->op;
	ec->req = (struct etcd_request){
		.op = req->op == KV_GET ? ETCD_GET : req->op == KV_DEL ? ETCD_DEL : req->op == KV_VPUT ? ETCD_VPUT : ETCD_PUT,
		.key = ec->key,
		.key_len = req->key_len,
		.value = ec->value,
		.value_len = req->value_len,
		.version = req->version,
		.serializable = local,
	};
	/* exactly once, unless the cluster was made without (dedup = false):
	 * each write names this clerk's marker and its number (etcd_http.h) */
	if (!h->cfg.no_dedup && req->op != KV_GET) {
		if (!ec->marker[0])
			snprintf(ec->marker, sizeof ec->marker, "termscope/clerk/%s/%u", e->token, k);
		ec->req.marker = (const uint8_t *)ec->marker;
		ec->req.marker_len = (uint32_t)strlen(ec->marker);
		ec->req.seq = ++ec->seq;
	}
	ec->serializable = local;
	ec->busy = true;
	ec->attempts = ec->round = 0;
	ec->timeout = h->cfg.clerk_retry ? h->cfg.clerk_retry : 1000;
	clerk_send(ec);
	return 0;
}

void hub__etcd_client_wake(struct hub *h, uint32_t k)
{
	struct etcd_clerk *ec = h->clients[k - 1].etcd;
	if (ec && ec->busy && !ec->call)
		clerk_send(ec);
}

bool hub__etcd_client_busy(const struct hub *h, uint32_t k)
{
	const struct etcd_clerk *ec = h->clients[k - 1].etcd;
	return ec && ec->busy;
}

uint32_t hub__etcd_client_leader(const struct hub *h, uint32_t k)
{
	const struct etcd_clerk *ec = h->clients[k - 1].etcd;
	return ec ? ec->leader : 0;
}

void hub__etcd_client_free(struct etcd_clerk *ec)
{
	if (!ec)
		return;
	clerk_drop_call(ec);
	free(ec->key);
	free(ec->value);
	free(ec);
}

/* The network or a client's reach changed: the proxy stalls or lets flow
 * each connection, and a request in flight to a member its client can no
 * longer reach is lost (as a cut connection's answer is): retry. */
void hub__etcd_net(struct hub *h)
{
	struct hub_etcd *e = h->etcd;
	proxy_recheck(e->proxy);
	for (uint32_t k = 1; k <= h->n_clients; k++) {
		struct etcd_clerk *ec = h->clients[k - 1].etcd;
		if (!ec || !ec->busy || !ec->call || hub_client_can_reach(h, k, ec->server))
			continue;
		clerk_drop_call(ec);
		ec->round++;
		clerk_wake_at(h, k, 0);
	}
}

/* ---- what the screen and scripts read ---------------------------------- */

int hub_etcd_client_port(const struct hub *h, uint32_t id)
{
	return h->etcd && id >= 1 && id <= h->cfg.n ? h->etcd->client_proxy[id] : 0;
}

int hub_etcd_peer_port(const struct hub *h, uint32_t id)
{
	return h->etcd && id >= 1 && id <= h->cfg.n ? h->etcd->peer_proxy[id] : 0;
}

uint64_t hub_etcd_member_id(const struct hub *h, uint32_t id)
{
	return h->etcd && id >= 1 && id <= h->cfg.n ? h->etcd->member_id[id] : 0;
}

uint64_t hub_etcd_bytes(const struct hub *h, uint32_t from, uint32_t to)
{
	return h->etcd ? proxy_bytes(h->etcd->proxy, from, to) : 0;
}

/* ---- the end ------------------------------------------------------------ */

static void on_proxy_closed(void *ud)
{
	struct hub *h = ud;
	h->handles--;
	hub__maybe_free(h);
}

void hub__etcd_stop(struct hub *h)
{
	struct hub_etcd *e = h->etcd;
	if (!e)
		return;
	for (uint32_t i = 1; i <= HUB_MAX_NODES; i++)
		if (e->status[i]) {
			etcd_cancel(e->status[i]);
			e->status[i] = NULL;
		}
	for (uint32_t k = 1; k <= h->n_clients; k++)
		if (h->clients[k - 1].etcd)
			clerk_drop_call(h->clients[k - 1].etcd);
	if (e->poll_open) {
		e->poll_open = false;
		uv_close((uv_handle_t *)&e->poll, on_poll_closed);
	}
	if (e->proxy) {
		struct proxy *p = e->proxy;
		e->proxy = NULL;
		proxy_free(p, on_proxy_closed, h);
	}
}

void hub__etcd_free(struct hub *h)
{
	free(h->etcd);
	h->etcd = NULL;
}
