/*
 * test_mr.c — unit tests of the MapReduce coordinator and its shared pieces
 * (src/core/mr.c).
 *
 * The coordinator: config validation and the task table's layout; a whole
 * job with three workers (the orders, the phases, "wait" while maps run, no
 * reduce before the last map, "exit" at the end); re-execution after a
 * timeout and the late report of the first worker (accepted once, the
 * second ignored); duplicate and unknown reports; tick and deadline; task
 * lookup bounds; the change flag; the names.  The shared pieces: FNV-1a
 * against published vectors; the record encoding (round trip of keys and
 * values with NULs, newlines and nothing in them; every truncation
 * refused; nothing read past the end, which ASan checks because each
 * truncated copy is its own allocation).  A word count run end to end
 * through coordinator, partition and records.  And a randomized
 * simulation: workers that crash (and restart under a new id) or straggle
 * past the timeout, checked at every step — each task finished exactly
 * once, no reduce handed out before every map finished, the lowest idle
 * task handed out, "wait" only when nothing is idle, re-idling exactly the
 * expired tasks — and the job always finishes.
 * Deterministic: fixed seeds, virtual time only.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/mr.h"
#include "../../src/core/rng.h"

/* ---- helpers ----------------------------------------------------------------- */

static void init(struct mr_coord *c, uint32_t n_map, uint32_t n_reduce, uint64_t timeout)
{
	struct mr_config cfg = { .n_map = n_map, .n_reduce = n_reduce, .timeout = timeout };
	cr_assert_eq(mr_coord_init(c, &cfg), 0, "mr_coord_init: %s", c->errmsg);
}

/* Asks for work as `worker` and expects `order` (and `task`, for a hand-out). */
static void ask(struct mr_coord *c, uint64_t now, uint32_t worker, enum mr_order order, uint32_t task)
{
	struct mr_assignment a;
	memset(&a, 0xa5, sizeof(a));
	mr_coord_request(c, now, worker, &a);
	cr_assert_eq(a.order, order, "worker %" PRIu32 " at %" PRIu64 ": order %s, expected %s",
		     worker, now, mr_order_name(a.order), mr_order_name(order));
	cr_assert_eq(a.n_map, c->cfg.n_map);
	cr_assert_eq(a.n_reduce, c->cfg.n_reduce);
	if (order != MR_DO_MAP && order != MR_DO_REDUCE)
		return;
	cr_assert_eq(a.task, task, "worker %" PRIu32 ": task %" PRIu32 ", expected %" PRIu32,
		     worker, a.task, task);
	const struct mr_task *t = mr_coord_task(c, order == MR_DO_MAP ? MR_MAP : MR_REDUCE, task);
	cr_assert_not_null(t);
	cr_assert_eq(t->state, MR_RUNNING);
	cr_assert_eq(t->worker, worker);
	cr_assert_eq(t->started, now);
}

static void expect_task(const struct mr_coord *c, enum mr_task_type type, uint32_t id,
			enum mr_task_state state, uint32_t worker, uint32_t runs)
{
	const struct mr_task *t = mr_coord_task(c, type, id);
	cr_assert_not_null(t);
	cr_assert_eq(t->type, type);
	cr_assert_eq(t->id, id);
	cr_assert_eq(t->state, state, "%s task %" PRIu32 ": %s, expected %s",
		     type == MR_MAP ? "map" : "reduce", id, mr_task_state_name(t->state),
		     mr_task_state_name(state));
	cr_assert_eq(t->worker, worker, "%s task %" PRIu32 ": worker %" PRIu32 ", expected %" PRIu32,
		     type == MR_MAP ? "map" : "reduce", id, t->worker, worker);
	cr_assert_eq(t->runs, runs, "%s task %" PRIu32 ": runs %" PRIu32 ", expected %" PRIu32,
		     type == MR_MAP ? "map" : "reduce", id, t->runs, runs);
}

static void expect_phase(const struct mr_coord *c, enum mr_phase p)
{
	cr_assert_eq(c->phase, p, "phase %s, expected %s", mr_phase_name(c->phase), mr_phase_name(p));
}

/* ---- names, config, the table ------------------------------------------------------ */

Test(mr, names)
{
	cr_assert_str_eq(mr_phase_name(MR_MAPPING), "map");
	cr_assert_str_eq(mr_phase_name(MR_REDUCING), "reduce");
	cr_assert_str_eq(mr_phase_name(MR_DONE), "done");
	cr_assert_str_eq(mr_phase_name((enum mr_phase)7), "?");
	cr_assert_str_eq(mr_task_state_name(MR_IDLE), "idle");
	cr_assert_str_eq(mr_task_state_name(MR_RUNNING), "in progress");
	cr_assert_str_eq(mr_task_state_name(MR_FINISHED), "done");
	cr_assert_str_eq(mr_task_state_name((enum mr_task_state)7), "?");
	cr_assert_str_eq(mr_order_name(MR_DO_MAP), "map");
	cr_assert_str_eq(mr_order_name(MR_DO_REDUCE), "reduce");
	cr_assert_str_eq(mr_order_name(MR_WAIT), "wait");
	cr_assert_str_eq(mr_order_name(MR_EXIT), "exit");
	cr_assert_str_eq(mr_order_name((enum mr_order)7), "?");
}

Test(mr, init_validation)
{
	static const struct {
		struct mr_config cfg;
		const char *word;            /* what errmsg must mention */
	} bad[] = {
		{ { 0, 1, 10 }, "n_map" },
		{ { MR_MAX_TASKS + 1, 1, 10 }, "n_map" },
		{ { UINT32_MAX, 1, 10 }, "n_map" },
		{ { 1, 0, 10 }, "n_reduce" },
		{ { 1, MR_MAX_TASKS + 1, 10 }, "n_reduce" },
		{ { 1, UINT32_MAX, 10 }, "n_reduce" },
		{ { 1, 1, 0 }, "timeout" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mr_coord c;
		memset(&c, 0x5a, sizeof(c));
		cr_assert_eq(mr_coord_init(&c, &bad[i].cfg), -1, "config %zu accepted", i);
		cr_assert(strstr(c.errmsg, bad[i].word), "config %zu: errmsg '%s' lacks '%s'",
			  i, c.errmsg, bad[i].word);
		cr_assert_null(c.tasks);
		cr_assert_null(mr_coord_task(&c, MR_MAP, 0));
		cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
		mr_coord_free(&c);           /* safe after a failed init */
	}

	/* The limits themselves are fine. */
	struct mr_coord c;
	init(&c, MR_MAX_TASKS, MR_MAX_TASKS, UINT64_MAX);
	expect_task(&c, MR_MAP, MR_MAX_TASKS - 1, MR_IDLE, 0, 0);
	expect_task(&c, MR_REDUCE, MR_MAX_TASKS - 1, MR_IDLE, 0, 0);
	mr_coord_free(&c);
	mr_coord_free(&c);                   /* and twice */
}

Test(mr, init_layout)
{
	struct mr_coord c;
	init(&c, 3, 2, 10);
	expect_phase(&c, MR_MAPPING);
	cr_assert_eq(c.maps_left, 3);
	cr_assert_eq(c.reduces_left, 2);
	cr_assert_eq(c.cfg.timeout, 10);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(&c.tasks[i], mr_coord_task(&c, MR_MAP, i));
		expect_task(&c, MR_MAP, i, MR_IDLE, 0, 0);
	}
	for (uint32_t i = 0; i < 2; i++) {
		cr_assert_eq(&c.tasks[3 + i], mr_coord_task(&c, MR_REDUCE, i));
		expect_task(&c, MR_REDUCE, i, MR_IDLE, 0, 0);
	}
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	mr_coord_free(&c);
}

