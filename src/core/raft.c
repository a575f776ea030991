/*
 * raft.c — Figure 2 of the Raft paper as a pure state machine, with the log
 * compaction of Figure 13.  See raft.h.
 *
 * Read it beside the paper.  Every input (raft_tick, raft_step, raft_propose
 * and the two levers) changes the state of one server and queues what the
 * server must do next into a batch: persist (term/vote, a truncation point
 * and a range of new entries), send (messages), apply (a committed range).
 * raft_ready() hands the batch out and raft_advance() clears it.  The caller
 * persists before it sends, so "persist before you answer" (Figure 2's
 * "updated on stable storage before responding to RPCs") is structural: a
 * vote and its reply always sit in the same batch.
 *
 * What it owns: the log (each entry's data is a private copy), the outgoing
 * message queue, the seeded RNG that draws election timeouts.  What it must
 * never do: I/O, read a clock, use global state, or truncate committed
 * entries (asserted).  On allocation failure it sets r->failed, stops taking
 * inputs and leaves the rest to the shell.
 *
 * Choices beyond the figure, each the 6.824 one:
 *  - No no-op entry on election (the labs count indices exactly), so a new
 *    leader commits older entries only with its first entry of its own term.
 *  - AppendEntries carries at most RAFT_MAX_APPEND entries; a success reply
 *    that leaves the follower behind gets the next batch at once, and so
 *    does a failure reply that moves nextIndex back.
 *  - Fast log backup (conflict_term / conflict_index in the reply), as in the
 *    paper's §5.3 remark and the 6.824 guide.
 *  - Replies do not name the request they answer, so the leader judges them
 *    by their effect: matchIndex only moves forward, a failure only moves
 *    nextIndex backwards and never to or below matchIndex.  A rejection for a
 *    stale term carries conflict_index 0 and changes nothing.
 *  - Messages in the queue do not hold pointers into the log (it may move or
 *    shrink before raft_ready); raft_ready fills in `entries`.  If a truncation
 *    removes entries a queued AppendEntries was to carry (a deposed leader
 *    that became a follower within one batch), the message is cut short.
 *
 * Log compaction (Figure 13, 6.824 Lab 3D):
 *  - The log starts after a base, (snapshot_index, snapshot_term): the last
 *    entry a snapshot stands for.  Everything at or below the base is
 *    committed, so it matches every leader's log; an AppendEntries reaching
 *    below it is checked from the base.
 *  - The service snapshots (raft_snapshot) and the core drops the entries
 *    through that index, keeping a copy of the data.  A leader whose
 *    nextIndex for a peer is at or below its base sends InstallSnapshot
 *    instead of AppendEntries, on the same triggers (heartbeat, proposal,
 *    reply), the whole snapshot in one message (Figure 13's offset is
 *    always 0 and done is always true).  The reply echoes the index it
 *    answers (0 when refused for a stale term), so the leader can judge it
 *    by its effect, as with AppendEntries replies.
 *  - A follower installs a snapshot only if it is past its commit index
 *    (otherwise it holds all that already).  It keeps the log after the
 *    snapshot's last entry if it holds that entry, else drops the whole log,
 *    and hands the snapshot out in the next batch, beside the reply.
 *  - Queued InstallSnapshot messages, like AppendEntries, hold no pointers;
 *    raft_ready points them at the snapshot as it is then (a newer one
 *    serves as well: it is committed too).  A queued AppendEntries that
 *    reaches below a new base is moved up to start at the base.
 */
#include "raft.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- the log ----------------------------------------------------------- */

uint64_t raft_last_index(const struct raft *r)
{
	return r->snapshot_index + r->log_len;
}

uint64_t raft_last_term(const struct raft *r)
{
	return r->log_len ? r->log[r->log_len - 1].term : r->snapshot_term;
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
	if (index <= r->snapshot_index || index > raft_last_index(r))
		return NULL;
	return &r->log[index - r->snapshot_index - 1];
}

bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term)
{
	const struct raft_entry *e;

	if (index == 0) {                 /* the empty prefix */
		*term = 0;
		return true;
	}
	if (index == r->snapshot_index) {
		*term = r->snapshot_term;
		return true;
	}
	e = raft_entry_at(r, index);
	if (!e)
		return false;
	*term = e->term;
	return true;
}

/* The term of an index known to be in [snapshot_index, last_index]. */
static uint64_t term_at(const struct raft *r, uint64_t index)
{
	uint64_t term = 0;
	bool known = raft_term_at(r, index, &term);

	assert(known);
	(void)known;
	return term;
}

