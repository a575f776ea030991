/*
 * test_raft.c — unit tests of the pure Raft core (src/core/raft.c).
 *
 * Several struct raft instances run over an in-memory network: a queue of
 * messages with delivery times (delay, loss, duplication, long delays,
 * partitions) and a virtual clock that jumps to the next delivery or
 * deadline.  After every input the harness does what the node shell does —
 * take the ready batch, persist it into a per-node fake disk (term, vote, a
 * snapshot, entries after it, honouring snapshot + truncate + append), send
 * the messages, load the snapshot and apply the committed entries into a
 * fake service, advance, and (if asked) snapshot the service every so many
 * applied entries — and it checks, at every step:
 *   - at most one leader per term, ever;
 *   - the same entry applied at every index on every node, in order (the
 *     service's state is the list of applied entries and its snapshot
 *     encodes that list, so what a snapshot brings in is checked too);
 *   - the fake disk equal to the in-memory log and snapshot after each
 *     persist;
 *   - the batch is self-consistent: no vote, RequestVote, success reply or
 *     snapshot reply leaves before what it promises is on the fake disk; a
 *     vote once cast in a term never changes; meta never changes without
 *     meta_changed; an InstallSnapshot carries the snapshot on the disk;
 *   - commit never goes back within one incarnation; with snapshots on, the
 *     applied part of the log stays shorter than the snapshot interval.
 * Everything is deterministic: fixed seeds, virtual time only.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/raft.h"
#include "../../src/core/rng.h"

#define MAX_TERM 4096
#define MAX_INDEX 4096
#define DATA_MAX 32
#define NODES (RAFT_MAX_NODES + 1)

/* ---- a fake disk ---------------------------------------------------------- */

struct disk {
	uint64_t term;
	uint32_t vote;
	/* the snapshot (snap_index 0: none) */
	uint64_t snap_index, snap_term;
	uint8_t *snap_data;
	uint32_t snap_len;
	/* the log: log[i] holds index base + 1 + i */
	uint64_t base;
	struct raft_entry *log;
	uint64_t n, cap;
	uint64_t truncations;                /* persisted truncations */
	uint64_t installs;                   /* snapshots from a leader persisted */
};

static uint64_t disk_last(const struct disk *d)
{
	return d->base + d->n;
}

static const struct raft_entry *disk_entry(const struct disk *d, uint64_t index)
{
	cr_assert(index > d->base && index <= disk_last(d));
	return &d->log[index - d->base - 1];
}

/* Drop the stored entries from `from` on, if there are any. */
static void disk_truncate(struct disk *d, uint64_t from)
{
	cr_assert_gt(from, d->base);
	for (uint64_t i = from - d->base - 1; i < d->n; i++)
		free(d->log[i].data);
	if (from <= disk_last(d))
		d->n = from - d->base - 1;
}

/* Drop the stored entries through `through`: the log starts after it. */
static void disk_compact(struct disk *d, uint64_t through)
{
	uint64_t drop = through >= disk_last(d) ? d->n : through - d->base;

	cr_assert_geq(through, d->base);
	for (uint64_t i = 0; i < drop; i++)
		free(d->log[i].data);
	if (drop > 0 && drop < d->n)
		memmove(d->log, d->log + drop, (d->n - drop) * sizeof(*d->log));
	d->n -= drop;
	d->base = through;
}

static void disk_save_snapshot(struct disk *d, uint64_t index, uint64_t term,
			       const uint8_t *data, uint32_t len)
{
	free(d->snap_data);
	d->snap_data = malloc(len ? len : 1);
	cr_assert(d->snap_data);
	if (len)
		memcpy(d->snap_data, data, len);
	d->snap_index = index;
	d->snap_term = term;
	d->snap_len = len;
}

static void disk_append(struct disk *d, const struct raft_entry *e)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->log = realloc(d->log, d->cap * sizeof(*d->log));
		cr_assert(d->log);
	}
	struct raft_entry copy = { .term = e->term, .len = e->len };
	if (e->len) {
		copy.data = malloc(e->len);
		cr_assert(copy.data);
		memcpy(copy.data, e->data, e->len);
	}
	d->log[d->n++] = copy;
}

static void disk_free(struct disk *d)
{
	disk_truncate(d, d->base + 1);
	free(d->log);
	free(d->snap_data);
	memset(d, 0, sizeof(*d));
}

