/*
 * kind_mr.c — kind "mr": MapReduce (the paper; 6.824 Lab 1) as processes.
 * Node 1 is the coordinator, nodes 2.. are workers; they talk only through
 * the hub, so loss, partitions, pauses and crashes apply to them too.
 *
 * Coordinator: the pure state machine of src/core/mr, fed by workers'
 * asks and reports and by time (a task not reported within the timeout
 * goes to the next worker that asks).  It reports every task's state to the
 * hub for the task board.  Once the job is done it answers every ask with
 * "exit", and leaves itself when every worker has been told so (or a grace
 * period has passed: a crashed worker never asks again).
 *
 * Worker: asks for a task; runs the app's map or reduce (src/node/mrapp, Lua)
 * for real, at once; then stays "in" the task for the virtual time the task
 * is modelled to take — the input's size at the job's rate, plus whatever
 * the app slept (mr.sleep) — and reports it done.  Map output goes to
 * mr-X-Y (one file per reduce partition, FNV-1a of the key), reduce output
 * to mr-out-Y, each written to a temporary name and renamed, so a crash or a
 * duplicate execution never leaves a partial file under the real name.
 * An ask that gets no answer is repeated every second; after ten it gives
 * up and exits (the coordinator is gone: the job is over).
 *
 * The job file (written by the controller, --job) says: app, reduces,
 * timeout (ms), rate (input bytes per virtual second), dir (where the
 * intermediate and output files go), and the input files, one per line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/mr.h"
#include "../core/rng.h"
#include "mrapp.h"
#include "service.h"

#define ASK_RETRY_MS 1000
#define WAIT_MS 500
#define ASKS_BEFORE_GIVING_UP 10
#define EXIT_GRACE_MS 3000
#define TASK_OVERHEAD_MS 100

struct job {
	char app[256];
	char dir[4096];
	uint32_t n_reduce;
	uint64_t timeout, rate;
	char **files;
	uint32_t n_files;
};

struct coordinator {
	struct mr_coord core;
	struct mr_task *shown;               /* what the hub was last told, per task */
	enum mr_phase shown_phase;
	uint32_t told_exit;                  /* bit i: worker i was told to exit */
	uint64_t done_at;
};

struct worker {
	struct mrapp *app;
	enum wire_mr_worker_state state;
	enum mr_task_type type;
	uint32_t task;
	uint64_t since, until;               /* in a task: when it began / ends (virtual) */
	uint64_t ask_at;                     /* asking: when to ask again */
	uint32_t unanswered;
	uint64_t bytes_in, bytes_out;
};

struct mr_state {
	struct job job;
	struct coordinator co;
	struct worker wk;
};

static struct mr_state *st(struct node *n)
{
	return n->svc;
}

/* ---- the job file ----------------------------------------------------------- */

static bool read_job(const char *path, struct job *j, char *why, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return false;
	}
	char line[4200];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *val = strchr(line, ' ');
		if (!val)
			continue;
		*val++ = 0;
		if (strcmp(line, "app") == 0) {
			snprintf(j->app, sizeof j->app, "%s", val);
		} else if (strcmp(line, "dir") == 0) {
			snprintf(j->dir, sizeof j->dir, "%s", val);
		} else if (strcmp(line, "reduces") == 0) {
			j->n_reduce = (uint32_t)strtoul(val, NULL, 10);
		} else if (strcmp(line, "timeout") == 0) {
			j->timeout = strtoull(val, NULL, 10);
		} else if (strcmp(line, "rate") == 0) {
			j->rate = strtoull(val, NULL, 10);
		} else if (strcmp(line, "file") == 0) {
			char **p = realloc(j->files, (j->n_files + 1) * sizeof *p);
			char *copy = strdup(val);
			if (!p || !copy) {
				free(p == j->files ? NULL : p);
				free(copy);
				fclose(f);
				snprintf(why, len, "out of memory reading %s", path);
				return false;
			}
			j->files = p;
			j->files[j->n_files++] = copy;
		}
	}
	fclose(f);
	if (!j->app[0] || !j->dir[0] || j->n_reduce == 0 || j->n_files == 0 || j->timeout == 0 || j->rate == 0) {
		snprintf(why, len, "%s: incomplete job (app, dir, reduces, timeout, rate and files are needed)", path);
		return false;
	}
	return true;
}