Test(mr, task_lookup_bounds)
{
	struct mr_coord c;
	init(&c, 4, 7, 10);
	cr_assert_not_null(mr_coord_task(&c, MR_MAP, 0));
	cr_assert_not_null(mr_coord_task(&c, MR_MAP, 3));
	cr_assert_null(mr_coord_task(&c, MR_MAP, 4));
	cr_assert_null(mr_coord_task(&c, MR_MAP, 7));
	cr_assert_null(mr_coord_task(&c, MR_MAP, UINT32_MAX));
	cr_assert_not_null(mr_coord_task(&c, MR_REDUCE, 0));
	cr_assert_not_null(mr_coord_task(&c, MR_REDUCE, 6));
	cr_assert_null(mr_coord_task(&c, MR_REDUCE, 7));
	cr_assert_null(mr_coord_task(&c, MR_REDUCE, UINT32_MAX));
	cr_assert_null(mr_coord_task(&c, (enum mr_task_type)2, 0));
	cr_assert_null(mr_coord_task(&c, (enum mr_task_type)3, 0));
	cr_assert_eq(mr_coord_task(&c, MR_REDUCE, 6)->id, 6);
	cr_assert_eq(mr_coord_task(&c, MR_REDUCE, 6)->type, MR_REDUCE);
	mr_coord_free(&c);
	cr_assert_null(mr_coord_task(&c, MR_MAP, 0));
	cr_assert_null(mr_coord_task(&c, MR_REDUCE, 0));
}

/* ---- a whole job ------------------------------------------------------------------- */

Test(mr, full_job_three_workers)
{
	enum { MAPS = 8, REDUCES = 10 };
	struct mr_coord c;
	init(&c, MAPS, REDUCES, 1000);
	uint64_t now = 0;

	/* Maps, lowest id first, to whoever asks. */
	ask(&c, now, 1, MR_DO_MAP, 0);
	ask(&c, now, 2, MR_DO_MAP, 1);
	ask(&c, now, 3, MR_DO_MAP, 2);
	uint32_t held[4] = { 0, 0, 1, 2 };   /* worker -> its task */
	uint32_t next = 3;
	while (next < MAPS) {
		uint32_t w = 1 + next % 3;
		now += 10;
		cr_assert(mr_coord_finished(&c, now, w, MR_MAP, held[w]));
		expect_task(&c, MR_MAP, held[w], MR_FINISHED, w, 1);
		cr_assert_eq(mr_coord_task(&c, MR_MAP, held[w])->finished, now);
		expect_phase(&c, MR_MAPPING);
		ask(&c, now, w, MR_DO_MAP, next);
		held[w] = next++;
	}
	/* Every map handed out, three still running: the next asker waits, and
	 * no reduce task moves. */
	cr_assert_eq(c.maps_left, 3);
	now += 10;
	cr_assert(mr_coord_finished(&c, now, 1, MR_MAP, held[1]));
	ask(&c, now, 1, MR_WAIT, 0);
	ask(&c, now, 1, MR_WAIT, 0);
	for (uint32_t r = 0; r < REDUCES; r++)
		expect_task(&c, MR_REDUCE, r, MR_IDLE, 0, 0);
	now += 10;
	cr_assert(mr_coord_finished(&c, now, 2, MR_MAP, held[2]));
	expect_phase(&c, MR_MAPPING);
	ask(&c, now, 2, MR_WAIT, 0);
	/* The last map finished: the phase moves on, reduces go out. */
	now += 10;
	cr_assert(mr_coord_finished(&c, now, 3, MR_MAP, held[3]));
	expect_phase(&c, MR_REDUCING);
	cr_assert_eq(c.maps_left, 0);
	for (uint32_t m = 0; m < MAPS; m++)
		cr_assert_eq(mr_coord_task(&c, MR_MAP, m)->state, MR_FINISHED);

	ask(&c, now, 2, MR_DO_REDUCE, 0);
	ask(&c, now, 3, MR_DO_REDUCE, 1);
	ask(&c, now, 1, MR_DO_REDUCE, 2);
	held[2] = 0, held[3] = 1, held[1] = 2;
	next = 3;
	while (next < REDUCES) {
		uint32_t w = 1 + next % 3;
		now += 10;
		cr_assert(mr_coord_finished(&c, now, w, MR_REDUCE, held[w]));
		expect_task(&c, MR_REDUCE, held[w], MR_FINISHED, w, 1);
		ask(&c, now, w, MR_DO_REDUCE, next);
		held[w] = next++;
	}
	now += 10;
	for (uint32_t w = 1; w <= 3; w++) {
		expect_phase(&c, MR_REDUCING);
		ask(&c, now, w, MR_WAIT, 0);
		cr_assert(mr_coord_finished(&c, now, w, MR_REDUCE, held[w]));
	}
	expect_phase(&c, MR_DONE);
	cr_assert_eq(c.reduces_left, 0);
	for (uint32_t w = 1; w <= 3; w++)
		ask(&c, now, w, MR_EXIT, 0);
	ask(&c, now + 5000, 99, MR_EXIT, 0);
	for (uint32_t m = 0; m < MAPS; m++)
		cr_assert_eq(mr_coord_task(&c, MR_MAP, m)->runs, 1);
	for (uint32_t r = 0; r < REDUCES; r++)
		expect_task(&c, MR_REDUCE, r, MR_FINISHED, mr_coord_task(&c, MR_REDUCE, r)->worker, 1);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	cr_assert_eq(mr_coord_tick(&c, now + 100000), 0);
	mr_coord_free(&c);
}