static bool entry_eq(const struct raft_entry *a, const struct raft_entry *b)
{
	return a->term == b->term && a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool entry_is(const struct raft_entry *e, uint64_t term, const char *s)
{
	return e && e->term == term && e->len == strlen(s) &&
	       memcmp(e->data, s, e->len) == 0;
}

static void disk_check_log(const struct disk *d, const struct raft *r)
{
	cr_assert_eq(disk_last(d), raft_last_index(r),
		     "node %u: disk holds up to %lu, log %lu", r->cfg.id,
		     (unsigned long)disk_last(d), (unsigned long)raft_last_index(r));
	cr_assert_eq(d->base, r->snapshot_index, "node %u: disk log starts after %lu, core's after %lu",
		     r->cfg.id, (unsigned long)d->base, (unsigned long)r->snapshot_index);
	cr_assert_eq(d->snap_index, r->snapshot_index);
	cr_assert_eq(d->snap_term, r->snapshot_term);
	cr_assert_eq(d->snap_len, r->snapshot_len);
	cr_assert(d->snap_len == 0 ||
		  memcmp(d->snap_data, r->snapshot_data, d->snap_len) == 0,
		  "node %u: the core's snapshot is not the one on disk", r->cfg.id);
	for (uint64_t i = d->base + 1; i <= disk_last(d); i++)
		cr_assert(entry_eq(disk_entry(d, i), raft_entry_at(r, i)),
			  "node %u: disk differs from log at %lu", r->cfg.id,
			  (unsigned long)i);
}

/* Step 1 of the ready contract, checking the batch as it goes. */
static void disk_persist(struct disk *d, const struct raft *r,
			 const struct raft_ready *rd)
{
	uint32_t id = r->cfg.id;

	if (rd->meta_changed) {
		cr_assert_geq(rd->term, d->term, "node %u: term went back", id);
		if (rd->term == d->term && d->vote != RAFT_NONE)
			cr_assert_eq(rd->voted_for, d->vote,
				     "node %u voted twice in term %lu", id,
				     (unsigned long)rd->term);
		d->term = rd->term;
		d->vote = rd->voted_for;
	} else {
		cr_assert(rd->term == d->term && rd->voted_for == d->vote,
			  "node %u: term/vote changed without meta_changed", id);
	}
	if (rd->snapshot) {
		/* save it, then drop what it stands for */
		cr_assert_gt(rd->snapshot_index, d->snap_index,
			     "node %u: an older snapshot handed out", id);
		cr_assert(rd->snapshot_len == 0 || rd->snapshot_data);
		disk_save_snapshot(d, rd->snapshot_index, rd->snapshot_term,
				   rd->snapshot_data, rd->snapshot_len);
		disk_compact(d, rd->snapshot_index);
		d->installs++;
		cr_assert(!rd->truncate_from ||
			  rd->truncate_from == rd->snapshot_index + 1,
			  "node %u: truncate_from %lu with a snapshot at %lu", id,
			  (unsigned long)rd->truncate_from,
			  (unsigned long)rd->snapshot_index);
	} else if (rd->truncate_from) {
		cr_assert(rd->truncate_from > d->base &&
			  rd->truncate_from <= disk_last(d),
			  "node %u: truncate_from %lu with %lu..%lu on disk", id,
			  (unsigned long)rd->truncate_from,
			  (unsigned long)d->base + 1, (unsigned long)disk_last(d));
	}
	if (rd->truncate_from) {
		disk_truncate(d, rd->truncate_from);
		d->truncations++;
	}
	if (rd->n_append) {
		cr_assert_eq(rd->append_from, disk_last(d) + 1,
			     "node %u: append_from %lu, disk holds up to %lu", id,
			     (unsigned long)rd->append_from, (unsigned long)disk_last(d));
		for (uint64_t i = 0; i < rd->n_append; i++) {
			const struct raft_entry *e =
				raft_entry_at(r, rd->append_from + i);
			cr_assert(e);
			disk_append(d, e);
		}
	}
	disk_check_log(d, r);

	/* what the messages promise is durable now */
	for (size_t i = 0; i < rd->n_msgs; i++) {
		const struct raft_msg *m = &rd->msgs[i];
		cr_assert_eq(m->from, id);
		/* a batch may span inputs: an earlier message of an older
		 * term is fine, the disk's newer term outranks its promise */
		cr_assert_leq(m->term, d->term, "node %u sends a %s of term %lu, disk has %lu",
			      id, raft_msg_type_name(m->type),
			      (unsigned long)m->term, (unsigned long)d->term);
		if (m->term < d->term)
			continue;
		switch (m->type) {
		case RAFT_REQUEST_VOTE:
			cr_assert_eq(d->vote, id);
			break;
		case RAFT_REQUEST_VOTE_REPLY:
			if (m->vote_granted)
				cr_assert_eq(d->vote, m->to);
			break;
		case RAFT_APPEND_ENTRIES:
			cr_assert_leq(m->n_entries, RAFT_MAX_APPEND);
			if (m->n_entries)
				cr_assert_leq(m->prev_log_index + m->n_entries, disk_last(d));
			for (uint32_t k = 0; k < m->n_entries; k++)
				cr_assert(entry_eq(&m->entries[k],
					  disk_entry(d, m->prev_log_index + 1 + k)));
			break;
		case RAFT_APPEND_ENTRIES_REPLY:
			if (m->success)
				cr_assert_leq(m->match_index, disk_last(d));
			break;
		case RAFT_INSTALL_SNAPSHOT:
			/* the snapshot it sends is the one it stored */
			cr_assert_gt(m->last_included_index, 0);
			cr_assert_eq(m->last_included_index, d->snap_index);
			cr_assert_eq(m->last_included_term, d->snap_term);
			cr_assert_eq(m->snapshot_len, d->snap_len);
			cr_assert(m->snapshot_len == 0 ||
				  memcmp(m->snapshot_data, d->snap_data, d->snap_len) == 0);
			break;
		case RAFT_INSTALL_SNAPSHOT_REPLY:
			/* everything through it is in the snapshot or the log */
			cr_assert_leq(m->last_included_index, disk_last(d));
			break;
		}
	}
}

/* ---- a node: a core, its disk, its state machine ---------------------------- */

struct committed {
	bool set;
	uint64_t term;
	uint32_t len;
	uint8_t data[DATA_MAX];
};

struct node {
	uint32_t id;
	struct raft r;
	struct disk disk;
	bool up;
	uint32_t incarnation;
	/* the service: its state is the list of applied entries, sm[1..applied] */
	struct committed *sm;
	uint64_t sm_cap;
	uint64_t applied;                    /* the state machine's last index */
	uint64_t loads;                      /* snapshots loaded from a batch */
	uint64_t log_applies;                /* entries applied from the log */
	uint64_t commit_seen;
	enum raft_role role_seen;
	int pending;                         /* inputs since the last ready */
};

/* ---- the service's state and its snapshot ------------------------------------
 *
 * A snapshot through index n is, for each index 1..n: u64 term, u8 length,
 * the data.  Entries are compared, not just commands, so that "the same
 * entry at every index" is checked across snapshots too.
 */

static uint8_t *snap_encode(const struct committed *k, uint64_t n, uint32_t *len)
{
	size_t bytes = 0, at = 0;
	uint8_t *buf;

	for (uint64_t i = 1; i <= n; i++)
		bytes += 9 + k[i].len;
	buf = malloc(bytes ? bytes : 1);
	cr_assert(buf);
	for (uint64_t i = 1; i <= n; i++) {
		cr_assert(k[i].set, "encoding a hole at %lu", (unsigned long)i);
		memcpy(buf + at, &k[i].term, 8);
		buf[at + 8] = (uint8_t)k[i].len;
		memcpy(buf + at + 9, k[i].data, k[i].len);
		at += 9 + k[i].len;
	}
	*len = (uint32_t)bytes;
	return buf;
}

/* Record what the service holds at index, checking it against the table of
 * what was applied there anywhere (if given). */
static void sm_put(struct node *nd, uint64_t index, const struct committed *k,
		   struct committed *table)
{
	if (index >= nd->sm_cap) {
		uint64_t cap = nd->sm_cap ? 2 * nd->sm_cap : 256;
		while (cap <= index)
			cap *= 2;
		nd->sm = realloc(nd->sm, cap * sizeof(*nd->sm));
		cr_assert(nd->sm);
		nd->sm_cap = cap;
	}
	nd->sm[index] = *k;
	if (!table)
		return;
	cr_assert_lt(index, MAX_INDEX);
	if (!table[index].set) {
		table[index] = *k;
		return;
	}
	cr_assert(table[index].term == k->term && table[index].len == k->len &&
		  memcmp(table[index].data, k->data, k->len) == 0,
		  "node %u holds a different entry at %lu", nd->id,
		  (unsigned long)index);
}

/* The service loads a snapshot through `index`: its state becomes the list. */
static void sm_load(struct node *nd, const uint8_t *data, uint32_t len,
		    uint64_t index, struct committed *table)
{
	size_t at = 0;

	for (uint64_t i = 1; i <= index; i++) {
		struct committed k = { .set = true };
		cr_assert_leq(at + 9, len, "node %u: snapshot too short", nd->id);
		memcpy(&k.term, data + at, 8);
		k.len = data[at + 8];
		cr_assert_leq(k.len, DATA_MAX);
		cr_assert_leq(at + 9 + k.len, len);
		memcpy(k.data, data + at + 9, k.len);
		at += 9 + k.len;
		sm_put(nd, i, &k, table);
	}
	cr_assert_eq(at, len, "node %u: snapshot too long", nd->id);
	nd->applied = index;
}

static void sm_free(struct node *nd)
{
	free(nd->sm);
	nd->sm = NULL;
	nd->sm_cap = 0;
}

static struct raft_config config(uint32_t id, uint32_t n, uint64_t seed)
{
	return (struct raft_config){
		.id = id, .n = n, .seed = seed,
		.heartbeat = 100, .election_min = 300, .election_max = 600,
	};
}

static void node_start(struct node *nd, uint32_t id, uint32_t n, uint64_t seed,
		       raft_time now)
{
	struct raft_config cfg = config(id, n, seed);

	nd->id = id;
	nd->applied = 0;
	cr_assert_eq(raft_init(&nd->r, &cfg, now), RAFT_OK);
	if (nd->disk.snap_index) {
		/* the service loads its snapshot; the core starts from it */
		sm_load(nd, nd->disk.snap_data, nd->disk.snap_len,
			nd->disk.snap_index, NULL);
		cr_assert_eq(raft_restore_snapshot(&nd->r, nd->disk.snap_index,
						   nd->disk.snap_term,
						   nd->disk.snap_data,
						   nd->disk.snap_len), RAFT_OK);
	}
	cr_assert_eq(raft_restore(&nd->r, nd->disk.term, nd->disk.vote,
				  nd->disk.log, nd->disk.n), RAFT_OK);
	cr_assert_eq(nd->r.last_applied, nd->applied);
	nd->up = true;
	nd->commit_seen = 0;
	nd->role_seen = RAFT_FOLLOWER;
	nd->pending = 0;
}

/* Take the batch and persist it; the caller sends, then node_advance. */
static void node_ready(struct node *nd, struct raft_ready *rd)
{
	raft_ready(&nd->r, rd);
	disk_persist(&nd->disk, &nd->r, rd);
	cr_assert(rd->apply_to == rd->apply_from || rd->commit_changed);
	if (nd->r.role != nd->role_seen)
		cr_assert(rd->role_changed, "node %u: role changed silently", nd->id);
	nd->role_seen = nd->r.role;
}

/* Load the snapshot, apply (checking order and, given a table, agreement)
 * and advance. */
static void node_advance(struct node *nd, struct raft_ready *rd,
			 struct committed *table)
{
	if (rd->snapshot) {
		cr_assert_gt(rd->snapshot_index, nd->applied,
			     "node %u: a snapshot at %lu, applied %lu", nd->id,
			     (unsigned long)rd->snapshot_index, (unsigned long)nd->applied);
		cr_assert_eq(rd->apply_from, rd->snapshot_index);
		sm_load(nd, rd->snapshot_data, rd->snapshot_len,
			rd->snapshot_index, table);
		nd->loads++;
	}
	cr_assert_eq(rd->apply_from, nd->applied, "node %u: apply_from %lu, applied %lu",
		     nd->id, (unsigned long)rd->apply_from, (unsigned long)nd->applied);
	for (uint64_t i = rd->apply_from + 1; i <= rd->apply_to; i++) {
		const struct raft_entry *e = raft_entry_at(&nd->r, i);
		struct committed k = { .set = true };

		cr_assert(e, "node %u: applying %lu, not in the log", nd->id,
			  (unsigned long)i);
		cr_assert_leq(e->len, DATA_MAX);
		k.term = e->term;
		k.len = e->len;
		if (e->len)
			memcpy(k.data, e->data, e->len);
		sm_put(nd, i, &k, table);
		nd->applied = i;
		nd->log_applies++;
	}
	raft_advance(&nd->r, rd);
	cr_assert(!raft_has_ready(&nd->r));
	cr_assert_eq(nd->r.last_applied, nd->applied);
	nd->pending = 0;
}

/* The service snapshots its state through what it applied: the core
 * compacts, the disk saves the snapshot and then drops what it stands for. */
static void node_snapshot(struct node *nd, uint64_t index)
{
	uint64_t term = 0;
	uint32_t len;
	uint8_t *data = snap_encode(nd->sm, index, &len);

	cr_assert(raft_term_at(&nd->r, index, &term));
	cr_assert_eq(raft_snapshot(&nd->r, index, data, len), RAFT_OK);
	cr_assert_eq(nd->r.snapshot_index, index);
	cr_assert_eq(nd->r.snapshot_term, term);
	disk_save_snapshot(&nd->disk, index, term, data, len);
	disk_compact(&nd->disk, index);
	free(data);
}

/* ---- the cluster and its network -------------------------------------------- */

struct pmsg {
	struct raft_msg m;
	struct raft_entry *ents;             /* owned copy; m.entries points here */
	uint8_t *snap;                       /* owned copy; m.snapshot_data points here */
	raft_time at;
	uint64_t seq;
};

struct cluster {
	uint32_t n;
	uint64_t seed;
	raft_time now;
	struct node nodes[NODES];
	bool link[NODES][NODES];             /* link[a][b]: a can send to b */
	struct pmsg *q;
	size_t nq, capq;
	uint64_t seq;
	struct rng rng;                      /* the network's dice */
	double drop, dup, long_delay;
	raft_time delay_min, delay_max;
	bool lazy;                           /* several inputs per ready */
	uint64_t snap_every;                 /* services snapshot every so many applied entries, 0: never */
	uint32_t leader_of[MAX_TERM];
	struct committed committed[MAX_INDEX];
	uint64_t sent[RAFT_INSTALL_SNAPSHOT_REPLY + 1][NODES][NODES];  /* by type, from, to */
	uint64_t granted[NODES][NODES];      /* votes granted, from -> to */
	uint64_t dropped, delivered, steps;
};

static uint64_t node_seed(uint64_t seed, uint32_t id, uint32_t incarnation)
{
	return rng_mix(rng_mix(seed, id), incarnation);
}

static struct cluster *cl_new(uint32_t n, uint64_t seed)
{
	struct cluster *c = calloc(1, sizeof(*c));

	cr_assert(c);
	c->n = n;
	c->seed = seed;
	rng_seed(&c->rng, rng_mix(seed, 0xc1));
	c->delay_min = 1;
	c->delay_max = 5;
	for (uint32_t a = 1; a <= n; a++)
		for (uint32_t b = 1; b <= n; b++)
			c->link[a][b] = true;
	for (uint32_t id = 1; id <= n; id++)
		node_start(&c->nodes[id], id, n, node_seed(seed, id, 0), 0);
	return c;
}

static void cl_free(struct cluster *c)
{
	for (uint32_t id = 1; id <= c->n; id++) {
		if (c->nodes[id].up)
			raft_close(&c->nodes[id].r);
		disk_free(&c->nodes[id].disk);
		sm_free(&c->nodes[id]);
	}
	for (size_t i = 0; i < c->nq; i++) {
		free(c->q[i].ents);
		free(c->q[i].snap);
	}
	free(c->q);
	free(c);
}

static void net_enqueue(struct cluster *c, const struct raft_msg *m)
{
	struct pmsg p = { .m = *m, .seq = c->seq++ };
	raft_time delay = rng_range(&c->rng, c->delay_min, c->delay_max + 1);

	if (c->long_delay > 0 && rng_double(&c->rng) < c->long_delay)
		delay = rng_range(&c->rng, 200, 2200);
	p.at = c->now + delay;
	p.m.entries = NULL;
	if (m->n_entries) {
		/* copy the entries and their data into one block: what the
		 * sender handed out is only valid until its next input */
		size_t bytes = 0;
		uint8_t *data;

		for (uint32_t i = 0; i < m->n_entries; i++)
			bytes += m->entries[i].len;
		p.ents = malloc(m->n_entries * sizeof(*p.ents) + bytes);
		cr_assert(p.ents);
		data = (uint8_t *)(p.ents + m->n_entries);
		for (uint32_t i = 0; i < m->n_entries; i++) {
			p.ents[i] = m->entries[i];
			if (p.ents[i].len) {
				memcpy(data, m->entries[i].data, p.ents[i].len);
				p.ents[i].data = data;
				data += p.ents[i].len;
			}
		}
		p.m.entries = p.ents;
	}
	p.m.snapshot_data = NULL;
	if (m->type == RAFT_INSTALL_SNAPSHOT) {
		p.snap = malloc(m->snapshot_len ? m->snapshot_len : 1);
		cr_assert(p.snap);
		if (m->snapshot_len)
			memcpy(p.snap, m->snapshot_data, m->snapshot_len);
		p.m.snapshot_data = p.snap;
	}
	if (c->nq == c->capq) {
		c->capq = c->capq ? 2 * c->capq : 256;
		c->q = realloc(c->q, c->capq * sizeof(*c->q));
		cr_assert(c->q);
	}
	c->q[c->nq++] = p;
}

static void net_send(struct cluster *c, const struct raft_msg *m)
{
	cr_assert(m->to >= 1 && m->to <= c->n && m->to != m->from);
	c->sent[m->type][m->from][m->to]++;
	if (m->type == RAFT_REQUEST_VOTE_REPLY && m->vote_granted)
		c->granted[m->from][m->to]++;
	if (!c->link[m->from][m->to] ||
	    (c->drop > 0 && rng_double(&c->rng) < c->drop)) {
		c->dropped++;
		return;
	}
	net_enqueue(c, m);
	if (c->dup > 0 && rng_double(&c->rng) < c->dup)
		net_enqueue(c, m);
}

static void check_invariants(struct cluster *c)
{
	for (uint32_t id = 1; id <= c->n; id++) {
		struct node *nd = &c->nodes[id];
		struct raft *r = &nd->r;

		if (!nd->up)
			continue;
		cr_assert_lt(r->current_term, MAX_TERM);
		if (r->role == RAFT_LEADER) {
			uint32_t *l = &c->leader_of[r->current_term];
			cr_assert(*l == 0 || *l == id, "two leaders in term %lu: %u and %u",
				  (unsigned long)r->current_term, *l, id);
			*l = id;
		} else {
			cr_assert_neq(r->election_deadline, RAFT_NO_DEADLINE);
		}
		cr_assert_geq(r->commit_index, nd->commit_seen,
			      "node %u: commit went back", id);
		nd->commit_seen = r->commit_index;
		cr_assert_leq(r->commit_index, raft_last_index(r));
		cr_assert_leq(r->last_applied, r->commit_index);
		/* the base is committed; applied unless a snapshot waits */
		cr_assert_leq(r->snapshot_index, r->commit_index);
		cr_assert(r->snapshot_pending ||
			  r->snapshot_index <= r->last_applied);
		if (c->snap_every)
			cr_assert_lt(r->last_applied, r->snapshot_index + c->snap_every,
				     "node %u: applied %lu, the log still starts after %lu",
				     id, (unsigned long)r->last_applied,
				     (unsigned long)r->snapshot_index);
	}
}

/* Do what the shell does after an input: persist, send, apply, advance. */
static void cl_flush(struct cluster *c, uint32_t id)
{
	struct node *nd = &c->nodes[id];
	struct raft_ready rd;

	if (!nd->up)
		return;
	if (!raft_has_ready(&nd->r)) {
		nd->pending = 0;
		return;
	}
	node_ready(nd, &rd);
	for (size_t i = 0; i < rd.n_msgs; i++)
		net_send(c, &rd.msgs[i]);
	node_advance(nd, &rd, c->committed);
	/* like 6.824's snapshot tests: every snap_every applied entries */
	if (c->snap_every && nd->applied >= nd->r.snapshot_index + c->snap_every)
		node_snapshot(nd, nd->applied);
}

static void cl_flush_all(struct cluster *c)
{
	for (uint32_t id = 1; id <= c->n; id++)
		if (c->nodes[id].pending)
			cl_flush(c, id);
}

static void after_input(struct cluster *c, uint32_t id)
{
	struct node *nd = &c->nodes[id];

	cr_assert(!nd->r.failed);
	if (c->lazy) {
		/* hold the batch for a few inputs, as a slow disk would */
		nd->pending++;
		if (nd->pending < 4 && rng_range(&c->rng, 0, 2) == 0) {
			/* the service may snapshot between any two inputs,
			 * a batch held or not */
			if (c->snap_every && nd->applied > nd->r.snapshot_index &&
			    rng_range(&c->rng, 0, 4) == 0)
				node_snapshot(nd, nd->applied);
			check_invariants(c);
			return;
		}
	}
	cl_flush(c, id);
	check_invariants(c);
}

enum { EV_NONE, EV_MSG, EV_TIMER };

/* The earliest event: a delivery, or (with timers) a node's deadline. */
static int next_event(struct cluster *c, bool timers, raft_time *at, size_t *which)
{
	int kind = EV_NONE;

	for (size_t i = 0; i < c->nq; i++) {
		struct pmsg *p = &c->q[i];
		if (kind == EV_NONE || p->at < *at ||
		    (p->at == *at && p->seq < c->q[*which].seq)) {
			kind = EV_MSG;
			*at = p->at;
			*which = i;
		}
	}
	if (!timers)
		return kind;
	for (uint32_t id = 1; id <= c->n; id++) {
		raft_time d;
		if (!c->nodes[id].up)
			continue;
		d = raft_deadline(&c->nodes[id].r);
		if (d == RAFT_NO_DEADLINE)
			continue;
		if (kind == EV_NONE || d < *at ||
		    (kind == EV_TIMER && d == *at && id < *which)) {
			kind = EV_TIMER;
			*at = d;
			*which = id;
		}
	}
	return kind;
}

static void deliver(struct cluster *c, size_t i)
{
	struct pmsg p = c->q[i];
	struct node *to = &c->nodes[p.m.to];

	c->q[i] = c->q[--c->nq];
	if (!to->up || !c->link[p.m.from][p.m.to]) {
		c->dropped++;
	} else {
		c->delivered++;
		raft_step(&to->r, c->now, &p.m);
		after_input(c, p.m.to);
	}
	free(p.ents);
	free(p.snap);
}

/* One event, if there is one no later than `until`. */
static bool cl_step_until(struct cluster *c, raft_time until, bool timers)
{
	raft_time at = 0;
	size_t which = 0;
	int kind;

	if (c->lazy && c->nq == 0)
		cl_flush_all(c);
	kind = next_event(c, timers, &at, &which);
	if (kind == EV_NONE || at > until)
		return false;
	if (at > c->now)
		c->now = at;
	c->steps++;
	if (kind == EV_MSG) {
		deliver(c, which);
	} else {
		raft_tick(&c->nodes[which].r, c->now);
		after_input(c, (uint32_t)which);
	}
	return true;
}

static void cl_run_until(struct cluster *c, raft_time t)
{
	while (cl_step_until(c, t, true))
		;
	if (c->now < t)
		c->now = t;
}

static void cl_run_for(struct cluster *c, raft_time ms)
{
	cl_run_until(c, c->now + ms);
}

/* Deliver what is in flight (and what that causes); no timer fires. */
static void cl_settle(struct cluster *c)
{
	cl_flush_all(c);
	while (cl_step_until(c, RAFT_NO_DEADLINE - 1, false))
		;
}

typedef bool (*cl_pred)(struct cluster *c, const void *arg);

static bool cl_wait(struct cluster *c, raft_time timeout, cl_pred pred,
		    const void *arg)
{
	raft_time end = c->now + timeout;

	while (!pred(c, arg))
		if (!cl_step_until(c, end, true))
			return pred(c, arg);
	return true;
}

/* The leader of the highest term among running nodes, or 0. */
static uint32_t cl_leader(struct cluster *c)
{
	uint32_t best = 0;

	for (uint32_t id = 1; id <= c->n; id++) {
		struct node *nd = &c->nodes[id];
		if (nd->up && nd->r.role == RAFT_LEADER &&
		    (!best || nd->r.current_term > c->nodes[best].r.current_term))
			best = id;
	}
	return best;
}

static uint32_t count_leaders(struct cluster *c)
{
	uint32_t n = 0;

	for (uint32_t id = 1; id <= c->n; id++)
		n += c->nodes[id].up && c->nodes[id].r.role == RAFT_LEADER;
	return n;
}

/* A leader no reachable running node has overtaken. */
static bool pred_leader(struct cluster *c, const void *arg)
{
	uint32_t l = cl_leader(c);

	(void)arg;
	if (!l)
		return false;
	for (uint32_t id = 1; id <= c->n; id++) {
		struct node *nd = &c->nodes[id];
		if (nd->up && c->link[l][id] && c->link[id][l] &&
		    nd->r.current_term > c->nodes[l].r.current_term)
			return false;
	}
	return true;
}

static uint32_t cl_wait_leader(struct cluster *c, raft_time timeout)
{
	return cl_wait(c, timeout, pred_leader, NULL) ? cl_leader(c) : 0;
}

struct applied_arg {
	uint64_t index;
	uint32_t count;                      /* nodes, or 0 for every running node */
};

static bool pred_applied(struct cluster *c, const void *arg)
{
	const struct applied_arg *a = arg;
	uint32_t n = 0, up = 0;

	for (uint32_t id = 1; id <= c->n; id++) {
		up += c->nodes[id].up;
		n += c->nodes[id].up && c->nodes[id].applied >= a->index;
	}
	return n >= (a->count ? a->count : up);
}

static bool cl_wait_applied(struct cluster *c, uint64_t index, uint32_t count,
			    raft_time timeout)
{
	struct applied_arg a = { index, count };

	return cl_wait(c, timeout, pred_applied, &a);
}

static uint64_t cl_propose(struct cluster *c, uint32_t id, const char *s)
{
	uint64_t index = 0, term = 0;
	int rc;

	cr_assert(c->nodes[id].up);
	rc = raft_propose(&c->nodes[id].r, c->now, s, (uint32_t)strlen(s),
			  &index, &term);
	after_input(c, id);
	if (rc != RAFT_OK) {
		cr_assert_eq(rc, RAFT_ENOTLEADER);
		return 0;
	}
	cr_assert_eq(term, c->nodes[id].r.current_term);
	return index;
}

static void cl_timeout_now(struct cluster *c, uint32_t id)
{
	raft_timeout_now(&c->nodes[id].r, c->now);
	after_input(c, id);
}

static void cl_crash(struct cluster *c, uint32_t id)
{
	struct node *nd = &c->nodes[id];

	cr_assert(nd->up);
	raft_close(&nd->r);     /* whatever was not persisted is lost */
	nd->up = false;
}

static void cl_restart(struct cluster *c, uint32_t id)
{
	struct node *nd = &c->nodes[id];

	cr_assert(!nd->up);
	nd->incarnation++;
	node_start(nd, id, c->n, node_seed(c->seed, id, nd->incarnation), c->now);
	check_invariants(c);
}

static void cl_heal(struct cluster *c)
{
	for (uint32_t a = 1; a <= c->n; a++)
		for (uint32_t b = 1; b <= c->n; b++)
			c->link[a][b] = true;
}

/* group[id]: nodes in the same group reach each other, no one else. */
static void cl_partition(struct cluster *c, const int *group)
{
	for (uint32_t a = 1; a <= c->n; a++)
		for (uint32_t b = 1; b <= c->n; b++)
			c->link[a][b] = group[a] == group[b];
}

static void cl_isolate(struct cluster *c, uint32_t id)
{
	for (uint32_t b = 1; b <= c->n; b++)
		if (b != id)
			c->link[id][b] = c->link[b][id] = false;
}

/* The same last index, and the same entries where both still hold them
 * (meeting at the higher base with the same term). */
static bool logs_equal(const struct raft *a, const struct raft *b)
{
	uint64_t base = a->snapshot_index > b->snapshot_index ?
		a->snapshot_index : b->snapshot_index;
	uint64_t ta = 0, tb = 0;

	if (raft_last_index(a) != raft_last_index(b))
		return false;
	if (!raft_term_at(a, base, &ta) || !raft_term_at(b, base, &tb) || ta != tb)
		return false;
	for (uint64_t i = base + 1; i <= raft_last_index(a); i++)
		if (!entry_eq(raft_entry_at(a, i), raft_entry_at(b, i)))
			return false;
	return true;
}

static const struct raft *R(struct cluster *c, uint32_t id)
{
	return &c->nodes[id].r;
}

/* ---- names -------------------------------------------------------------------- */

Test(raft, names)
{
	cr_assert_str_eq(raft_msg_type_name(RAFT_REQUEST_VOTE), "RequestVote");
	cr_assert_str_eq(raft_msg_type_name(RAFT_REQUEST_VOTE_REPLY), "RequestVoteReply");
	cr_assert_str_eq(raft_msg_type_name(RAFT_APPEND_ENTRIES), "AppendEntries");
	cr_assert_str_eq(raft_msg_type_name(RAFT_APPEND_ENTRIES_REPLY), "AppendEntriesReply");
	cr_assert_str_eq(raft_msg_type_name(RAFT_INSTALL_SNAPSHOT), "InstallSnapshot");
	cr_assert_str_eq(raft_msg_type_name(RAFT_INSTALL_SNAPSHOT_REPLY), "InstallSnapshotReply");
	cr_assert_str_eq(raft_role_name(RAFT_FOLLOWER), "follower");
	cr_assert_str_eq(raft_role_name(RAFT_CANDIDATE), "candidate");
	cr_assert_str_eq(raft_role_name(RAFT_LEADER), "leader");
	cr_assert(!raft_msg_is_reply(RAFT_REQUEST_VOTE));
	cr_assert(raft_msg_is_reply(RAFT_REQUEST_VOTE_REPLY));
	cr_assert(!raft_msg_is_reply(RAFT_APPEND_ENTRIES));
	cr_assert(raft_msg_is_reply(RAFT_APPEND_ENTRIES_REPLY));
	cr_assert(!raft_msg_is_reply(RAFT_INSTALL_SNAPSHOT));
	cr_assert(raft_msg_is_reply(RAFT_INSTALL_SNAPSHOT_REPLY));
}

Test(raft, init_validates_config)
{
	struct raft r;
	struct raft_config cfg = config(1, 3, 1);

	cfg.id = 0;
	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_EINVAL);
	cfg = config(4, 3, 1);
	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_EINVAL);
	cfg = config(1, RAFT_MAX_NODES + 1, 1);
	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_EINVAL);
	cfg = config(1, 3, 1);
	cfg.election_max = 100;
	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_EINVAL);
	raft_close(&r);

	cfg = config(2, 3, 1);
	cr_assert_eq(raft_init(&r, &cfg, 1000), RAFT_OK);
	cr_assert_eq(r.role, RAFT_FOLLOWER);
	cr_assert_eq(r.current_term, 0);
	cr_assert_eq(r.voted_for, RAFT_NONE);
	cr_assert(raft_deadline(&r) >= 1300 && raft_deadline(&r) < 1600);
	cr_assert(!raft_has_ready(&r));
	cr_assert_eq(raft_restore(&r, 1, 4, NULL, 0), RAFT_EINVAL);  /* no node 4 */
	raft_close(&r);
}

