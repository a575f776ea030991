/*
 * mr.h — MapReduce's coordinator as a pure state machine (the MapReduce
 * paper, §3.1-3.3; 6.824 Lab 1), and the small pieces both the coordinator
 * and the workers must agree on: the partition function and the encoding of
 * intermediate files.
 *
 * The job: one map task per input file, then n_reduce reduce tasks.  A
 * worker asks for work; the coordinator hands out an idle map task, or,
 * once every map task is finished, an idle reduce task; when nothing is idle
 * but the phase is not over it says "wait"; when every reduce task is
 * finished it says "exit".  A task handed out and not reported finished
 * within `timeout` ms goes back to idle and is handed to the next worker
 * that asks (the worker may have crashed, or be a straggler): the paper's
 * re-execution.  Reports of a task already finished are ignored, so a
 * duplicate execution is harmless as long as outputs are renamed atomically
 * (the worker's business).
 *
 * Pure: every input carries `now` (virtual ms); no I/O, no clock.
 */
#ifndef TERMSCOPE_MR_H
#define TERMSCOPE_MR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_NO_DEADLINE UINT64_MAX
#define MR_MAX_TASKS 100000u
#define MR_ERRMSG 160

enum mr_task_type { MR_MAP = 0, MR_REDUCE = 1 };
enum mr_task_state { MR_IDLE = 0, MR_RUNNING = 1, MR_FINISHED = 2 };
enum mr_phase { MR_MAPPING = 0, MR_REDUCING = 1, MR_DONE = 2 };

/* What the coordinator answers a worker that asks for work. */
enum mr_order { MR_DO_MAP = 0, MR_DO_REDUCE = 1, MR_WAIT = 2, MR_EXIT = 3 };

struct mr_task {
	enum mr_task_type type;
	uint32_t id;                         /* map: the input file's number; reduce: the partition */
	enum mr_task_state state;
	uint32_t worker;                     /* running or finished: who (the last one handed it) */
	uint64_t started;                    /* running: when it was handed out */
	uint64_t finished;                   /* finished: when */
	uint32_t runs;                       /* times handed out (more than 1: re-executed) */
};

struct mr_config {
	uint32_t n_map;                      /* input files, >= 1 */
	uint32_t n_reduce;                   /* >= 1 */
	uint64_t timeout;                    /* ms before a running task is handed to another worker */
};

struct mr_assignment {
	enum mr_order order;
	uint32_t task;                       /* DO_MAP / DO_REDUCE: the task's id */
	uint32_t n_map, n_reduce;
};

struct mr_coord {
	struct mr_config cfg;
	struct mr_task *tasks;               /* n_map map tasks, then n_reduce reduce tasks */
	enum mr_phase phase;
	uint32_t maps_left, reduces_left;
	bool changed;                        /* a task changed since mr_coord_take_changes */
	char errmsg[MR_ERRMSG];
};

/* 0, or -1 (bad config or out of memory: errmsg).  After -1 nothing is
 * allocated; mr_coord_free is still safe, as is a second mr_coord_free. */
int mr_coord_init(struct mr_coord *c, const struct mr_config *cfg);
void mr_coord_free(struct mr_coord *c);

/* A worker asks for work at `now`: fills *a (and the task becomes running). */
void mr_coord_request(struct mr_coord *c, uint64_t now, uint32_t worker, struct mr_assignment *a);
/* A worker reports a task finished.  True if this report finished it (the
 * first); false for a duplicate, a task not running, or an unknown task.
 * "Running" here means handed out at least once and not finished: a report
 * for a task that timed out and went back to idle is still accepted (the
 * worker was slow, not dead, and its output is as good as anyone's), and so
 * is a report from a worker other than the one it was last handed to; the
 * first report wins and the task records who sent it.  The last map task
 * finished moves the phase to reducing, the last reduce task to done. */
bool mr_coord_finished(struct mr_coord *c, uint64_t now, uint32_t worker,
		       enum mr_task_type type, uint32_t task);
/* Time passes: running tasks with now >= started + timeout become idle
 * again (worker 0; runs and started kept).  Returns how many were re-idled. */
uint32_t mr_coord_tick(struct mr_coord *c, uint64_t now);
/* When the next running task would time out, or MR_NO_DEADLINE. */
uint64_t mr_coord_deadline(const struct mr_coord *c);
/* The task table: map tasks 0..n_map-1, then reduce tasks.  NULL for an
 * unknown type or an id out of range. */
const struct mr_task *mr_coord_task(const struct mr_coord *c, enum mr_task_type type, uint32_t id);
/* Whether a task changed (handed out, finished, re-idled) since the last
 * call; clears the flag.  The shell reports the table when it says yes. */
bool mr_coord_take_changes(struct mr_coord *c);

const char *mr_phase_name(enum mr_phase p);           /* "map", "reduce", "done" */
const char *mr_task_state_name(enum mr_task_state s); /* "idle", "in progress", "done" */
const char *mr_order_name(enum mr_order o);           /* "map", "reduce", "wait", "exit" */

/* 32-bit FNV-1a of the key: the partition is mr_fnv1a(key) % n_reduce (as
 * 6.824's ihash, without its sign mask, which the modulo makes moot). */
uint32_t mr_fnv1a(const void *key, size_t len);

/*
 * Intermediate files: a sequence of records u32 key length, key, u32 value
 * length, value (little-endian), so any key or value round-trips, newlines
 * and NULs included.  mr_record_put appends one record at *len, growing
 * *buf (capacity *cap) with realloc: 0, or -1 if the buffer would outgrow
 * size_t or realloc fails, with *buf, *len and *cap unchanged.
 * mr_records_next reads one record at *pos: 1 (a record: key and value
 * point into buf, *pos moves past it), 0 (clean end), -1 (truncated or
 * oversized: *why, *pos unchanged).  It never reads at or past buf + len.
 */
int mr_record_put(uint8_t **buf, size_t *len, size_t *cap, const void *key, uint32_t klen,
		  const void *value, uint32_t vlen);
int mr_records_next(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **key, uint32_t *klen,
		    const uint8_t **value, uint32_t *vlen, const char **why);

#endif
