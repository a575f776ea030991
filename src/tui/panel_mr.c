/*
 * panel_mr.c — a MapReduce job at a glance (kind mr): the task board as
 * the coordinator reports it, and (drawn in the Nodes panel's place) the
 * coordinator and the workers as they report themselves.
 *
 * The board: the phase, how many map and reduce tasks are done, the bytes
 * written between the phases (intermediate) and at the end (output); then
 * one grid of map tasks and one of reduce tasks, a cell per task coloured
 * by its state with a text cue: idle (dim), in progress ("n3 1.2s": on
 * worker 3 for 1.2 virtual seconds), done (a check and who did it).  A task
 * handed out more than once is marked (↻): the paper's re-execution, after
 * a timeout.  A task still "in progress" on a worker that cannot finish it
 * (crashed, paused, cut off) is drawn in the fault colour with a cross: the
 * coordinator does not know yet, and will not until the timeout.  When the
 * cells with words do not fit, each task is one glyph.
 *
 * The nodes: n1 the coordinator (its phase and what is in progress), then
 * each worker's state, task, for how long, tasks done, the bytes of the
 * task it is in, and the input file it maps.
 *
 * The input files' names and the timeout come from the job file the
 * controller wrote for the nodes (its run dir's job.txt), read once per
 * cluster.  It only reads the hub's mirror; it never changes the run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

#define LABEL 7                  /* "reduce " before a grid's cells */

/* ---- the job file -------------------------------------------------------- */

static struct {
	char dir[1024];                  /* the run dir it was read from ("" none) */
	char app[64];
	uint64_t timeout;
	char **names;                    /* base names of the inputs: map task i reads names[i] */
	uint32_t n;
} job;

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void job_forget(void)
{
	for (uint32_t i = 0; i < job.n; i++)
		free(job.names[i]);
	free(job.names);
	memset(&job, 0, sizeof job);
}

/* Read the job of h's cluster, unless it is the one read last (or its
 * file could not be read then: no retry every frame). */
static void job_load(const struct hub *h)
{
	const char *dir = hub_dir(h);
	if (!dir || strcmp(dir, job.dir) == 0)
		return;
	job_forget();
	snprintf(job.dir, sizeof job.dir, "%s", dir);
	char path[1200];
	snprintf(path, sizeof path, "%s/job.txt", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[4200];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *val = strchr(line, ' ');
		if (!val)
			continue;
		*val++ = 0;
		if (!strcmp(line, "app")) {
			snprintf(job.app, sizeof job.app, "%s", base_name(val));
		} else if (!strcmp(line, "timeout")) {
			job.timeout = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "file") && job.n < MR_MAX_TASKS) {
			char **p = realloc(job.names, (job.n + 1) * sizeof *p);
			if (!p)
				break;
			job.names = p;
			char *name = strdup(base_name(val));
			if (!name)
				break;
			job.names[job.n++] = name;
		}
	}
	fclose(f);
}

const char *ui_mr_input(const struct hub *h, uint32_t task)
{
	if (strcmp(hub_kind(h), "mr") != 0)
		return NULL;
	job_load(h);
	return task < job.n ? job.names[task] : NULL;
}

uint64_t ui_mr_timeout(const struct hub *h)
{
	job_load(h);
	return job.timeout;
}

const char *ui_mr_app(const struct hub *h)
{
	job_load(h);
	return job.app;
}

/* ---- helpers ------------------------------------------------------------- */

static int digits(uint32_t x)
{
	int d = 1;
	while (x >= 10)
		x /= 10, d++;
	return d;
}

bool ui_mr_stuck(const struct hub *h, const struct hub_mr_task *t)
{
	if (t->state != MR_RUNNING || t->worker < 2 || t->worker > hub_size(h))
		return false;
	const struct hub_node *nd = hub_node(h, t->worker);
	return nd->status != HUB_NODE_UP || nd->paused || !hub_can_reach(h, t->worker, 1) ||
	       !hub_can_reach(h, 1, t->worker);
}