Test(raft, election_timeouts_are_random_and_in_range)
{
	struct raft r;
	struct raft_config cfg = config(1, 3, 42);
	raft_time seen_min = UINT64_MAX, seen_max = 0;

	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_OK);
	for (int i = 0; i < 500; i++) {
		raft_time now = raft_deadline(&r);
		struct raft_ready rd;
		raft_tick(&r, now);       /* a new election, a new timeout */
		raft_ready(&r, &rd);
		raft_advance(&r, &rd);
		raft_time t = raft_deadline(&r) - now;
		cr_assert(t >= 300 && t < 600);
		if (t < seen_min)
			seen_min = t;
		if (t > seen_max)
			seen_max = t;
	}
	cr_assert(seen_min < 330 && seen_max > 570, "timeouts not spread: %lu..%lu",
		  (unsigned long)seen_min, (unsigned long)seen_max);
	cr_assert_eq(r.current_term, 500);
	raft_close(&r);
}

/* ---- elections ---------------------------------------------------------------- */

static void check_one_leader(uint32_t n)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct cluster *c = cl_new(n, seed);
		uint32_t l = cl_wait_leader(c, 5000);

		cr_assert(l, "n=%u seed %lu: no leader within 5 s", n, (unsigned long)seed);
		cl_run_for(c, 50);        /* let the first heartbeats land */
		cr_assert_eq(count_leaders(c), 1);
		uint64_t term = R(c, l)->current_term;
		for (uint32_t id = 1; id <= n; id++) {
			cr_assert_eq(R(c, id)->current_term, term);
			cr_assert_eq(R(c, id)->leader_id, l);
		}
		/* a healthy cluster keeps its leader: heartbeats hold elections off */
		cl_run_for(c, 5000);
		cr_assert_eq(cl_leader(c), l);
		cr_assert_eq(R(c, l)->current_term, term);
		cr_assert_eq(count_leaders(c), 1);
		cl_free(c);
	}
}

Test(raft, initial_election_3)
{
	check_one_leader(3);
}

Test(raft, initial_election_5)
{
	check_one_leader(5);
}

Test(raft, split_vote_converges)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct cluster *c = cl_new(5, seed);

		for (uint32_t id = 1; id <= 5; id++)
			raft_set_election_deadline(&c->nodes[id].r, 1000);
		cr_assert_eq(raft_deadline(R(c, 3)), 1000);
		cl_run_until(c, 1000);
		/* every timer fired at once: five candidates in term 1 */
		for (uint32_t id = 1; id <= 5; id++) {
			cr_assert_eq(R(c, id)->role, RAFT_CANDIDATE);
			cr_assert_eq(R(c, id)->current_term, 1);
		}
		uint32_t l = cl_wait_leader(c, 5000);
		cr_assert(l);
		cr_assert_eq(c->leader_of[1], 0, "nobody can win a five-way split");
		cr_assert_geq(R(c, l)->current_term, 2);
		cl_free(c);
	}
}

/* ---- RequestVote, directly ---------------------------------------------------- */

static struct raft_msg rv(uint32_t from, uint32_t to, uint64_t term,
			  uint64_t last_index, uint64_t last_term)
{
	return (struct raft_msg){
		.type = RAFT_REQUEST_VOTE, .from = from, .to = to, .term = term,
		.last_log_index = last_index, .last_log_term = last_term,
	};
}

static struct raft_msg ae(uint32_t from, uint32_t to, uint64_t term,
			  uint64_t prev, uint64_t prev_term, uint64_t commit,
			  const struct raft_entry *e, uint32_t n)
{
	return (struct raft_msg){
		.type = RAFT_APPEND_ENTRIES, .from = from, .to = to, .term = term,
		.prev_log_index = prev, .prev_log_term = prev_term,
		.leader_commit = commit, .n_entries = n, .entries = e,
	};
}

/* Entries with the given terms and data "e<i>" (static storage). */
static char entry_text[64][8];

static uint32_t mk_entries(struct raft_entry *out, const uint64_t *terms,
			   uint32_t n, uint32_t first)
{
	for (uint32_t i = 0; i < n; i++) {
		char *s = entry_text[(first + i) % 64];
		snprintf(s, sizeof(entry_text[0]), "e%u.%lu", first + i,
			 (unsigned long)terms[i]);
		out[i] = (struct raft_entry){
			.term = terms[i], .len = (uint32_t)strlen(s), .data = (uint8_t *)s,
		};
	}
	return n;
}

/* A node outside any cluster, with its own disk. */
static void solo_new(struct node *nd, uint32_t id, uint32_t n, uint64_t term,
		     uint32_t vote, const uint64_t *terms, uint32_t n_entries)
{
	struct raft_entry e[64];

	memset(nd, 0, sizeof(*nd));
	mk_entries(e, terms, n_entries, 1);
	nd->disk.term = term;
	nd->disk.vote = vote;
	for (uint32_t i = 0; i < n_entries; i++)
		disk_append(&nd->disk, &e[i]);
	node_start(nd, id, n, 7 + id, 0);
}

static void solo_free(struct node *nd)
{
	raft_close(&nd->r);
	disk_free(&nd->disk);
	sm_free(nd);
}

/* Step one message; *rd holds the batch (unadvanced) until solo_done. */
static void solo_step(struct node *nd, raft_time now, const struct raft_msg *m,
		      struct raft_ready *rd)
{
	raft_step(&nd->r, now, m);
	node_ready(nd, rd);
}

static void solo_done(struct node *nd, struct raft_ready *rd)
{
	node_advance(nd, rd, NULL);
}

static const struct raft_msg *only_msg(const struct raft_ready *rd,
				       enum raft_msg_type type)
{
	cr_assert_eq(rd->n_msgs, 1);
	cr_assert_eq(rd->msgs[0].type, type);
	return &rd->msgs[0];
}