Test(mr, one_map_one_reduce)
{
	struct mr_coord c;
	init(&c, 1, 1, 5);
	ask(&c, 0, 7, MR_DO_MAP, 0);
	ask(&c, 0, 8, MR_WAIT, 0);
	cr_assert(mr_coord_finished(&c, 1, 7, MR_MAP, 0));
	ask(&c, 1, 8, MR_DO_REDUCE, 0);
	ask(&c, 1, 7, MR_WAIT, 0);
	cr_assert(mr_coord_finished(&c, 2, 8, MR_REDUCE, 0));
	expect_phase(&c, MR_DONE);
	ask(&c, 2, 7, MR_EXIT, 0);
	mr_coord_free(&c);
}

/* ---- re-execution ------------------------------------------------------------------ */

Test(mr, timeout_rehands_and_late_report_wins)
{
	struct mr_coord c;
	init(&c, 2, 1, 100);
	ask(&c, 0, 1, MR_DO_MAP, 0);
	ask(&c, 10, 2, MR_DO_MAP, 1);
	cr_assert(mr_coord_finished(&c, 20, 2, MR_MAP, 1));
	ask(&c, 30, 2, MR_WAIT, 0);          /* map 0 is running, not idle */

	cr_assert_eq(mr_coord_deadline(&c), 100);
	cr_assert_eq(mr_coord_tick(&c, 99), 0);
	expect_task(&c, MR_MAP, 0, MR_RUNNING, 1, 1);
	(void)mr_coord_take_changes(&c);
	cr_assert_eq(mr_coord_tick(&c, 100), 1);
	cr_assert(mr_coord_take_changes(&c));
	expect_task(&c, MR_MAP, 0, MR_IDLE, 0, 1);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);

	/* Re-executed by another worker. */
	ask(&c, 120, 3, MR_DO_MAP, 0);
	expect_task(&c, MR_MAP, 0, MR_RUNNING, 3, 2);
	cr_assert_eq(mr_coord_deadline(&c), 220);

	/* The first worker was only slow: its report is the first, so it wins. */
	cr_assert(mr_coord_finished(&c, 150, 1, MR_MAP, 0));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 1, 2);
	cr_assert_eq(mr_coord_task(&c, MR_MAP, 0)->finished, 150);
	expect_phase(&c, MR_REDUCING);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);

	/* The second execution's report changes nothing. */
	(void)mr_coord_take_changes(&c);
	cr_assert_not(mr_coord_finished(&c, 160, 3, MR_MAP, 0));
	cr_assert_not(mr_coord_take_changes(&c));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 1, 2);
	cr_assert_eq(mr_coord_task(&c, MR_MAP, 0)->finished, 150);
	expect_phase(&c, MR_REDUCING);
	cr_assert_eq(c.maps_left, 0);
	mr_coord_free(&c);
}

Test(mr, timeout_rehands_and_second_report_wins)
{
	struct mr_coord c;
	init(&c, 1, 1, 50);
	ask(&c, 0, 1, MR_DO_MAP, 0);
	cr_assert_eq(mr_coord_tick(&c, 60), 1);
	ask(&c, 61, 2, MR_DO_MAP, 0);
	cr_assert(mr_coord_finished(&c, 70, 2, MR_MAP, 0));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 2, 2);
	cr_assert_not(mr_coord_finished(&c, 80, 1, MR_MAP, 0));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 2, 2);
	cr_assert_eq(mr_coord_task(&c, MR_MAP, 0)->finished, 70);
	mr_coord_free(&c);
}

Test(mr, report_for_timed_out_task_not_yet_rehanded)
{
	struct mr_coord c;
	init(&c, 2, 2, 50);
	ask(&c, 0, 1, MR_DO_MAP, 0);
	ask(&c, 0, 2, MR_DO_MAP, 1);
	cr_assert(mr_coord_finished(&c, 10, 2, MR_MAP, 1));
	cr_assert_eq(mr_coord_tick(&c, 50), 1);
	expect_task(&c, MR_MAP, 0, MR_IDLE, 0, 1);
	/* The slow worker finishes before anyone else took the task: accepted,
	 * and the job moves on without re-executing anything. */
	cr_assert(mr_coord_finished(&c, 55, 1, MR_MAP, 0));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 1, 1);
	expect_phase(&c, MR_REDUCING);
	ask(&c, 56, 3, MR_DO_REDUCE, 0);
	/* Same for a reduce task. */
	cr_assert_eq(mr_coord_tick(&c, 106), 1);
	cr_assert(mr_coord_finished(&c, 107, 3, MR_REDUCE, 0));
	ask(&c, 108, 3, MR_DO_REDUCE, 1);
	cr_assert(mr_coord_finished(&c, 109, 4, MR_REDUCE, 1));   /* another reporter */
	expect_task(&c, MR_REDUCE, 1, MR_FINISHED, 4, 1);
	expect_phase(&c, MR_DONE);
	mr_coord_free(&c);
}

Test(mr, a_task_times_out_again_and_again)
{
	struct mr_coord c;
	init(&c, 1, 1, 10);
	uint64_t now = 0;
	for (uint32_t run = 1; run <= 5; run++) {
		ask(&c, now, run, MR_DO_MAP, 0);
		expect_task(&c, MR_MAP, 0, MR_RUNNING, run, run);
		cr_assert_eq(mr_coord_deadline(&c), now + 10);
		now += 10;
		cr_assert_eq(mr_coord_tick(&c, now), 1);
	}
	/* Any of the five may still report; the first one counts. */
	cr_assert(mr_coord_finished(&c, now, 3, MR_MAP, 0));
	for (uint32_t w = 1; w <= 5; w++)
		cr_assert_not(mr_coord_finished(&c, now, w, MR_MAP, 0));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 3, 5);
	mr_coord_free(&c);
}

/* ---- reports that finish nothing ----------------------------------------------------- */