/* ---- reports to the hub -------------------------------------------------------- */

static void report_job(struct node *n)
{
	struct coordinator *co = &st(n)->co;
	size_t at = wire_frame_begin(&n->out, WIRE_MR_JOB);
	wbuf_u8(&n->out, (uint8_t)co->core.phase);
	wbuf_u32(&n->out, co->core.cfg.n_map);
	wbuf_u32(&n->out, co->core.cfg.n_reduce);
	wire_frame_end(&n->out, at);
	co->shown_phase = co->core.phase;
}

static void report_task(struct node *n, const struct mr_task *t)
{
	size_t at = wire_frame_begin(&n->out, WIRE_MR_TASK);
	wbuf_u8(&n->out, (uint8_t)t->type);
	wbuf_u32(&n->out, t->id);
	wbuf_u8(&n->out, (uint8_t)t->state);
	wbuf_u32(&n->out, t->worker);
	wbuf_u64(&n->out, t->started);
	wbuf_u64(&n->out, t->finished);
	wbuf_u32(&n->out, t->runs);
	wire_frame_end(&n->out, at);
}

/* Tell the hub about every task that changed since it was last told. */
static void report_changes(struct node *n)
{
	struct coordinator *co = &st(n)->co;
	if (!co->core.changed && co->shown_phase == co->core.phase)
		return;
	uint32_t total = co->core.cfg.n_map + co->core.cfg.n_reduce;
	for (uint32_t i = 0; i < total; i++) {
		const struct mr_task *t = &co->core.tasks[i];
		struct mr_task *s = &co->shown[i];
		if (t->state != s->state || t->worker != s->worker || t->runs != s->runs ||
		    t->started != s->started || t->finished != s->finished) {
			report_task(n, t);
			*s = *t;
		}
	}
	co->core.changed = false;
	if (co->shown_phase != co->core.phase)
		report_job(n);
	if (co->core.phase == MR_DONE && !co->done_at)
		co->done_at = n->now;
}

static void report_worker(struct node *n)
{
	struct worker *w = &st(n)->wk;
	size_t at = wire_frame_begin(&n->out, WIRE_MR_WORKER);
	wbuf_u8(&n->out, (uint8_t)w->state);
	wbuf_u8(&n->out, (uint8_t)w->type);
	wbuf_u32(&n->out, w->task);
	wbuf_u64(&n->out, w->since);
	wbuf_u64(&n->out, w->bytes_in);
	wbuf_u64(&n->out, w->bytes_out);
	wire_frame_end(&n->out, at);
}

/* ---- the coordinator -------------------------------------------------------------- */

static void coordinator_message(struct node *n, const struct wire_mr *m)
{
	struct mr_state *s = st(n);
	struct coordinator *co = &s->co;
	if (m->type == WIRE_MSG_MR_ASK) {
		struct mr_assignment a;
		mr_coord_request(&co->core, n->now, m->from, &a);
		struct wire_mr o = {
			.type = WIRE_MSG_MR_ORDER, .from = n->id, .to = m->from,
			.order = (uint8_t)a.order, .task = a.task, .n_map = a.n_map, .n_reduce = a.n_reduce,
		};
		if (a.order == MR_DO_MAP) {
			o.file = (const uint8_t *)s->job.files[a.task];
			o.file_len = (uint32_t)strlen(s->job.files[a.task]);
		}
		if (a.order == MR_EXIT && m->from < 32)
			co->told_exit |= 1u << m->from;
		node_send_mr(n, &o);
	} else if (m->type == WIRE_MSG_MR_DONE) {
		mr_coord_finished(&co->core, n->now, m->from, (enum mr_task_type)m->task_type, m->task);
	}
	report_changes(n);
}

