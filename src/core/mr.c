/*
 * mr.c — MapReduce's coordinator as a pure state machine, and the partition
 * function and record encoding its workers share.  See mr.h.
 *
 * Read it beside §3.1-3.3 of the MapReduce paper.  The master's data
 * structure (§3.2: "for each map task and reduce task, it stores the state
 * (idle, in-progress, or completed), and the identity of the worker
 * machine") is the task table; a worker pulls work with mr_coord_request
 * (6.824 Lab 1's shape) instead of the master pushing it.  Fault tolerance
 * (§3.3) is the timeout: the coordinator cannot tell a crashed worker from a
 * slow one, so a task running for `timeout` ms goes back to idle and the
 * next worker to ask re-executes it.  Both executions may report; the first
 * report wins and the rest are ignored, as the paper's master ignores a
 * completion message for an already completed map task.
 *
 * Choices beyond the paper, each the 6.824 one:
 *  - Reduce tasks are handed out only once every map task is finished (the
 *    paper lets reducers start fetching early); until then a worker is told
 *    to wait, and told to exit once every reduce task is finished.
 *  - Completed map tasks are never re-executed: their output lives on a
 *    shared file system, not on the worker's local disk.
 *  - Tasks are handed out lowest id first, so a run replays exactly.
 *
 * What it owns: the task table.  What it must never do: I/O, read a clock,
 * use global state, finish a task twice, or hand out a reduce task before
 * the last map task is finished (both asserted).  The scans are linear: the
 * table holds one task per input file plus n_reduce, at most MR_MAX_TASKS
 * each.
 *
 * Pure: no I/O (vsnprintf only formats into errmsg), no clock, no global
 * state.
 */
#include "mr.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MIN_CAP 64

/* ---- names ------------------------------------------------------------- */

const char *mr_phase_name(enum mr_phase p)
{
	switch (p) {
	case MR_MAPPING: return "map";
	case MR_REDUCING: return "reduce";
	case MR_DONE: return "done";
	}
	return "?";
}

const char *mr_task_state_name(enum mr_task_state s)
{
	switch (s) {
	case MR_IDLE: return "idle";
	case MR_RUNNING: return "in progress";
	case MR_FINISHED: return "done";
	}
	return "?";
}

const char *mr_order_name(enum mr_order o)
{
	switch (o) {
	case MR_DO_MAP: return "map";
	case MR_DO_REDUCE: return "reduce";
	case MR_WAIT: return "wait";
	case MR_EXIT: return "exit";
	}
	return "?";
}

/* ---- the task table ---------------------------------------------------- */