Test(mr, duplicate_and_unknown_reports)
{
	struct mr_coord c;
	init(&c, 2, 2, 100);
	(void)mr_coord_take_changes(&c);

	/* Never handed out. */
	cr_assert_not(mr_coord_finished(&c, 0, 1, MR_MAP, 0));
	cr_assert_not(mr_coord_finished(&c, 0, 1, MR_REDUCE, 0));
	/* Out of range, bad type. */
	cr_assert_not(mr_coord_finished(&c, 0, 1, MR_MAP, 2));
	cr_assert_not(mr_coord_finished(&c, 0, 1, MR_REDUCE, 2));
	cr_assert_not(mr_coord_finished(&c, 0, 1, MR_MAP, UINT32_MAX));
	cr_assert_not(mr_coord_finished(&c, 0, 1, (enum mr_task_type)5, 0));
	cr_assert_not(mr_coord_take_changes(&c));
	expect_task(&c, MR_MAP, 0, MR_IDLE, 0, 0);

	ask(&c, 1, 1, MR_DO_MAP, 0);
	cr_assert(mr_coord_finished(&c, 2, 1, MR_MAP, 0));
	cr_assert(mr_coord_take_changes(&c));
	/* The same report again, and the same task from someone else. */
	cr_assert_not(mr_coord_finished(&c, 3, 1, MR_MAP, 0));
	cr_assert_not(mr_coord_finished(&c, 3, 2, MR_MAP, 0));
	cr_assert_not(mr_coord_take_changes(&c));
	expect_task(&c, MR_MAP, 0, MR_FINISHED, 1, 1);
	cr_assert_eq(mr_coord_task(&c, MR_MAP, 0)->finished, 2);
	cr_assert_eq(c.maps_left, 1);
	expect_phase(&c, MR_MAPPING);
	/* A reduce report while mapping: no reduce was ever handed out. */
	cr_assert_not(mr_coord_finished(&c, 3, 1, MR_REDUCE, 0));

	ask(&c, 4, 2, MR_DO_MAP, 1);
	cr_assert(mr_coord_finished(&c, 5, 2, MR_MAP, 1));
	expect_phase(&c, MR_REDUCING);
	/* Map reports arriving in the reduce phase: already finished. */
	cr_assert_not(mr_coord_finished(&c, 6, 2, MR_MAP, 1));
	cr_assert_not(mr_coord_finished(&c, 6, 3, MR_MAP, 0));
	cr_assert_eq(c.maps_left, 0);
	expect_phase(&c, MR_REDUCING);

	ask(&c, 7, 1, MR_DO_REDUCE, 0);
	ask(&c, 7, 2, MR_DO_REDUCE, 1);
	cr_assert(mr_coord_finished(&c, 8, 1, MR_REDUCE, 0));
	cr_assert_not(mr_coord_finished(&c, 8, 1, MR_REDUCE, 0));
	cr_assert_eq(c.reduces_left, 1);
	cr_assert(mr_coord_finished(&c, 9, 2, MR_REDUCE, 1));
	expect_phase(&c, MR_DONE);
	/* Done: every report is a duplicate. */
	(void)mr_coord_take_changes(&c);
	for (uint32_t i = 0; i < 2; i++) {
		cr_assert_not(mr_coord_finished(&c, 10, 1, MR_MAP, i));
		cr_assert_not(mr_coord_finished(&c, 10, 1, MR_REDUCE, i));
	}
	cr_assert_not(mr_coord_take_changes(&c));
	cr_assert_eq(c.reduces_left, 0);
	expect_phase(&c, MR_DONE);
	mr_coord_free(&c);
}

/* ---- time ------------------------------------------------------------------------ */

Test(mr, tick_and_deadline)
{
	struct mr_coord c;
	init(&c, 4, 1, 50);
	(void)mr_coord_take_changes(&c);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	cr_assert_eq(mr_coord_tick(&c, 1000000), 0);     /* nothing running */
	cr_assert_not(mr_coord_take_changes(&c));

	ask(&c, 5, 1, MR_DO_MAP, 0);
	ask(&c, 7, 2, MR_DO_MAP, 1);
	ask(&c, 7, 3, MR_DO_MAP, 2);
	ask(&c, 20, 4, MR_DO_MAP, 3);
	cr_assert_eq(mr_coord_deadline(&c), 55);
	(void)mr_coord_take_changes(&c);
	cr_assert_eq(mr_coord_tick(&c, 54), 0);
	cr_assert_not(mr_coord_take_changes(&c));
	/* A clock that went backwards expires nothing. */
	cr_assert_eq(mr_coord_tick(&c, 0), 0);
	cr_assert_eq(mr_coord_tick(&c, 55), 1);
	cr_assert(mr_coord_take_changes(&c));
	expect_task(&c, MR_MAP, 0, MR_IDLE, 0, 1);
	cr_assert_eq(mr_coord_task(&c, MR_MAP, 0)->started, 5);     /* kept */
	cr_assert_eq(mr_coord_deadline(&c), 57);
	/* A finished task leaves the deadline; two expire at once. */
	cr_assert(mr_coord_finished(&c, 60, 4, MR_MAP, 3));
	cr_assert_eq(mr_coord_deadline(&c), 57);
	cr_assert_eq(mr_coord_tick(&c, 57), 2);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	cr_assert_eq(mr_coord_tick(&c, 57), 0);
	expect_task(&c, MR_MAP, 1, MR_IDLE, 0, 1);
	expect_task(&c, MR_MAP, 2, MR_IDLE, 0, 1);
	expect_task(&c, MR_MAP, 3, MR_FINISHED, 4, 1);
	/* Handed out again lowest id first. */
	ask(&c, 60, 9, MR_DO_MAP, 0);
	ask(&c, 61, 9, MR_DO_MAP, 1);
	cr_assert_eq(mr_coord_deadline(&c), 110);
	mr_coord_free(&c);
}

Test(mr, deadline_at_the_end_of_time)
{
	struct mr_coord c;
	init(&c, 2, 1, 50);
	ask(&c, UINT64_MAX - 100, 1, MR_DO_MAP, 0);
	cr_assert_eq(mr_coord_deadline(&c), UINT64_MAX - 50);
	ask(&c, UINT64_MAX - 10, 2, MR_DO_MAP, 1);
	cr_assert_eq(mr_coord_deadline(&c), UINT64_MAX - 50);
	cr_assert_eq(mr_coord_tick(&c, UINT64_MAX - 50), 1);
	/* started + timeout overflows: no deadline, and tick agrees. */
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	cr_assert_eq(mr_coord_tick(&c, UINT64_MAX), 0);
	expect_task(&c, MR_MAP, 1, MR_RUNNING, 2, 1);
	mr_coord_free(&c);

	init(&c, 1, 1, UINT64_MAX);
	ask(&c, 1, 1, MR_DO_MAP, 0);
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	cr_assert_eq(mr_coord_tick(&c, UINT64_MAX), 0);
	mr_coord_free(&c);
}