static bool all_told(struct node *n)
{
	for (uint32_t i = 2; i <= n->n; i++)
		if (!(st(n)->co.told_exit & (1u << i)))
			return false;
	return true;
}

static void coordinator_tick(struct node *n)
{
	struct coordinator *co = &st(n)->co;
	mr_coord_tick(&co->core, n->now);
	report_changes(n);
	if (co->core.phase == MR_DONE && (all_told(n) || n->now >= co->done_at + EXIT_GRACE_MS))
		node_exit(n, 0);
}

static uint64_t coordinator_deadline(struct node *n)
{
	struct coordinator *co = &st(n)->co;
	if (co->core.phase == MR_DONE) {
		/* leave at once when everyone has been told, else after the grace */
		return all_told(n) ? n->now : co->done_at + EXIT_GRACE_MS;
	}
	return mr_coord_deadline(&co->core);
}

/* ---- the worker ---------------------------------------------------------------------- */

static void ask(struct node *n)
{
	struct worker *w = &st(n)->wk;
	struct wire_mr m = { .type = WIRE_MSG_MR_ASK, .from = n->id, .to = 1 };
	node_send_mr(n, &m);
	w->state = WIRE_MRW_ASKING;
	w->ask_at = n->now + ASK_RETRY_MS;
	report_worker(n);
}

/* Write `data` to DIR/NAME by way of a temporary name and a rename. */
static bool write_atomic(struct node *n, const char *name, const uint8_t *data, size_t len)
{
	char path[4400], tmp[4500];
	snprintf(path, sizeof path, "%s/%s", st(n)->job.dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp-%u-%u", path, n->id, n->incarnation);
	FILE *f = fopen(tmp, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		node_fatal(n, "worker %u: cannot write %s: %s", n->id, tmp, strerror(errno));
		return false;
	}
	if (rename(tmp, path) != 0) {
		node_fatal(n, "worker %u: cannot rename %s: %s", n->id, tmp, strerror(errno));
		return false;
	}
	return true;
}

static bool read_file(struct node *n, const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		node_fatal(n, "worker %u: cannot read %s: %s", n->id, path, strerror(errno));
		return false;
	}
	size_t cap = 65536, used = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + used, 1, cap - used, f);
		used += got;
		if (used < cap)
			break;
		uint8_t *more = realloc(buf, cap * 2);
		if (!more) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = more;
		cap *= 2;
	}
	fclose(f);
	if (!buf) {
		node_fatal(n, "worker %u: out of memory reading %s", n->id, path);
		return false;
	}
	*data = buf;
	*len = used;
	return true;
}

/* The work is done (files written); the worker is now "in" the task for
 * the time it is modelled to take: its input at the job's rate, plus what
 * the app slept (in real pace: only what the app slept). */
static void enter_task(struct node *n, enum mr_task_type type, uint32_t task, uint64_t in, uint64_t out)
{
	struct worker *w = &st(n)->wk;
	double slept = mrapp_take_slept(w->app);
	w->state = type == MR_MAP ? WIRE_MRW_MAPPING : WIRE_MRW_REDUCING;
	w->type = type;
	w->task = task;
	w->since = n->now;
	w->bytes_in = in;
	w->bytes_out = out;
	/* in real pace the work took the time it took; only the app's own
	 * sleeps are added (a straggler is a straggler) */
	w->until = n->now + (uint64_t)(slept * 1000);
	if (!n->real)
		w->until += TASK_OVERHEAD_MS + in * 1000 / st(n)->job.rate;
	report_worker(n);
}

struct partitions {
	uint8_t **buf;
	size_t *len, *cap;
	uint32_t n;
	bool failed;
};

static int emit(void *ud, const uint8_t *key, size_t klen, const uint8_t *value, size_t vlen)
{
	struct partitions *p = ud;
	uint32_t r = mr_fnv1a(key, klen) % p->n;
	if (klen > UINT32_MAX || vlen > UINT32_MAX ||
	    mr_record_put(&p->buf[r], &p->len[r], &p->cap[r], key, (uint32_t)klen, value, (uint32_t)vlen) != 0) {
		p->failed = true;
		return -1;
	}
	return 0;
}