/* Columns a UTF-8 string takes (every glyph we draw is one wide). */
static int columns(const char *s)
{
	int c = 0;
	for (; *s; s++)
		c += ((unsigned char)*s & 0xc0) != 0x80;
	return c;
}

static uint64_t since(const struct tui_view *v, uint64_t t)
{
	return v->clock > t ? v->clock - t : 0;
}

static void counts(const struct hub_mr *mr, uint8_t type, uint32_t *done, uint32_t *running, uint32_t *idle)
{
	*done = *running = *idle = 0;
	uint32_t from = type == MR_MAP ? 0 : mr->n_map, to = type == MR_MAP ? mr->n_map : mr->n_map + mr->n_reduce;
	for (uint32_t i = from; i < to; i++) {
		uint8_t s = mr->tasks[i].state;
		*(s == MR_FINISHED ? done : s == MR_RUNNING ? running : idle) += 1;
	}
}

/* Cells of words: "12↻n3✗ 9.9s" — the id, a mark for re-execution, then
 * the worker (and a cross if it cannot work) and the time, or a check and
 * who did it, or "idle". */
struct geom {
	bool words;                      /* cells of words, else a glyph a task */
	int iw, bw, cw;                  /* id width, body width, cell width (gap included) */
	int per_row;                     /* cells a row */
};

static struct geom geometry(const struct hub *h, const struct hub_mr *mr, int width, bool words)
{
	struct geom g = { .words = words };
	uint32_t most = mr->n_map > mr->n_reduce ? mr->n_map : mr->n_reduce;
	g.iw = digits(most ? most - 1 : 0);
	g.bw = 1 + digits(hub_size(h)) + 1 + 1 + 4;   /* "n3✗ 9.9s" */
	g.cw = words ? g.iw + 1 + g.bw + 1 : 2;
	g.per_row = (width - LABEL) / g.cw;
	if (g.per_row < 1)
		g.per_row = 1;
	return g;
}

static int grid_rows(const struct geom *g, uint32_t n)
{
	return (int)((n + (uint32_t)g->per_row - 1) / (uint32_t)g->per_row);
}

int ui_mr_rows(const struct tui_view *v, int w)
{
	if (!v->hub)
		return 3;
	const struct hub_mr *mr = hub_mr(v->hub);
	if (!mr->have || !mr->tasks)
		return 2 + 2;
	struct geom g = geometry(v->hub, mr, w - 3, true);
	return 2 + 1 + grid_rows(&g, mr->n_map) + grid_rows(&g, mr->n_reduce) + 1;
}

/* ---- the board ------------------------------------------------------------ */

static void cell(WINDOW *w, const struct tui_view *v, const struct geom *g, int y, int x,
		 const struct hub_mr_task *t)
{
	const struct hub *h = v->hub;
	bool again = t->runs > 1 || (t->state == MR_IDLE && t->runs > 0);
	bool stuck = ui_mr_stuck(h, t);
	int attr;
	char body[48], tm[16];
	const char *glyph;
	switch (t->state) {
	case MR_FINISHED:
		attr = ui_attr(v, CP_OK, (int)A_NORMAL);
		snprintf(body, sizeof body, "%s n%u", ui_glyph(v, "✓", "ok"), t->worker);
		glyph = ui_glyph(v, "✓", "#");
		break;
	case MR_RUNNING:
		attr = stuck ? (ui_attr(v, CP_DOWN, (int)A_UNDERLINE) | (int)A_BOLD)
			     : (ui_attr(v, CP_CANDIDATE, (int)A_NORMAL) | (int)A_BOLD);
		snprintf(body, sizeof body, "n%u%s %s", t->worker, stuck ? ui_glyph(v, "✗", "!") : "",
			 ui_secs(since(v, t->started), tm, sizeof tm));
		glyph = NULL;
		break;
	default:
		attr = again ? ui_attr(v, CP_CANDIDATE, (int)A_NORMAL) : ui_attr(v, CP_DIM, (int)A_DIM);
		snprintf(body, sizeof body, "idle");
		glyph = ui_glyph(v, "·", ".");
		break;
	}
	if (!g->words) {
		char one[8];
		if (!glyph) {                    /* in progress: the worker's number */
			snprintf(one, sizeof one, "%c", t->worker < 10 ? (char)('0' + t->worker) : '+');
			glyph = one;
		}
		int a = attr | (again ? (int)A_UNDERLINE : 0);
		wattron(w, a);
		ui_print(w, y, x, 1, "%s", glyph);
		wattroff(w, a);
		return;
	}
	int da = ui_attr(v, CP_DIM, (int)A_DIM);
	wattron(w, da);
	ui_print(w, y, x, g->iw, "%*u", g->iw, t->id);
	wattroff(w, da);
	if (again) {
		int ma = ui_attr(v, CP_CANDIDATE, (int)A_BOLD) | (int)A_BOLD;
		wattron(w, ma);
		ui_print(w, y, x + g->iw, 1, "%s", ui_glyph(v, "↻", "*"));
		wattroff(w, ma);
	}
	wattron(w, attr);
	ui_print(w, y, x + g->iw + 1, g->bw, "%s", body);
	wattroff(w, attr);
}

