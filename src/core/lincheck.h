/*
 * lincheck.h — a linearizability checker for key/value histories (the idea
 * of 6.824's porcupine, written fresh): was there one order of the
 * operations, each taking effect at a single instant between its call and
 * its return, that a single sequential key/value store would have answered
 * exactly as the clients saw?
 *
 * A history is what the clients observed: for every operation its client,
 * kind, key, input, the virtual times of its call and return, and its output.
 * The sequential model is a map key -> (value, version):
 *   get(k)          -> the value and version ("" and 0 for a missing key)
 *   put(k, v)       value = v, version + 1
 *   append(k, v)    value = value .. v (a missing key counts as ""), version + 1
 *   vput(k, v, ver) conditional put: missing key and ver == 0 -> created with
 *                   version 1, OK; missing and ver > 0 -> ErrNoKey; present
 *                   and ver == version -> value = v, version + 1, OK;
 *                   present otherwise -> ErrVersion.  An observed ErrMaybe
 *                   matches either OK (applied) or ErrVersion (not applied).
 *   del(k)          present -> OK (one key removed), and the key is missing
 *                   afterwards: "" at version 0, so the next put makes
 *                   version 1 again (the store's rule); missing -> ErrNoKey
 *                   (none removed), nothing changes
 *   incr(k)         the value as a 64-bit integer (Redis's rule: the
 *                   canonical decimal text, no '+', no leading zero, in
 *                   range; missing counts as 0) plus one -> OK with the new
 *                   value's text as the output, stored as the value, version
 *                   + 1; not an integer, or INT64_MAX -> ErrNotInteger,
 *                   nothing changes
 * An operation that never returned may take effect at any instant after its
 * call, or never; its output is unknown (a pending get constrains nothing).
 *
 * The checker splits the history per key (keys are independent) and runs
 * Wing & Gong's search with Lowe's memo on each part (see lincheck.c), bounded
 * by a budget of steps so that it answers UNKNOWN rather than hang.  When a
 * key is not linearizable it says which key, the longest linearizable prefix
 * it found and a small core of operations that cannot be ordered with each
 * other whatever the key's other operations did (on a long history: after
 * its beginning, taken as observed), and lincheck_explain() turns that into
 * words for the terminal.
 *
 * Pure like the rest of src/core: no I/O, no clock, no global state; it only
 * allocates.  The history owns copies of every string given to it.
 */
#ifndef TERMSCOPE_LINCHECK_H
#define TERMSCOPE_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINCHECK_PENDING UINT64_MAX      /* ret of an operation that never returned */
#define LINCHECK_ANY_VERSION UINT64_MAX  /* a get whose version was not observed */
#define LINCHECK_NONE SIZE_MAX           /* no operation */
#define LINCHECK_UNLIMITED UINT64_MAX    /* no bound: the search may take exponential time */
#define LINCHECK_ERRMSG 160

/* Verdicts and errors, the return values of lincheck_check and friends. */
enum lincheck_status {
	LINCHECK_OK = 0,                     /* linearizable (or: the call succeeded) */
	LINCHECK_ILLEGAL = 1,                /* not linearizable */
	LINCHECK_UNKNOWN = 2,                /* the budget ran out first */
	LINCHECK_ENOMEM = 3,
	LINCHECK_EINVAL = 4,
};

enum lincheck_kind {
	LINCHECK_GET = 0,
	LINCHECK_PUT = 1,
	LINCHECK_APPEND = 2,
	LINCHECK_VPUT = 3,                   /* versioned conditional put */
	LINCHECK_DEL = 4,                    /* remove the key */
	LINCHECK_INCR = 5,                   /* integer + 1 */
};

/* What a versioned put, a del or an incr answered. */
enum lincheck_reply {
	LINCHECK_REPLY_OK = 0,
	LINCHECK_REPLY_ERR_VERSION = 1,
	LINCHECK_REPLY_ERR_NOKEY = 2,        /* vput: no such key; del: nothing removed */
	LINCHECK_REPLY_ERR_MAYBE = 3,        /* vput: applied or not, the clerk cannot tell */
	LINCHECK_REPLY_ERR_NOT_INTEGER = 4,  /* incr */
};

/* One operation as a client saw it. */
struct lincheck_op {
	uint32_t client;
	enum lincheck_kind kind;
	const char *key;
	const char *value;                   /* put/append/vput: the input; get, del, incr: NULL */
	uint64_t version;                    /* vput: the expected version */
	uint64_t call;                       /* virtual ms */
	uint64_t ret;                        /* virtual ms, >= call, or LINCHECK_PENDING */
	/* output, meaningful once returned */
	const char *out_value;               /* get: the value read; incr (OK): the new value's text */
	uint64_t out_version;                /* get: its version, or LINCHECK_ANY_VERSION */
	enum lincheck_reply reply;           /* vput (OK, ErrVersion, ErrNoKey, ErrMaybe), del (OK,
					      * ErrNoKey), incr (OK, ErrNotInteger) */
};

