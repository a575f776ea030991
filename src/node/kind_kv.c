/*
 * kind_kv.c — the key/value kinds: "kv", the fault-tolerant service on Raft
 * (6.824 Lab 4), and "kvsrv", one server without replication (Lab 2).
 *
 * kv: a request is proposed to Raft as it came (its encoding is the log
 * entry) and remembered as pending at the index Raft gave it.  Every
 * replica applies committed entries to its state machine (src/core/kv),
 * whose duplicate table makes a retried write take effect once even when
 * the retry went to a new leader, or arrived after a snapshot.  When the
 * entry at a pending index applies, the request is answered — with the
 * result if it is the same request, with ErrWrongLeader if another entry
 * won that index.  A leader that loses its leadership (a new term, or a
 * step down) fails its pending requests at once, so clerks retry elsewhere
 * instead of waiting.  Gets go through the log too, unless the request asks
 * for a local read: then any replica answers from its own state — fast,
 * available in a minority, and possibly stale, which is the point of the
 * CAP lesson.  The state machine and its duplicate table are the snapshot,
 * taken when the persisted Raft state reaches --maxraftstate bytes.
 *
 * kvsrv: requests apply at once; nothing is persisted (as in the lab).
 *
 * Every change to a key is reported to the hub (KV_SET) so the dashboard
 * can show each replica's table.
 */
#include <stdlib.h>
#include <string.h>

#include "service.h"

struct pending {
	uint64_t index, term;
	uint32_t client;
	uint64_t seq;
};

struct kv_state {
	struct kv_store kv;
	struct pending *p;
	size_t n_p, cap_p;
};

static bool kv_kind_init(struct node *n, const char **why)
{
	struct kv_state *ks = calloc(1, sizeof *ks);
	if (!ks) {
		*why = "out of memory";
		return false;
	}
	kv_init(&ks->kv, n->dedup);
	n->svc = ks;
	return true;
}

static void kv_kind_destroy(struct node *n)
{
	struct kv_state *ks = n->svc;
	if (!ks)
		return;
	kv_free(&ks->kv);
	free(ks->p);
	free(ks);
	n->svc = NULL;
}

static void reply_err(struct node *n, uint32_t client, uint64_t seq, enum kv_err err)
{
	struct kv_reply rep = {
		.client = client, .seq = seq, .err = err,
		.leader_hint = n->kind->raft ? n->raft.leader_id : 0,
	};
	node_send_kv(n, WIRE_MSG_KV_REPLY, client, &rep);
}

/* Apply one request to the state machine and report what changed. */
static bool apply_request(struct node *n, const struct kv_request *req, struct kv_reply *rep)
{
	struct kv_state *ks = n->svc;
	bool changed = false;
	if (kv_apply(&ks->kv, req, rep, &changed) != 0) {
		n->out.failed = true;        /* out of memory: the shell stops */
		return false;
	}
	if (changed) {
		const struct kv_entry *e = kv_lookup(&ks->kv, req->key, req->key_len);
		if (e)
			node_report_kv(n, e);
	}
	return true;
}

static bool decode(struct node *n, uint32_t from, const uint8_t *body, uint32_t len,
		   struct kv_request *req)
{
	const char *why = NULL;
	if (kv_decode_request(body, len, req, &why) != 0) {
		node_note(n, 1, "node %u: a bad request from client %u: %s", n->id, from, why);
		return false;
	}
	if (req->client != from) {
		node_note(n, 1, "node %u: client %u sent a request in the name of client %u",
			  n->id, from, req->client);
		return false;
	}
	return true;
}

static void local_get(struct node *n, const struct kv_request *req)
{
	struct kv_state *ks = n->svc;
	const struct kv_entry *e = kv_lookup(&ks->kv, req->key, req->key_len);
	struct kv_reply rep = { .client = req->client, .seq = req->seq, .err = KV_ERR_NOKEY };
	if (e) {
		rep.err = KV_OK;
		rep.value = e->value;
		rep.value_len = e->value_len;
		rep.version = e->version;
	}
	node_send_kv(n, WIRE_MSG_KV_REPLY, req->client, &rep);
}

/* ---- kv: the service on Raft ----------------------------------------------- */