/* One grid: its label, then its cells, `rows` rows at most (the last says
 * how many more there are if they do not all fit). */
static int grid(WINDOW *w, const struct tui_view *v, const struct geom *g, int y, int x, int width, int rows,
		const char *label, const struct hub_mr_task *tasks, uint32_t n)
{
	if (rows <= 0)
		return 0;
	int la = (int)A_BOLD;
	wattron(w, la);
	ui_print(w, y, x, LABEL - 1, "%s", label);
	wattroff(w, la);
	int need = grid_rows(g, n);
	uint32_t room = (uint32_t)(rows < need ? rows : need) * (uint32_t)g->per_row;
	uint32_t reserve = (uint32_t)((9 + g->cw - 1) / g->cw);      /* "…12 more" */
	uint32_t shown = n <= room ? n : room > reserve ? room - reserve : 0;
	for (uint32_t i = 0; i < shown; i++)
		cell(w, v, g, y + (int)(i / (uint32_t)g->per_row), x + LABEL + (int)(i % (uint32_t)g->per_row) * g->cw,
		     &tasks[i]);
	if (shown < n) {
		int cx = x + LABEL + (int)(shown % (uint32_t)g->per_row) * g->cw;
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y + (int)(shown / (uint32_t)g->per_row), cx, x + width - cx, "%s%u more",
			 ui_glyph(v, "…", "+"), n - shown);
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	}
	return rows < need ? rows : need;
}

static void summary(WINDOW *w, const struct tui_view *v, int y, int x, int width)
{
	const struct hub_mr *mr = hub_mr(v->hub);
	uint32_t md, mrun, midle, rd, rrun, ridle;
	counts(mr, MR_MAP, &md, &mrun, &midle);
	counts(mr, MR_REDUCE, &rd, &rrun, &ridle);
	char phase[64];
	int pa;
	if (mr->phase == MR_DONE) {
		uint64_t end = 0;
		for (uint32_t i = 0; i < mr->n_map + mr->n_reduce; i++)
			if (mr->tasks[i].finished > end)
				end = mr->tasks[i].finished;
		snprintf(phase, sizeof phase, "%s %s at %.1fs", ui_glyph(v, "✓", "ok"), width >= 90 ? "job done" : "done",
			 (double)end / 1000.0);
		pa = ui_attr(v, CP_OK, (int)A_BOLD) | (int)A_BOLD;
	} else {
		snprintf(phase, sizeof phase, "%s phase", mr->phase == MR_MAPPING ? "map" : "reduce");
		pa = ui_attr(v, mr->phase == MR_MAPPING ? CP_CANDIDATE : CP_FOLLOWER, (int)A_NORMAL) | (int)A_BOLD;
	}
	wattron(w, pa);
	ui_print(w, y, x, width, "%s", phase);
	wattroff(w, pa);
	int px = x + columns(phase) + 2;
	char inter[24], out[24], to[24] = "";
	uint64_t tmo = ui_mr_timeout(v->hub);
	if (tmo && width >= 90)
		snprintf(to, sizeof to, "  timeout %s", ui_secs(tmo, inter, sizeof inter));
	ui_print(w, y, px, x + width - px, "maps %u/%u  reduces %u/%u  intermediate %s  output %s%s", md, mr->n_map, rd,
		 mr->n_reduce, ui_size(mr->intermediate_bytes, inter, sizeof inter), ui_size(mr->output_bytes, out, sizeof out),
		 to);
}