/* Append one entry (copying its data) and mark it unstable. */
static bool log_append(struct raft *r, uint64_t term, const void *data,
		       uint32_t len)
{
	uint8_t *copy = NULL;

	if (r->log_len == r->log_cap) {
		uint64_t cap = r->log_cap ? 2 * r->log_cap : 64;
		struct raft_entry *log = realloc(r->log, cap * sizeof(*log));
		if (!log) {
			r->failed = true;
			return false;
		}
		r->log = log;
		r->log_cap = cap;
	}
	if (len > 0) {
		copy = malloc(len);
		if (!copy) {
			r->failed = true;
			return false;
		}
		memcpy(copy, data, len);
	}
	r->log[r->log_len++] = (struct raft_entry){
		.term = term, .len = len, .data = copy,
	};
	if (r->unstable_from == 0)
		r->unstable_from = raft_last_index(r);
	return true;
}

/* Free the entries from `from` on, without touching the batch. */
static void log_drop(struct raft *r, uint64_t from)
{
	uint64_t keep = from - r->snapshot_index - 1;

	for (uint64_t i = keep; i < r->log_len; i++)
		free(r->log[i].data);
	r->log_len = keep;
}

/* Queued AppendEntries must not carry entries that are gone. */
static void clip_queued_appends(struct raft *r, uint64_t from)
{
	for (size_t i = 0; i < r->n_out; i++) {
		struct raft_msg *m = &r->out[i];
		if (m->type != RAFT_APPEND_ENTRIES || m->n_entries == 0 ||
		    m->prev_log_index + m->n_entries < from)
			continue;
		m->n_entries = m->prev_log_index >= from ? 0 :
			(uint32_t)(from - 1 - m->prev_log_index);
	}
}

/*
 * Drop the entries from `from` on (Figure 2, AppendEntries rule 3) and keep
 * the batch right: what was already handed out for persisting must be
 * truncated on disk, what was not is simply never handed out.
 */
static void log_truncate(struct raft *r, uint64_t from)
{
	uint64_t last = raft_last_index(r);
	uint64_t stable = r->unstable_from ? r->unstable_from - 1 : last;

	assert(r->role != RAFT_LEADER);   /* Leader Append-Only */
	assert(from > r->commit_index);   /* committed entries are forever */
	assert(from > r->snapshot_index && from <= last);
	log_drop(r, from);
	if (from <= stable) {
		/* a pending truncation left only stable entries below it */
		assert(r->truncate_from == 0 || from < r->truncate_from);
		r->truncate_from = from;
		r->unstable_from = 0;
	} else if (from == r->unstable_from) {
		r->unstable_from = 0;
	}
	clip_queued_appends(r, from);
}

/* A queued AppendEntries must not start below the base: the entries it
 * would carry there are in the snapshot (committed, the same in every log),
 * so it starts at the base instead and carries what is left. */
static void rebase_queued_appends(struct raft *r)
{
	uint64_t base = r->snapshot_index;

	for (size_t i = 0; i < r->n_out; i++) {
		struct raft_msg *m = &r->out[i];
		uint64_t end = m->prev_log_index + m->n_entries;

		if (m->type != RAFT_APPEND_ENTRIES || m->prev_log_index >= base)
			continue;
		m->n_entries = end > base ? (uint32_t)(end - base) : 0;
		m->prev_log_index = base;
		m->prev_log_term = r->snapshot_term;
	}
}

/*
 * Make `index`, of `term`, the base of the log: a snapshot stands for the
 * entries through it now.  If the log holds that very entry, the entries
 * after it stay (Figure 13, receiver rule 6); otherwise they belong to
 * another history and the whole log goes (rule 7).
 *
 * The batch is kept right as in log_truncate.  The shell drops its stored
 * entries through `index` when it saves the snapshot; what it still holds
 * beyond is right only if it is the kept suffix, and must be truncated
 * otherwise (truncate_from = index + 1, which may lie past the end of what
 * is stored: then there is nothing to drop).
 */
static void log_compact(struct raft *r, uint64_t index, uint64_t term)
{
	uint64_t last = raft_last_index(r);
	uint64_t stable = r->unstable_from ? r->unstable_from - 1 : last;
	uint64_t t = 0;
	bool keep = raft_term_at(r, index, &t) && t == term;
	uint64_t drop = keep ? index - r->snapshot_index : r->log_len;

	assert(index > r->snapshot_index);
	for (uint64_t i = 0; i < drop; i++)
		free(r->log[i].data);
	if (drop > 0 && drop < r->log_len)
		memmove(r->log, r->log + drop,
			(r->log_len - drop) * sizeof(*r->log));
	r->log_len -= drop;
	r->snapshot_index = index;
	r->snapshot_term = term;
	if (!keep || stable <= index) {
		/* nothing stored past index is worth keeping */
		if (r->truncate_from || stable > index)
			r->truncate_from = index + 1;
		r->unstable_from = r->log_len ? index + 1 : 0;
	}
	if (!keep)
		clip_queued_appends(r, index + 1);
	rebase_queued_appends(r);
}