Test(raft, vote_requires_up_to_date_log)
{
	static const uint64_t terms[] = { 1, 2, 3 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	const struct raft_msg *reply;

	solo_new(&nd, 1, 3, 3, RAFT_NONE, terms, 3);

	/* a longer log with an older last term is behind */
	m = rv(2, 1, 4, 5, 2);
	solo_step(&nd, 10, &m, &rd);
	reply = only_msg(&rd, RAFT_REQUEST_VOTE_REPLY);
	cr_assert(!reply->vote_granted);
	cr_assert_eq(reply->term, 4);
	cr_assert(rd.meta_changed);                /* term 4 adopted, no vote */
	cr_assert_eq(rd.voted_for, RAFT_NONE);
	solo_done(&nd, &rd);

	/* same last term, shorter: behind */
	m = rv(3, 1, 4, 2, 3);
	solo_step(&nd, 11, &m, &rd);
	cr_assert(!only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	cr_assert(!rd.meta_changed);
	solo_done(&nd, &rd);

	/* same last term, same length: up to date */
	raft_time before = raft_deadline(&nd.r);
	m = rv(3, 1, 4, 3, 3);
	solo_step(&nd, 400, &m, &rd);
	reply = only_msg(&rd, RAFT_REQUEST_VOTE_REPLY);
	cr_assert(reply->vote_granted);
	cr_assert(rd.meta_changed, "the vote is persisted in the same batch as the reply");
	cr_assert_eq(rd.voted_for, 3);
	cr_assert_eq(rd.term, 4);
	cr_assert_neq(raft_deadline(&nd.r), before);    /* granting resets the timer */
	cr_assert(raft_deadline(&nd.r) >= 700 && raft_deadline(&nd.r) < 1000);
	solo_done(&nd, &rd);

	/* one vote per term, however good the log */
	m = rv(2, 1, 4, 9, 9);
	solo_step(&nd, 401, &m, &rd);
	cr_assert(!only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	solo_done(&nd, &rd);

	/* the same candidate asking again gets the same answer */
	m = rv(3, 1, 4, 3, 3);
	solo_step(&nd, 402, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	cr_assert(!rd.meta_changed);
	solo_done(&nd, &rd);

	/* a new term, a new vote: a newer last term wins even if shorter */
	m = rv(2, 1, 5, 1, 4);
	solo_step(&nd, 403, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	cr_assert_eq(rd.term, 5);
	cr_assert_eq(rd.voted_for, 2);
	solo_done(&nd, &rd);

	/* a stale candidate is told the current term */
	m = rv(3, 1, 4, 9, 9);
	solo_step(&nd, 404, &m, &rd);
	reply = only_msg(&rd, RAFT_REQUEST_VOTE_REPLY);
	cr_assert(!reply->vote_granted);
	cr_assert_eq(reply->term, 5);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, candidate_persists_its_own_vote_before_asking)
{
	struct node nd;
	struct raft_ready rd;

	solo_new(&nd, 2, 3, 0, RAFT_NONE, NULL, 0);
	raft_tick(&nd.r, raft_deadline(&nd.r));
	node_ready(&nd, &rd);
	cr_assert(rd.meta_changed);
	cr_assert_eq(rd.term, 1);
	cr_assert_eq(rd.voted_for, 2);
	cr_assert(rd.role_changed);
	cr_assert_eq(rd.n_msgs, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(rd.msgs[i].type, RAFT_REQUEST_VOTE);
		cr_assert_eq(rd.msgs[i].term, 1);
	}
	cr_assert_eq(nd.r.role, RAFT_CANDIDATE);
	solo_done(&nd, &rd);

	/* one vote and the candidate leads: a majority of three */
	struct raft_msg m = {
		.type = RAFT_REQUEST_VOTE_REPLY, .from = 3, .to = 2, .term = 1,
		.vote_granted = true,
	};
	solo_step(&nd, 700, &m, &rd);
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	cr_assert(rd.role_changed);
	cr_assert_eq(rd.n_msgs, 2);                /* heartbeats at once */
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(rd.msgs[i].type, RAFT_APPEND_ENTRIES);
		cr_assert_eq(rd.msgs[i].n_entries, 0);
	}
	cr_assert_eq(raft_deadline(&nd.r), 800);
	cr_assert_eq(nd.r.last_applied, 0);
	cr_assert_eq(raft_last_index(&nd.r), 0, "no no-op entry on election");
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, up_to_date_check_in_a_cluster)
{
	struct cluster *c = cl_new(3, 11);
	uint32_t l = cl_wait_leader(c, 5000), x;
	uint64_t granted_before = 0, index = 0;

	cr_assert(l);
	x = l % 3 + 1;
	cl_isolate(c, x);
	for (int i = 0; i < 5; i++) {
		char s[16];
		snprintf(s, sizeof(s), "cmd%d", i);
		index = cl_propose(c, l, s);
	}
	cr_assert(cl_wait_applied(c, index, 2, 1000));
	cr_assert_lt(c->nodes[x].applied, index);
	for (uint32_t id = 1; id <= 3; id++)
		granted_before += c->granted[id][x];
	/* x, now far behind, comes back and calls an election at once */
	cl_heal(c);
	uint64_t t = R(c, l)->current_term;
	cl_timeout_now(c, x);
	cr_assert_gt(R(c, x)->current_term, t);
	cl_run_for(c, 3000);
	uint64_t granted_after = 0;
	for (uint32_t id = 1; id <= 3; id++)
		granted_after += c->granted[id][x];
	cr_assert_eq(granted_after, granted_before, "a stale log got a vote");
	for (uint64_t term = t + 1; term < MAX_TERM; term++)
		cr_assert_neq(c->leader_of[term], x);
	cr_assert(cl_wait_leader(c, 5000));
	cr_assert_neq(cl_leader(c), x);
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	cl_free(c);
}

/* ---- agreement ------------------------------------------------------------------ */

static void check_agreement(uint32_t n, uint64_t seed, int commands, bool burst)
{
	struct cluster *c = cl_new(n, seed);
	uint32_t l = cl_wait_leader(c, 5000);
	uint64_t index = 0;

	cr_assert(l);
	for (int i = 1; i <= commands; i++) {
		char s[16];
		snprintf(s, sizeof(s), "cmd%d", i);
		index = cl_propose(c, l, s);
		cr_assert_eq(index, (uint64_t)i);
		if (!burst)
			cl_run_for(c, 7);
	}
	cr_assert(cl_wait_applied(c, index, n, 2000));
	for (int i = 1; i <= commands; i++) {
		char s[16];
		snprintf(s, sizeof(s), "cmd%d", i);
		cr_assert(c->committed[i].set);
		cr_assert_eq(c->committed[i].len, strlen(s));
		cr_assert(memcmp(c->committed[i].data, s, strlen(s)) == 0);
	}
	for (uint32_t id = 1; id <= n; id++) {
		cr_assert_eq(c->nodes[id].applied, (uint64_t)commands);
		cr_assert(logs_equal(R(c, id), R(c, l)));
	}
	cr_assert_eq(cl_leader(c), l);
	cl_free(c);
}

Test(raft, agreement_3)
{
	check_agreement(3, 3, 50, false);
}

Test(raft, agreement_5_burst)
{
	/* 200 proposals before any reply: several 64-entry batches */
	check_agreement(5, 5, 200, true);
}

Test(raft, propose_on_follower_is_refused)
{
	struct cluster *c = cl_new(3, 4);
	uint32_t l = cl_wait_leader(c, 5000);
	uint32_t f = l % 3 + 1;
	uint64_t index = 99, term = 0;

	cr_assert(l);
	cr_assert_eq(raft_propose(&c->nodes[f].r, c->now, "x", 1, &index, &term),
		     RAFT_ENOTLEADER);
	cr_assert_eq(term, R(c, f)->current_term);
	cr_assert(!raft_has_ready(R(c, f)));
	cl_free(c);
}

Test(raft, propose_replicates_without_waiting_for_heartbeat)
{
	struct cluster *c = cl_new(3, 8);
	uint32_t l = cl_wait_leader(c, 5000);

	cr_assert(l);
	cl_run_until(c, raft_deadline(R(c, l)));   /* a heartbeat just went */
	cl_run_for(c, 1);
	raft_time t0 = c->now;
	uint64_t index = cl_propose(c, l, "now");
	cr_assert(index);
	cr_assert(cl_wait_applied(c, index, 1, 50));
	/* AppendEntries out and its reply back: two delays, not a heartbeat */
	cr_assert_leq(c->now - t0, 2 * c->delay_max);
	cr_assert_lt(c->now, raft_deadline(R(c, l)));
	cl_free(c);
}

/* ---- conflicts ------------------------------------------------------------------- */

Test(raft, conflicting_entries_are_overwritten)
{
	struct cluster *c = cl_new(3, 21);
	uint32_t l1 = cl_wait_leader(c, 5000), l2;
	uint64_t base;

	cr_assert(l1);
	base = cl_propose(c, l1, "base");
	cr_assert(cl_wait_applied(c, base, 3, 1000));
	/* the old leader, cut off, takes five commands it cannot commit */
	cl_isolate(c, l1);
	for (int i = 0; i < 5; i++)
		cr_assert(cl_propose(c, l1, "old"));
	cr_assert_eq(raft_last_index(R(c, l1)), base + 5);
	uint64_t old_term = R(c, l1)->current_term;
	/* the other two elect a leader and commit three others */
	cl_run_for(c, 1000);
	l2 = cl_leader(c);
	cr_assert(l2 && l2 != l1);
	cr_assert_gt(R(c, l2)->current_term, old_term);
	uint64_t index = 0;
	for (int i = 0; i < 3; i++)
		index = cl_propose(c, l2, "new");
	cr_assert_eq(index, base + 3);
	cr_assert(cl_wait_applied(c, index, 2, 1000));
	cr_assert_eq(c->nodes[l1].applied, base);
	cr_assert_eq(c->nodes[l1].disk.truncations, 0);

	cl_heal(c);
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	cl_run_for(c, 300);
	cr_assert_eq(R(c, l1)->role, RAFT_FOLLOWER);
	cr_assert(logs_equal(R(c, l1), R(c, l2)));
	/* the persisted log was cut and rewritten too */
	struct disk *d = &c->nodes[l1].disk;
	cr_assert_geq(d->truncations, 1);
	cr_assert_eq(d->n, base + 3);
	for (uint64_t i = base + 1; i <= base + 3; i++)
		cr_assert(entry_is(&d->log[i - 1], R(c, l2)->current_term, "new"));
	for (uint64_t i = base + 1; i <= base + 3; i++)
		cr_assert(memcmp(c->committed[i].data, "new", 3) == 0);
	cl_free(c);
}

Test(raft, append_entries_reply_fields)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 2 };
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[4];
	const struct raft_msg *reply;
	struct raft_msg m;

	solo_new(&nd, 1, 3, 2, RAFT_NONE, terms, 5);

	/* too short: conflict_term 0, conflict_index = last + 1 */
	m = ae(2, 1, 3, 7, 3, 0, NULL, 0);
	solo_step(&nd, 10, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(!reply->success);
	cr_assert_eq(reply->term, 3);
	cr_assert_eq(reply->conflict_term, 0);
	cr_assert_eq(reply->conflict_index, 6);
	cr_assert_eq(nd.r.leader_id, 2);
	solo_done(&nd, &rd);

	/* a term mismatch: the term there and the first index holding it */
	m = ae(2, 1, 3, 4, 3, 0, NULL, 0);
	solo_step(&nd, 11, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(!reply->success);
	cr_assert_eq(reply->conflict_term, 2);
	cr_assert_eq(reply->conflict_index, 3);
	cr_assert_eq(raft_last_index(&nd.r), 5, "a failed check changes nothing");
	solo_done(&nd, &rd);

	/* a match at 2, new entries of term 3 replace the term-2 suffix */
	mk_entries(e, (const uint64_t[]){ 3, 3 }, 2, 30);
	m = ae(2, 1, 3, 2, 1, 9, e, 2);
	solo_step(&nd, 12, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(reply->success);
	cr_assert_eq(reply->match_index, 4);
	cr_assert_eq(rd.truncate_from, 3);
	cr_assert_eq(rd.append_from, 3);
	cr_assert_eq(rd.n_append, 2);
	cr_assert_eq(raft_last_index(&nd.r), 4);
	/* commit = min(leaderCommit, index of last new entry) */
	cr_assert_eq(nd.r.commit_index, 4);
	cr_assert_eq(rd.apply_from, 0);
	cr_assert_eq(rd.apply_to, 4);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, commit_is_bounded_by_the_last_new_entry)
{
	static const uint64_t terms[] = { 1, 1, 1, 1 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;

	solo_new(&nd, 1, 3, 1, RAFT_NONE, terms, 4);
	/* entries 3 and 4 are not vouched for by this message */
	m = ae(2, 1, 1, 2, 1, 4, NULL, 0);
	solo_step(&nd, 10, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY)->success);
	cr_assert_eq(nd.r.commit_index, 2);
	cr_assert_eq(rd.apply_to, 2);
	cr_assert(rd.commit_changed);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

/* ---- stale and duplicated messages ------------------------------------------------ */

Test(raft, stale_append_entries_rejected)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[1];
	const struct raft_msg *reply;
	struct raft_msg m;

	solo_new(&nd, 1, 3, 5, 3, NULL, 0);
	raft_time deadline = raft_deadline(&nd.r);
	mk_entries(e, (const uint64_t[]){ 3 }, 1, 1);
	m = ae(2, 1, 3, 0, 0, 1, e, 1);
	solo_step(&nd, 100, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(!reply->success);
	cr_assert_eq(reply->term, 5, "told the current term");
	cr_assert_eq(reply->conflict_index, 0);
	cr_assert(!rd.meta_changed);
	cr_assert_eq(rd.n_append, 0);
	cr_assert_eq(raft_last_index(&nd.r), 0);
	cr_assert_eq(nd.r.leader_id, RAFT_NONE);
	cr_assert_eq(raft_deadline(&nd.r), deadline, "a stale leader is no leader");
	solo_done(&nd, &rd);

	/* a stale vote reply or append reply is ignored */
	m = (struct raft_msg){ .type = RAFT_APPEND_ENTRIES_REPLY, .from = 2,
			       .to = 1, .term = 4, .success = true,
			       .match_index = 7 };
	raft_step(&nd.r, 101, &m);
	m = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
			       .to = 1, .term = 4, .vote_granted = true };
	raft_step(&nd.r, 102, &m);
	cr_assert(!raft_has_ready(&nd.r));
	/* nonsense is ignored: from itself, from nobody, to someone else */
	m = rv(1, 1, 9, 0, 0);
	raft_step(&nd.r, 103, &m);
	m = rv(0, 1, 9, 0, 0);
	raft_step(&nd.r, 103, &m);
	m = rv(7, 1, 9, 0, 0);
	raft_step(&nd.r, 103, &m);
	m = rv(2, 3, 9, 0, 0);
	raft_step(&nd.r, 103, &m);
	cr_assert(!raft_has_ready(&nd.r));
	cr_assert_eq(nd.r.current_term, 5);
	solo_free(&nd);
}

Test(raft, duplicate_append_entries_never_truncate)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[4];
	struct raft_msg m;
	const struct raft_msg *reply;

	solo_new(&nd, 1, 3, 0, RAFT_NONE, NULL, 0);
	mk_entries(e, (const uint64_t[]){ 1, 1, 1, 1 }, 4, 1);
	m = ae(2, 1, 1, 0, 0, 0, e, 3);
	solo_step(&nd, 10, &m, &rd);
	solo_done(&nd, &rd);
	m = ae(2, 1, 1, 0, 0, 3, e, 4);
	solo_step(&nd, 20, &m, &rd);
	cr_assert_eq(rd.append_from, 4);
	cr_assert_eq(rd.n_append, 1);
	cr_assert_eq(nd.r.commit_index, 3);
	solo_done(&nd, &rd);

	/* the first, old message arrives again, and a shorter one */
	m = ae(2, 1, 1, 0, 0, 0, e, 1);
	solo_step(&nd, 30, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(reply->success);
	cr_assert_eq(reply->match_index, 1);
	cr_assert_eq(rd.truncate_from, 0);
	cr_assert_eq(rd.n_append, 0);
	solo_done(&nd, &rd);
	m = ae(2, 1, 1, 1, 1, 2, e + 1, 1);
	solo_step(&nd, 31, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY)->success);
	cr_assert_eq(rd.truncate_from, 0);
	solo_done(&nd, &rd);
	cr_assert_eq(raft_last_index(&nd.r), 4);
	cr_assert_eq(nd.r.commit_index, 3, "commit never goes back");
	cr_assert_eq(nd.disk.truncations, 0);
	solo_free(&nd);
}

/* ---- the batch ------------------------------------------------------------------- */

Test(raft, batch_accumulates_truncate_and_append)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[8];
	struct raft_msg m;

	solo_new(&nd, 1, 3, 0, RAFT_NONE, NULL, 0);
	mk_entries(e, (const uint64_t[]){ 1, 1, 1, 1, 1, 1, 1 }, 7, 1);
	m = ae(2, 1, 1, 0, 0, 0, e, 5);
	solo_step(&nd, 10, &m, &rd);
	solo_done(&nd, &rd);                     /* 1..5 of term 1 on disk */

	/* several inputs, one batch: append 6,7 then cut at 4 for term 2 */
	m = ae(2, 1, 1, 5, 1, 0, e + 5, 2);
	raft_step(&nd.r, 11, &m);
	cr_assert_eq(raft_last_index(&nd.r), 7);
	mk_entries(e, (const uint64_t[]){ 2, 2 }, 2, 40);
	m = ae(3, 1, 2, 3, 1, 0, e, 2);
	raft_step(&nd.r, 12, &m);
	node_ready(&nd, &rd);                    /* the disk checks the batch */
	cr_assert_eq(rd.truncate_from, 4);
	cr_assert_eq(rd.append_from, 4);
	cr_assert_eq(rd.n_append, 2);
	cr_assert_eq(rd.n_msgs, 2);
	cr_assert(rd.meta_changed);
	solo_done(&nd, &rd);

	/* appended-but-not-handed-out entries truncated: the range shrinks */
	mk_entries(e, (const uint64_t[]){ 2, 2 }, 2, 50);
	m = ae(3, 1, 2, 5, 2, 0, e, 2);
	raft_step(&nd.r, 13, &m);                /* 6, 7 of term 2 */
	mk_entries(e, (const uint64_t[]){ 3 }, 1, 60);
	m = ae(2, 1, 3, 6, 2, 0, e, 1);
	raft_step(&nd.r, 14, &m);                /* 7 of term 3 replaces 7 */
	node_ready(&nd, &rd);
	cr_assert_eq(rd.truncate_from, 0, "nothing persisted was dropped");
	cr_assert_eq(rd.append_from, 6);
	cr_assert_eq(rd.n_append, 2);
	cr_assert(entry_is(raft_entry_at(&nd.r, 7), 3, "e60.3"));
	solo_done(&nd, &rd);

	/* two truncations in one batch: the lower one wins */
	mk_entries(e, (const uint64_t[]){ 4 }, 1, 70);
	m = ae(3, 1, 4, 5, 2, 0, e, 1);
	raft_step(&nd.r, 15, &m);                /* cut at 6 */
	mk_entries(e, (const uint64_t[]){ 5, 5 }, 2, 80);
	m = ae(2, 1, 5, 3, 1, 0, e, 2);
	raft_step(&nd.r, 16, &m);                /* cut at 4 */
	node_ready(&nd, &rd);
	cr_assert_eq(rd.truncate_from, 4);
	cr_assert_eq(rd.append_from, 4);
	cr_assert_eq(rd.n_append, 2);
	cr_assert_eq(raft_last_index(&nd.r), 5);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.disk.truncations, 2);
	solo_free(&nd);
}

Test(raft, deposed_leader_queued_appends_are_clipped)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[1];
	struct raft_msg m;
	uint64_t index, term;

	solo_new(&nd, 1, 3, 0, RAFT_NONE, NULL, 0);
	raft_timeout_now(&nd.r, 5);
	m = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
			       .to = 1, .term = 1, .vote_granted = true };
	raft_step(&nd.r, 6, &m);
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	node_ready(&nd, &rd);
	solo_done(&nd, &rd);

	/* two proposals queue AppendEntries carrying entries 1..2 ... */
	cr_assert_eq(raft_propose(&nd.r, 7, "p1", 2, &index, &term), RAFT_OK);
	cr_assert_eq(index, 1);
	cr_assert_eq(raft_propose(&nd.r, 8, "p2", 2, &index, &term), RAFT_OK);
	cr_assert_eq(index, 2);
	/* ... then, before the batch is taken, a term-2 leader overwrites them */
	mk_entries(e, (const uint64_t[]){ 2 }, 1, 90);
	m = ae(3, 1, 2, 0, 0, 0, e, 1);
	raft_step(&nd.r, 9, &m);
	cr_assert_eq(nd.r.role, RAFT_FOLLOWER);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.truncate_from, 0);
	cr_assert_eq(rd.append_from, 1);
	cr_assert_eq(rd.n_append, 1);
	cr_assert_eq(rd.n_msgs, 5);              /* 4 AppendEntries + 1 reply */
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(rd.msgs[i].type, RAFT_APPEND_ENTRIES);
		cr_assert_eq(rd.msgs[i].n_entries, 0, "entries that are gone");
	}
	cr_assert(rd.msgs[4].success);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

/* Make node 1 of 3 (a solo node) leader of a new term with node 2's vote. */
static void solo_lead(struct node *nd, raft_time now)
{
	struct raft_ready rd;
	struct raft_msg m;

	raft_timeout_now(&nd->r, now);
	m = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
			       .to = 1, .term = nd->r.current_term,
			       .vote_granted = true };
	raft_step(&nd->r, now, &m);
	cr_assert_eq(nd->r.role, RAFT_LEADER);
	node_ready(nd, &rd);
	solo_done(nd, &rd);
}

Test(raft, deposed_leader_queued_heartbeat_beyond_truncation)
{
	static const uint64_t terms[] = { 1, 1, 1 };
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[1];
	struct raft_msg m;

	solo_new(&nd, 1, 3, 1, 1, terms, 3);
	solo_lead(&nd, 5);
	raft_tick(&nd.r, raft_deadline(&nd.r));  /* heartbeats with prev 3 */
	mk_entries(e, (const uint64_t[]){ 3 }, 1, 91);
	m = ae(3, 1, 3, 0, 0, 0, e, 1);
	raft_step(&nd.r, 200, &m);              /* everything replaced */
	node_ready(&nd, &rd);
	cr_assert_eq(rd.truncate_from, 1);
	cr_assert_eq(rd.append_from, 1);
	cr_assert_eq(rd.n_append, 1);
	cr_assert_eq(rd.n_msgs, 3);
	cr_assert_eq(rd.msgs[0].prev_log_index, 3);
	cr_assert_eq(rd.msgs[0].prev_log_term, 1);
	cr_assert_eq(rd.msgs[0].term, 2);
	cr_assert(rd.msgs[2].success);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

static struct raft_msg aer(uint32_t from, uint64_t term, bool success,
			   uint64_t match, uint64_t conflict_term,
			   uint64_t conflict_index)
{
	return (struct raft_msg){
		.type = RAFT_APPEND_ENTRIES_REPLY, .from = from, .to = 1,
		.term = term, .success = success, .match_index = match,
		.conflict_term = conflict_term, .conflict_index = conflict_index,
	};
}

/* The reply changes nothing and sends nothing. */
static void step_ignored(struct node *nd, const struct raft_msg *m)
{
	struct raft_progress before[NODES];

	memcpy(before, nd->r.progress, sizeof(before));
	raft_step(&nd->r, 50, m);
	cr_assert(!raft_has_ready(&nd->r));
	cr_assert(memcmp(before, nd->r.progress, sizeof(before)) == 0);
}

static void expect_append(struct node *nd, const struct raft_msg *m,
			  uint32_t to, uint64_t prev, uint64_t prev_term,
			  uint32_t n)
{
	struct raft_ready rd;
	const struct raft_msg *out;

	solo_step(nd, 40, m, &rd);
	out = only_msg(&rd, RAFT_APPEND_ENTRIES);
	cr_assert_eq(out->to, to);
	cr_assert_eq(out->prev_log_index, prev);
	cr_assert_eq(out->prev_log_term, prev_term);
	cr_assert_eq(out->n_entries, n);
	cr_assert_eq(nd->r.progress[to].next_index, prev + 1);
	solo_done(nd, &rd);
}

Test(raft, leader_handles_append_replies)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 3, 3 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	uint64_t term, index;

	solo_new(&nd, 1, 3, 3, RAFT_NONE, terms, 6);
	solo_lead(&nd, 10);
	term = nd.r.current_term;
	cr_assert_eq(term, 4);
	cr_assert_eq(nd.r.progress[2].next_index, 7);
	cr_assert_eq(nd.r.progress[2].match_index, 0);

	/* the follower's term 2 ends at 4 here too: try from 5 */
	m = aer(2, term, false, 0, 2, 3);
	expect_append(&nd, &m, 2, 4, 2, 2);
	/* the follower's log is too short: from its end */
	m = aer(2, term, false, 0, 0, 3);
	expect_append(&nd, &m, 2, 2, 1, 4);
	/* a term the leader never had: from its first index */
	m = aer(2, term, false, 0, 9, 2);
	expect_append(&nd, &m, 2, 1, 1, 5);

	/* an older rejection would move nextIndex forward: ignored */
	m = aer(2, term, false, 0, 0, 5);
	step_ignored(&nd, &m);
	/* the same one again: nothing new */
	m = aer(2, term, false, 0, 9, 2);
	step_ignored(&nd, &m);
	/* refused for its term (conflict_index 0) says nothing of the log */
	m = aer(2, term, false, 0, 0, 0);
	step_ignored(&nd, &m);
	/* from an older term */
	m = aer(2, term - 1, false, 0, 0, 1);
	step_ignored(&nd, &m);
	m = aer(2, term - 1, true, 6, 0, 0);
	step_ignored(&nd, &m);

	/* success: up go matchIndex and nextIndex, and the rest follows */
	m = aer(2, term, true, 4, 0, 0);
	expect_append(&nd, &m, 2, 4, 2, 2);
	cr_assert_eq(nd.r.progress[2].match_index, 4);
	/* old news never moves matchIndex back; nonsense is ignored */
	m = aer(2, term, true, 2, 0, 0);
	step_ignored(&nd, &m);
	m = aer(2, term, true, 99, 0, 0);
	step_ignored(&nd, &m);
	/* a rejection cannot move nextIndex to or below matchIndex */
	m = aer(2, term, false, 0, 0, 1);
	step_ignored(&nd, &m);
	cr_assert_eq(nd.r.progress[2].next_index, 5);

	/* index 6 is on a majority but of term 3: no commit (Figure 8) */
	m = aer(2, term, true, 6, 0, 0);
	solo_step(&nd, 60, &m, &rd);
	cr_assert_eq(rd.n_msgs, 0, "caught up: nothing more to send");
	cr_assert_eq(nd.r.progress[2].match_index, 6);
	cr_assert_eq(nd.r.commit_index, 0);
	solo_done(&nd, &rd);

	/* one entry of term 4 on a majority commits it and all before it */
	cr_assert_eq(raft_propose(&nd.r, 70, "mine", 4, &index, &term), RAFT_OK);
	cr_assert_eq(index, 7);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 2, "replicated at once");
	cr_assert_eq(nd.r.commit_index, 0);
	solo_done(&nd, &rd);
	m = aer(3, term, true, 7, 0, 0);
	solo_step(&nd, 80, &m, &rd);
	cr_assert_eq(nd.r.commit_index, 7);
	cr_assert(rd.commit_changed);
	cr_assert_eq(rd.apply_from, 0);
	cr_assert_eq(rd.apply_to, 7);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.applied, 7);
	solo_free(&nd);
}