/* A growable list of operations; each string is a private copy. */
struct lincheck_history {
	struct lincheck_op *ops;
	size_t n, cap;
	/* How many units of call/ret make one millisecond, for the words of
	 * lincheck_explain (0 or 1: times are printed as they are; more: as
	 * seconds, to the millisecond).  A recorder that
	 * must order calls and returns of one millisecond uses finer units. */
	uint32_t units_per_ms;
	char errmsg[LINCHECK_ERRMSG];        /* why the last add/finish failed */
};

/* What lincheck_check found.  Indices are positions in the history. */
struct lincheck_result {
	enum lincheck_status verdict;
	size_t n_ops, n_keys;                /* the size of the history checked */
	uint64_t steps;                      /* search steps spent, shrinking included */
	/* ILLEGAL: the key that is not linearizable; UNKNOWN: the first key
	 * left undecided; OK: NULL.  Owned by the result. */
	char *key;
	size_t n_key_ops;                    /* operations on that key */
	/* ILLEGAL: the longest linearizable prefix the search found, in its
	 * linearization order, and the operation it could not place next */
	size_t *prefix;
	size_t n_prefix;
	size_t stuck;
	/* ILLEGAL: operations that cannot be ordered with each other whatever
	 * the key's other operations did (each of those may take effect
	 * anywhere within its own interval, or not at all), by call time.
	 * core_minimal: no operation can be dropped from it (false when the
	 * budget ran out while shrinking it, or when it holds a vput that was
	 * in flight at the context's cut: that one is never dropped). */
	size_t *core;
	size_t n_core;
	bool core_minimal;
	/* ILLEGAL on a long history: the n_context operations on the key that
	 * returned before `since` are held as observed (those in flight at
	 * `since` may take effect on either side of it), and the core is
	 * "cannot be ordered after them".  They can leave the key in
	 * n_context_states states; one is context_value (owned) at
	 * context_version.  n_context == 0: no context. */
	uint64_t since;
	size_t n_context;
	size_t n_context_states;
	char *context_value;
	uint64_t context_version;
	char errmsg[LINCHECK_ERRMSG];        /* ENOMEM: what was being checked */
};

void lincheck_history_init(struct lincheck_history *h);
void lincheck_history_free(struct lincheck_history *h);

/* Append a copy of *op (its strings too).  *index (if not NULL) receives its
 * position.  LINCHECK_OK, LINCHECK_EINVAL (a missing key or value, a bad
 * kind or reply, an incr answered OK without its value, ret before call;
 * h->errmsg says which) or LINCHECK_ENOMEM. */
int lincheck_add(struct lincheck_history *h, const struct lincheck_op *op, size_t *index);

/* Record the return of a pending operation, as a recorder that sees calls
 * and returns separately would.  out_value/out_version are read for a get,
 * reply for a vput, a del and an incr, out_value for an incr that answered
 * OK; the rest ignore them.  LINCHECK_OK, LINCHECK_EINVAL (no
 * such pending operation, ret before call, a get without a value) or
 * LINCHECK_ENOMEM. */
int lincheck_finish(struct lincheck_history *h, size_t index, uint64_t ret,
		    const char *out_value, uint64_t out_version, enum lincheck_reply reply);

/*
 * Check h.  The search spends at most `budget` steps deciding (a step is one
 * attempt to place one operation); on ILLEGAL it may spend up to `budget`
 * more shrinking the core.  Keys are checked smallest first and the first
 * key found not linearizable ends the check.  Returns the verdict, also in
 * out->verdict, or LINCHECK_ENOMEM (out->errmsg says where).  Free out with
 * lincheck_result_free in every case.
 */
int lincheck_check(const struct lincheck_history *h, uint64_t budget,
		   struct lincheck_result *out);
void lincheck_result_free(struct lincheck_result *r);

/* A few lines of plain text for a terminal saying what r means, naming the
 * operations of h it refers to.  Like snprintf: always NUL-terminated when
 * len > 0, returns the length the whole text needs. */
size_t lincheck_explain(const struct lincheck_result *r, const struct lincheck_history *h,
			char *buf, size_t len);

const char *lincheck_kind_name(enum lincheck_kind kind);     /* "get", ... */
const char *lincheck_reply_name(enum lincheck_reply reply);  /* "OK", "ErrVersion", ... */
/* "OK", "ErrVersion", "ErrNoKey", "ErrMaybe", "ErrNotInteger" -> *reply; false
 * for anything else. */
bool lincheck_reply_parse(const char *s, enum lincheck_reply *reply);
const char *lincheck_status_name(enum lincheck_status status); /* "ok", "illegal", ... */

#endif