static int fail(struct mr_coord *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t n_tasks(const struct mr_coord *c)
{
	return c->cfg.n_map + c->cfg.n_reduce;
}

/* The task, or NULL: the one place that turns (type, id) into an index. */
static struct mr_task *task_at(const struct mr_coord *c, enum mr_task_type type, uint32_t id)
{
	if (!c->tasks)
		return NULL;
	switch (type) {
	case MR_MAP:
		return id < c->cfg.n_map ? &c->tasks[id] : NULL;
	case MR_REDUCE:
		return id < c->cfg.n_reduce ? &c->tasks[c->cfg.n_map + id] : NULL;
	}
	return NULL;
}

/* When a running task times out: started + timeout, and a time past the
 * end of uint64 is no deadline (mr_coord_tick can never reach it). */
static uint64_t expiry(const struct mr_coord *c, const struct mr_task *t)
{
	if (t->started > MR_NO_DEADLINE - c->cfg.timeout)
		return MR_NO_DEADLINE;
	return t->started + c->cfg.timeout;
}

int mr_coord_init(struct mr_coord *c, const struct mr_config *cfg)
{
	memset(c, 0, sizeof(*c));
	if (cfg->n_map < 1 || cfg->n_map > MR_MAX_TASKS)
		return fail(c, "n_map %" PRIu32 " out of range 1..%u", cfg->n_map, MR_MAX_TASKS);
	if (cfg->n_reduce < 1 || cfg->n_reduce > MR_MAX_TASKS)
		return fail(c, "n_reduce %" PRIu32 " out of range 1..%u", cfg->n_reduce, MR_MAX_TASKS);
	if (cfg->timeout == 0)
		return fail(c, "timeout must be > 0 ms");

	struct mr_task *tasks = calloc((size_t)cfg->n_map + cfg->n_reduce, sizeof(*tasks));
	if (!tasks)
		return fail(c, "out of memory for %" PRIu32 " tasks", cfg->n_map + cfg->n_reduce);
	for (uint32_t i = 0; i < cfg->n_map; i++)
		tasks[i] = (struct mr_task){ .type = MR_MAP, .id = i, .state = MR_IDLE };
	for (uint32_t i = 0; i < cfg->n_reduce; i++)
		tasks[cfg->n_map + i] = (struct mr_task){ .type = MR_REDUCE, .id = i, .state = MR_IDLE };

	c->cfg = *cfg;
	c->tasks = tasks;
	c->phase = MR_MAPPING;
	c->maps_left = cfg->n_map;
	c->reduces_left = cfg->n_reduce;
	c->changed = true;                   /* a new table: worth showing */
	return 0;
}

void mr_coord_free(struct mr_coord *c)
{
	free(c->tasks);
	c->tasks = NULL;
	c->cfg.n_map = c->cfg.n_reduce = 0;
}

/* ---- the coordinator's inputs -------------------------------------------- */

void mr_coord_request(struct mr_coord *c, uint64_t now, uint32_t worker, struct mr_assignment *a)
{
	*a = (struct mr_assignment){
		.order = MR_WAIT, .task = 0, .n_map = c->cfg.n_map, .n_reduce = c->cfg.n_reduce,
	};
	enum mr_task_type type;
	uint32_t n;
	switch (c->phase) {
	case MR_MAPPING:
		type = MR_MAP;
		n = c->cfg.n_map;
		break;
	case MR_REDUCING:
		assert(c->maps_left == 0);   /* never reduce before the last map */
		type = MR_REDUCE;
		n = c->cfg.n_reduce;
		break;
	case MR_DONE:
	default:
		a->order = MR_EXIT;
		return;
	}

	/* The lowest-id idle task of the phase; none idle: wait for the phase's
	 * running tasks to finish or time out. */
	for (uint32_t id = 0; id < n; id++) {
		struct mr_task *t = task_at(c, type, id);
		if (t->state != MR_IDLE)
			continue;
		t->state = MR_RUNNING;
		t->worker = worker;
		t->started = now;
		t->runs++;
		c->changed = true;
		a->order = type == MR_MAP ? MR_DO_MAP : MR_DO_REDUCE;
		a->task = id;
		return;
	}
}

bool mr_coord_finished(struct mr_coord *c, uint64_t now, uint32_t worker,
		       enum mr_task_type type, uint32_t task)
{
	struct mr_task *t = task_at(c, type, task);
	/* Never handed out, or already finished: nothing to accept.  Handed out
	 * and then timed out (idle again) is accepted: that worker did the work. */
	if (!t || t->runs == 0 || t->state == MR_FINISHED)
		return false;
	assert(type == MR_MAP ? c->phase == MR_MAPPING : c->phase == MR_REDUCING);

	t->state = MR_FINISHED;
	t->finished = now;
	t->worker = worker;
	c->changed = true;
	if (type == MR_MAP) {
		assert(c->maps_left > 0);
		if (--c->maps_left == 0)
			c->phase = MR_REDUCING;
	} else {
		assert(c->reduces_left > 0);
		if (--c->reduces_left == 0)
			c->phase = MR_DONE;
	}
	return true;
}

uint32_t mr_coord_tick(struct mr_coord *c, uint64_t now)
{
	uint32_t reidled = 0;
	for (uint32_t i = 0; i < n_tasks(c); i++) {
		struct mr_task *t = &c->tasks[i];
		if (t->state != MR_RUNNING || now < t->started || now - t->started < c->cfg.timeout)
			continue;
		/* §3.3: the worker may have failed; someone else will redo it. */
		t->state = MR_IDLE;
		t->worker = 0;
		reidled++;
	}
	if (reidled)
		c->changed = true;
	return reidled;
}

uint64_t mr_coord_deadline(const struct mr_coord *c)
{
	uint64_t deadline = MR_NO_DEADLINE;
	for (uint32_t i = 0; i < n_tasks(c); i++) {
		const struct mr_task *t = &c->tasks[i];
		if (t->state == MR_RUNNING && expiry(c, t) < deadline)
			deadline = expiry(c, t);
	}
	return deadline;
}

const struct mr_task *mr_coord_task(const struct mr_coord *c, enum mr_task_type type, uint32_t id)
{
	return task_at(c, type, id);
}

bool mr_coord_take_changes(struct mr_coord *c)
{
	bool changed = c->changed;
	c->changed = false;
	return changed;
}

/* ---- what workers share --------------------------------------------------- */

uint32_t mr_fnv1a(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

int mr_record_put(uint8_t **buf, size_t *len, size_t *cap, const void *key, uint32_t klen,
		  const void *value, uint32_t vlen)
{
	assert(*len <= *cap && (*buf || *cap == 0));
	if ((!key && klen) || (!value && vlen))
		return -1;
	/* 8 + klen + vlen more bytes, each addition checked against size_t. */
	size_t need = *len;
	if (need > SIZE_MAX - 8 || need + 8 > SIZE_MAX - klen || need + 8 + klen > SIZE_MAX - vlen)
		return -1;
	need += (size_t)8 + klen + vlen;

	if (need > *cap) {
		size_t ncap = *cap < RECORD_MIN_CAP ? RECORD_MIN_CAP : *cap;
		while (ncap < need)
			ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
		uint8_t *p = realloc(*buf, ncap);
		if (!p)
			return -1;
		*buf = p;
		*cap = ncap;
	}

	uint8_t *p = *buf + *len;
	put_u32(p, klen);
	if (klen)
		memcpy(p + 4, key, klen);
	put_u32(p + 4 + klen, vlen);
	if (vlen)
		memcpy(p + 8 + klen, value, vlen);
	*len = need;
	return 0;
}

int mr_records_next(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **key, uint32_t *klen,
		    const uint8_t **value, uint32_t *vlen, const char **why)
{
	size_t at = *pos;
	if (at == len)
		return 0;
	if (at > len) {
		*why = "position past the end";
		return -1;
	}
	/* Each length is checked against what is left before anything is read. */
	if (len - at < 4) {
		*why = "truncated record: key length";
		return -1;
	}
	uint32_t kl = get_u32(buf + at);
	at += 4;
	if (len - at < kl) {
		*why = "truncated record: key";
		return -1;
	}
	const uint8_t *k = buf + at;
	at += kl;
	if (len - at < 4) {
		*why = "truncated record: value length";
		return -1;
	}
	uint32_t vl = get_u32(buf + at);
	at += 4;
	if (len - at < vl) {
		*why = "truncated record: value";
		return -1;
	}
	*key = k;
	*klen = kl;
	*value = buf + at;
	*vlen = vl;
	*pos = at + vl;
	return 1;
}