Test(raft, stale_vote_reply_not_counted)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;

	solo_new(&nd, 1, 3, 0, RAFT_NONE, NULL, 0);
	raft_timeout_now(&nd.r, 10);
	node_ready(&nd, &rd);
	solo_done(&nd, &rd);
	raft_timeout_now(&nd.r, 20);              /* term 2 */
	node_ready(&nd, &rd);
	cr_assert(!rd.role_changed || nd.r.role == RAFT_CANDIDATE);
	solo_done(&nd, &rd);
	m = (struct raft_msg){ .type = RAFT_REQUEST_VOTE_REPLY, .from = 2,
			       .to = 1, .term = 1, .vote_granted = true };
	raft_step(&nd.r, 21, &m);
	cr_assert_eq(nd.r.role, RAFT_CANDIDATE, "a term-1 vote won term 2");
	m.term = 2;
	m.vote_granted = false;
	raft_step(&nd.r, 22, &m);
	cr_assert_eq(nd.r.role, RAFT_CANDIDATE);
	cr_assert(!raft_has_ready(&nd.r));
	m.from = 3;
	m.vote_granted = true;
	raft_step(&nd.r, 23, &m);
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	node_ready(&nd, &rd);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

/* ---- fast backup ------------------------------------------------------------------ */

Test(raft, fast_backup_follower_far_behind)
{
	struct cluster *c = cl_new(3, 31);
	uint32_t l = cl_wait_leader(c, 5000), f, g;
	uint64_t index = 0;

	cr_assert(l);
	f = l % 3 + 1;
	g = f % 3 + 1;
	for (int i = 0; i < 10; i++)
		index = cl_propose(c, l, "early");
	cr_assert(cl_wait_applied(c, index, 3, 1000));
	cl_crash(c, f);
	for (int i = 0; i < 300; i++)
		index = cl_propose(c, l, "late");
	cr_assert_eq(index, 310);
	cr_assert(cl_wait_applied(c, index, 2, 2000));
	/* a new leader, whose nextIndex for f starts at 311 */
	cl_run_for(c, 100);
	cl_timeout_now(c, g);
	cr_assert_eq(cl_wait_leader(c, 1000), g);
	cl_run_for(c, 200);

	uint64_t sent0 = c->sent[RAFT_APPEND_ENTRIES][g][f];
	raft_time t0 = c->now;
	cl_restart(c, f);
	cr_assert(cl_wait_applied(c, index, 3, 3000));
	uint64_t sent = c->sent[RAFT_APPEND_ENTRIES][g][f] - sent0;
	raft_time took = c->now - t0;
	/* one miss, then 64 entries per message, back to back:
	 * about 6 messages, not 300, and not paced by heartbeats */
	cr_assert_leq(sent, 10, "%lu AppendEntries to catch up 300 entries",
		      (unsigned long)sent);
	cr_assert_leq(took, 250, "catching up took %lu ms", (unsigned long)took);
	cr_assert(logs_equal(R(c, f), R(c, g)));
	cl_free(c);
}

Test(raft, fast_backup_long_conflicting_suffix)
{
	struct cluster *c = cl_new(5, 41);
	uint32_t l1 = cl_wait_leader(c, 5000), a, l2;
	int group[NODES] = { 0 };
	uint64_t index = 0;

	cr_assert(l1);
	index = cl_propose(c, l1, "base");
	cr_assert(cl_wait_applied(c, index, 5, 1000));
	a = l1 % 5 + 1;
	for (uint32_t id = 1; id <= 5; id++)
		group[id] = (id == l1 || id == a) ? 1 : 2;
	cl_partition(c, group);
	for (int i = 0; i < 100; i++)
		cl_propose(c, l1, "minority");
	cl_run_for(c, 1000);
	l2 = cl_leader(c);
	cr_assert(l2 && group[l2] == 2);
	for (int i = 0; i < 100; i++)
		index = cl_propose(c, l2, "majority");
	cr_assert_eq(index, 101);
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	/* a and l1 hold 100 entries of an old term where l2 has 100 others */
	uint64_t ta = 0, tl = 0;
	cr_assert_eq(raft_last_index(R(c, a)), 101);
	cr_assert(raft_term_at(R(c, a), 2, &ta) && raft_term_at(R(c, l2), 2, &tl));
	cr_assert_lt(ta, tl);
	cr_assert(!raft_term_at(R(c, a), 102, &ta));

	uint64_t sent0_a = c->sent[RAFT_APPEND_ENTRIES][l2][a];
	uint64_t sent0_l1 = c->sent[RAFT_APPEND_ENTRIES][l2][l1];
	uint64_t term = R(c, l2)->current_term;
	cl_heal(c);
	cr_assert(cl_wait_applied(c, index, 5, 2000));
	cr_assert(logs_equal(R(c, a), R(c, l2)));
	cr_assert(logs_equal(R(c, l1), R(c, l2)));
	cr_assert_eq(cl_leader(c), l2);
	cr_assert_eq(R(c, l2)->current_term, term);
	uint64_t sent_a = c->sent[RAFT_APPEND_ENTRIES][l2][a] - sent0_a;
	uint64_t sent_l1 = c->sent[RAFT_APPEND_ENTRIES][l2][l1] - sent0_l1;
	/* one miss skips the whole old term; then two batches */
	cr_assert_leq(sent_a, 8, "%lu AppendEntries to a", (unsigned long)sent_a);
	cr_assert_leq(sent_l1, 8, "%lu AppendEntries to l1", (unsigned long)sent_l1);
	cr_assert_geq(c->nodes[a].disk.truncations, 1);
	cl_free(c);
}

/* ---- Figure 8 ----------------------------------------------------------------------
 *
 * Five servers.  (a) S1 leads and gets an entry (index 2) onto S2 only.
 * (b) S1 crashes; S5 is elected by S3, S4, S5 and takes a different entry
 * at index 2, then crashes.  (c) S1 comes back, is elected in a later term
 * and replicates its old index 2 onto a majority: it must not count that as
 * committed.  (d) If S1 crashes now, S5 can be elected and overwrite index 2
 * everywhere — which is why (c) must not commit.  (e) If S1 first commits an
 * entry of its own term, index 2 is committed with it and S5 can never win.
 * Only messages are delivered (cl_settle); elections are forced by hand.
 */

static void fig8_through_c(struct cluster *c)
{
	int group[NODES] = { 0, 1, 1, 2, 3, 4 };

	cl_timeout_now(c, 1);
	cl_settle(c);
	cr_assert_eq(R(c, 1)->role, RAFT_LEADER);
	cr_assert_eq(cl_propose(c, 1, "x1"), 1);
	cl_settle(c);
	cr_assert_eq(R(c, 1)->commit_index, 1);

	/* (a) */
	cl_partition(c, group);
	cr_assert_eq(cl_propose(c, 1, "a"), 2);
	cl_settle(c);
	cr_assert(entry_is(raft_entry_at(R(c, 2), 2), 1, "a"));
	cr_assert_eq(raft_last_index(R(c, 3)), 1);

	/* (b) */
	cl_crash(c, 1);
	cl_heal(c);
	cl_timeout_now(c, 5);
	cl_settle(c);
	cr_assert_eq(R(c, 5)->role, RAFT_LEADER);
	cr_assert_eq(R(c, 5)->current_term, 2);
	cl_isolate(c, 5);
	cr_assert_eq(cl_propose(c, 5, "b"), 2);
	cl_settle(c);
	cl_crash(c, 5);
	cl_heal(c);

	/* (c) */
	cl_restart(c, 1);
	cr_assert_eq(R(c, 1)->current_term, 1);
	cl_timeout_now(c, 1);                   /* term 2: S3 and S4 voted S5 */
	cl_settle(c);
	cr_assert_eq(R(c, 1)->role, RAFT_CANDIDATE);
	cl_timeout_now(c, 1);                   /* term 3: S2, S3, S4 */
	cl_settle(c);
	cr_assert_eq(R(c, 1)->role, RAFT_LEADER);
	cr_assert_eq(R(c, 1)->current_term, 3);
	for (uint32_t id = 1; id <= 4; id++)
		cr_assert(entry_is(raft_entry_at(R(c, id), 2), 1, "a"),
			  "S%u lacks index 2", id);
	/* on a majority, but of an older term: not committed (S1 restarted,
	 * so it knows of no commit at all until one of its own term) */
	cr_assert_lt(R(c, 1)->commit_index, 2);
	cr_assert_eq(R(c, 1)->progress[3].match_index, 2);
}

Test(raft, figure8_no_commit_by_counting_old_replicas)
{
	struct cluster *c = cl_new(5, 81);

	fig8_through_c(c);
	/* the paper's (c) also has S1 holding index 3 alone */
	cl_isolate(c, 1);
	cr_assert_eq(cl_propose(c, 1, "c"), 3);
	cl_settle(c);
	cr_assert_lt(R(c, 1)->commit_index, 2);

	/* (d) */
	cl_crash(c, 1);
	cl_heal(c);
	cl_restart(c, 5);
	cl_timeout_now(c, 5);                   /* term 3: all voted for S1 */
	cl_settle(c);
	cr_assert_neq(R(c, 5)->role, RAFT_LEADER);
	cl_timeout_now(c, 5);                   /* term 4: its log is newer */
	cl_settle(c);
	cr_assert_eq(R(c, 5)->role, RAFT_LEADER);
	cr_assert_eq(R(c, 5)->current_term, 4);
	for (uint32_t id = 2; id <= 5; id++)
		cr_assert(entry_is(raft_entry_at(R(c, id), 2), 2, "b"),
			  "S%u: index 2 overwritten", id);
	cr_assert_lt(R(c, 5)->commit_index, 2, "b is of term 2: not yet");
	cr_assert_eq(cl_propose(c, 5, "d"), 3);
	cl_settle(c);
	cr_assert_eq(R(c, 5)->commit_index, 3);
	/* a heartbeat spreads the commit; everyone applies b, never a */
	raft_tick(&c->nodes[5].r, raft_deadline(R(c, 5)));
	after_input(c, 5);
	cl_settle(c);
	for (uint32_t id = 2; id <= 5; id++)
		cr_assert_eq(c->nodes[id].applied, 3);
	cr_assert(memcmp(c->committed[2].data, "b", 1) == 0);
	/* S1 comes back and is brought in line */
	cl_restart(c, 1);
	cr_assert(cl_wait_applied(c, 3, 5, 2000));
	cr_assert(logs_equal(R(c, 1), R(c, 5)));
	cl_free(c);
}

Test(raft, figure8_commit_of_current_term_commits_earlier)
{
	struct cluster *c = cl_new(5, 82);

	fig8_through_c(c);
	/* (e) */
	cr_assert_eq(cl_propose(c, 1, "c"), 3);
	cl_settle(c);
	cr_assert_eq(R(c, 1)->commit_index, 3, "index 2 commits with index 3");
	cr_assert_eq(c->nodes[1].applied, 3);
	cr_assert(memcmp(c->committed[2].data, "a", 1) == 0);

	cl_crash(c, 1);
	cl_restart(c, 5);
	for (int i = 0; i < 3; i++) {
		cl_timeout_now(c, 5);
		cl_settle(c);
		cr_assert_neq(R(c, 5)->role, RAFT_LEADER,
			      "S5 won without the committed entries");
	}
	for (uint32_t id = 2; id <= 4; id++)
		cr_assert(entry_is(raft_entry_at(R(c, id), 2), 1, "a"));
	/* the cluster goes on with a leader that has them */
	cl_restart(c, 1);
	uint32_t l = cl_wait_leader(c, 5000);
	cr_assert(l && l != 5);
	uint64_t index = cl_propose(c, l, "after");
	cr_assert(cl_wait_applied(c, index, 5, 2000));
	cr_assert(memcmp(c->committed[2].data, "a", 1) == 0);
	cl_free(c);
}

/* ---- majorities -------------------------------------------------------------------- */

Test(raft, no_commit_without_majority)
{
	struct cluster *c = cl_new(5, 51);
	uint32_t l = cl_wait_leader(c, 5000), f, l2;
	int group[NODES] = { 0 };
	uint64_t base, index = 0;

	cr_assert(l);
	base = cl_propose(c, l, "base");
	cr_assert(cl_wait_applied(c, base, 5, 1000));
	f = l % 5 + 1;
	for (uint32_t id = 1; id <= 5; id++)
		group[id] = (id == l || id == f) ? 1 : 2;
	cl_partition(c, group);
	for (int i = 0; i < 3; i++)
		cr_assert(cl_propose(c, l, "lost"));
	cl_run_for(c, 2000);
	cr_assert_eq(R(c, l)->commit_index, base, "committed with 2 of 5");
	cr_assert_eq(R(c, l)->role, RAFT_LEADER);
	cr_assert_eq(raft_last_index(R(c, f)), base + 3);
	cr_assert_eq(c->nodes[f].applied, base);

	l2 = cl_leader(c);
	cr_assert(l2 != l && group[l2] == 2);
	for (int i = 0; i < 2; i++)
		index = cl_propose(c, l2, "kept");
	cr_assert(cl_wait_applied(c, index, 3, 1000));
	cl_heal(c);
	cr_assert(cl_wait_applied(c, index, 5, 2000));
	for (uint64_t i = base + 1; i <= index; i++)
		cr_assert(memcmp(c->committed[i].data, "kept", 4) == 0);
	cr_assert(!c->committed[index + 1].set);
	cl_free(c);
}

Test(raft, even_cluster_needs_more_than_half)
{
	struct cluster *c = cl_new(4, 52);
	uint32_t l = cl_wait_leader(c, 5000), f;
	int group[NODES] = { 0 };
	uint64_t base, term;

	cr_assert(l);
	base = cl_propose(c, l, "base");
	cr_assert(cl_wait_applied(c, base, 4, 1000));
	term = R(c, l)->current_term;
	f = l % 4 + 1;
	for (uint32_t id = 1; id <= 4; id++)
		group[id] = (id == l || id == f) ? 1 : 2;
	cl_partition(c, group);
	cr_assert(cl_propose(c, l, "half"));
	cl_run_for(c, 3000);
	cr_assert_eq(R(c, l)->commit_index, base, "committed with 2 of 4");
	for (uint64_t t = term + 1; t < MAX_TERM; t++)
		cr_assert_eq(c->leader_of[t], 0, "elected with 2 of 4 in term %lu",
			     (unsigned long)t);
	cl_heal(c);
	uint64_t index = 0;
	for (int tries = 0; tries < 5 && !index; tries++) {
		uint32_t l2 = cl_wait_leader(c, 5000);
		cr_assert(l2);
		index = cl_propose(c, l2, "healed");
		if (!cl_wait_applied(c, index, 4, 2000))
			index = 0;
	}
	cr_assert(index);
	cl_free(c);
}