/* Keep a private copy of the snapshot's data, replacing the old one. */
static bool keep_snapshot_data(struct raft *r, const void *data, uint32_t len)
{
	uint8_t *copy = NULL;

	if (len > 0) {
		copy = malloc(len);
		if (!copy)
			return false;
		memcpy(copy, data, len);
	}
	free(r->snapshot_data);
	r->snapshot_data = copy;
	r->snapshot_len = len;
	return true;
}

/* The first index of the run of `term` that holds `index`. */
static uint64_t first_index_of_term(const struct raft *r, uint64_t index)
{
	uint64_t term = term_at(r, index);

	while (index > r->snapshot_index + 1 && term_at(r, index - 1) == term)
		index--;
	return index;
}

/* The leader's last index holding `term`, or 0 if it holds none (as far
 * as it can tell: the base is the last index whose term it knows). */
static uint64_t last_index_of_term(const struct raft *r, uint64_t term)
{
	for (uint64_t i = raft_last_index(r); i >= r->snapshot_index && i > 0;
	     i--) {
		uint64_t t = term_at(r, i);
		if (t == term)
			return i;
		if (t < term)             /* terms never decrease along the log */
			break;
	}
	return 0;
}

/* ---- the outgoing batch ------------------------------------------------- */

static void queue_msg(struct raft *r, const struct raft_msg *m)
{
	if (r->n_out == r->cap_out) {
		size_t cap = r->cap_out ? 2 * r->cap_out : 16;
		struct raft_msg *out = realloc(r->out, cap * sizeof(*out));
		if (!out) {
			r->failed = true;  /* the message is lost; the shell stops */
			return;
		}
		r->out = out;
		r->cap_out = cap;
	}
	r->out[r->n_out++] = *m;
}

static void set_commit(struct raft *r, uint64_t index)
{
	assert(index > r->commit_index);          /* commit never goes back */
	assert(index <= raft_last_index(r));
	r->commit_index = index;
	r->commit_changed = true;
}

static void reset_election_timer(struct raft *r, raft_time now)
{
	r->election_deadline = now + rng_range(&r->rng, r->cfg.election_min,
					       r->cfg.election_max);
}

static bool is_majority(const struct raft *r, uint32_t count)
{
	return 2 * count > r->cfg.n;
}

/* ---- sending ------------------------------------------------------------ */

static void send_request_vote(struct raft *r, uint32_t to)
{
	struct raft_msg m = {
		.type = RAFT_REQUEST_VOTE,
		.from = r->cfg.id,
		.to = to,
		.term = r->current_term,
		.last_log_index = raft_last_index(r),
		.last_log_term = raft_last_term(r),
	};

	queue_msg(r, &m);
}

/* AppendEntries from nextIndex[to], at most RAFT_MAX_APPEND entries. */
static void send_append_entries(struct raft *r, uint32_t to)
{
	uint64_t last = raft_last_index(r);
	uint64_t prev = r->progress[to].next_index - 1;
	uint64_t n = last - prev;
	struct raft_msg m;

	assert(prev >= r->snapshot_index && prev <= last);
	if (n > RAFT_MAX_APPEND)
		n = RAFT_MAX_APPEND;
	m = (struct raft_msg){
		.type = RAFT_APPEND_ENTRIES,
		.from = r->cfg.id,
		.to = to,
		.term = r->current_term,
		.prev_log_index = prev,
		.prev_log_term = term_at(r, prev),
		.leader_commit = r->commit_index,
		.n_entries = (uint32_t)n,
		.entries = NULL,          /* filled in by raft_ready */
	};
	queue_msg(r, &m);
}

/* InstallSnapshot: the whole snapshot in one message (Figure 13 with
 * offset 0 and done true).  raft_ready fills in the snapshot as it is then. */
static void send_install_snapshot(struct raft *r, uint32_t to)
{
	struct raft_msg m = {
		.type = RAFT_INSTALL_SNAPSHOT,
		.from = r->cfg.id,
		.to = to,
		.term = r->current_term,
		.last_included_index = r->snapshot_index,
		.last_included_term = r->snapshot_term,
		.snapshot_len = r->snapshot_len,
		.snapshot_data = NULL,    /* filled in by raft_ready */
	};

	assert(r->snapshot_index > 0);
	queue_msg(r, &m);
}

/* What a follower needs next: the entries from nextIndex[to] or, if the
 * leader no longer has them, its snapshot. */
static void replicate(struct raft *r, uint32_t to)
{
	if (r->progress[to].next_index <= r->snapshot_index)
		send_install_snapshot(r, to);
	else
		send_append_entries(r, to);
}

static void replicate_to_all(struct raft *r)
{
	for (uint32_t id = 1; id <= r->cfg.n; id++)
		if (id != r->cfg.id)
			replicate(r, id);
}

/* ---- roles (Figure 2, "Rules for Servers") ------------------------------ */