Test(mr, change_flag)
{
	struct mr_coord c;
	init(&c, 1, 1, 10);
	cr_assert(mr_coord_take_changes(&c));     /* a new table */
	cr_assert_not(mr_coord_take_changes(&c));
	ask(&c, 0, 1, MR_DO_MAP, 0);
	cr_assert(mr_coord_take_changes(&c));
	ask(&c, 0, 2, MR_WAIT, 0);
	cr_assert_not(mr_coord_take_changes(&c));
	cr_assert_eq(mr_coord_tick(&c, 9), 0);
	cr_assert_not(mr_coord_take_changes(&c));
	cr_assert_eq(mr_coord_tick(&c, 10), 1);
	cr_assert(c.changed);
	cr_assert(mr_coord_take_changes(&c));
	cr_assert(mr_coord_finished(&c, 11, 1, MR_MAP, 0));
	cr_assert(mr_coord_take_changes(&c));
	ask(&c, 12, 1, MR_DO_REDUCE, 0);
	cr_assert(mr_coord_take_changes(&c));
	cr_assert(mr_coord_finished(&c, 13, 1, MR_REDUCE, 0));
	cr_assert(mr_coord_take_changes(&c));
	ask(&c, 14, 1, MR_EXIT, 0);
	cr_assert_not(mr_coord_take_changes(&c));
	mr_coord_free(&c);
}

/* ---- the partition function ------------------------------------------------------------ */

Test(mr, fnv1a_vectors)
{
	static const struct {
		const char *s;
		size_t len;
		uint32_t h;
	} v[] = {
		{ "", 0, 0x811c9dc5u },
		{ "a", 1, 0xe40c292cu },
		{ "b", 1, 0xe70c2de5u },
		{ "foo", 3, 0xa9f37ed7u },
		{ "foobar", 6, 0xbf9cf968u },
		{ "\0", 1, 0x050c5d1fu },
		{ "a\0b", 3, 0x10f3abd2u },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_assert_eq(mr_fnv1a(v[i].s, v[i].len), v[i].h, "vector %zu: %08" PRIx32 ", expected %08" PRIx32,
			     i, mr_fnv1a(v[i].s, v[i].len), v[i].h);
	cr_assert_eq(mr_fnv1a(NULL, 0), 0x811c9dc5u);
	/* The length counts, not a terminator. */
	cr_assert_neq(mr_fnv1a("a\0b", 3), mr_fnv1a("a", 1));
}

/* ---- records ------------------------------------------------------------------------ */

struct rec {
	const char *k;
	uint32_t klen;
	const char *v;
	uint32_t vlen;
};

static uint8_t big_value[1000];

static size_t make_records(struct rec *r)
{
	for (size_t i = 0; i < sizeof(big_value); i++)
		big_value[i] = (uint8_t)(i * 7);
	size_t n = 0;
	r[n++] = (struct rec){ "word", 4, "1", 1 };
	r[n++] = (struct rec){ "", 0, "", 0 };
	r[n++] = (struct rec){ "", 0, "empty key", 9 };
	r[n++] = (struct rec){ "empty value", 11, "", 0 };
	r[n++] = (struct rec){ "nul\0inside", 10, "\0\0\0", 3 };
	r[n++] = (struct rec){ "new\nline", 8, "a\nb\r\n", 5 };
	r[n++] = (struct rec){ "\xff\xfe", 2, "\x01\x00\x00\x00", 4 };
	r[n++] = (struct rec){ "big", 3, (const char *)big_value, sizeof(big_value) };
	r[n++] = (struct rec){ "last", 4, "x", 1 };
	return n;
}

/* Reads every record of buf[0..len) and checks it against r[]: the
 * number of whole records read, and the result that ended the reading. */
static int read_all(const uint8_t *buf, size_t len, const struct rec *r, size_t n, size_t *got,
		    size_t *end_pos, const char **why)
{
	size_t pos = 0;
	*got = 0;
	*why = NULL;
	for (;;) {
		const uint8_t *k = NULL, *v = NULL;
		uint32_t kl = 0xdead, vl = 0xbeef;
		size_t before = pos;
		int rc = mr_records_next(buf, len, &pos, &k, &kl, &v, &vl, why);
		if (rc != 1) {
			cr_assert_eq(pos, before, "a failed or final read moved *pos");
			*end_pos = pos;
			return rc;
		}
		cr_assert_lt(*got, n, "more records than written");
		const struct rec *e = &r[*got];
		cr_assert_eq(kl, e->klen, "record %zu: key length %" PRIu32, *got, kl);
		cr_assert_eq(vl, e->vlen, "record %zu: value length %" PRIu32, *got, vl);
		cr_assert(kl == 0 || memcmp(k, e->k, kl) == 0, "record %zu: key", *got);
		cr_assert(vl == 0 || memcmp(v, e->v, vl) == 0, "record %zu: value", *got);
		cr_assert(k >= buf && k + kl <= buf + len);
		cr_assert(v >= buf && v + vl <= buf + len);
		cr_assert_eq(pos, before + 8 + kl + vl);
		(*got)++;
	}
}

Test(mr, records_round_trip)
{
	struct rec r[16];
	size_t n = make_records(r);
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	size_t ends[16];
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(mr_record_put(&buf, &len, &cap, r[i].k, r[i].klen, r[i].v, r[i].vlen), 0);
		cr_assert_leq(len, cap);
		ends[i] = len;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += 8 + r[i].klen + r[i].vlen;
	cr_assert_eq(len, total);
	/* Little-endian lengths, then the bytes. */
	cr_assert_eq(buf[0], 4);
	cr_assert_eq(buf[1] | buf[2] | buf[3], 0);
	cr_assert(memcmp(buf + 4, "word", 4) == 0);
	cr_assert_eq(buf[8], 1);
	cr_assert_eq(buf[12], '1');
	size_t big_at = ends[6];
	cr_assert_eq(buf[big_at + 4 + 3], 1000 & 0xff);
	cr_assert_eq(buf[big_at + 4 + 3 + 1], 1000 >> 8);

	size_t got, end;
	const char *why;
	cr_assert_eq(read_all(buf, len, r, n, &got, &end, &why), 0);
	cr_assert_eq(got, n);
	cr_assert_eq(end, len);
	/* The end stays the end. */
	const uint8_t *k, *v;
	uint32_t kl, vl;
	size_t pos = len;
	cr_assert_eq(mr_records_next(buf, len, &pos, &k, &kl, &v, &vl, &why), 0);
	cr_assert_eq(pos, len);
	free(buf);

	/* Nothing at all is a clean end too. */
	pos = 0;
	cr_assert_eq(mr_records_next(NULL, 0, &pos, &k, &kl, &v, &vl, &why), 0);
}

Test(mr, records_every_truncation_refused)
{
	struct rec r[16];
	size_t n = make_records(r);
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	size_t ends[17] = { 0 };
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(mr_record_put(&buf, &len, &cap, r[i].k, r[i].klen, r[i].v, r[i].vlen), 0);
		ends[i + 1] = len;
	}
	for (size_t cut = 0; cut <= len; cut++) {
		/* Its own allocation, exactly cut bytes, so ASan sees any overread. */
		uint8_t *p = malloc(cut ? cut : 1);
		cr_assert_not_null(p);
		memcpy(p, buf, cut);
		size_t whole = 0;
		while (whole < n && ends[whole + 1] <= cut)
			whole++;
		size_t got, end;
		const char *why;
		int rc = read_all(p, cut, r, n, &got, &end, &why);
		cr_assert_eq(got, whole, "cut %zu: %zu records, expected %zu", cut, got, whole);
		cr_assert_eq(end, ends[whole]);
		if (cut == ends[whole]) {
			cr_assert_eq(rc, 0, "cut %zu at a record boundary: %d", cut, rc);
		} else {
			cr_assert_eq(rc, -1, "cut %zu inside record %zu accepted", cut, whole);
			cr_assert_not_null(why);
			cr_assert(strncmp(why, "truncated record", 16) == 0, "cut %zu: why '%s'", cut, why);
		}
		free(p);
	}
	free(buf);
}