/* ---- restarts ------------------------------------------------------------------------ */

Test(raft, restart_from_persisted_state)
{
	struct cluster *c = cl_new(3, 61);
	uint32_t l = cl_wait_leader(c, 5000), f;
	uint64_t index = 0;
	char s[16];

	cr_assert(l);
	for (int i = 1; i <= 10; i++) {
		snprintf(s, sizeof(s), "v%d", i);
		index = cl_propose(c, l, s);
	}
	cr_assert(cl_wait_applied(c, index, 3, 1000));

	/* a follower goes down and misses five */
	f = l % 3 + 1;
	cl_crash(c, f);
	for (int i = 11; i <= 15; i++) {
		snprintf(s, sizeof(s), "v%d", i);
		index = cl_propose(c, l, s);
	}
	cr_assert(cl_wait_applied(c, index, 2, 1000));
	cl_restart(c, f);
	struct node *nd = &c->nodes[f];
	cr_assert_eq(nd->r.current_term, nd->disk.term);
	cr_assert_eq(nd->r.voted_for, nd->disk.vote);
	cr_assert_eq(nd->r.role, RAFT_FOLLOWER);
	cr_assert_eq(raft_last_index(&nd->r), 10);
	cr_assert_eq(nd->r.commit_index, 0);
	cr_assert_eq(nd->r.last_applied, 0);
	cr_assert(raft_deadline(&nd->r) >= c->now + 300 &&
		  raft_deadline(&nd->r) < c->now + 600);
	/* it applies everything again, from 1, in order (node_advance checks) */
	cr_assert(cl_wait_applied(c, index, 3, 1000));
	cr_assert_eq(nd->applied, 15);

	/* now the leader goes down; a new one; the old one rejoins */
	cl_crash(c, l);
	uint32_t l2 = cl_wait_leader(c, 5000);
	cr_assert(l2 && l2 != l);
	for (int i = 16; i <= 20; i++) {
		snprintf(s, sizeof(s), "v%d", i);
		index = cl_propose(c, l2, s);
	}
	cr_assert_eq(index, 20);
	cr_assert(cl_wait_applied(c, index, 2, 1000));
	cl_restart(c, l);
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	for (int i = 1; i <= 20; i++) {
		snprintf(s, sizeof(s), "v%d", i);
		cr_assert(memcmp(c->committed[i].data, s, strlen(s)) == 0);
	}
	cl_free(c);
}

Test(raft, restart_keeps_vote)
{
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;

	/* it voted for 2 in term 5, then crashed */
	solo_new(&nd, 1, 3, 5, 2, NULL, 0);
	cr_assert_eq(nd.r.current_term, 5);
	cr_assert_eq(nd.r.voted_for, 2);
	m = rv(3, 1, 5, 0, 0);
	solo_step(&nd, 10, &m, &rd);
	cr_assert(!only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted,
		  "voted twice in term 5");
	solo_done(&nd, &rd);
	m = rv(2, 1, 5, 0, 0);
	solo_step(&nd, 11, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	solo_done(&nd, &rd);
	solo_free(&nd);

	/* restore refuses what cannot have been persisted */
	struct raft r;
	struct raft_config cfg = config(1, 3, 1);
	struct raft_entry e[2];
	mk_entries(e, (const uint64_t[]){ 2, 1 }, 2, 1);
	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_OK);
	cr_assert_eq(raft_restore(&r, 3, 0, e, 2), RAFT_EINVAL);   /* terms go down */
	cr_assert_eq(raft_restore(&r, 1, 0, e, 1), RAFT_EINVAL);   /* term past current */
	cr_assert_eq(raft_restore(&r, 2, 0, e, 1), RAFT_OK);
	cr_assert_eq(raft_last_index(&r), 1);
	cr_assert(e[0].data != raft_entry_at(&r, 1)->data, "entries are copied");
	cr_assert(!raft_has_ready(&r), "restored state is already durable");
	raft_close(&r);
}

/* ---- timing ------------------------------------------------------------------------- */

Test(raft, heartbeats_at_most_10_per_second)
{
	struct cluster *c = cl_new(5, 71);
	uint32_t l = cl_wait_leader(c, 5000);
	uint64_t before[NODES], votes = 0;

	cr_assert(l);
	cl_run_for(c, 1000);
	uint64_t term = R(c, l)->current_term;
	for (uint32_t id = 1; id <= 5; id++) {
		before[id] = c->sent[RAFT_APPEND_ENTRIES][l][id];
		for (uint32_t j = 1; j <= 5; j++)
			votes += c->sent[RAFT_REQUEST_VOTE][id][j];
	}
	cl_run_for(c, 10000);
	for (uint32_t id = 1; id <= 5; id++) {
		uint64_t n;
		if (id == l)
			continue;
		n = c->sent[RAFT_APPEND_ENTRIES][l][id] - before[id];
		cr_assert_leq(n, 101, "%lu AppendEntries to %u in 10 s",
			      (unsigned long)n, id);
		cr_assert_geq(n, 95, "only %lu heartbeats to %u in 10 s",
			      (unsigned long)n, id);
		for (uint32_t j = 1; j <= 5; j++)
			votes -= c->sent[RAFT_REQUEST_VOTE][id][j];
	}
	for (uint32_t j = 1; j <= 5; j++)
		votes -= c->sent[RAFT_REQUEST_VOTE][l][j];
	cr_assert_eq(votes, 0, "an idle healthy cluster held an election");
	cr_assert_eq(R(c, l)->current_term, term);
	cl_free(c);
}

Test(raft, timeout_now_and_deadline_levers)
{
	struct cluster *c = cl_new(3, 91);
	uint32_t l = cl_wait_leader(c, 5000), f;
	uint64_t term;

	cr_assert(l);
	cl_run_for(c, 50);
	term = R(c, l)->current_term;
	/* not on a leader */
	raft_time hb = raft_deadline(R(c, l));
	raft_timeout_now(&c->nodes[l].r, c->now);
	raft_set_election_deadline(&c->nodes[l].r, c->now + 1);
	cr_assert(!raft_has_ready(R(c, l)));
	cr_assert_eq(R(c, l)->role, RAFT_LEADER);
	cr_assert_eq(raft_deadline(R(c, l)), hb);

	f = l % 3 + 1;
	raft_set_election_deadline(&c->nodes[f].r, c->now + 12345);
	cr_assert_eq(raft_deadline(R(c, f)), c->now + 12345);
	cl_timeout_now(c, f);
	cr_assert_eq(R(c, f)->role, RAFT_CANDIDATE);
	cr_assert_eq(R(c, f)->current_term, term + 1);
	cr_assert_eq(c->sent[RAFT_REQUEST_VOTE][f][l], 1);
	cr_assert_eq(cl_wait_leader(c, 1000), f);
	cr_assert_eq(R(c, f)->current_term, term + 1);
	cl_run_for(c, 50);
	cr_assert_eq(R(c, l)->role, RAFT_FOLLOWER);
	cr_assert_eq(R(c, l)->leader_id, f);
	/* the deposed leader has an election timer again */
	cr_assert_neq(raft_deadline(R(c, l)), RAFT_NO_DEADLINE);
	cl_free(c);
}

/* batch_appends (real pace): the commands a leader takes between two
 * raft_flush calls reach each follower in one AppendEntries, and commit like
 * any others. */
Test(raft, batch_appends_one_append_per_follower)
{
	struct cluster *c = cl_new(3, 77);
	uint32_t l = cl_wait_leader(c, 5000);
	cr_assert(l);
	cl_settle(c);                        /* every reply in: followers caught up */
	c->nodes[l].r.cfg.batch_appends = true;
	uint64_t before[4] = { 0 };
	for (uint32_t f = 1; f <= 3; f++)
		before[f] = c->sent[RAFT_APPEND_ENTRIES][l][f];
	uint64_t last = 0;
	for (int i = 0; i < 3; i++) {
		char cmd[16];
		snprintf(cmd, sizeof cmd, "b%d", i);
		last = cl_propose(c, l, cmd);
		cr_assert(last);
	}
	for (uint32_t f = 1; f <= 3; f++)
		cr_assert_eq(c->sent[RAFT_APPEND_ENTRIES][l][f], before[f], "n%u: sent before the flush", f);
	raft_flush(&c->nodes[l].r);
	after_input(c, l);
	for (uint32_t f = 1; f <= 3; f++)
		if (f != l)
			cr_assert_eq(c->sent[RAFT_APPEND_ENTRIES][l][f], before[f] + 1,
				     "n%u got %" PRIu64 " AppendEntries for three commands", f,
				     c->sent[RAFT_APPEND_ENTRIES][l][f] - before[f]);
	/* a flush with nothing new sends nothing */
	raft_flush(&c->nodes[l].r);
	after_input(c, l);
	for (uint32_t f = 1; f <= 3; f++)
		if (f != l)
			cr_assert_eq(c->sent[RAFT_APPEND_ENTRIES][l][f], before[f] + 1);
	cl_run_for(c, 1000);
	for (uint32_t id = 1; id <= 3; id++)
		cr_assert_geq(c->nodes[id].r.commit_index, last, "n%u did not commit the batch", id);
	cl_free(c);
}

Test(raft, single_node_cluster)
{
	struct node nd;
	struct raft_ready rd;
	uint64_t index, term;

	solo_new(&nd, 1, 1, 0, RAFT_NONE, NULL, 0);
	raft_time d = raft_deadline(&nd.r);
	raft_tick(&nd.r, d - 1);
	cr_assert(!raft_has_ready(&nd.r));
	cr_assert_eq(raft_propose(&nd.r, d - 1, "x", 1, &index, &term),
		     RAFT_ENOTLEADER);
	raft_tick(&nd.r, d);
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	cr_assert_eq(nd.r.current_term, 1);
	node_ready(&nd, &rd);
	cr_assert(rd.meta_changed && rd.role_changed);
	cr_assert_eq(rd.voted_for, 1);
	cr_assert_eq(rd.n_msgs, 0);
	solo_done(&nd, &rd);
	cr_assert_eq(raft_deadline(&nd.r), d + 100);

	for (int i = 1; i <= 3; i++) {
		cr_assert_eq(raft_propose(&nd.r, d + i, "cmd", 3, &index, &term), RAFT_OK);
		cr_assert_eq(index, (uint64_t)i);
		cr_assert_eq(term, 1);
		node_ready(&nd, &rd);
		cr_assert_eq(rd.append_from, index);
		cr_assert_eq(rd.n_append, 1);
		cr_assert_eq(rd.apply_to, index, "committed at once");
		cr_assert(rd.commit_changed);
		solo_done(&nd, &rd);
	}
	cr_assert_eq(nd.applied, 3);
	raft_tick(&nd.r, d + 100);
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	cr_assert_eq(raft_deadline(&nd.r), d + 200);
	solo_free(&nd);

	/* restarted, it leads again and commits the old entries with a new one */
	solo_new(&nd, 1, 1, 1, 1, (const uint64_t[]){ 1, 1 }, 2);
	raft_tick(&nd.r, raft_deadline(&nd.r));
	cr_assert_eq(nd.r.role, RAFT_LEADER);
	cr_assert_eq(nd.r.current_term, 2);
	cr_assert_eq(nd.r.commit_index, 0, "old-term entries wait for a new one");
	node_ready(&nd, &rd);
	solo_done(&nd, &rd);
	cr_assert_eq(raft_propose(&nd.r, 1000, "y", 1, &index, &term), RAFT_OK);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.apply_from, 0);
	cr_assert_eq(rd.apply_to, 3);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

/* ---- log compaction (Figure 13) ----------------------------------------------------- */

/* A snapshot through n of entries "e<i>.<term>", as mk_entries and solo_new
 * make them; malloc'd. */
static uint8_t *mk_snapshot(const uint64_t *terms, uint32_t n, uint32_t *len)
{
	struct committed k[64];
	struct raft_entry e[64];

	cr_assert_lt(n, 64);
	memset(k, 0, sizeof(k));
	mk_entries(e, terms, n, 1);
	for (uint32_t i = 0; i < n; i++) {
		k[i + 1].set = true;
		k[i + 1].term = e[i].term;
		k[i + 1].len = e[i].len;
		memcpy(k[i + 1].data, e[i].data, e[i].len);
	}
	return snap_encode(k, n, len);
}

static struct raft_msg snap_msg(uint32_t from, uint32_t to, uint64_t term,
				uint64_t index, uint64_t index_term,
				const uint8_t *data, uint32_t len)
{
	return (struct raft_msg){
		.type = RAFT_INSTALL_SNAPSHOT, .from = from, .to = to,
		.term = term, .last_included_index = index,
		.last_included_term = index_term, .snapshot_len = len,
		.snapshot_data = data,
	};
}

static struct raft_msg snap_reply(uint32_t from, uint64_t term, uint64_t index)
{
	return (struct raft_msg){
		.type = RAFT_INSTALL_SNAPSHOT_REPLY, .from = from, .to = 1,
		.term = term, .last_included_index = index,
	};
}

/* A node restarted from a snapshot of the first n_snap terms and a log of
 * the tail terms after it. */
static void solo_new_from_snapshot(struct node *nd, uint32_t id, uint32_t n,
				   uint64_t term, const uint64_t *snap_terms,
				   uint32_t n_snap, const uint64_t *tail,
				   uint32_t n_tail)
{
	struct raft_entry e[64];
	uint32_t len;
	uint8_t *data = mk_snapshot(snap_terms, n_snap, &len);

	memset(nd, 0, sizeof(*nd));
	nd->disk.term = term;
	disk_save_snapshot(&nd->disk, n_snap, snap_terms[n_snap - 1], data, len);
	nd->disk.base = n_snap;
	mk_entries(e, tail, n_tail, n_snap + 1);
	for (uint32_t i = 0; i < n_tail; i++)
		disk_append(&nd->disk, &e[i]);
	free(data);
	node_start(nd, id, n, 7 + id, 0);
}