/* Adopt `term` if it is newer (forgetting the vote) and follow. */
static void become_follower(struct raft *r, raft_time now, uint64_t term)
{
	if (term > r->current_term) {
		r->current_term = term;
		r->voted_for = RAFT_NONE;
		r->meta_dirty = true;
		r->leader_id = RAFT_NONE;
	}
	if (r->role != RAFT_FOLLOWER) {
		if (r->role == RAFT_LEADER) {
			/* a deposed leader had no election timer running */
			reset_election_timer(r, now);
			r->heartbeat_deadline = RAFT_NO_DEADLINE;
			if (r->leader_id == r->cfg.id)
				r->leader_id = RAFT_NONE;
		}
		r->role = RAFT_FOLLOWER;
		r->role_changed = true;
	}
}

static void become_leader(struct raft *r, raft_time now)
{
	uint64_t last = raft_last_index(r);

	assert(r->role == RAFT_CANDIDATE);
	r->role = RAFT_LEADER;
	r->role_changed = true;
	r->leader_id = r->cfg.id;
	r->election_deadline = RAFT_NO_DEADLINE;
	for (uint32_t id = 1; id <= r->cfg.n; id++) {
		r->progress[id].next_index = last + 1;
		r->progress[id].match_index = 0;
	}
	r->progress[r->cfg.id].match_index = last;
	/* "upon election: send initial empty AppendEntries RPCs" */
	replicate_to_all(r);
	r->heartbeat_deadline = now + r->cfg.heartbeat;
}

static uint32_t count_votes(const struct raft *r)
{
	uint32_t votes = 0;

	for (uint32_t id = 1; id <= r->cfg.n; id++)
		votes += r->votes[id];
	return votes;
}

/* "Increment currentTerm, vote for self, reset election timer, send
 * RequestVote RPCs to all other servers." */
static void become_candidate(struct raft *r, raft_time now)
{
	assert(r->role != RAFT_LEADER);
	r->current_term++;
	r->voted_for = r->cfg.id;
	r->meta_dirty = true;
	r->role = RAFT_CANDIDATE;
	r->role_changed = true;
	r->leader_id = RAFT_NONE;
	memset(r->votes, 0, sizeof(r->votes));
	r->votes[r->cfg.id] = true;
	reset_election_timer(r, now);
	if (is_majority(r, count_votes(r))) {  /* a cluster of one */
		become_leader(r, now);
		return;
	}
	for (uint32_t id = 1; id <= r->cfg.n; id++)
		if (id != r->cfg.id)
			send_request_vote(r, id);
}

/*
 * "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N."
 * Only entries of the current term are counted (Figure 8); older ones are
 * committed with them by the Log Matching Property.
 */
static void advance_commit(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	for (uint64_t n = raft_last_index(r); n > r->commit_index; n--) {
		uint32_t count = 1;       /* the leader's own log */

		if (term_at(r, n) != r->current_term)
			break;            /* and every index below is older */
		for (uint32_t id = 1; id <= r->cfg.n; id++)
			if (id != r->cfg.id && r->progress[id].match_index >= n)
				count++;
		if (is_majority(r, count)) {
			set_commit(r, n);
			break;
		}
	}
}

/* ---- RequestVote RPC ---------------------------------------------------- */

/* §5.4.1: the candidate's log is at least as up to date as ours. */
static bool log_is_up_to_date(const struct raft *r, uint64_t last_index,
			      uint64_t last_term)
{
	uint64_t my_term = raft_last_term(r);

	if (last_term != my_term)
		return last_term > my_term;
	return last_index >= raft_last_index(r);
}

static void handle_request_vote(struct raft *r, raft_time now,
				const struct raft_msg *m)
{
	struct raft_msg reply = {
		.type = RAFT_REQUEST_VOTE_REPLY,
		.from = r->cfg.id,
		.to = m->from,
	};

	/* "Reply false if term < currentTerm"; a newer term was adopted in
	 * raft_step.  "If votedFor is null or candidateId, and candidate's log
	 * is at least as up-to-date as receiver's log, grant vote." */
	if (m->term == r->current_term &&
	    (r->voted_for == RAFT_NONE || r->voted_for == m->from) &&
	    log_is_up_to_date(r, m->last_log_index, m->last_log_term)) {
		if (r->voted_for != m->from) {
			r->voted_for = m->from;
			r->meta_dirty = true;   /* persisted before the reply */
		}
		reset_election_timer(r, now);
		reply.vote_granted = true;
	}
	reply.term = r->current_term;
	queue_msg(r, &reply);
}

static void handle_request_vote_reply(struct raft *r, raft_time now,
				      const struct raft_msg *m)
{
	if (r->role != RAFT_CANDIDATE || m->term != r->current_term ||
	    !m->vote_granted)
		return;
	r->votes[m->from] = true;
	if (is_majority(r, count_votes(r)))
		become_leader(r, now);
}

/* ---- AppendEntries RPC -------------------------------------------------- */