Test(mr, records_lengths_past_the_end)
{
	const uint8_t *k, *v;
	uint32_t kl, vl;
	const char *why = NULL;
	size_t pos;

	/* A key length claiming 4 GiB. */
	uint8_t huge_key[12] = { 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 0, 0, 0, 0 };
	pos = 0;
	cr_assert_eq(mr_records_next(huge_key, sizeof(huge_key), &pos, &k, &kl, &v, &vl, &why), -1);
	cr_assert_str_eq(why, "truncated record: key");
	cr_assert_eq(pos, 0);

	/* A value length one more than what is there. */
	uint8_t long_value[11] = { 1, 0, 0, 0, 'k', 3, 0, 0, 0, 'v', 'v' };
	pos = 0;
	cr_assert_eq(mr_records_next(long_value, sizeof(long_value), &pos, &k, &kl, &v, &vl, &why), -1);
	cr_assert_str_eq(why, "truncated record: value");
	long_value[5] = 2;
	cr_assert_eq(mr_records_next(long_value, sizeof(long_value), &pos, &k, &kl, &v, &vl, &why), 1);
	cr_assert_eq(pos, sizeof(long_value));
	cr_assert_eq(kl, 1);
	cr_assert_eq(vl, 2);
	cr_assert_eq(k[0], 'k');
	cr_assert(memcmp(v, "vv", 2) == 0);

	/* A position past the end. */
	pos = sizeof(long_value) + 1;
	cr_assert_eq(mr_records_next(long_value, sizeof(long_value), &pos, &k, &kl, &v, &vl, &why), -1);
	cr_assert_eq(pos, sizeof(long_value) + 1);
	cr_assert_not_null(why);
}

Test(mr, record_put_refusals_leave_the_buffer)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	cr_assert_eq(mr_record_put(&buf, &len, &cap, "k", 1, "v", 1), 0);
	uint8_t *was = buf;
	size_t was_len = len, was_cap = cap;
	uint8_t copy[16];
	memcpy(copy, buf, len);

	/* NULL with a length. */
	cr_assert_eq(mr_record_put(&buf, &len, &cap, NULL, 1, "v", 1), -1);
	cr_assert_eq(mr_record_put(&buf, &len, &cap, "k", 1, NULL, 1), -1);
	cr_assert(buf == was && len == was_len && cap == was_cap);
	/* NULL without one is an empty key or value. */
	cr_assert_eq(mr_record_put(&buf, &len, &cap, NULL, 0, NULL, 0), 0);
	cr_assert_eq(len, was_len + 8);
	len = was_len;

	/* A buffer that would outgrow size_t: refused before anything is
	 * touched (the lengths are a lie the check must not trust). */
	size_t big_len = SIZE_MAX - 20, big_cap = SIZE_MAX - 20;
	uint8_t *b = buf;
	cr_assert_eq(mr_record_put(&b, &big_len, &big_cap, "k", 1, "0123456789abcdef", 16), -1);
	cr_assert(b == buf && big_len == SIZE_MAX - 20 && big_cap == SIZE_MAX - 20);
	big_len = big_cap = SIZE_MAX - 3;
	cr_assert_eq(mr_record_put(&b, &big_len, &big_cap, NULL, 0, NULL, 0), -1);
	big_len = big_cap = SIZE_MAX - 8;
	cr_assert_eq(mr_record_put(&b, &big_len, &big_cap, "k", 1, NULL, 0), -1);
	big_len = big_cap = SIZE_MAX - 8 - 1;
	cr_assert_eq(mr_record_put(&b, &big_len, &big_cap, "k", 1, "v", UINT32_MAX), -1);
	cr_assert(b == buf);
	cr_assert(memcmp(buf, copy, was_len) == 0);
	free(buf);
}

Test(mr, record_put_grows)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	char key[32];
	for (uint32_t i = 0; i < 5000; i++) {
		int kl = snprintf(key, sizeof(key), "key-%" PRIu32, i);
		cr_assert_eq(mr_record_put(&buf, &len, &cap, key, (uint32_t)kl, key, (uint32_t)kl), 0);
		cr_assert_leq(len, cap);
	}
	size_t pos = 0;
	const uint8_t *k, *v;
	uint32_t kl, vl;
	const char *why;
	for (uint32_t i = 0; i < 5000; i++) {
		cr_assert_eq(mr_records_next(buf, len, &pos, &k, &kl, &v, &vl, &why), 1);
		int n = snprintf(key, sizeof(key), "key-%" PRIu32, i);
		cr_assert_eq(kl, (uint32_t)n);
		cr_assert(memcmp(k, key, kl) == 0 && vl == kl && memcmp(v, key, vl) == 0);
	}
	cr_assert_eq(mr_records_next(buf, len, &pos, &k, &kl, &v, &vl, &why), 0);
	free(buf);
}

/* ---- a word count, end to end ------------------------------------------------------------ */

#define WC_MAPS 4
#define WC_REDUCES 3
#define WC_WORDS 64

struct counts {
	char word[WC_WORDS][24];
	uint32_t n[WC_WORDS];
	uint32_t len;
};