Test(raft, snapshot_compacts_the_log)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 3, 3 };
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[4];
	const struct raft_msg *reply;
	struct raft_msg m;
	uint64_t t = 99;

	solo_new(&nd, 1, 3, 3, RAFT_NONE, terms, 6);
	m = ae(2, 1, 3, 6, 3, 5, NULL, 0);
	solo_step(&nd, 10, &m, &rd);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.r.last_applied, 5);

	/* only what was applied, and data to go with a length */
	cr_assert_eq(raft_snapshot(&nd.r, 6, "x", 1), RAFT_EINVAL);
	cr_assert_eq(raft_snapshot(&nd.r, 4, NULL, 3), RAFT_EINVAL);
	cr_assert_eq(nd.r.snapshot_index, 0);
	cr_assert_eq(nd.r.log_len, 6);

	node_snapshot(&nd, 4);
	cr_assert(!raft_has_ready(&nd.r), "a snapshot produces no batch");
	cr_assert_eq(nd.r.log_len, 2);
	cr_assert_eq(raft_last_index(&nd.r), 6);
	cr_assert_eq(raft_last_term(&nd.r), 3);
	cr_assert(raft_term_at(&nd.r, 4, &t) && t == 2, "the base keeps its term");
	cr_assert(!raft_term_at(&nd.r, 3, &t), "below the base: unknown");
	cr_assert(raft_term_at(&nd.r, 0, &t) && t == 0);
	cr_assert(raft_term_at(&nd.r, 6, &t) && t == 3);
	cr_assert(!raft_term_at(&nd.r, 7, &t));
	cr_assert_null(raft_entry_at(&nd.r, 4));
	cr_assert(entry_is(raft_entry_at(&nd.r, 5), 3, "e5.3"));
	cr_assert_eq(nd.r.commit_index, 5);
	cr_assert_eq(nd.r.last_applied, 5);

	/* an older snapshot, or the same one again, changes nothing */
	const uint8_t *data = nd.r.snapshot_data;
	cr_assert_eq(raft_snapshot(&nd.r, 3, "old", 3), RAFT_OK);
	cr_assert_eq(raft_snapshot(&nd.r, 4, "old", 3), RAFT_OK);
	cr_assert_eq(nd.r.snapshot_data, data);
	cr_assert_eq(nd.r.snapshot_index, 4);
	cr_assert(!raft_has_ready(&nd.r));

	/* AppendEntries go on from the base (prev_log_term: the base's) */
	mk_entries(e, (const uint64_t[]){ 3, 3, 4, 4 }, 4, 5);
	m = ae(2, 1, 4, 4, 2, 8, e, 4);
	solo_step(&nd, 20, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(reply->success);
	cr_assert_eq(reply->match_index, 8);
	cr_assert_eq(rd.truncate_from, 0);
	cr_assert_eq(rd.append_from, 7);
	cr_assert_eq(rd.n_append, 2);
	cr_assert_eq(rd.apply_from, 5);
	cr_assert_eq(rd.apply_to, 8);
	solo_done(&nd, &rd);

	/* a late copy from below the base: what it holds there is committed,
	 * in the snapshot; the rest matches */
	mk_entries(e, (const uint64_t[]){ 2, 2, 3, 3 }, 4, 3);
	m = ae(2, 1, 4, 2, 1, 8, e, 4);
	solo_step(&nd, 21, &m, &rd);
	reply = only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY);
	cr_assert(reply->success);
	cr_assert_eq(reply->match_index, 6);
	cr_assert_eq(rd.truncate_from, 0);
	cr_assert_eq(rd.n_append, 0);
	cr_assert_eq(raft_last_index(&nd.r), 8);
	solo_done(&nd, &rd);

	/* the service snapshots while new entries wait to be persisted */
	mk_entries(e, (const uint64_t[]){ 4, 4 }, 2, 9);
	m = ae(2, 1, 4, 8, 4, 8, e, 2);
	raft_step(&nd.r, 30, &m);
	node_snapshot(&nd, 8);
	cr_assert_eq(nd.r.log_len, 2);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.truncate_from, 0);
	cr_assert_eq(rd.append_from, 9);
	cr_assert_eq(rd.n_append, 2);
	solo_done(&nd, &rd);

	/* an empty log still answers from its base */
	m = ae(2, 1, 4, 10, 4, 10, NULL, 0);
	solo_step(&nd, 40, &m, &rd);
	cr_assert_eq(rd.apply_to, 10);
	solo_done(&nd, &rd);
	node_snapshot(&nd, 10);
	cr_assert_eq(nd.r.log_len, 0);
	cr_assert_eq(nd.disk.n, 0);
	cr_assert_eq(raft_last_index(&nd.r), 10);
	cr_assert_eq(raft_last_term(&nd.r), 4);
	m = rv(3, 1, 5, 9, 4);
	solo_step(&nd, 50, &m, &rd);
	cr_assert(!only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	solo_done(&nd, &rd);
	m = rv(3, 1, 5, 10, 4);
	solo_step(&nd, 51, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_REQUEST_VOTE_REPLY)->vote_granted);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, snapshot_rebases_queued_appends)
{
	static const uint64_t terms[] = { 1, 1, 1, 1, 1, 1 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	uint64_t term, index;

	solo_new(&nd, 1, 3, 1, RAFT_NONE, terms, 6);
	solo_lead(&nd, 10);
	term = nd.r.current_term;
	cr_assert_eq(raft_propose(&nd.r, 11, "p7", 2, &index, NULL), RAFT_OK);
	node_ready(&nd, &rd);
	solo_done(&nd, &rd);
	m = aer(2, term, true, 7, 0, 0);
	solo_step(&nd, 12, &m, &rd);
	cr_assert_eq(rd.apply_to, 7);
	solo_done(&nd, &rd);
	/* node 3 has nothing: AppendEntries from the start */
	m = aer(3, term, false, 0, 0, 1);
	expect_append(&nd, &m, 3, 0, 0, 7);

	/* a heartbeat queues it again, then the service compacts through 5
	 * before the batch is taken: the message starts at the base */
	raft_tick(&nd.r, raft_deadline(&nd.r));
	node_snapshot(&nd, 5);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct raft_msg *out = &rd.msgs[i];
		cr_assert_eq(out->type, RAFT_APPEND_ENTRIES);
		if (out->to == 2) {
			cr_assert_eq(out->prev_log_index, 7);
			cr_assert_eq(out->n_entries, 0);
		} else {
			cr_assert_eq(out->prev_log_index, 5);
			cr_assert_eq(out->prev_log_term, 1);
			cr_assert_eq(out->n_entries, 2);
			cr_assert(entry_is(&out->entries[0], 1, "e6.1"));
			cr_assert(entry_is(&out->entries[1], term, "p7"));
		}
	}
	solo_done(&nd, &rd);
	/* the next heartbeat to node 3 (nextIndex 1) carries the snapshot */
	raft_tick(&nd.r, raft_deadline(&nd.r));
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 2);
	cr_assert_eq(rd.msgs[1].type, RAFT_INSTALL_SNAPSHOT);
	cr_assert_eq(rd.msgs[1].to, 3);
	cr_assert_eq(rd.msgs[1].last_included_index, 5);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, leader_sends_snapshot_below_its_base)
{
	static const uint64_t snap[] = { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2 };
	static const uint64_t tail[] = { 3, 3, 3 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	const struct raft_msg *out;
	uint64_t term, index;

	solo_new_from_snapshot(&nd, 1, 3, 3, snap, 10, tail, 3);
	solo_lead(&nd, 10);
	term = nd.r.current_term;
	cr_assert_eq(nd.r.progress[2].next_index, 14);

	/* node 2's term 2 starts at 7: the leader's ends at its base */
	m = aer(2, term, false, 0, 2, 7);
	expect_append(&nd, &m, 2, 10, 2, 3);
	/* node 2 holds only 2 entries: they are gone from the log, so the
	 * snapshot goes instead, the whole of it */
	m = aer(2, term, false, 0, 0, 3);
	solo_step(&nd, 20, &m, &rd);
	out = only_msg(&rd, RAFT_INSTALL_SNAPSHOT);
	cr_assert_eq(out->to, 2);
	cr_assert_eq(out->term, term);
	cr_assert_eq(out->last_included_index, 10);
	cr_assert_eq(out->last_included_term, 2);
	cr_assert_eq(out->snapshot_len, nd.disk.snap_len);
	cr_assert_eq(out->snapshot_data, nd.r.snapshot_data);
	cr_assert_eq(nd.r.progress[2].next_index, 3);
	solo_done(&nd, &rd);

	/* heartbeats send it again until it is acknowledged; a proposal does
	 * not (the whole snapshot once per command would flood the link) */
	raft_tick(&nd.r, raft_deadline(&nd.r));
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 2);
	cr_assert_eq(rd.msgs[0].type, RAFT_INSTALL_SNAPSHOT);
	cr_assert_eq(rd.msgs[1].type, RAFT_APPEND_ENTRIES);
	solo_done(&nd, &rd);
	cr_assert_eq(raft_propose(&nd.r, 30, "p14", 3, &index, NULL), RAFT_OK);
	cr_assert_eq(index, 14);
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 1);
	cr_assert_eq(rd.msgs[0].type, RAFT_APPEND_ENTRIES);
	cr_assert_eq(rd.msgs[0].n_entries, 1);
	solo_done(&nd, &rd);

	/* the reply: node 2 holds 1..10; the rest follows at once */
	m = snap_reply(2, term, 10);
	expect_append(&nd, &m, 2, 10, 2, 4);
	cr_assert_eq(nd.r.progress[2].match_index, 10);
	cr_assert_eq(nd.r.progress[2].next_index, 11);
	/* a duplicate, a stale term, a refusal, nonsense: nothing */
	step_ignored(&nd, &m);
	m = snap_reply(2, term - 1, 10);
	step_ignored(&nd, &m);
	m = snap_reply(2, term, 0);
	step_ignored(&nd, &m);
	m = snap_reply(2, term, 99);
	step_ignored(&nd, &m);
	/* node 2 acknowledges 11..14: committed with the new entry */
	m = aer(2, term, true, 14, 0, 0);
	solo_step(&nd, 40, &m, &rd);
	cr_assert_eq(rd.apply_from, 10);
	cr_assert_eq(rd.apply_to, 14);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.applied, 14);
	cr_assert_eq(nd.log_applies, 4);

	/* a leader compacting past a follower's nextIndex (node 3: 14) */
	node_snapshot(&nd, 14);
	raft_tick(&nd.r, raft_deadline(&nd.r));
	node_ready(&nd, &rd);
	cr_assert_eq(rd.n_msgs, 2);
	cr_assert_eq(rd.msgs[0].type, RAFT_APPEND_ENTRIES);
	cr_assert_eq(rd.msgs[0].prev_log_index, 14);
	cr_assert_eq(rd.msgs[0].prev_log_term, term);
	cr_assert_eq(rd.msgs[1].type, RAFT_INSTALL_SNAPSHOT);
	cr_assert_eq(rd.msgs[1].to, 3);
	cr_assert_eq(rd.msgs[1].last_included_index, 14);
	cr_assert_eq(rd.msgs[1].last_included_term, term);
	solo_done(&nd, &rd);
	/* a reply of a newer term (a refusal) deposes the leader */
	m = snap_reply(3, term + 1, 0);
	solo_step(&nd, 50, &m, &rd);
	cr_assert_eq(nd.r.role, RAFT_FOLLOWER);
	solo_done(&nd, &rd);
	solo_free(&nd);
}

Test(raft, install_snapshot_discards_a_conflicting_log)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 2 };
	static const uint64_t snap[] = { 1, 1, 3, 3 };
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[2];
	const struct raft_msg *reply;
	struct raft_msg m;
	uint32_t len;
	uint8_t *data = mk_snapshot(snap, 4, &len);

	solo_new(&nd, 1, 3, 2, RAFT_NONE, terms, 5);
	raft_time deadline = raft_deadline(&nd.r);
	/* index 4 is of term 2 here, of term 3 in the snapshot */
	m = snap_msg(2, 1, 3, 4, 3, data, len);
	solo_step(&nd, 100, &m, &rd);
	reply = only_msg(&rd, RAFT_INSTALL_SNAPSHOT_REPLY);
	cr_assert_eq(reply->to, 2);
	cr_assert_eq(reply->term, 3);
	cr_assert_eq(reply->last_included_index, 4);
	cr_assert(rd.meta_changed);
	cr_assert(rd.snapshot, "handed out with the reply that acknowledges it");
	cr_assert_eq(rd.snapshot_index, 4);
	cr_assert_eq(rd.snapshot_term, 3);
	cr_assert_eq(rd.snapshot_len, len);
	cr_assert(memcmp(rd.snapshot_data, data, len) == 0);
	cr_assert_neq(rd.snapshot_data, data, "the core keeps a copy");
	cr_assert_eq(rd.truncate_from, 5, "the stored index 5 is of another history");
	cr_assert_eq(rd.n_append, 0);
	cr_assert_eq(rd.apply_from, 4);
	cr_assert_eq(rd.apply_to, 4);
	cr_assert(rd.commit_changed);
	cr_assert_eq(nd.r.log_len, 0);
	cr_assert_eq(raft_last_index(&nd.r), 4);
	cr_assert_eq(raft_last_term(&nd.r), 3);
	cr_assert_eq(nd.r.commit_index, 4);
	cr_assert_eq(nd.r.last_applied, 0, "applied once the service has it");
	cr_assert_eq(nd.r.leader_id, 2);
	cr_assert_neq(raft_deadline(&nd.r), deadline, "a message from the leader");
	solo_done(&nd, &rd);
	cr_assert_eq(nd.r.last_applied, 4);
	cr_assert_eq(nd.applied, 4);
	cr_assert_eq(nd.loads, 1);
	cr_assert_eq(nd.sm[3].term, 3);
	cr_assert_eq(nd.disk.base, 4);
	cr_assert_eq(nd.disk.n, 0);
	cr_assert_eq(nd.disk.truncations, 1);

	/* and the log goes on from it */
	mk_entries(e, (const uint64_t[]){ 3, 3 }, 2, 5);
	m = ae(2, 1, 3, 4, 3, 6, e, 2);
	solo_step(&nd, 110, &m, &rd);
	cr_assert(only_msg(&rd, RAFT_APPEND_ENTRIES_REPLY)->success);
	cr_assert_eq(rd.append_from, 5);
	cr_assert_eq(rd.apply_from, 4);
	cr_assert_eq(rd.apply_to, 6);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.log_applies, 2);
	solo_free(&nd);

	/* a log shorter than the snapshot: nothing stored to truncate */
	solo_new(&nd, 1, 3, 2, RAFT_NONE, terms, 2);
	m = snap_msg(2, 1, 3, 4, 3, data, len);
	solo_step(&nd, 101, &m, &rd);
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.truncate_from, 0);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.disk.base, 4);
	cr_assert_eq(nd.disk.n, 0);
	solo_free(&nd);
	free(data);
}

Test(raft, install_snapshot_keeps_a_matching_suffix)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 3 };
	static const uint64_t snap[] = { 1, 1, 2 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	uint32_t len;
	uint8_t *data = mk_snapshot(snap, 3, &len);

	solo_new(&nd, 1, 3, 3, RAFT_NONE, terms, 5);
	m = snap_msg(2, 1, 3, 3, 2, data, len);
	solo_step(&nd, 100, &m, &rd);
	cr_assert_eq(only_msg(&rd, RAFT_INSTALL_SNAPSHOT_REPLY)->last_included_index, 3);
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.snapshot_index, 3);
	cr_assert_eq(rd.truncate_from, 0, "the stored 4 and 5 continue the snapshot");
	cr_assert_eq(rd.n_append, 0);
	cr_assert_eq(rd.apply_from, 3);
	cr_assert_eq(rd.apply_to, 3, "4 and 5 are not known to be committed");
	cr_assert_eq(nd.r.log_len, 2);
	cr_assert_null(raft_entry_at(&nd.r, 3));
	cr_assert(entry_is(raft_entry_at(&nd.r, 4), 2, "e4.2"));
	cr_assert(entry_is(raft_entry_at(&nd.r, 5), 3, "e5.3"));
	solo_done(&nd, &rd);
	cr_assert_eq(nd.disk.base, 3);
	cr_assert_eq(nd.disk.n, 2);
	cr_assert_eq(nd.disk.truncations, 0);

	m = ae(2, 1, 3, 5, 3, 5, NULL, 0);
	solo_step(&nd, 110, &m, &rd);
	cr_assert_eq(rd.apply_from, 3);
	cr_assert_eq(rd.apply_to, 5);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.log_applies, 2);
	solo_free(&nd);
	free(data);
}

Test(raft, install_snapshot_in_a_held_batch)
{
	static const uint64_t terms[] = { 1, 1, 1, 1, 1 };
	static const uint64_t snap[] = { 1, 1, 1, 2 };
	struct node nd;
	struct raft_ready rd;
	struct raft_entry e[2];
	struct raft_msg m;
	uint32_t len;
	uint8_t *data = mk_snapshot(snap, 4, &len);

	/* 1..5 of term 1 stored; a term-2 leader cuts at 4 and sends 4, 5 */
	solo_new(&nd, 1, 3, 1, RAFT_NONE, terms, 5);
	mk_entries(e, (const uint64_t[]){ 2, 2 }, 2, 4);
	m = ae(2, 1, 2, 3, 1, 0, e, 2);
	raft_step(&nd.r, 10, &m);
	/* before that is persisted, its snapshot through 4 arrives */
	m = snap_msg(2, 1, 2, 4, 2, data, len);
	raft_step(&nd.r, 11, &m);
	node_ready(&nd, &rd);                   /* the disk checks the order */
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.truncate_from, 5, "the stored 5 of term 1 must go");
	cr_assert_eq(rd.append_from, 5);
	cr_assert_eq(rd.n_append, 1);
	cr_assert_eq(rd.n_msgs, 2);
	solo_done(&nd, &rd);
	cr_assert(entry_is(disk_entry(&nd.disk, 5), 2, "e5.2"));
	solo_free(&nd);

	/* the same, but a snapshot past everything: the whole log goes */
	solo_new(&nd, 1, 3, 1, RAFT_NONE, terms, 5);
	mk_entries(e, (const uint64_t[]){ 2, 2 }, 2, 4);
	m = ae(2, 1, 2, 3, 1, 0, e, 2);
	raft_step(&nd.r, 10, &m);
	free(data);
	data = mk_snapshot((const uint64_t[]){ 1, 1, 1, 2, 2, 2 }, 6, &len);
	m = snap_msg(2, 1, 2, 6, 2, data, len);
	raft_step(&nd.r, 11, &m);
	node_ready(&nd, &rd);
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.truncate_from, 7, "(nothing is stored past 6)");
	cr_assert_eq(rd.n_append, 0);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.disk.base, 6);
	cr_assert_eq(nd.disk.n, 0);
	solo_free(&nd);
	free(data);
}

Test(raft, deposed_leader_queued_appends_and_a_snapshot)
{
	static const uint64_t terms[] = { 1, 1, 1 };
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	uint32_t len;
	uint8_t *data = mk_snapshot((const uint64_t[]){ 1, 1, 1, 3, 3 }, 5, &len);

	solo_new(&nd, 1, 3, 1, 1, terms, 3);
	solo_lead(&nd, 5);
	/* two proposals queue AppendEntries carrying 4 and 5 of term 2 ... */
	cr_assert_eq(raft_propose(&nd.r, 6, "p4", 2, NULL, NULL), RAFT_OK);
	cr_assert_eq(raft_propose(&nd.r, 7, "p5", 2, NULL, NULL), RAFT_OK);
	/* ... then, before the batch is taken, a term-3 leader's snapshot
	 * through 5 (of term 3) replaces the whole log */
	m = snap_msg(3, 1, 3, 5, 3, data, len);
	raft_step(&nd.r, 8, &m);
	cr_assert_eq(nd.r.role, RAFT_FOLLOWER);
	node_ready(&nd, &rd);
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.truncate_from, 0, "1..3 stored, all in the snapshot");
	cr_assert_eq(rd.n_append, 0, "4 and 5 of term 2 never reach the disk");
	cr_assert_eq(rd.n_msgs, 5);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(rd.msgs[i].type, RAFT_APPEND_ENTRIES);
		cr_assert_eq(rd.msgs[i].n_entries, 0, "entries that are gone");
	}
	cr_assert_eq(rd.msgs[4].type, RAFT_INSTALL_SNAPSHOT_REPLY);
	cr_assert_eq(rd.msgs[4].last_included_index, 5);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.applied, 5);
	cr_assert(raft_entry_at(&nd.r, 5) == NULL && raft_last_term(&nd.r) == 3);
	solo_free(&nd);
	free(data);
}

