/*
 * raft.h — the Raft consensus algorithm as a pure, deterministic state machine.
 *
 * This module owns one server's Raft state (Figure 2 of the Raft paper):
 * persistent state (currentTerm, votedFor, log[]), volatile state
 * (commitIndex, lastApplied) and the leader's nextIndex[]/matchIndex[].
 * It is driven by three kinds of input, each carrying the virtual time `now`:
 * a wake-up (raft_tick), a message from a peer (raft_step) and a command
 * submitted by a client (raft_propose).  After any input the caller collects
 * what the server must do with raft_ready(): persist, then send, then apply.
 * raft_advance() tells the core that the batch was carried out.
 *
 * It must never do I/O, read a clock, allocate global state or draw
 * randomness from anywhere but its own seeded generator.  A student should be
 * able to read raft.c beside Figure 2 (and Figure 13, log compaction).
 *
 * Servers are numbered 1..n.  Log indices start at 1; index 0 is the empty
 * prefix with term 0.  The log starts after a base (snapshot_index/
 * snapshot_term), the last entry a snapshot stands for; indices do not
 * change when the log is compacted.
 */
#ifndef TERMSCOPE_RAFT_H
#define TERMSCOPE_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define RAFT_MAX_NODES 9
#define RAFT_NONE 0                      /* votedFor / leader: nobody */
#define RAFT_NO_DEADLINE UINT64_MAX
#define RAFT_MAX_APPEND 64                /* entries per AppendEntries message, at most */

typedef uint64_t raft_time;              /* virtual milliseconds */

enum raft_role { RAFT_FOLLOWER = 0, RAFT_CANDIDATE = 1, RAFT_LEADER = 2 };

enum raft_err {
	RAFT_OK = 0,
	RAFT_ENOTLEADER = 1,                 /* raft_propose on a non-leader */
	RAFT_ENOMEM = 2,
	RAFT_EINVAL = 3,
};

struct raft_entry {
	uint64_t term;
	uint32_t len;
	uint8_t *data;                       /* owned by whoever holds the entry */
};

enum raft_msg_type {
	RAFT_REQUEST_VOTE = 1,
	RAFT_REQUEST_VOTE_REPLY = 2,
	RAFT_APPEND_ENTRIES = 3,
	RAFT_APPEND_ENTRIES_REPLY = 4,
	RAFT_INSTALL_SNAPSHOT = 5,           /* Figure 13, the whole snapshot in one message */
	RAFT_INSTALL_SNAPSHOT_REPLY = 6,
};

/*
 * One message between two servers.  Fields not used by a type are zero.
 * In messages produced by raft_ready(), `entries` points into the sender's
 * log and stays valid until the next call into the core.  In messages given
 * to raft_step(), `entries` is borrowed for the duration of the call only.
 */
struct raft_msg {
	enum raft_msg_type type;
	uint32_t from, to;
	uint64_t term;
	/* RequestVote */
	uint64_t last_log_index, last_log_term;
	/* RequestVote reply */
	bool vote_granted;
	/* AppendEntries */
	uint64_t prev_log_index, prev_log_term, leader_commit;
	uint32_t n_entries;
	const struct raft_entry *entries;
	/* AppendEntries reply */
	bool success;
	uint64_t match_index;                /* success: last index known to match */
	uint64_t conflict_term;              /* failure: term of the conflicting entry, 0 if the log was too short */
	uint64_t conflict_index;             /* failure: first index of conflict_term, or log length + 1;
					      * 0 when refused for a stale term (says nothing of the log) */
	/* InstallSnapshot (and its reply: last_included_index echoed, so the
	 * leader knows what the follower now holds; 0 when refused for a stale
	 * term) */
	uint64_t last_included_index, last_included_term;
	uint32_t snapshot_len;
	const uint8_t *snapshot_data;        /* like entries: the sender's, or borrowed */
};

struct raft_config {
	uint32_t id;                         /* 1..n */
	uint32_t n;                          /* cluster size, <= RAFT_MAX_NODES */
	uint64_t seed;                       /* the node's RNG seed (run seed, id, incarnation) */
	raft_time heartbeat;                 /* 100 */
	raft_time election_min;              /* 300: timeout uniform in [min, max) */
	raft_time election_max;              /* 600 */
	bool batch_appends;                  /* raft_propose leaves replication to raft_flush: a
					      * leader sends one AppendEntries per follower for all
					      * the commands it took since (real pace: per read) */
};

/*
 * What the caller must do after an input, in this order:
 *  1. persist: if meta_changed, write (term, voted_for); if truncate_from,
 *     drop stored entries with index >= truncate_from; then store entries
 *     [append_from, append_from + n_append) (read them with raft_entry_at);
 *     make all of it durable;
 *  2. send msgs[0..n_msgs);
 *  3. apply entries (apply_from .. apply_to], in order (read with raft_entry_at);
 *  4. raft_advance().
 * Telemetry fields tell the shell what changed for the dashboard.
 */
struct raft_ready {
	bool meta_changed;
	uint64_t term;
	uint32_t voted_for;
	uint64_t truncate_from;              /* 0: nothing truncated */
	uint64_t append_from;                /* first new index, valid if n_append > 0 */
	uint64_t n_append;
	const struct raft_msg *msgs;
	size_t n_msgs;
	uint64_t apply_from;                 /* exclusive: entries apply_from+1 .. apply_to */
	uint64_t apply_to;
	bool role_changed;                   /* also set when a candidate starts another election */
	bool commit_changed;
	/*
	 * A snapshot received from the leader (InstallSnapshot), to be handled
	 * in step 1, before anything else: save it durably, drop stored
	 * entries with index <= snapshot_index (then truncate_from, if set,
	 * drops the rest of a log that did not match: it is then
	 * snapshot_index + 1, and there may be nothing left to drop), and
	 * have the service load it before it applies apply_from+1 ..
	 * (apply_from is then snapshot_index).  The reply that acknowledges it
	 * is in msgs.  data stays valid until raft_advance().
	 */
	bool snapshot;
	uint64_t snapshot_index, snapshot_term;
	const uint8_t *snapshot_data;
	uint32_t snapshot_len;
};