static void count(struct counts *c, const char *w, size_t len, uint32_t by)
{
	cr_assert_lt(len, sizeof(c->word[0]));
	for (uint32_t i = 0; i < c->len; i++)
		if (strlen(c->word[i]) == len && memcmp(c->word[i], w, len) == 0) {
			c->n[i] += by;
			return;
		}
	cr_assert_lt(c->len, WC_WORDS);
	memcpy(c->word[c->len], w, len);
	c->word[c->len][len] = '\0';
	c->n[c->len++] = by;
}

/* Calls fn on each space-separated word of s. */
static void words(const char *s, void (*fn)(void *, const char *, size_t), void *arg)
{
	while (*s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (n)
			fn(arg, s, n);
		s += n;
	}
}

struct map_out {
	uint8_t *buf[WC_REDUCES];
	size_t len[WC_REDUCES], cap[WC_REDUCES];
};

static void emit(void *arg, const char *w, size_t len)
{
	struct map_out *o = arg;
	uint32_t r = mr_fnv1a(w, len) % WC_REDUCES;
	cr_assert_eq(mr_record_put(&o->buf[r], &o->len[r], &o->cap[r], w, (uint32_t)len, "1", 1), 0);
}

static void count_one(void *arg, const char *w, size_t len)
{
	count(arg, w, len, 1);
}

Test(mr, word_count_end_to_end)
{
	static const char *const input[WC_MAPS] = {
		"the quick brown fox jumps over the lazy dog",
		"the dog sleeps  and the fox runs",
		"a map task per file and a reduce task per partition",
		"fox fox fox the end",
	};
	struct map_out out[WC_MAPS];
	memset(out, 0, sizeof(out));
	struct counts reduced[WC_REDUCES];
	memset(reduced, 0, sizeof(reduced));

	struct mr_coord c;
	init(&c, WC_MAPS, WC_REDUCES, 100);
	uint64_t now = 0;
	for (;;) {
		struct mr_assignment a;
		mr_coord_request(&c, now, 1, &a);
		if (a.order == MR_EXIT)
			break;
		cr_assert_neq(a.order, MR_WAIT, "one worker, nothing running: never wait");
		if (a.order == MR_DO_MAP) {
			words(input[a.task], emit, &out[a.task]);
			cr_assert(mr_coord_finished(&c, ++now, 1, MR_MAP, a.task));
			continue;
		}
		for (uint32_t m = 0; m < a.n_map; m++) {
			const struct map_out *o = &out[m];
			size_t pos = 0;
			const uint8_t *k, *v;
			uint32_t kl, vl;
			const char *why;
			int rc;
			while ((rc = mr_records_next(o->buf[a.task], o->len[a.task], &pos, &k, &kl, &v, &vl,
						     &why)) == 1) {
				cr_assert_eq(mr_fnv1a(k, kl) % a.n_reduce, a.task);
				cr_assert(vl == 1 && v[0] == '1');
				count(&reduced[a.task], (const char *)k, kl, 1);
			}
			cr_assert_eq(rc, 0, "map %" PRIu32 " partition %" PRIu32 ": %s", m, a.task, why);
		}
		cr_assert(mr_coord_finished(&c, ++now, 1, MR_REDUCE, a.task));
	}
	expect_phase(&c, MR_DONE);
	cr_assert_eq(now, WC_MAPS + WC_REDUCES);

	struct counts want;
	memset(&want, 0, sizeof(want));
	for (int m = 0; m < WC_MAPS; m++)
		words(input[m], count_one, &want);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < want.len; i++) {
		uint32_t found = 0;
		for (int r = 0; r < WC_REDUCES; r++)
			for (uint32_t j = 0; j < reduced[r].len; j++)
				if (strcmp(reduced[r].word[j], want.word[i]) == 0) {
					cr_assert_eq(reduced[r].n[j], want.n[i], "%s: %" PRIu32 ", expected %" PRIu32,
						     want.word[i], reduced[r].n[j], want.n[i]);
					found++;
				}
		cr_assert_eq(found, 1, "%s in %" PRIu32 " partitions", want.word[i], found);
		seen++;
	}
	uint32_t total = 0;
	for (int r = 0; r < WC_REDUCES; r++)
		total += reduced[r].len;
	cr_assert_eq(total, seen);
	cr_assert_eq(want.n[0], 5, "'the' appears five times");

	for (int m = 0; m < WC_MAPS; m++)
		for (int r = 0; r < WC_REDUCES; r++)
			free(out[m].buf[r]);
	mr_coord_free(&c);
}

/* ---- a randomized simulation -------------------------------------------------------------- */

enum sim_state { W_ASK, W_BUSY, W_SLEEP, W_CRASHED, W_GONE };

struct sim_worker {
	uint32_t id;                         /* changes on restart after a crash */
	enum sim_state st;
	enum mr_task_type type;
	uint32_t task;
	uint64_t at;                         /* busy: reports; sleeping: asks; crashed: restarts */
};

#define SIM_WORKERS 8
#define SIM_TASKS 16

struct sim_stats {
	uint64_t rehands, crashes, stragglers, late_wins, ignored;
};

/* The lowest idle task of a type, or UINT32_MAX. */
static uint32_t lowest_idle(const struct mr_coord *c, enum mr_task_type type, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (mr_coord_task(c, type, i)->state == MR_IDLE)
			return i;
	return UINT32_MAX;
}