/* The app failed: a crash it asked for ends the process like a SIGKILL
 * would; an error in it stops the worker with the error for the person. */
static void app_failed(struct node *n, int rc, const char *what, const char *err)
{
	if (rc == MRAPP_CRASH) {
		node_note(n, 1, "worker %u: the app crashed it during %s", n->id, what);
		node_exit(n, 1);
	} else {
		node_fatal(n, "worker %u: %s: %s", n->id, what, err);
	}
}

static void do_map(struct node *n, uint32_t task, uint32_t n_reduce, const char *file)
{
	struct worker *w = &st(n)->wk;
	uint8_t *data;
	size_t len;
	if (!read_file(n, file, &data, &len))
		return;
	struct partitions p = { .n = n_reduce };
	p.buf = calloc(n_reduce, sizeof *p.buf);
	p.len = calloc(n_reduce, sizeof *p.len);
	p.cap = calloc(n_reduce, sizeof *p.cap);
	char err[512] = "";
	int rc = MRAPP_ERROR;
	if (p.buf && p.len && p.cap) {
		mrapp_set_now(w->app, n->now);
		rc = mrapp_map(w->app, file, data, len, emit, &p, err, sizeof err);
		if (rc == MRAPP_OK && p.failed) {
			rc = MRAPP_ERROR;
			snprintf(err, sizeof err, "out of memory partitioning the map output");
		}
	} else {
		snprintf(err, sizeof err, "out of memory");
	}
	free(data);
	uint64_t out = 0;
	bool ok = rc == MRAPP_OK;
	if (!ok) {
		char what[4200];
		snprintf(what, sizeof what, "map of %s", file);
		app_failed(n, rc, what, err);
	}
	for (uint32_t r = 0; r < n_reduce && ok; r++) {
		char name[64];
		snprintf(name, sizeof name, "mr-%u-%u", task, r);
		ok = write_atomic(n, name, p.buf[r], p.len[r]);
		out += p.len[r];
	}
	for (uint32_t r = 0; p.buf && r < n_reduce; r++)
		free(p.buf[r]);
	free(p.buf);
	free(p.len);
	free(p.cap);
	if (!ok)
		return;
	enter_task(n, MR_MAP, task, len, out);
}

struct kvref {
	const uint8_t *key, *value;
	uint32_t klen, vlen;
	size_t seq;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kvref *x = a, *y = b;
	size_t m = x->klen < y->klen ? x->klen : y->klen;
	int c = m ? memcmp(x->key, y->key, m) : 0;
	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;   /* stable */
}