static void handle_append_entries(struct raft *r, raft_time now,
				  const struct raft_msg *m)
{
	struct raft_msg reply = {
		.type = RAFT_APPEND_ENTRIES_REPLY,
		.from = r->cfg.id,
		.to = m->from,
		.term = r->current_term,
	};
	uint64_t prev = m->prev_log_index;
	uint64_t last = raft_last_index(r);
	uint64_t last_new;

	/* 1. "Reply false if term < currentTerm."  conflict_index 0 tells the
	 * stale leader that this says nothing about the logs. */
	if (m->term < r->current_term) {
		queue_msg(r, &reply);
		return;
	}
	/* m->from leads this term: a candidate steps down, everyone waits. */
	assert(r->role != RAFT_LEADER);   /* Election Safety */
	become_follower(r, now, m->term);
	r->leader_id = m->from;
	reset_election_timer(r, now);

	/* 2. "Reply false if log doesn't contain an entry at prevLogIndex whose
	 * term matches prevLogTerm", saying where to look next.  At or below
	 * the base the log is committed: it matches any leader's. */
	if (prev > last) {
		reply.conflict_term = 0;
		reply.conflict_index = last + 1;
		queue_msg(r, &reply);
		return;
	}
	if (prev > r->snapshot_index && term_at(r, prev) != m->prev_log_term) {
		reply.conflict_term = term_at(r, prev);
		reply.conflict_index = first_index_of_term(r, prev);
		queue_msg(r, &reply);
		return;
	}

	/* 3. "If an existing entry conflicts with a new one (same index but
	 * different terms), delete the existing entry and all that follow it."
	 * 4. "Append any new entries not already in the log."  An entry that
	 * matches is kept, so a late duplicate never shortens the log, and
	 * one in the snapshot is already there. */
	for (uint32_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		uint64_t index = prev + 1 + i;

		if (index <= r->snapshot_index)
			continue;
		if (index <= raft_last_index(r)) {
			if (term_at(r, index) == e->term)
				continue;
			log_truncate(r, index);
		}
		if (!log_append(r, e->term, e->data, e->len))
			return;           /* out of memory: no reply */
	}

	/* 5. "If leaderCommit > commitIndex, set commitIndex =
	 * min(leaderCommit, index of last new entry)." */
	last_new = prev + m->n_entries;
	if (m->leader_commit > r->commit_index) {
		uint64_t commit = m->leader_commit < last_new ?
			m->leader_commit : last_new;
		if (commit > r->commit_index)
			set_commit(r, commit);
	}
	reply.success = true;
	reply.match_index = last_new;
	queue_msg(r, &reply);
}

/* Where the next AppendEntries to a follower should start, after it
 * rejected one (the fast backup of the 6.824 guide). */
static uint64_t backed_up_next_index(const struct raft *r,
				     const struct raft_msg *m)
{
	if (m->conflict_term != 0) {
		uint64_t i = last_index_of_term(r, m->conflict_term);
		if (i > 0)
			return i + 1;
	}
	return m->conflict_index;
}

static void handle_append_entries_reply(struct raft *r, raft_time now,
					const struct raft_msg *m)
{
	struct raft_progress *p = &r->progress[m->from];
	uint64_t last = raft_last_index(r);
	uint64_t next;

	if (r->role != RAFT_LEADER || m->term != r->current_term)
		return;
	/* "If successful: update nextIndex and matchIndex for follower." */
	if (m->success) {
		if (m->match_index <= p->match_index || m->match_index > last)
			return;           /* old news, or nonsense */
		p->match_index = m->match_index;
		if (p->next_index <= p->match_index)
			p->next_index = p->match_index + 1;
		advance_commit(r);
		if (p->match_index < last)  /* still behind: the next batch now */
			replicate(r, m->from);
		return;
	}
	/* "If AppendEntries fails because of log inconsistency: decrement
	 * nextIndex and retry" — by a whole term at a time. */
	if (m->conflict_index == 0)
		return;                   /* rejected for its term: stale */
	next = backed_up_next_index(r, m);
	if (next <= p->match_index)
		next = p->match_index + 1;
	if (next > last + 1)
		next = last + 1;
	if (next >= p->next_index)
		return;                   /* an older rejection: already past it */
	p->next_index = next;
	replicate(r, m->from);
}

/* ---- InstallSnapshot RPC (Figure 13) ------------------------------------- */