static void simulate(uint64_t seed, struct sim_stats *st)
{
	struct rng g;
	rng_seed(&g, seed);
	uint32_t n_map = (uint32_t)rng_range(&g, 1, SIM_TASKS + 1);
	uint32_t n_reduce = (uint32_t)rng_range(&g, 1, SIM_TASKS + 1);
	uint32_t n_workers = (uint32_t)rng_range(&g, 1, SIM_WORKERS + 1);
	uint64_t timeout = rng_range(&g, 10, 1000);
	double p_crash = rng_double(&g) * 0.2, p_straggle = rng_double(&g) * 0.3;

	struct mr_coord c;
	init(&c, n_map, n_reduce, timeout);
	uint32_t done[2][SIM_TASKS] = { { 0 } };   /* true reports per task */
	uint32_t handed[2][SIM_TASKS] = { { 0 } }; /* hand-outs per task */
	uint32_t maps_done = 0, reduces_done = 0, next_id = 1;
	struct sim_worker w[SIM_WORKERS];
	for (uint32_t i = 0; i < n_workers; i++)
		w[i] = (struct sim_worker){ .id = next_id++, .st = W_ASK };

	uint64_t now = 0;
	uint32_t gone = 0;
	for (uint64_t step = 0; gone < n_workers; step++) {
		cr_assert_lt(step, 1000000, "seed %" PRIu64 ": the job never finished (phase %s)",
			     seed, mr_phase_name(c.phase));
		now += rng_range(&g, 1, timeout / 4 + 2);

		/* Time passes: exactly the expired running tasks go back to idle. */
		uint32_t expired = 0;
		for (uint32_t i = 0; i < n_map + n_reduce; i++)
			if (c.tasks[i].state == MR_RUNNING && now - c.tasks[i].started >= timeout)
				expired++;
		uint64_t dl = mr_coord_deadline(&c);
		cr_assert_eq(expired > 0, dl <= now, "seed %" PRIu64 ": deadline %" PRIu64 " at %" PRIu64,
			     seed, dl, now);
		cr_assert_eq(mr_coord_tick(&c, now), expired);
		st->rehands += expired;
		dl = mr_coord_deadline(&c);
		cr_assert(dl > now && (dl == MR_NO_DEADLINE || dl <= now + timeout));

		/* Workers act in a random order. */
		uint32_t order[SIM_WORKERS];
		for (uint32_t i = 0; i < n_workers; i++)
			order[i] = i;
		for (uint32_t i = n_workers; i > 1; i--) {
			uint32_t j = (uint32_t)rng_range(&g, 0, i);
			uint32_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (uint32_t oi = 0; oi < n_workers; oi++) {
			struct sim_worker *x = &w[order[oi]];
			if (x->st == W_GONE || (x->st != W_ASK && now < x->at))
				continue;
			if (x->st == W_CRASHED) {        /* restarts as a new worker */
				x->id = next_id++;
				x->st = W_ASK;
			}
			if (x->st == W_SLEEP)
				x->st = W_ASK;
			if (x->st == W_BUSY) {
				const struct mr_task *t = mr_coord_task(&c, x->type, x->task);
				bool was_done = t->state == MR_FINISHED;
				bool late = t->worker != x->id;
				enum mr_phase before = c.phase;
				bool ok = mr_coord_finished(&c, now, x->id, x->type, x->task);
				/* A task it was handed is refused only once finished. */
				cr_assert_eq(ok, !was_done, "seed %" PRIu64 ": report refused", seed);
				if (ok) {
					cr_assert_eq(++done[x->type][x->task], 1);
					cr_assert_eq(t->state, MR_FINISHED);
					cr_assert_eq(t->worker, x->id);
					cr_assert_eq(t->finished, now);
					if (late)
						st->late_wins++;
					if (x->type == MR_MAP) {
						maps_done++;
						cr_assert_eq(c.phase, maps_done == n_map ? MR_REDUCING : MR_MAPPING);
					} else {
						reduces_done++;
						cr_assert_eq(c.phase, reduces_done == n_reduce ? MR_DONE : MR_REDUCING);
					}
				} else {
					st->ignored++;
					cr_assert_eq(c.phase, before);
				}
				x->st = W_ASK;
			}

			/* Ask for work. */
			enum mr_phase phase = c.phase;
			uint32_t idle = phase == MR_MAPPING ? lowest_idle(&c, MR_MAP, n_map)
				      : phase == MR_REDUCING ? lowest_idle(&c, MR_REDUCE, n_reduce)
				      : UINT32_MAX;
			struct mr_assignment a;
			mr_coord_request(&c, now, x->id, &a);
			cr_assert_eq(a.n_map, n_map);
			cr_assert_eq(a.n_reduce, n_reduce);
			switch (a.order) {
			case MR_DO_MAP:
			case MR_DO_REDUCE:
				x->type = a.order == MR_DO_MAP ? MR_MAP : MR_REDUCE;
				x->task = a.task;
				cr_assert_eq(phase, x->type == MR_MAP ? MR_MAPPING : MR_REDUCING);
				cr_assert_eq(a.task, idle, "seed %" PRIu64 ": not the lowest idle task", seed);
				if (x->type == MR_REDUCE) {
					cr_assert_eq(maps_done, n_map, "seed %" PRIu64 ": reduce before the maps",
						     seed);
					for (uint32_t m = 0; m < n_map; m++)
						cr_assert_eq(done[MR_MAP][m], 1);
				}
				handed[x->type][x->task]++;
				cr_assert_eq(mr_coord_task(&c, x->type, x->task)->runs, handed[x->type][x->task]);
				double fate = rng_double(&g);
				if (fate < p_crash) {
					/* Never reports; comes back later under a new id. */
					x->st = W_CRASHED;
					x->at = now + rng_range(&g, 1, 3 * timeout);
					st->crashes++;
				} else if (fate < p_crash + p_straggle) {
					x->st = W_BUSY;
					x->at = now + rng_range(&g, timeout, 4 * timeout);
					st->stragglers++;
				} else {
					x->st = W_BUSY;
					x->at = now + rng_range(&g, 0, timeout * 4 / 5);
				}
				break;
			case MR_WAIT:
				cr_assert_neq(phase, MR_DONE);
				cr_assert_eq(idle, UINT32_MAX, "seed %" PRIu64 ": wait with a task idle", seed);
				x->st = W_SLEEP;
				x->at = now + rng_range(&g, 1, timeout / 2 + 2);
				break;
			case MR_EXIT:
				cr_assert_eq(phase, MR_DONE);
				cr_assert_eq(reduces_done, n_reduce);
				x->st = W_GONE;
				gone++;
				break;
			}
		}
	}

	expect_phase(&c, MR_DONE);
	for (uint32_t m = 0; m < n_map; m++) {
		cr_assert_eq(done[MR_MAP][m], 1, "seed %" PRIu64 ": map %" PRIu32, seed, m);
		cr_assert_eq(mr_coord_task(&c, MR_MAP, m)->state, MR_FINISHED);
	}
	for (uint32_t r = 0; r < n_reduce; r++) {
		cr_assert_eq(done[MR_REDUCE][r], 1, "seed %" PRIu64 ": reduce %" PRIu32, seed, r);
		cr_assert_eq(mr_coord_task(&c, MR_REDUCE, r)->state, MR_FINISHED);
	}
	cr_assert_eq(mr_coord_deadline(&c), MR_NO_DEADLINE);
	mr_coord_free(&c);
}

Test(mr, randomized_crashes_and_stragglers)
{
	struct sim_stats st = { 0 };
	for (uint64_t seed = 1; seed <= 400; seed++)
		simulate(seed, &st);
	/* The runs did exercise what they are for. */
	cr_assert_gt(st.crashes, 100);
	cr_assert_gt(st.stragglers, 100);
	cr_assert_gt(st.rehands, 100);
	cr_assert_gt(st.late_wins, 10);
	cr_assert_gt(st.ignored, 10);
}