static void legend(WINDOW *w, const struct tui_view *v, int y, int x, int width, bool words)
{
	char tmo[16] = "the", buf[320];
	if (ui_mr_timeout(v->hub))
		ui_secs(ui_mr_timeout(v->hub), tmo, sizeof tmo);
	if (words && width >= 100)
		snprintf(buf, sizeof buf, "n3 1.2s: in progress on n3 for 1.2s  %s done  %s handed out again (re-executed)  "
			 "%s its worker is down: it waits for %s timeout", ui_glyph(v, "✓", "ok"), ui_glyph(v, "↻", "*"),
			 ui_glyph(v, "✗", "!"), tmo);
	else if (words)
		snprintf(buf, sizeof buf, "n3 1.2s: on n3 for 1.2s  %s done  %s re-executed  %s its worker is down",
			 ui_glyph(v, "✓", "ok"), ui_glyph(v, "↻", "*"), ui_glyph(v, "✗", "!"));
	else
		snprintf(buf, sizeof buf, "%s idle  3: on n3  %s done  underlined: re-executed  %s: its worker is down",
			 ui_glyph(v, "·", "."), ui_glyph(v, "✓", "#"), v->color ? "red" : "bold underlined");
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_print(w, y, x, width, "%s", buf);
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
}

static void draw(struct panel *p, const struct tui_view *v)
{
	char title[160];
	const char *app = v->hub ? ui_mr_app(v->hub) : "";
	snprintf(title, sizeof title, "MapReduce%s%s: the coordinator's task board", *app ? " " : "", app);
	ui_frame(p, v, title);
	if (!v->hub)
		return;
	WINDOW *w = p->win;
	int W = p->w - 3, H = p->h - 2, x = 2, y = 1;
	if (W < 10 || H < 1)
		return;
	const struct hub_mr *mr = hub_mr(v->hub);
	if (!mr->have || !mr->tasks) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, W, "waiting for the coordinator (n1) to report the job");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		return;
	}
	summary(w, v, y++, x, W);
	int rows = H - 1;
	/* words if both grids fit, else a glyph a task */
	struct geom g = geometry(v->hub, mr, W, true);
	int need = grid_rows(&g, mr->n_map) + grid_rows(&g, mr->n_reduce);
	if (need > rows) {
		g = geometry(v->hub, mr, W, false);
		need = grid_rows(&g, mr->n_map) + grid_rows(&g, mr->n_reduce);
	}
	int mrows = grid_rows(&g, mr->n_map);
	if (need > rows) {                       /* even so too many: share the rows */
		mrows = rows / 2 > 0 ? rows / 2 : 1;
		if (rows - mrows > grid_rows(&g, mr->n_reduce))
			mrows = rows - grid_rows(&g, mr->n_reduce);
	}
	y += grid(w, v, &g, y, x, W, mrows, "map", mr->tasks, mr->n_map);
	y += grid(w, v, &g, y, x, W, 1 + H - y, "reduce", mr->tasks + mr->n_map, mr->n_reduce);
	if (y <= H)
		legend(w, v, H, x, W, g.words);
}

/* ---- the nodes ------------------------------------------------------------- */

/* Columns (window x): id 1, state 5, role 14, doing 26, task 35, for 45,
 * done 51, read 56, wrote 66, input 76. */