static void do_reduce(struct node *n, uint32_t task, uint32_t n_map)
{
	struct worker *w = &st(n)->wk;
	uint8_t **files = calloc(n_map, sizeof *files);
	size_t *lens = calloc(n_map, sizeof *lens);
	struct kvref *kv = NULL;
	size_t n_kv = 0, cap_kv = 0, in = 0;
	uint8_t *out = NULL;
	size_t out_len = 0, out_cap = 0;
	bool ok = files && lens;
	for (uint32_t m = 0; m < n_map && ok; m++) {
		char path[4400];
		snprintf(path, sizeof path, "%s/mr-%u-%u", st(n)->job.dir, m, task);
		ok = read_file(n, path, &files[m], &lens[m]);
		in += ok ? lens[m] : 0;
		size_t pos = 0;
		const uint8_t *k, *v;
		uint32_t kl, vl;
		const char *why;
		int rc;
		while (ok && (rc = mr_records_next(files[m], lens[m], &pos, &k, &kl, &v, &vl, &why)) == 1) {
			if (n_kv == cap_kv) {
				cap_kv = cap_kv ? 2 * cap_kv : 1024;
				struct kvref *p = realloc(kv, cap_kv * sizeof *p);
				if (!p) {
					node_fatal(n, "worker %u: out of memory in reduce %u", n->id, task);
					ok = false;
					break;
				}
				kv = p;
			}
			kv[n_kv] = (struct kvref){ .key = k, .klen = kl, .value = v, .vlen = vl, .seq = n_kv };
			n_kv++;
		}
		if (ok && rc < 0) {
			node_fatal(n, "worker %u: %s: %s", n->id, path, why);
			ok = false;
		}
	}
	if (ok && n_kv)
		qsort(kv, n_kv, sizeof *kv, kv_cmp);
	const uint8_t **vals = NULL;
	size_t *vlens = NULL;
	if (ok && n_kv) {
		vals = malloc(n_kv * sizeof *vals);
		vlens = malloc(n_kv * sizeof *vlens);
		ok = vals && vlens;
		if (!ok)
			node_fatal(n, "worker %u: out of memory in reduce %u", n->id, task);
	}
	mrapp_set_now(w->app, n->now);
	for (size_t i = 0; ok && i < n_kv;) {
		size_t j = i;
		while (j < n_kv && kv[j].klen == kv[i].klen && memcmp(kv[j].key, kv[i].key, kv[i].klen) == 0) {
			vals[j - i] = kv[j].value;
			vlens[j - i] = kv[j].vlen;
			j++;
		}
		uint8_t *res = NULL;
		size_t res_len = 0;
		char err[512] = "";
		int rc = mrapp_reduce(w->app, kv[i].key, kv[i].klen, vals, vlens, j - i, &res, &res_len, err, sizeof err);
		if (rc != MRAPP_OK) {
			char what[64];
			snprintf(what, sizeof what, "reduce %u", task);
			app_failed(n, rc, what, err);
			ok = false;
			break;
		}
		size_t need = out_len + kv[i].klen + 1 + res_len + 1;
		if (need > out_cap) {
			size_t c = out_cap ? out_cap : 65536;
			while (c < need)
				c *= 2;
			uint8_t *p = realloc(out, c);
			if (!p) {
				free(res);
				node_fatal(n, "worker %u: out of memory in reduce %u", n->id, task);
				ok = false;
				break;
			}
			out = p;
			out_cap = c;
		}
		memcpy(out + out_len, kv[i].key, kv[i].klen);
		out_len += kv[i].klen;
		out[out_len++] = ' ';
		if (res_len)
			memcpy(out + out_len, res, res_len);
		out_len += res_len;
		out[out_len++] = '\n';
		free(res);
		i = j;
	}
	if (ok) {
		char name[64];
		snprintf(name, sizeof name, "mr-out-%u", task);
		ok = write_atomic(n, name, out, out_len);
	}
	free(vals);
	free(vlens);
	free(kv);
	free(out);
	for (uint32_t m = 0; files && m < n_map; m++)
		free(files[m]);
	free(files);
	free(lens);
	if (!ok)
		return;
	enter_task(n, MR_REDUCE, task, in, out_len);
}

static void worker_message(struct node *n, const struct wire_mr *m)
{
	struct worker *w = &st(n)->wk;
	if (m->type != WIRE_MSG_MR_ORDER || w->state != WIRE_MRW_ASKING)
		return;                      /* late or duplicated: it asked again since */
	w->unanswered = 0;
	switch ((enum mr_order)m->order) {
	case MR_DO_MAP: {
		char file[4096];
		snprintf(file, sizeof file, "%.*s", (int)m->file_len, (const char *)m->file);
		do_map(n, m->task, m->n_reduce, file);
		break;
	}
	case MR_DO_REDUCE:
		do_reduce(n, m->task, m->n_map);
		break;
	case MR_WAIT:
		w->state = WIRE_MRW_WAITING;
		w->since = n->now;
		w->ask_at = n->now + WAIT_MS;
		report_worker(n);
		break;
	case MR_EXIT:
		node_exit(n, 0);
		break;
	}
}