Test(raft, install_snapshot_stale_or_duplicate)
{
	static const uint64_t terms[] = { 1, 1, 1, 1 };
	struct node nd;
	struct raft_ready rd;
	const struct raft_msg *reply;
	struct raft_msg m;
	uint32_t len3, len6;
	uint8_t *data3 = mk_snapshot(terms, 3, &len3);
	uint8_t *data6 = mk_snapshot((const uint64_t[]){ 1, 1, 1, 1, 2, 2 }, 6, &len6);

	solo_new(&nd, 1, 3, 2, RAFT_NONE, terms, 4);
	m = ae(2, 1, 2, 4, 1, 4, NULL, 0);
	solo_step(&nd, 10, &m, &rd);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.applied, 4);

	/* through 3, or through 4: committed here already */
	for (uint64_t index = 3; index <= 4; index++) {
		m = snap_msg(2, 1, 2, index, 1, data3, len3);
		solo_step(&nd, 20, &m, &rd);
		reply = only_msg(&rd, RAFT_INSTALL_SNAPSHOT_REPLY);
		cr_assert_eq(reply->term, 2);
		cr_assert_eq(reply->last_included_index, index);
		cr_assert(!rd.snapshot);
		cr_assert(!rd.meta_changed);
		cr_assert_eq(rd.truncate_from, 0);
		cr_assert_eq(rd.n_append, 0);
		cr_assert_eq(rd.apply_to, rd.apply_from);
		solo_done(&nd, &rd);
		cr_assert_eq(nd.r.snapshot_index, 0);
		cr_assert_eq(nd.r.log_len, 4);
		cr_assert_eq(nd.r.commit_index, 4);
	}

	/* from a stale leader: refused, and it says nothing of this log */
	raft_time deadline = raft_deadline(&nd.r);
	m = snap_msg(3, 1, 1, 6, 1, data6, len6);
	solo_step(&nd, 30, &m, &rd);
	reply = only_msg(&rd, RAFT_INSTALL_SNAPSHOT_REPLY);
	cr_assert_eq(reply->to, 3);
	cr_assert_eq(reply->term, 2);
	cr_assert_eq(reply->last_included_index, 0);
	cr_assert(!rd.snapshot);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.r.leader_id, 2);
	cr_assert_eq(raft_deadline(&nd.r), deadline);
	cr_assert_eq(nd.r.commit_index, 4);

	/* installed once; the duplicate is only answered */
	m = snap_msg(2, 1, 2, 6, 2, data6, len6);
	solo_step(&nd, 40, &m, &rd);
	cr_assert(rd.snapshot);
	cr_assert_eq(rd.apply_from, 6);
	solo_done(&nd, &rd);
	solo_step(&nd, 41, &m, &rd);
	cr_assert_eq(only_msg(&rd, RAFT_INSTALL_SNAPSHOT_REPLY)->last_included_index, 6);
	cr_assert(!rd.snapshot);
	solo_done(&nd, &rd);
	cr_assert_eq(nd.loads, 1);
	cr_assert_eq(nd.disk.installs, 1);

	/* nonsense is ignored: a snapshot of nothing, data missing */
	m = snap_msg(2, 1, 2, 0, 0, NULL, 0);
	raft_step(&nd.r, 50, &m);
	m = snap_msg(2, 1, 2, 9, 2, NULL, 5);
	raft_step(&nd.r, 51, &m);
	cr_assert(!raft_has_ready(&nd.r));
	solo_free(&nd);
	free(data3);
	free(data6);
}

Test(raft, restart_from_snapshot_and_tail)
{
	static const uint64_t snap[] = { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2 };
	struct raft r;
	struct raft_config cfg = config(1, 3, 1);
	struct raft_entry e[3];
	uint32_t len;
	uint8_t *data = mk_snapshot(snap, 10, &len);
	uint64_t t = 0;

	cr_assert_eq(raft_init(&r, &cfg, 0), RAFT_OK);
	cr_assert_eq(raft_restore_snapshot(&r, 0, 2, data, len), RAFT_EINVAL);
	cr_assert_eq(raft_restore_snapshot(&r, 10, 0, data, len), RAFT_EINVAL);
	cr_assert_eq(raft_restore_snapshot(&r, 10, 2, NULL, len), RAFT_EINVAL);
	cr_assert_eq(raft_restore_snapshot(&r, 10, 2, data, len), RAFT_OK);
	cr_assert_eq(raft_restore_snapshot(&r, 12, 2, data, len), RAFT_EINVAL);
	cr_assert_neq(r.snapshot_data, data, "data is copied");
	cr_assert_eq(r.commit_index, 10);
	cr_assert_eq(r.last_applied, 10);
	/* the tail starts at 11, no older than the snapshot's term */
	mk_entries(e, (const uint64_t[]){ 1, 3, 3 }, 3, 11);
	cr_assert_eq(raft_restore(&r, 3, 0, e, 3), RAFT_EINVAL);
	cr_assert_eq(raft_restore(&r, 1, 0, NULL, 0), RAFT_EINVAL);
	mk_entries(e, (const uint64_t[]){ 2, 3, 3 }, 3, 11);
	cr_assert_eq(raft_restore(&r, 3, 0, e, 3), RAFT_OK);
	cr_assert_eq(raft_last_index(&r), 13);
	cr_assert_eq(raft_last_term(&r), 3);
	cr_assert(raft_term_at(&r, 10, &t) && t == 2);
	cr_assert(entry_is(raft_entry_at(&r, 11), 2, "e11.2"));
	cr_assert(!raft_has_ready(&r), "restored state is already durable");
	cr_assert_eq(raft_restore_snapshot(&r, 10, 2, data, len), RAFT_EINVAL);
	raft_close(&r);
	free(data);

	/* a restarted follower: commit and apply go on from the snapshot */
	struct node nd;
	struct raft_ready rd;
	struct raft_msg m;
	solo_new_from_snapshot(&nd, 1, 3, 3, snap, 10, (const uint64_t[]){ 2, 3, 3 }, 3);
	cr_assert_eq(nd.applied, 10);
	cr_assert_eq(nd.sm[10].term, 2);
	cr_assert_eq(raft_last_index(&nd.r), 13);
	m = ae(2, 1, 3, 13, 3, 12, NULL, 0);
	solo_step(&nd, 10, &m, &rd);
	cr_assert_eq(rd.apply_from, 10);
	cr_assert_eq(rd.apply_to, 12);
	solo_done(&nd, &rd);
	node_snapshot(&nd, 12);
	solo_free(&nd);
}

/* ---- compaction in a cluster -------------------------------------------------------- */

static uint64_t snapshots_sent_to(struct cluster *c, uint32_t to)
{
	uint64_t n = 0;

	for (uint32_t id = 1; id <= c->n; id++)
		n += c->sent[RAFT_INSTALL_SNAPSHOT][id][to];
	return n;
}

static uint64_t propose_n(struct cluster *c, uint32_t l, int n, const char *what)
{
	uint64_t index = 0;

	for (int i = 0; i < n; i++) {
		char s[24];
		snprintf(s, sizeof(s), "%s%d", what, i);
		index = cl_propose(c, l, s);
		cr_assert(index);
		cl_run_for(c, 3);
	}
	return index;
}

Test(raft, install_snapshot_catches_up_a_crashed_follower)
{
	struct cluster *c = cl_new(3, 101);
	uint32_t l, f;
	uint64_t index;

	c->snap_every = 10;
	l = cl_wait_leader(c, 5000);
	cr_assert(l);
	f = l % 3 + 1;
	index = propose_n(c, l, 5, "a");
	cr_assert(cl_wait_applied(c, index, 3, 1000));
	cl_crash(c, f);
	index = propose_n(c, l, 50, "b");
	cr_assert_eq(index, 55);
	cr_assert(cl_wait_applied(c, index, 2, 2000));
	cr_assert_eq(R(c, l)->snapshot_index, 50);
	cr_assert_eq(R(c, l)->log_len, 5);

	/* f comes back with 1..5: the leader has only 51.. (and has been
	 * sending its snapshot, on every heartbeat and proposal, since it
	 * compacted past 5; one sent just before the restart may land) */
	uint64_t applies0 = c->nodes[f].log_applies;
	cl_restart(c, f);
	cr_assert_eq(raft_last_index(R(c, f)), 5);
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	cr_assert_gt(c->sent[RAFT_INSTALL_SNAPSHOT][l][f], 0);
	cr_assert_eq(c->nodes[f].loads, 1);
	cr_assert_geq(R(c, f)->snapshot_index, 50);
	cr_assert_eq(c->nodes[f].log_applies - applies0, 5, "51..55 from the log");
	cr_assert_eq(c->nodes[f].disk.truncations, 0, "1..5 continued the snapshot");

	/* and it goes on from the log */
	index = propose_n(c, l, 12, "c");
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	cr_assert_eq(c->nodes[f].loads, 1);
	cr_assert(logs_equal(R(c, f), R(c, l)));
	cr_assert_eq(cl_leader(c), l);
	/* a restart from its snapshot and tail */
	cl_crash(c, f);
	cl_restart(c, f);
	cr_assert_geq(c->nodes[f].applied, 60);
	index = propose_n(c, l, 1, "d");
	cr_assert(cl_wait_applied(c, index, 3, 2000));
	cl_free(c);
}

Test(raft, install_snapshot_replaces_a_deposed_leaders_log)
{
	struct cluster *c = cl_new(3, 102);
	uint32_t l1, l2;
	uint64_t base, index;

	c->snap_every = 10;
	l1 = cl_wait_leader(c, 5000);
	cr_assert(l1);
	base = propose_n(c, l1, 3, "base");
	cr_assert(cl_wait_applied(c, base, 3, 1000));
	/* cut off, the old leader takes forty it cannot commit */
	cl_isolate(c, l1);
	for (int i = 0; i < 40; i++)
		cr_assert(cl_propose(c, l1, "old"));
	cl_run_for(c, 1000);
	l2 = cl_leader(c);
	cr_assert(l2 && l2 != l1);
	index = propose_n(c, l2, 30, "new");
	cr_assert_eq(index, base + 30);
	cr_assert(cl_wait_applied(c, index, 2, 2000));
	cr_assert_eq(R(c, l2)->snapshot_index, 30);

	/* its entry at 30 is of its old term: its whole log goes, and the
	 * stored entries past 30 are truncated */
	cl_heal(c);
	cr_assert(cl_wait_applied(c, index, 3, 3000));
	cr_assert_geq(snapshots_sent_to(c, l1), 1);
	cr_assert_eq(c->nodes[l1].loads, 1);
	cr_assert_eq(c->nodes[l1].disk.truncations, 1);
	cr_assert_eq(c->nodes[l1].disk.base, 30);
	for (uint64_t i = base + 1; i <= base + 30; i++)
		cr_assert(memcmp(c->committed[i].data, "new", 3) == 0);
	cl_run_for(c, 300);
	cr_assert(logs_equal(R(c, l1), R(c, l2)));
	cl_free(c);
}

/* ---- everything at once ----------------------------------------------------------------
 *
 * Five nodes on a bad network (10% loss, duplicates, delays, some long
 * delays), random partitions, crashes and restarts, batches held over
 * several inputs, proposals to whichever node believes it leads (stale
 * leaders in a minority too, so logs diverge).  The harness checks its
 * invariants at every step; at the end the network heals and every node
 * must apply one last command.  With snap_every, every service snapshots
 * every so many applied entries (6.824's snapshot tests): lagging and
 * restarted nodes catch up through InstallSnapshot, and the logs (in
 * memory and on disk) stay short.
 */
struct churn_stats {
	uint64_t truncations;                /* persisted, over all nodes */
	uint64_t installs;                   /* snapshots installed from a leader */
	uint64_t snapshots_sent;
};

static struct churn_stats churn(uint32_t n, uint64_t first_seed, uint64_t seeds,
				uint64_t snap_every)
{
	struct churn_stats st = { 0 };

	for (uint64_t seed = first_seed; seed < first_seed + seeds; seed++) {
		struct cluster *c = cl_new(n, 1000 * n + seed);
		struct rng dice;
		int proposed = 0;
		uint64_t index = 0;

		c->snap_every = snap_every;
		rng_seed(&dice, rng_mix(seed, n));
		c->drop = 0.1;
		c->dup = 0.05;
		c->delay_max = 26;
		c->long_delay = 0.02;
		c->lazy = true;
		for (int round = 0; round < 400; round++) {
			uint64_t roll = rng_range(&dice, 0, 100);
			uint32_t id = (uint32_t)rng_range(&dice, 1, n + 1);

			cl_run_for(c, 50);
			if (roll < 10) {
				int group[NODES];
				for (uint32_t j = 1; j <= n; j++)
					group[j] = (int)rng_range(&dice, 0, 2);
				cl_partition(c, group);
			} else if (roll < 16) {
				cl_heal(c);
			} else if (roll < 20 && c->nodes[id].up) {
				cl_crash(c, id);
			} else if (roll < 30 && !c->nodes[id].up) {
				cl_restart(c, id);
			}
			for (uint32_t l = 1; l <= n; l++) {
				int k = (int)rng_range(&dice, 0, 3);
				if (!c->nodes[l].up || c->nodes[l].r.role != RAFT_LEADER)
					continue;
				while (k-- > 0) {
					char s[24];
					snprintf(s, sizeof(s), "s%lu-%d", (unsigned long)seed, round);
					proposed += cl_propose(c, l, s) != 0;
				}
			}
		}
		/* calm: everything up, everything connected, a reliable net */
		cl_heal(c);
		c->drop = c->dup = c->long_delay = 0;
		for (uint32_t id = 1; id <= n; id++)
			if (!c->nodes[id].up)
				cl_restart(c, id);
		cl_run_for(c, 3000);
		c->lazy = false;
		cl_flush_all(c);
		for (int tries = 0; tries < 10 && !index; tries++) {
			uint32_t l = cl_wait_leader(c, 5000);
			cr_assert(l, "n=%u seed %lu: no leader after healing", n,
				  (unsigned long)seed);
			index = cl_propose(c, l, "final");
			if (!cl_wait_applied(c, index, n, 3000))
				index = 0;
		}
		cr_assert(index, "n=%u seed %lu: the final command never committed",
			  n, (unsigned long)seed);
		cr_assert_gt(proposed, 20);
		cr_assert_gt(index, 10, "n=%u seed %lu: only %lu entries committed",
			     n, (unsigned long)seed, (unsigned long)index);
		for (uint32_t id = 2; id <= n; id++)
			cr_assert(logs_equal(R(c, 1), R(c, id)));
		for (uint32_t id = 1; id <= n; id++) {
			struct node *nd = &c->nodes[id];
			st.truncations += nd->disk.truncations;
			st.installs += nd->disk.installs;
			for (uint32_t from = 1; from <= n; from++)
				st.snapshots_sent += c->sent[RAFT_INSTALL_SNAPSHOT][from][id];
			if (!snap_every)
				continue;
			/* all applied: only the tail since the last snapshot is left */
			cr_assert_lt(nd->r.log_len, snap_every,
				     "n=%u seed %lu: node %u holds %lu entries", n,
				     (unsigned long)seed, id, (unsigned long)nd->r.log_len);
			cr_assert_lt(nd->disk.n, snap_every);
		}
		cl_free(c);
	}
	return st;
}

Test(raft, churn_3)
{
	cr_assert_gt(churn(3, 1, 60, 0).truncations, 30, "logs hardly ever diverged");
}

Test(raft, churn_5)
{
	cr_assert_gt(churn(5, 1, 60, 0).truncations, 30, "logs hardly ever diverged");
}

Test(raft, churn_7)
{
	cr_assert_gt(churn(7, 1, 30, 0).truncations, 15, "logs hardly ever diverged");
}

Test(raft, churn_snapshots_3)
{
	struct churn_stats st = churn(3, 101, 60, 10);

	cr_assert_gt(st.installs, 40, "only %lu snapshots installed",
		     (unsigned long)st.installs);
	cr_assert_gt(st.truncations, 20, "logs hardly ever diverged");
}

Test(raft, churn_snapshots_5)
{
	struct churn_stats st = churn(5, 101, 60, 10);

	cr_assert_gt(st.installs, 40, "only %lu snapshots installed",
		     (unsigned long)st.installs);
	cr_assert_gt(st.truncations, 20, "logs hardly ever diverged");
}