static void coordinator_row(WINDOW *w, const struct tui_view *v, int y, int width)
{
	const struct hub *h = v->hub;
	const struct hub_node *nd = hub_node(h, 1);
	const struct hub_mr *mr = hub_mr(h);
	char text[HUB_ERRMSG + 100];
	int a = (int)A_NORMAL;
	if (nd->status == HUB_NODE_EXITED) {
		snprintf(text, sizeof text, "left: the job is done and every worker told");
		a = ui_attr(v, CP_DIM, (int)A_DIM);
	} else if (nd->status == HUB_NODE_FAILED) {
		snprintf(text, sizeof text, "%s", nd->why);
	} else if (nd->status != HUB_NODE_UP) {
		snprintf(text, sizeof text, "down: the workers' asks go unanswered");
		a = ui_attr(v, CP_DOWN, (int)A_BOLD);
	} else if (!mr->have || !mr->tasks) {
		snprintf(text, sizeof text, "reading the job");
	} else if (mr->phase == MR_DONE) {
		snprintf(text, sizeof text, "job done: tells each worker that asks to exit");
		a = ui_attr(v, CP_OK, (int)A_NORMAL);
	} else {
		uint32_t d, r, i, stuck = 0;
		counts(mr, mr->phase == MR_MAPPING ? MR_MAP : MR_REDUCE, &d, &r, &i);
		for (uint32_t k = 0; k < mr->n_map + mr->n_reduce; k++)
			stuck += ui_mr_stuck(h, &mr->tasks[k]);
		char st[48] = "";
		if (stuck)
			snprintf(st, sizeof st, " (%u stuck)", stuck);
		snprintf(text, sizeof text, "%s phase: %u in progress%s, %u idle, %u done",
			 mr->phase == MR_MAPPING ? "map" : "reduce", r, st, i, d);
	}
	wattron(w, a);
	ui_print(w, y, 26, width - 25, "%s", text);
	wattroff(w, a);
}

/* The task a crashed or stopped worker holds on the board, or NULL. */
static const struct hub_mr_task *held_by(const struct hub_mr *mr, uint32_t id)
{
	for (uint32_t i = 0; mr->tasks && i < mr->n_map + mr->n_reduce; i++)
		if (mr->tasks[i].state == MR_RUNNING && mr->tasks[i].worker == id)
			return &mr->tasks[i];
	return NULL;
}

static void worker_row(WINDOW *w, const struct tui_view *v, uint32_t id, int y, int width)
{
	static const char *const doing[] = { "asking", "mapping", "reducing", "waiting" };
	const struct hub *h = v->hub;
	const struct hub_node *nd = hub_node(h, id);
	const struct hub_mr *mr = hub_mr(h);
	const struct hub_mr_worker *wk = &mr->workers[id];
	char buf[64];
	if (nd->status != HUB_NODE_UP) {
		const struct hub_mr_task *t = held_by(mr, id);
		char text[HUB_ERRMSG + 100], tmo[16] = "its";
		if (ui_mr_timeout(h))
			snprintf(tmo, sizeof tmo, "the %s", ui_secs(ui_mr_timeout(h), buf, sizeof buf));
		int a = ui_attr(v, CP_DIM, (int)A_DIM), tx = 56;
		if (nd->status == HUB_NODE_FAILED) {
			snprintf(text, sizeof text, "%s", nd->why);
			tx = 26;
		} else if (t) {
			/* the coordinator cannot know: only the timeout tells it */
			bool room = width - 35 >= 80;
			snprintf(text, sizeof text, room ? "%s %u stays in progress on the board until %s timeout: then "
				 "another worker gets it" : "%s %u stuck until %s timeout",
				 t->type == MR_MAP ? "map" : "reduce", t->id, tmo);
			a = ui_attr(v, CP_DOWN, (int)A_BOLD);
			tx = 35;
		} else if (nd->status == HUB_NODE_STARTING || (nd->status == HUB_NODE_DOWN && !nd->incarnation)) {
			snprintf(text, sizeof text, "%s", "");       /* not started yet */
		} else if (nd->status == HUB_NODE_EXITED) {
			snprintf(text, sizeof text, width - 56 >= 30 ? "told to exit: the job is done" : "job done");
		} else {
			snprintf(text, sizeof text, width - 56 >= 40 ? "r restarts it: it asks for a task again"
				 : "r restarts it");
		}
		if (tx > 26)
			ui_print(w, y, 26, 1, "-");
		if (tx > 35) {
			ui_print(w, y, 35, 1, "-");
			ui_print(w, y, 51, 4, "%4" PRIu64, wk->tasks_done);
		}
		wattron(w, a);
		ui_print(w, y, tx, width - tx + 1, "%s", text);
		wattroff(w, a);
		return;
	}
	ui_print(w, y, 51, 4, "%4" PRIu64, wk->tasks_done);
	uint8_t st = wk->state <= WIRE_MRW_WAITING ? wk->state : WIRE_MRW_ASKING;
	bool busy = st == WIRE_MRW_MAPPING || st == WIRE_MRW_REDUCING;
	int da = busy ? (ui_attr(v, st == WIRE_MRW_MAPPING ? CP_CANDIDATE : CP_FOLLOWER, (int)A_BOLD) | (int)A_BOLD)
		      : ui_attr(v, CP_DIM, (int)A_DIM);
	wattron(w, da);
	ui_print(w, y, 26, 8, "%-8s", doing[st]);
	wattroff(w, da);
	if (!busy) {
		ui_print(w, y, 35, 9, "-");
		return;
	}
	snprintf(buf, sizeof buf, "%s %u", wk->type == MR_MAP ? "map" : "reduce", wk->task);
	ui_print(w, y, 35, 9, "%s", buf);
	char s1[16], s2[16], s3[16];
	ui_print(w, y, 45, 5, "%5s", ui_secs(since(v, wk->since), s1, sizeof s1));
	ui_print(w, y, 56, width - 55, "%9s %9s", ui_size(wk->bytes_in, s2, sizeof s2), ui_size(wk->bytes_out, s3, sizeof s3));
	const char *in = wk->type == MR_MAP ? ui_mr_input(h, wk->task) : NULL;
	if (in && width - 76 >= 8)
		ui_print(w, y, 77, width - 76, "%s", in);
}