static void kv_client(struct node *n, uint32_t from, const uint8_t *body, uint32_t len)
{
	struct kv_state *ks = n->svc;
	struct kv_request req;
	if (!decode(n, from, body, len, &req))
		return;
	if (req.op == KV_GET && req.local) {
		local_get(n, &req);
		return;
	}
	uint64_t index, term;
	if (raft_propose(&n->raft, n->now, body, len, &index, &term) != RAFT_OK) {
		reply_err(n, req.client, req.seq, KV_ERR_WRONG_LEADER);
		return;
	}
	if (ks->n_p == ks->cap_p) {
		size_t cap = ks->cap_p ? 2 * ks->cap_p : 16;
		struct pending *p = realloc(ks->p, cap * sizeof *p);
		if (!p) {
			n->out.failed = true;
			return;
		}
		ks->p = p;
		ks->cap_p = cap;
	}
	ks->p[ks->n_p++] = (struct pending){ .index = index, .term = term, .client = req.client, .seq = req.seq };
}

static void drop_pending(struct kv_state *ks, size_t i)
{
	ks->p[i] = ks->p[--ks->n_p];
}

static void kv_apply_entry(struct node *n, uint64_t index, const struct raft_entry *e)
{
	struct kv_state *ks = n->svc;
	struct kv_request req;
	struct kv_reply rep;
	const char *why = NULL;
	bool ok = kv_decode_request(e->data, e->len, &req, &why) == 0;
	if (!ok)
		node_note(n, 1, "node %u: entry %llu is not a key/value request (%s); skipped",
			  n->id, (unsigned long long)index, why);
	else if (!apply_request(n, &req, &rep))
		return;
	for (size_t i = 0; i < ks->n_p; i++) {
		struct pending *p = &ks->p[i];
		if (p->index != index)
			continue;
		if (ok && p->client == req.client && p->seq == req.seq)
			node_send_kv(n, WIRE_MSG_KV_REPLY, p->client, &rep);
		else
			reply_err(n, p->client, p->seq, KV_ERR_WRONG_LEADER);
		drop_pending(ks, i);
		i--;
	}
}

/* A leader that is no longer leader of the term it proposed in cannot know
 * what becomes of its pending requests: fail them so the clerks retry. */
static void kv_settle(struct node *n)
{
	struct kv_state *ks = n->svc;
	const struct raft *r = &n->raft;
	for (size_t i = 0; i < ks->n_p; i++) {
		struct pending *p = &ks->p[i];
		if (r->role == RAFT_LEADER && r->current_term == p->term && p->index > r->last_applied)
			continue;
		reply_err(n, p->client, p->seq, KV_ERR_WRONG_LEADER);
		drop_pending(ks, i);
		i--;
	}
}

static bool kv_kind_restore(struct node *n, const uint8_t *data, uint32_t len, enum wire_snapshot_how how,
			    const char **why)
{
	struct kv_state *ks = n->svc;
	if (kv_restore(&ks->kv, data, len) != 0) {
		*why = ks->kv.errmsg;
		return false;
	}
	node_report_kv_table(n, &ks->kv);
	return true;
}

static bool kv_kind_snapshot(struct node *n, uint8_t **data, size_t *len)
{
	struct kv_state *ks = n->svc;
	return kv_snapshot(&ks->kv, data, len) == 0;
}

static bool kv_wants_snapshot(struct node *n)
{
	return n->maxraftstate > 0 && store_raft_size(&n->store) >= n->maxraftstate;
}

static void kv_fill(struct node *n, struct wire_state *s)
{
	struct kv_state *ks = n->svc;
	s->kv_keys = ks->kv.n_keys;
	s->kv_dup_bytes = kv_dup_bytes(&ks->kv);
}

const struct node_kind node_kind_kv = {
	.name = "kv",
	.raft = true,
	.init = kv_kind_init,
	.destroy = kv_kind_destroy,
	.client = kv_client,
	.apply = kv_apply_entry,
	.restore = kv_kind_restore,
	.snapshot = kv_kind_snapshot,
	.wants_snapshot = kv_wants_snapshot,
	.settle = kv_settle,
	.fill = kv_fill,
};

/* ---- kvsrv: one server ------------------------------------------------------ */

static void kvsrv_client(struct node *n, uint32_t from, const uint8_t *body, uint32_t len)
{
	struct kv_request req;
	struct kv_reply rep;
	if (!decode(n, from, body, len, &req))
		return;
	if (req.op == KV_GET && req.local) {
		local_get(n, &req);
		return;
	}
	if (apply_request(n, &req, &rep))
		node_send_kv(n, WIRE_MSG_KV_REPLY, req.client, &rep);
}

const struct node_kind node_kind_kvsrv = {
	.name = "kvsrv",
	.raft = false,
	.init = kv_kind_init,
	.destroy = kv_kind_destroy,
	.client = kvsrv_client,
	.fill = kv_fill,
};