static void handle_install_snapshot(struct raft *r, raft_time now,
				    const struct raft_msg *m)
{
	struct raft_msg reply = {
		.type = RAFT_INSTALL_SNAPSHOT_REPLY,
		.from = r->cfg.id,
		.to = m->from,
		.term = r->current_term,
	};
	uint64_t index = m->last_included_index;

	/* 1. "Reply immediately if term < currentTerm."  last_included_index
	 * 0: this says nothing of what this server holds. */
	if (m->term < r->current_term) {
		queue_msg(r, &reply);
		return;
	}
	/* m->from leads this term, as for AppendEntries. */
	assert(r->role != RAFT_LEADER);   /* Election Safety */
	become_follower(r, now, m->term);
	r->leader_id = m->from;
	reset_election_timer(r, now);
	reply.last_included_index = index;

	/* Everything through index is committed here already (a duplicate, a
	 * late one, or a leader that compacted less): nothing to install. */
	if (index <= r->commit_index) {
		queue_msg(r, &reply);
		return;
	}
	/* 2.-5. One message carries the whole snapshot: keep it. */
	if (!keep_snapshot_data(r, m->snapshot_data, m->snapshot_len)) {
		r->failed = true;         /* out of memory: no reply */
		return;
	}
	/* 6. "If existing log entry has same index and term as snapshot's
	 * last included entry, retain log entries following it and reply."
	 * 7. "Discard the entire log."  log_compact does one or the other. */
	log_compact(r, index, m->last_included_term);
	set_commit(r, index);
	/* 8. "Reset state machine using snapshot contents": the service loads
	 * it from the next batch, which also persists it before the reply. */
	r->snapshot_pending = true;
	queue_msg(r, &reply);
}

/* The follower holds everything through last_included_index now.  Like an
 * AppendEntries success, the reply only ever moves matchIndex forward. */
static void handle_install_snapshot_reply(struct raft *r,
					  const struct raft_msg *m)
{
	struct raft_progress *p = &r->progress[m->from];
	uint64_t index = m->last_included_index;
	uint64_t last = raft_last_index(r);

	if (r->role != RAFT_LEADER || m->term != r->current_term)
		return;
	if (index <= p->match_index || index > last)
		return;                   /* old news (or a refusal), or nonsense */
	p->match_index = index;
	if (p->next_index <= index)
		p->next_index = index + 1;
	if (index < last)                 /* the entries after it, now */
		replicate(r, m->from);
}

/* ---- the API ------------------------------------------------------------ */

int raft_init(struct raft *r, const struct raft_config *cfg, raft_time now)
{
	memset(r, 0, sizeof(*r));
	if (!cfg || cfg->n < 1 || cfg->n > RAFT_MAX_NODES || cfg->id < 1 ||
	    cfg->id > cfg->n || cfg->heartbeat == 0 ||
	    cfg->election_min == 0 || cfg->election_max < cfg->election_min)
		return RAFT_EINVAL;
	r->cfg = *cfg;
	rng_seed(&r->rng, cfg->seed);
	r->role = RAFT_FOLLOWER;
	r->voted_for = RAFT_NONE;
	r->leader_id = RAFT_NONE;
	r->heartbeat_deadline = RAFT_NO_DEADLINE;
	reset_election_timer(r, now);
	return RAFT_OK;
}

int raft_restore(struct raft *r, uint64_t term, uint32_t voted_for,
		 const struct raft_entry *entries, uint64_t n)
{
	uint64_t prev_term = r->snapshot_term;

	if (voted_for > r->cfg.n || (n > 0 && !entries) ||
	    r->snapshot_term > term)
		return RAFT_EINVAL;
	if (r->current_term != 0 || r->log_len != 0 || r->n_out != 0)
		return RAFT_EINVAL;       /* only before the first input */
	/* a log's terms never decrease and never pass the current term */
	for (uint64_t i = 0; i < n; i++) {
		const struct raft_entry *e = &entries[i];
		if (e->term < prev_term || e->term == 0 || e->term > term ||
		    (e->len > 0 && !e->data))
			return RAFT_EINVAL;
		prev_term = e->term;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (!log_append(r, entries[i].term, entries[i].data,
				entries[i].len)) {
			log_drop(r, r->snapshot_index + 1);
			r->unstable_from = 0;
			return RAFT_ENOMEM;
		}
	}
	r->unstable_from = 0;             /* it came from disk */
	r->current_term = term;
	r->voted_for = voted_for;
	return RAFT_OK;
}

int raft_restore_snapshot(struct raft *r, uint64_t index, uint64_t term,
			  const void *data, uint32_t len)
{
	if (index == 0 || term == 0 || (len > 0 && !data))
		return RAFT_EINVAL;
	if (r->current_term != 0 || r->log_len != 0 || r->n_out != 0 ||
	    r->snapshot_index != 0)
		return RAFT_EINVAL;       /* only first, before raft_restore */
	if (!keep_snapshot_data(r, data, len))
		return RAFT_ENOMEM;
	r->snapshot_index = index;
	r->snapshot_term = term;
	/* the service loaded the snapshot itself: it stands for all through index */
	r->commit_index = index;
	r->last_applied = index;
	return RAFT_OK;
}

