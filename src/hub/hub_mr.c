/*
 * hub_mr.c — the MapReduce side of a cluster's hub: the messages between
 * workers and the coordinator, in brief, for the events file; and the task
 * board (every task's state, every worker's) as they report it, for the
 * dashboard and the Lua API.
 *
 * It decides nothing: the coordinator (src/node/kind_mr.c over src/core/mr)
 * owns the job.  It must never trust a report: ids are checked against the
 * job's size.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/mr.h"
#include "hub_int.h"

void hub__route_mr(struct hub *h, const uint8_t *bytes, uint32_t len, const struct wire_mr *m)
{
	uint64_t id = ++h->next_msg_id;
	h->rpc_count++;
	h->rpc_bytes += len;
	h->nodes[m->from].msgs_out++;
	json_t *ev = hub__ev_new(h, "send");
	ev_int(ev, "id", (int64_t)id);
	ev_int(ev, "from", m->from);
	ev_int(ev, "to", m->to);
	ev_str(ev, "type", wire_msg_name(m->type));
	if (m->type == WIRE_MSG_MR_ORDER) {
		ev_str(ev, "order", mr_order_name((enum mr_order)m->order));
		if (m->order == MR_DO_MAP || m->order == MR_DO_REDUCE)
			ev_int(ev, "task", m->task);
		if (m->order == MR_DO_MAP)
			json_object_set_new(ev, "file", evlog_bytes(m->file, m->file_len));
	} else if (m->type == WIRE_MSG_MR_DONE) {
		ev_str(ev, "task_type", m->task_type == MR_MAP ? "map" : "reduce");
		ev_int(ev, "task", m->task);
		ev_int(ev, "bytes", (int64_t)m->bytes);
		struct hub_mr *mr = &h->mr;
		if (mr->tasks && m->task < (m->task_type == MR_MAP ? mr->n_map : mr->n_reduce))
			mr->tasks[m->task_type == MR_MAP ? m->task : mr->n_map + m->task].reported = m->bytes;
	}
	hub__emit(h, ev);
	/* an order answers an ask: labrpc's replies */
	hub__send(h, id, m->from, m->to, m->type, m->type == WIRE_MSG_MR_ORDER, bytes, len);
}

static const char *const worker_states[] = { "asking", "mapping", "reducing", "waiting" };

const char *hub__mr_frame(struct hub *h, struct hub_node *n, const struct wire_frame *f)
{
	struct hub_mr *mr = &h->mr;
	struct rbuf r;
	rbuf_init(&r, f->payload, f->len);
	switch (f->type) {
	case WIRE_MR_JOB: {
		uint8_t phase = rbuf_u8(&r);
		uint32_t n_map = rbuf_u32(&r), n_reduce = rbuf_u32(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (n->id != 1 || phase > MR_DONE || n_map < 1 || n_reduce < 1 ||
		    n_map > MR_MAX_TASKS || n_reduce > MR_MAX_TASKS)
			return "a bad job report";
		if (!mr->tasks || mr->n_map != n_map || mr->n_reduce != n_reduce) {
			struct hub_mr_task *t = calloc((size_t)n_map + n_reduce, sizeof *t);
			if (!t)
				return "out of memory";
			free(mr->tasks);
			mr->tasks = t;
			mr->n_map = n_map;
			mr->n_reduce = n_reduce;
			for (uint32_t i = 0; i < n_map + n_reduce; i++) {
				t[i].type = i < n_map ? MR_MAP : MR_REDUCE;
				t[i].id = i < n_map ? i : i - n_map;
			}
		}
		if (!mr->have || mr->phase != phase) {
			json_t *ev = hub__ev_new(h, "job");
			ev_str(ev, "phase", mr_phase_name((enum mr_phase)phase));
			ev_int(ev, "maps", n_map);
			ev_int(ev, "reduces", n_reduce);
			hub__emit(h, ev);
		}
		mr->have = true;
		mr->phase = phase;
		return NULL;
	}
	case WIRE_MR_TASK: {
		uint8_t type = rbuf_u8(&r);
		uint32_t id = rbuf_u32(&r);
		uint8_t state = rbuf_u8(&r);
		uint32_t worker = rbuf_u32(&r);
		uint64_t started = rbuf_u64(&r), finished = rbuf_u64(&r);
		uint32_t runs = rbuf_u32(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (n->id != 1 || !mr->tasks || type > MR_REDUCE || state > MR_FINISHED ||
		    id >= (type == MR_MAP ? mr->n_map : mr->n_reduce) || worker > h->cfg.n)
			return "a bad task report";
		struct hub_mr_task *t = &mr->tasks[type == MR_MAP ? id : mr->n_map + id];
		bool was_done = t->state == MR_FINISHED;
		uint64_t reported = t->reported, bytes = t->bytes;
		*t = (struct hub_mr_task){ .type = type, .id = id, .state = state, .worker = worker,
					   .started = started, .finished = finished, .runs = runs,
					   .bytes = bytes, .reported = reported };
		json_t *ev = hub__ev_new(h, "task");
		ev_str(ev, "type", type == MR_MAP ? "map" : "reduce");
		ev_int(ev, "task", id);
		ev_str(ev, "state", mr_task_state_name((enum mr_task_state)state));
		if (worker)
			ev_int(ev, "worker", worker);
		ev_int(ev, "runs", runs);
		hub__emit(h, ev);
		if (state == MR_FINISHED && !was_done) {
			/* the bytes of the run that finished it, as its MrDone said */
			t->bytes = reported;
			*(type == MR_MAP ? &mr->intermediate_bytes : &mr->output_bytes) += reported;
			if (worker >= 1 && worker <= HUB_MAX_NODES)
				mr->workers[worker].tasks_done++;
		}
		return NULL;
	}
	case WIRE_MR_WORKER: {
		uint8_t state = rbuf_u8(&r), type = rbuf_u8(&r);
		uint32_t task = rbuf_u32(&r);
		uint64_t since = rbuf_u64(&r), in = rbuf_u64(&r), out = rbuf_u64(&r);
		if (!rbuf_done(&r))
			return r.err;
		if (n->id == 1 || state > WIRE_MRW_WAITING || type > MR_REDUCE)
			return "a bad worker report";
		struct hub_mr_worker *w = &mr->workers[n->id];
		uint64_t done_tasks = w->tasks_done;
		*w = (struct hub_mr_worker){ .state = state, .type = type, .task = task, .since = since,
					     .bytes_in = in, .bytes_out = out, .tasks_done = done_tasks };
		json_t *ev = hub__ev_new(h, "worker");
		ev_int(ev, "node", n->id);
		ev_str(ev, "state", worker_states[state]);
		if (state == WIRE_MRW_MAPPING || state == WIRE_MRW_REDUCING) {
			ev_int(ev, "task", task);
			ev_int(ev, "bytes_in", (int64_t)in);
			ev_int(ev, "bytes_out", (int64_t)out);
		}
		hub__emit(h, ev);
		return NULL;
	}
	default:
		return "not a MapReduce frame";
	}
}

const struct hub_mr *hub_mr(const struct hub *h)
{
	return &h->mr;
}

void hub__mr_free(struct hub *h)
{
	free(h->mr.tasks);
	h->mr.tasks = NULL;
}