void ui_mr_nodes(struct panel *p, const struct tui_view *v)
{
	WINDOW *w = p->win;
	int inner = p->w - 2;
	wattron(w, (int)A_BOLD);
	ui_print(w, 1, 1, inner, " id state    role        doing    task       for done      read     wrote%s",
		 inner - 76 >= 8 ? "  input" : "");
	wattroff(w, (int)A_BOLD);
	const struct hub *h = v->hub;
	uint32_t n = hub_size(h);
	for (uint32_t i = 1; i <= n && (int)i + 1 < p->h - 1; i++) {
		const struct hub_node *nd = hub_node(h, i);
		int y = (int)i + 1;
		bool up = nd->status == HUB_NODE_UP;
		bool cut = up && !nd->paused && (hub_net(h)->isolated[i] || (i > 1 && (!hub_can_reach(h, i, 1) ||
											 !hub_can_reach(h, 1, i))));
		bool sel = i == v->selected;
		if (sel)
			wattron(w, (int)A_REVERSE);
		mvwhline(w, y, 1, ' ', inner);
		ui_print(w, y, 1, inner, "  %u", i);
		int sattr = nd->status == HUB_NODE_EXITED ? ui_attr(v, CP_DIM, (int)A_DIM)
			  : !up ? (ui_attr(v, CP_DOWN, (int)A_BOLD) | (int)A_BOLD)
			  : nd->paused ? ui_attr(v, CP_PAUSED, (int)A_UNDERLINE)
			  : cut ? (ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD) : (int)A_NORMAL;
		wattron(w, sattr);
		ui_print(w, y, 5, 8, "%-8s", cut ? "cut-off" : ui_status_name(nd));
		wattroff(w, sattr);
		int ra = i == 1 ? (ui_attr(v, CP_LEADER, (int)A_BOLD) | (int)A_BOLD) : (int)A_NORMAL;
		wattron(w, ra);
		ui_print(w, y, 14, 11, "%s", i == 1 ? "coordinator" : "worker");
		wattroff(w, ra);
		if (i == 1)
			coordinator_row(w, v, y, inner);
		else
			worker_row(w, v, i, y, inner);
		if (sel)
			wattroff(w, (int)A_REVERSE);
	}
}

const struct panel_ops panel_mr_ops = { "mr", draw, NULL };