int raft_snapshot(struct raft *r, uint64_t index, const void *data, uint32_t len)
{
	if (r->failed)
		return RAFT_ENOMEM;
	if (index <= r->snapshot_index)
		return RAFT_OK;           /* an older snapshot changes nothing */
	if (index > r->last_applied || (len > 0 && !data))
		return RAFT_EINVAL;
	/* applied, hence committed and persisted: no truncation or unstable
	 * entry in the batch reaches down to index */
	assert(!r->snapshot_pending);
	assert(r->truncate_from == 0 || r->truncate_from > index);
	assert(r->unstable_from == 0 || r->unstable_from > index);
	if (!keep_snapshot_data(r, data, len))
		return RAFT_ENOMEM;
	log_compact(r, index, term_at(r, index));
	return RAFT_OK;
}

void raft_close(struct raft *r)
{
	for (uint64_t i = 0; i < r->log_len; i++)
		free(r->log[i].data);
	free(r->log);
	free(r->out);
	free(r->snapshot_data);
	r->log = NULL;
	r->out = NULL;
	r->snapshot_data = NULL;
	r->snapshot_len = 0;
	r->log_len = r->log_cap = 0;
	r->n_out = r->cap_out = 0;
}

void raft_tick(struct raft *r, raft_time now)
{
	if (r->failed)
		return;
	if (r->role == RAFT_LEADER) {
		/* "repeat during idle periods to prevent election timeouts" */
		if (now >= r->heartbeat_deadline) {
			replicate_to_all(r);
			r->heartbeat_deadline = now + r->cfg.heartbeat;
		}
		return;
	}
	/* "If election timeout elapses without receiving AppendEntries RPC
	 * from current leader or granting vote to candidate: convert to
	 * candidate." */
	if (now >= r->election_deadline)
		become_candidate(r, now);
}

static bool msg_is_valid(const struct raft *r, const struct raft_msg *m)
{
	if (m->from < 1 || m->from > r->cfg.n || m->from == r->cfg.id ||
	    m->to != r->cfg.id)
		return false;
	switch (m->type) {
	case RAFT_REQUEST_VOTE:
	case RAFT_REQUEST_VOTE_REPLY:
	case RAFT_APPEND_ENTRIES_REPLY:
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		return true;
	case RAFT_INSTALL_SNAPSHOT:
		return m->last_included_index > 0 && m->last_included_term > 0 &&
		       (m->snapshot_len == 0 || m->snapshot_data);
	case RAFT_APPEND_ENTRIES:
		if (m->n_entries > 0 && !m->entries)
			return false;
		for (uint32_t i = 0; i < m->n_entries; i++)
			if (m->entries[i].len > 0 && !m->entries[i].data)
				return false;
		return true;
	}
	return false;
}

void raft_step(struct raft *r, raft_time now, const struct raft_msg *m)
{
	if (r->failed || !msg_is_valid(r, m))
		return;
	/* "If RPC request or response contains term T > currentTerm: set
	 * currentTerm = T, convert to follower." */
	if (m->term > r->current_term)
		become_follower(r, now, m->term);
	switch (m->type) {
	case RAFT_REQUEST_VOTE:
		handle_request_vote(r, now, m);
		break;
	case RAFT_REQUEST_VOTE_REPLY:
		handle_request_vote_reply(r, now, m);
		break;
	case RAFT_APPEND_ENTRIES:
		handle_append_entries(r, now, m);
		break;
	case RAFT_APPEND_ENTRIES_REPLY:
		handle_append_entries_reply(r, now, m);
		break;
	case RAFT_INSTALL_SNAPSHOT:
		handle_install_snapshot(r, now, m);
		break;
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		handle_install_snapshot_reply(r, m);
		break;
	}
}

/* "If command received from client: append entry to local log, respond
 * after entry applied to state machine" — the shell does the responding. */
/* New commands go out at once, not at the next heartbeat; but a follower
 * that needs the whole snapshot gets it at the heartbeat, not once more per
 * command. */
static void send_new_entries(struct raft *r)
{
	for (uint32_t id = 1; id <= r->cfg.n; id++)
		if (id != r->cfg.id && r->progress[id].next_index > r->snapshot_index)
			send_append_entries(r, id);
}

int raft_propose(struct raft *r, raft_time now, const void *data, uint32_t len,
		 uint64_t *index, uint64_t *term)
{
	if (index)
		*index = 0;
	if (term)
		*term = r->current_term;
	if (r->failed)
		return RAFT_ENOMEM;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOTLEADER;
	if (len > 0 && !data)
		return RAFT_EINVAL;
	if (!log_append(r, r->current_term, data, len))
		return RAFT_ENOMEM;
	r->progress[r->cfg.id].match_index = raft_last_index(r);
	r->progress[r->cfg.id].next_index = raft_last_index(r) + 1;
	if (index)
		*index = raft_last_index(r);
	if (r->cfg.batch_appends)
		r->append_pending = true;
	else
		send_new_entries(r);
	advance_commit(r);                /* a cluster of one commits at once */
	return RAFT_OK;
}