struct raft_progress {                   /* the leader's view of one peer */
	uint64_t next_index;
	uint64_t match_index;
};

struct raft {
	struct raft_config cfg;
	struct rng rng;
	/* persistent state on all servers */
	uint64_t current_term;
	uint32_t voted_for;
	struct raft_entry *log;              /* log[i] holds index snapshot_index + 1 + i */
	uint64_t log_len;                    /* entries held in log[] */
	uint64_t log_cap;
	uint64_t snapshot_index, snapshot_term;
	uint8_t *snapshot_data;              /* the latest snapshot, sent to lagging followers */
	uint32_t snapshot_len;
	bool snapshot_pending;               /* an installed snapshot not yet handed out in a batch */
	bool append_pending;                 /* batch_appends: proposals not yet sent to followers */
	/* volatile state on all servers */
	uint64_t commit_index;
	uint64_t last_applied;
	enum raft_role role;
	uint32_t leader_id;                  /* who this server believes leads, or RAFT_NONE */
	raft_time election_deadline;
	raft_time heartbeat_deadline;        /* leader only */
	/* candidate */
	bool votes[RAFT_MAX_NODES + 1];
	/* leader */
	struct raft_progress progress[RAFT_MAX_NODES + 1];
	/* the pending batch */
	struct raft_msg *out;
	size_t n_out, cap_out;
	bool meta_dirty;
	uint64_t truncate_from;
	uint64_t unstable_from;              /* first index not yet handed out for persisting, 0: none */
	bool role_changed, commit_changed;
	bool failed;                         /* out of memory: the shell must stop */
};

/* Set up a fresh server (term 0, no vote, empty log) as a follower with an
 * election deadline drawn from now.  Returns RAFT_OK or RAFT_EINVAL. */
int raft_init(struct raft *r, const struct raft_config *cfg, raft_time now);

/* Load what was persisted, before the first input.  Entries are copied.
 * Returns RAFT_OK, RAFT_EINVAL (voted_for out of range) or RAFT_ENOMEM. */
int raft_restore(struct raft *r, uint64_t term, uint32_t voted_for,
		 const struct raft_entry *entries, uint64_t n);

/* Load a persisted snapshot, before raft_restore (whose entries then start
 * at index + 1): commit and last applied start at index.  Data is copied.
 * RAFT_OK, RAFT_EINVAL (index or term 0, data missing, called twice or after
 * any input) or RAFT_ENOMEM. */
int raft_restore_snapshot(struct raft *r, uint64_t index, uint64_t term,
			  const void *data, uint32_t len);

/*
 * The service has saved a snapshot of its state through `index` (an entry
 * it has applied): the core drops its log up to index and keeps a copy of
 * data for followers that need entries it no longer has.  The caller stores
 * the snapshot and compacts its stored log itself (it knows what it did;
 * no batch is produced).  RAFT_OK (also when index <= snapshot_index: an
 * older snapshot changes nothing), RAFT_EINVAL (index > last applied) or
 * RAFT_ENOMEM (nothing changed).  Last applied moves at raft_advance: call
 * this after it, never between raft_ready and raft_advance.
 */
int raft_snapshot(struct raft *r, uint64_t index, const void *data, uint32_t len);

void raft_close(struct raft *r);

/* Inputs.  Each may produce a batch; collect it with raft_ready(). */
void raft_tick(struct raft *r, raft_time now);
void raft_step(struct raft *r, raft_time now, const struct raft_msg *m);
/* On the leader: append a command at *index in *term and replicate it.
 * Elsewhere: RAFT_ENOTLEADER, *term is the current term. */
int raft_propose(struct raft *r, raft_time now, const void *data, uint32_t len,
		 uint64_t *index, uint64_t *term);
/* batch_appends: send what raft_propose took to every follower, in one
 * AppendEntries each (at most RAFT_MAX_APPEND entries; the replies fetch
 * the rest).  Nothing if there is nothing new, or it is no longer leader. */
void raft_flush(struct raft *r);
/* A lever: start an election now, whatever the timer says (not on a leader). */
void raft_timeout_now(struct raft *r, raft_time now);
/* A lever: move the election deadline to `at` (the dashboard's "align timers"). */
void raft_set_election_deadline(struct raft *r, raft_time at);

bool raft_has_ready(const struct raft *r);
void raft_ready(struct raft *r, struct raft_ready *rd);
/* No input may come between raft_ready and raft_advance. */
void raft_advance(struct raft *r, const struct raft_ready *rd);

/* The next time the server wants a raft_tick: the heartbeat deadline on a
 * leader, the election deadline otherwise. */
raft_time raft_deadline(const struct raft *r);

/* Queries. */
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_last_term(const struct raft *r);
/* The entry at index, or NULL if outside (snapshot_index, last_index]. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);
/* Term of index (0 for index 0 and snapshot_index's term for the base);
 * returns false if the term is unknown (compacted or beyond the log). */
bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term);

const char *raft_role_name(enum raft_role role);          /* "follower", ... */
const char *raft_msg_type_name(enum raft_msg_type type);  /* "RequestVote", ... */
/* True for the message types that answer a request (labrpc's replies). */
bool raft_msg_is_reply(enum raft_msg_type type);

#endif
