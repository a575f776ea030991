/*
 * kind_raft.c — kind "raft": a replicated log of opaque commands, the
 * service of 6.824 Lab 3.
 *
 * Its state is the list of commands it has applied, in index order (what
 * the lab's tester keeps).  That list is also its snapshot (the tester's
 * too), so a node that installs a snapshot or restarts from one reports
 * every command it now holds as applied, and the hub can still check that
 * every node applied the same command at every index.  With
 * --snapshot-every N it compacts its log every N applied entries, as the
 * Lab 3D tests do.
 */
#include <stdlib.h>
#include <string.h>

#include "service.h"

struct applied {
	uint64_t term;
	uint32_t len;
	uint8_t *data;
};

struct log_state {
	struct applied *a;                   /* a[i] is index i + 1 */
	uint64_t n, cap;
	uint64_t reported;                   /* indices this incarnation reported as applied */
};

#define LOG_SNAP_MAGIC 0x31474f4c53535354ull   /* "TSSSLOG1" */

static bool log_init(struct node *n, const char **why)
{
	n->svc = calloc(1, sizeof(struct log_state));
	if (!n->svc)
		*why = "out of memory";
	return n->svc != NULL;
}

static void log_clear(struct log_state *ls)
{
	for (uint64_t i = 0; i < ls->n; i++)
		free(ls->a[i].data);
	ls->n = 0;
}

static void log_destroy(struct node *n)
{
	struct log_state *ls = n->svc;
	if (!ls)
		return;
	log_clear(ls);
	free(ls->a);
	free(ls);
	n->svc = NULL;
}

static bool log_push(struct log_state *ls, uint64_t term, const uint8_t *data, uint32_t len)
{
	if (ls->n == ls->cap) {
		uint64_t cap = ls->cap ? 2 * ls->cap : 64;
		struct applied *a = realloc(ls->a, cap * sizeof *a);
		if (!a)
			return false;
		ls->a = a;
		ls->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return false;
	if (len)
		memcpy(copy, data, len);
	ls->a[ls->n++] = (struct applied){ .term = term, .len = len, .data = copy };
	return true;
}

static void log_apply(struct node *n, uint64_t index, const struct raft_entry *e)
{
	struct log_state *ls = n->svc;
	if (index != ls->n + 1 || !log_push(ls, e->term, e->data, e->len)) {
		n->out.failed = true;        /* the shell stops: out of memory (or a gap, a bug) */
		return;
	}
	ls->reported = index;
}

static bool log_snapshot(struct node *n, uint8_t **data, size_t *len)
{
	struct log_state *ls = n->svc;
	size_t need = 16;
	for (uint64_t i = 0; i < ls->n; i++)
		need += 12 + ls->a[i].len;
	uint8_t *p = malloc(need);
	if (!p)
		return false;
	size_t at = 0;
	wire_put_le(p + at, LOG_SNAP_MAGIC, 8), at += 8;
	wire_put_le(p + at, ls->n, 8), at += 8;
	for (uint64_t i = 0; i < ls->n; i++) {
		wire_put_le(p + at, ls->a[i].term, 8), at += 8;
		wire_put_le(p + at, ls->a[i].len, 4), at += 4;
		memcpy(p + at, ls->a[i].data, ls->a[i].len), at += ls->a[i].len;
	}
	*data = p;
	*len = at;
	return true;
}

static bool log_restore(struct node *n, const uint8_t *data, uint32_t len, enum wire_snapshot_how how,
			const char **why)
{
	struct log_state *ls = n->svc;
	struct log_state fresh = { 0 };
	size_t at = 16;
	if (len < 16 || wire_get_le(data, 8) != LOG_SNAP_MAGIC) {
		*why = "not a snapshot of a raft-kind node";
		return false;
	}
	uint64_t count = wire_get_le(data + 8, 8);
	for (uint64_t i = 0; i < count; i++) {
		if (len - at < 12) {
			*why = "truncated";
			goto fail;
		}
		uint64_t term = wire_get_le(data + at, 8);
		uint32_t l = (uint32_t)wire_get_le(data + at + 8, 4);
		at += 12;
		if (len - at < l) {
			*why = "truncated";
			goto fail;
		}
		if (!log_push(&fresh, term, data + at, l)) {
			*why = "out of memory";
			goto fail;
		}
		at += l;
	}
	if (at != len) {
		*why = "trailing bytes";
		goto fail;
	}
	/* a snapshot holds at least what this node applied: report the rest */
	uint64_t from = how == WIRE_SNAP_LOADED ? 0 : ls->reported;
	for (uint64_t i = from; i < fresh.n; i++)
		node_report_apply(n, i + 1, fresh.a[i].term, fresh.a[i].data, fresh.a[i].len);
	log_clear(ls);
	free(ls->a);
	ls->a = fresh.a;
	ls->n = fresh.n;
	ls->cap = fresh.cap;
	if (fresh.n > ls->reported)
		ls->reported = fresh.n;
	return true;
fail:
	log_clear(&fresh);
	free(fresh.a);
	return false;
}

static bool log_wants_snapshot(struct node *n)
{
	return n->snapshot_every > 0 &&
	       n->raft.last_applied >= n->raft.snapshot_index + n->snapshot_every;
}

const struct node_kind node_kind_raft = {
	.name = "raft",
	.raft = true,
	.init = log_init,
	.destroy = log_destroy,
	.apply = log_apply,
	.restore = log_restore,
	.snapshot = log_snapshot,
	.wants_snapshot = log_wants_snapshot,
};