void raft_flush(struct raft *r)
{
	if (r->failed || !r->append_pending)
		return;
	r->append_pending = false;
	if (r->role == RAFT_LEADER)
		send_new_entries(r);
}

void raft_timeout_now(struct raft *r, raft_time now)
{
	if (r->failed || r->role == RAFT_LEADER)
		return;
	become_candidate(r, now);
}

void raft_set_election_deadline(struct raft *r, raft_time at)
{
	if (r->role != RAFT_LEADER)
		r->election_deadline = at;
}

bool raft_has_ready(const struct raft *r)
{
	return r->meta_dirty || r->truncate_from || r->unstable_from ||
	       r->n_out || r->commit_index > r->last_applied ||
	       r->role_changed || r->commit_changed || r->snapshot_pending;
}

void raft_ready(struct raft *r, struct raft_ready *rd)
{
	uint64_t last = raft_last_index(r);

	memset(rd, 0, sizeof(*rd));
	rd->meta_changed = r->meta_dirty;
	rd->term = r->current_term;
	rd->voted_for = r->voted_for;
	rd->truncate_from = r->truncate_from;
	if (r->unstable_from) {
		assert(r->unstable_from <= last);
		assert(!r->truncate_from || r->unstable_from >= r->truncate_from);
		rd->append_from = r->unstable_from;
		rd->n_append = last - r->unstable_from + 1;
	}
	/* point AppendEntries at the log and InstallSnapshot at the snapshot
	 * as they are now */
	for (size_t i = 0; i < r->n_out; i++) {
		struct raft_msg *m = &r->out[i];
		if (m->type == RAFT_INSTALL_SNAPSHOT) {
			m->last_included_index = r->snapshot_index;
			m->last_included_term = r->snapshot_term;
			m->snapshot_len = r->snapshot_len;
			m->snapshot_data = r->snapshot_data;
			continue;
		}
		if (m->type != RAFT_APPEND_ENTRIES)
			continue;
		/* (a clipped heartbeat may name a prev beyond a truncated log;
		 * it carries prev_log_term by value, so it still says what it
		 * said when it was queued) */
		assert(m->prev_log_index >= r->snapshot_index);
		assert(!m->n_entries || m->prev_log_index + m->n_entries <= last);
		m->entries = m->n_entries ?
			raft_entry_at(r, m->prev_log_index + 1) : NULL;
	}
	rd->msgs = r->out;
	rd->n_msgs = r->n_out;
	rd->apply_from = r->last_applied;
	rd->apply_to = r->commit_index;
	if (r->snapshot_pending) {
		/* the service loads the snapshot, then applies what follows */
		assert(r->snapshot_index > r->last_applied);
		rd->snapshot = true;
		rd->snapshot_index = r->snapshot_index;
		rd->snapshot_term = r->snapshot_term;
		rd->snapshot_data = r->snapshot_data;
		rd->snapshot_len = r->snapshot_len;
		rd->apply_from = r->snapshot_index;
	}
	rd->role_changed = r->role_changed;
	rd->commit_changed = r->commit_changed;
}

/* The batch was carried out.  No input may come between raft_ready and
 * raft_advance. */
void raft_advance(struct raft *r, const struct raft_ready *rd)
{
	assert(rd->apply_to <= r->commit_index);
	assert(rd->apply_from <= rd->apply_to);
	if (rd->apply_to > r->last_applied)
		r->last_applied = rd->apply_to;
	r->snapshot_pending = false;
	r->n_out = 0;
	r->meta_dirty = false;
	r->truncate_from = 0;
	r->unstable_from = 0;
	r->role_changed = false;
	r->commit_changed = false;
}

raft_time raft_deadline(const struct raft *r)
{
	return r->role == RAFT_LEADER ? r->heartbeat_deadline :
					r->election_deadline;
}

const char *raft_role_name(enum raft_role role)
{
	switch (role) {
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	}
	return "unknown";
}

const char *raft_msg_type_name(enum raft_msg_type type)
{
	switch (type) {
	case RAFT_REQUEST_VOTE:
		return "RequestVote";
	case RAFT_REQUEST_VOTE_REPLY:
		return "RequestVoteReply";
	case RAFT_APPEND_ENTRIES:
		return "AppendEntries";
	case RAFT_APPEND_ENTRIES_REPLY:
		return "AppendEntriesReply";
	case RAFT_INSTALL_SNAPSHOT:
		return "InstallSnapshot";
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		return "InstallSnapshotReply";
	}
	return "unknown";
}

bool raft_msg_is_reply(enum raft_msg_type type)
{
	return type == RAFT_REQUEST_VOTE_REPLY ||
	       type == RAFT_APPEND_ENTRIES_REPLY ||
	       type == RAFT_INSTALL_SNAPSHOT_REPLY;
}