static void worker_tick(struct node *n)
{
	struct worker *w = &st(n)->wk;
	switch (w->state) {
	case WIRE_MRW_MAPPING:
	case WIRE_MRW_REDUCING:
		if (n->now >= w->until) {
			struct wire_mr d = { .type = WIRE_MSG_MR_DONE, .from = n->id, .to = 1,
					     .task_type = (uint8_t)w->type, .task = w->task, .bytes = w->bytes_out };
			node_send_mr(n, &d);
			ask(n);
		}
		break;
	case WIRE_MRW_WAITING:
		if (n->now >= w->ask_at)
			ask(n);
		break;
	case WIRE_MRW_ASKING:
		if (n->now >= w->ask_at) {
			if (++w->unanswered >= ASKS_BEFORE_GIVING_UP) {
				node_note(n, 0, "worker %u: no answer from the coordinator %u times; the job must be over",
					  n->id, w->unanswered);
				node_exit(n, 0);
				return;
			}
			ask(n);
		}
		break;
	}
}

static uint64_t worker_deadline(struct node *n)
{
	struct worker *w = &st(n)->wk;
	return w->state == WIRE_MRW_MAPPING || w->state == WIRE_MRW_REDUCING ? w->until : w->ask_at;
}

/* ---- the kind ---------------------------------------------------------------------------- */

static bool mr_init(struct node *n, const char **why)
{
	static char msg[600];
	struct mr_state *s = calloc(1, sizeof *s);
	if (!s) {
		*why = "out of memory";
		return false;
	}
	n->svc = s;
	if (!n->job) {
		*why = "no --job file";
		return false;
	}
	if (!read_job(n->job, &s->job, msg, sizeof msg)) {
		*why = msg;
		return false;
	}
	if (n->id == 1) {
		struct mr_config cfg = { .n_map = s->job.n_files, .n_reduce = s->job.n_reduce, .timeout = s->job.timeout };
		if (mr_coord_init(&s->co.core, &cfg) != 0) {
			snprintf(msg, sizeof msg, "%s", s->co.core.errmsg);
			*why = msg;
			return false;
		}
		s->co.shown = calloc(cfg.n_map + cfg.n_reduce, sizeof *s->co.shown);
		if (!s->co.shown) {
			*why = "out of memory";
			return false;
		}
		return true;
	}
	s->wk.app = mrapp_open(s->job.app, n->id, rng_mix(rng_mix(n->seed, n->id), n->incarnation),
			       msg, sizeof msg);
	if (!s->wk.app) {
		*why = msg;
		return false;
	}
	mrapp_set_dir(s->wk.app, s->job.dir);
	return true;
}

static void mr_destroy(struct node *n)
{
	struct mr_state *s = n->svc;
	if (!s)
		return;
	if (s->wk.app)
		mrapp_close(s->wk.app);
	if (s->co.core.tasks)
		mr_coord_free(&s->co.core);
	free(s->co.shown);
	for (uint32_t i = 0; i < s->job.n_files; i++)
		free(s->job.files[i]);
	free(s->job.files);
	free(s);
	n->svc = NULL;
}

static void mr_begin(struct node *n)
{
	if (n->id == 1) {
		struct coordinator *co = &st(n)->co;
		report_job(n);
		co->core.changed = true;
		/* every task, once: the board starts complete */
		uint32_t total = co->core.cfg.n_map + co->core.cfg.n_reduce;
		for (uint32_t i = 0; i < total; i++) {
			report_task(n, &co->core.tasks[i]);
			co->shown[i] = co->core.tasks[i];
		}
		co->core.changed = false;
	} else {
		ask(n);
	}
}

static void mr_message(struct node *n, const struct wire_mr *m)
{
	if (n->id == 1)
		coordinator_message(n, m);
	else
		worker_message(n, m);
}

static void mr_tick(struct node *n)
{
	if (n->id == 1)
		coordinator_tick(n);
	else
		worker_tick(n);
}

static uint64_t mr_deadline(struct node *n)
{
	return n->id == 1 ? coordinator_deadline(n) : worker_deadline(n);
}

const struct node_kind node_kind_mr = {
	.name = "mr",
	.raft = false,
	.init = mr_init,
	.destroy = mr_destroy,
	.message = mr_message,
	.begin = mr_begin,
	.tick = mr_tick,
	.deadline = mr_deadline,
};
