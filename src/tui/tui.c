/*
 * tui.c — the dashboard: the terminal, the layout, the keys, the prompt.
 *
 * It owns the terminal from tui_start to tui_stop and gives it back as it
 * found it on every way out (q, Ctrl-C, a signal, the process exiting).
 * Input comes through a uv_poll on stdin, drained with non-blocking reads;
 * SIGWINCH through a uv_signal.  Events only mark the screen dirty; a frame
 * timer draws at most 30 times a second, and only when something changed
 * (or, while paced time runs, 10 times a second for the clock and timers).
 *
 * It never changes the run itself: every key that does (crash, isolate, a
 * request, ...) becomes a line of Lua handed to the runtime (rt_hand), which
 * runs it at the right virtual instant and records it.  Pace keys (space,
 * '.', '+', '-') only change how virtual time maps to the wall clock.
 *
 * The bottom line doubles as the Lua prompt (:) and, on a key/value
 * cluster, as the request line (k): "put x 1" there becomes
 * client(1):put("x", "1"), run as its own task, so a request that waits
 * (a client cut off from the majority) leaves the dashboard live; its
 * answer comes back to the bottom line.  K checks the clients' history
 * (c:check_linearizable(), not recorded: it changes nothing).  w shows
 * the next cluster when a script runs several (ts._show_next(), not
 * recorded either: what is on screen is not part of the run).
 *
 * An etcd cluster is a key/value one here (the request line, K), but its
 * members are real etcd: the keys that would drive our Raft nodes' inner
 * workings (t, a, k's bare command), step virtual time (., +, -) or
 * replay the run (b) say why they do not apply instead of acting.
 */
#include "tui.h"

#include <ctype.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>
#include <lauxlib.h>
#include <lua.h>

#include "../gateway/resp.h"
#include "../script/script.h"
#include "panel.h"

#define FRAME_MS 33
#define CLOCK_FRAME_MS 100
#define HISTORY 100
#define PROMPT_MAX 512

enum { P_STATUS, P_NODES, P_LOGS, P_NET, P_EVENTS, P_DETAIL, P_LESSON, P_KV, P_MR, P_HELP, P_MENU, P_KEYS, P_COUNT };

/* The bottom line can be a Lua prompt (:) or a key/value request (k on a
 * kv/kvsrv cluster); each keeps its own history. */
enum { LINE_LUA, LINE_KV, LINE_KINDS };
#define MIN_KV_ROWS 8                        /* the key/value panel, framed, at least */
#define MIN_MR_ROWS 4                        /* the MapReduce board: the summary and a grid row */
#define MR_EVENTS_ROWS 5                     /* the events under the board, framed, at least */

struct tui {
	struct runtime *rt;
	SCREEN *screen;
	uv_poll_t input;
	uv_signal_t winch;
	uv_timer_t frame;
	int handles;
	struct panel panels[P_COUNT];
	struct tui_view view;
	bool dirty;
	uint64_t last_draw;
	int rows, cols;
	bool help, detail;
	char status[1024];
	char running[256];
	/* the prompt */
	bool prompting;
	int mode;                            /* LINE_LUA or LINE_KV */
	char line[PROMPT_MAX];
	int len, cur;
	char *history[LINE_KINDS][HISTORY];
	int n_history[LINE_KINDS], hist_at;
	int requests;                        /* k presses: names the commands */
	uint32_t laid_out_for;               /* the cluster size the layout is for */
	bool laid_out_kv;                    /* ... and whether it is a key/value one */
	bool laid_out_mr;                    /* ... or a MapReduce one */
	bool laid_out_etcd;                  /* ... or real etcd members */
	uint32_t laid_out_tasks;             /* ... and its tasks (the board's size) */
	bool raft_view;                      /* small screen, kv cluster: v chose the other view
					      * (the Raft panels; in a lesson, the key/value panel) */
	int lesson_step;                     /* the step whose start we have seen */
	char lesson_label[160];
};

static bool screen_active;               /* for the exit-time restore */

/* Copy src into dst[n], cutting it short if it does not fit. */
static void copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = 0;
}

static void restore_at_exit(void)
{
	if (screen_active) {
		endwin();
		screen_active = false;
	}
}

static void read_lesson(struct tui *t);
static void tell_selected(struct tui *t);
#define KV_CHECK_BUDGET 2000000          /* search steps: about half a second at worst */

static void load_menu(struct tui *t);
static void set_status(struct tui *t, bool error, const char *text);

/* ---- layout ---------------------------------------------------------- */

static void place(struct panel *p, int y, int x, int h, int w)
{
	p->shown = h > 0 && w > 0;
	if (!p->shown)
		return;
	p->y = y, p->x = x, p->h = h, p->w = w;
	if (p->win) {
		wresize(p->win, h, w);
		mvwin(p->win, y, x);
	} else {
		p->win = newwin(h, w, y, x);
	}
	if (!p->win)
		p->shown = false;
}

static uint32_t cluster_size(struct tui *t)
{
	return t->view.hub ? hub_size(t->view.hub) : 5;
}

static bool kv_kind(const struct hub *h)
{
	const char *k = h ? hub_kind(h) : NULL;
	return k && (strcmp(k, "kv") == 0 || strcmp(k, "kvsrv") == 0 || strcmp(k, "etcd") == 0);
}

static bool etcd_kind(const struct hub *h)
{
	return h && strcmp(hub_kind(h), "etcd") == 0;
}

static bool mr_kind(const struct hub *h)
{
	return h && strcmp(hub_kind(h), "mr") == 0;
}

static uint32_t mr_tasks(const struct hub *h)
{
	const struct hub_mr *mr = mr_kind(h) ? hub_mr(h) : NULL;
	return mr && mr->have && mr->tasks ? mr->n_map + mr->n_reduce : 0;
}

/* The MapReduce board's rows at width w with at most `room` rows, leaving
 * the events theirs when it can. */
static int mr_rows(struct tui *t, int w, int room)
{
	int want = ui_mr_rows(&t->view, w);
	if (room - want < MR_EVENTS_ROWS + 3 && want > MIN_MR_ROWS)
		want--;                              /* the legend: the events need the row more */
	int h = want < room - MR_EVENTS_ROWS ? want : room - MR_EVENTS_ROWS;
	if (h < MIN_MR_ROWS)
		h = want < room ? want : room;
	return h > 0 ? h : 0;
}

/* The events beside the network, or alone when narrow: rows [y, y+h). */
static void place_events_net(struct tui *t, int y, int h, int C)
{
	if (C >= 72) {
		int nw = C >= 100 ? 44 : 34;
		place(&t->panels[P_EVENTS], y, 0, h, C - nw);
		place(&t->panels[P_NET], y, C - nw, h, nw);
	} else {
		place(&t->panels[P_EVENTS], y, 0, h, C);
	}
}

/*
 * Panels collapse as the terminal shrinks; nothing overlaps.  A key/value
 * cluster adds its panel: on a wide screen under the logs (the network and
 * the events then share the right column); on a narrow one above the
 * events; and where both cannot fit, one or the other, v switching.  A
 * MapReduce cluster has no Raft log: its board takes the logs' place, as
 * many rows as its grids need, and the events what is left.
 */
static void layout(struct tui *t)
{
	int R = t->rows, C = t->cols;
	for (int i = 0; i < P_COUNT; i++)
		t->panels[i].shown = false;
	place(&t->panels[P_STATUS], 0, 0, 1, C);
	place(&t->panels[P_KEYS], R - 1, 0, 1, C);
	int n = (int)cluster_size(t);
	bool kv = t->view.kv, mr = t->view.mr;
	t->view.kv_switch = t->view.kv_view = false;
	int top = 1, bottom = R - 1;            /* main area: rows [top, bottom) */
	int netw = C >= 180 ? 64 : C >= 120 ? 8 + 7 * n + 4 : 0;
	if (netw > C / 2)
		netw = C / 2;
	if (kv && netw && netw < 44)                 /* the events will share the column */
		netw = C / 2 < 44 ? C / 2 : 44;
	if (mr && netw && C - netw < 80)             /* the board and the workers' rows need 80 */
		netw = C - 80 >= 34 ? C - 80 : 0;
	int leftw = C - netw;
	int nodes_h = n + 3, logs_h = n + 3, net_h = n + 8;
	if (t->view.hub && strcmp(hub_kind(t->view.hub), "kvsrv") == 0)
		logs_h = 0;                          /* one server, no Raft: no log */
	if (mr)
		logs_h = 0;                          /* a coordinator and workers: no log */
	int avail = bottom - top;
	if (avail < nodes_h + 3) {
		nodes_h = avail;
		logs_h = 0;
	} else if (avail < nodes_h + logs_h + 3) {
		logs_h = avail - nodes_h - 3;
		if (logs_h < 3)
			logs_h = 0;
	}
	bool lesson = t->view.lesson.active;
	if (lesson && avail - nodes_h - logs_h < 12)
		logs_h = avail - nodes_h - 12 >= 5 ? avail - nodes_h - 12 : 0;
	place(&t->panels[P_NODES], top, 0, nodes_h, leftw);
	int y = top + nodes_h;
	if (lesson && !t->detail) {
		/* the key/value panel before the logs, leaving the lesson 12 rows;
		 * with no room for both, v switches between them */
		if (kv) {
			int kvh = bottom - y - 12 > 16 ? 16 : bottom - y - 12;
			if (kvh >= MIN_KV_ROWS) {
				place(&t->panels[P_KV], y, 0, kvh, netw ? leftw : C);
				y += kvh;
				if (bottom - y - logs_h < 12)
					logs_h = 0;
			} else {
				t->view.kv_switch = true;
				if (t->raft_view) {
					t->view.kv_view = true;
					place(&t->panels[P_KV], y, 0, bottom - y, netw ? leftw : C);
					y = bottom;
					logs_h = 0;
				}
			}
		}
		if (mr) {
			/* the board is what a MapReduce lesson is about: the
			 * lesson keeps 8 rows, the board's legend goes first */
			int room = bottom - y - 8, want = ui_mr_rows(&t->view, netw ? leftw : C);
			if (want > room && want > MIN_MR_ROWS)
				want--;
			int mh = room < MIN_MR_ROWS ? 0 : want < room ? want : room;
			place(&t->panels[P_MR], y, 0, mh, netw ? leftw : C);
			y += mh;
		}
		place(&t->panels[P_LOGS], y, 0, logs_h, leftw);
		y += logs_h;
		if (bottom > y)
			place(&t->panels[P_LESSON], y, 0, bottom - y, netw ? leftw : C);
		/* on a wide screen the events share the right column */
		if (netw) {
			if (bottom - top - net_h >= 8) {
				place(&t->panels[P_NET], top, leftw, net_h, netw);
				place(&t->panels[P_EVENTS], top + net_h, leftw, bottom - top - net_h, netw);
				netw = 0;            /* placed: the column is taken */
			}
		}
	} else if (t->detail) {
		place(&t->panels[P_DETAIL], y, 0, bottom - y, leftw);
	} else {
		int rest = bottom - y - logs_h;      /* under the nodes and the logs */
		bool done = false;
		if (kv && netw && bottom - top - net_h >= 8 && rest >= MIN_KV_ROWS) {
			place(&t->panels[P_LOGS], y, 0, logs_h, leftw);
			place(&t->panels[P_KV], y + logs_h, 0, rest, leftw);
			place(&t->panels[P_NET], top, leftw, net_h, netw);
			place(&t->panels[P_EVENTS], top + net_h, leftw, bottom - top - net_h, netw);
			netw = 0;
			done = true;
		} else if (kv && !netw && rest >= MIN_KV_ROWS + 8) {
			int evh = rest / 3 > 8 ? rest / 3 : 8;
			place(&t->panels[P_LOGS], y, 0, logs_h, C);
			place(&t->panels[P_KV], y + logs_h, 0, rest - evh, C);
			place_events_net(t, bottom - evh, evh, C);
			done = true;
		} else if (mr) {
			int mw = netw ? leftw : C;
			int mh = mr_rows(t, mw, bottom - y);
			place(&t->panels[P_MR], y, 0, mh, mw);
			y += mh;
			if (bottom - y >= 3) {
				if (netw)
					place(&t->panels[P_EVENTS], y, 0, bottom - y, leftw);
				else
					place_events_net(t, y, bottom - y, C);
			}
			done = true;
		} else if (kv) {
			/* no room for both: the key/value panel, or (v) the Raft ones */
			t->view.kv_switch = true;
			if (!t->raft_view) {
				t->view.kv_view = true;
				place(&t->panels[P_KV], y, 0, bottom - y, leftw);
				done = true;
			}
		}
		if (!done) {
			place(&t->panels[P_LOGS], y, 0, logs_h, leftw);
			y += logs_h;
			if (netw)
				place(&t->panels[P_EVENTS], y, 0, bottom - y, leftw);
			else
				place_events_net(t, y, bottom - y, C);
		}
	}
	if (netw)                            /* the right column, unless taken */
		place(&t->panels[P_NET], top, leftw, bottom - top, netw);
	if (t->view.menu) {
		int mh = R - 2 < 16 ? R - 2 : 16, mw = C - 4 < 80 ? C - 4 : 80;
		place(&t->panels[P_MENU], (R - mh) / 2, (C - mw) / 2, mh, mw);
	}
	if (t->help) {
		int hw = C - 4 < 100 ? C - 4 : 100;
		if (C >= 150)
			hw = C - 8 < 180 ? C - 8 : 180;       /* two columns */
		int hh = R - 2;
		place(&t->panels[P_HELP], (R - hh) / 2, (C - hw) / 2, hh, hw);
	}
	t->dirty = true;
}

/* ---- drawing --------------------------------------------------------- */

static void field_str(lua_State *L, int t, const char *k, char *buf, size_t len);

/* The last linearizability check: ts._dash.check (lua/dashboard.lua). */
static void read_check(struct tui *t)
{
	lua_State *L = t->rt->L;
	struct check_view *c = &t->view.check;
	c->have = false;
	if (!L)
		return;
	int top = lua_gettop(L);
	lua_getglobal(L, "ts");
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "_dash");
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "check");
			if (lua_istable(L, -1)) {
				int i = lua_gettop(L);
				field_str(L, i, "verdict", c->verdict, sizeof c->verdict);
				field_str(L, i, "text", c->text, sizeof c->text);
				lua_getfield(L, i, "n");
				c->n_ops = (uint64_t)lua_tointeger(L, -1);
				lua_getfield(L, i, "done");
				c->n_done = (uint64_t)lua_tointeger(L, -1);
				lua_getfield(L, i, "port");
				/* only the cluster on screen's (its hub's port names it) */
				c->have = t->view.hub && lua_tointeger(L, -1) == hub_port(t->view.hub);
			}
		}
	}
	lua_settop(L, top);
}

static void refresh_view(struct tui *t)
{
	struct runtime *rt = t->rt;
	struct cluster *c = rt_shown(rt);
	t->view.hub = c ? c->hub : NULL;
	uint32_t n = t->view.hub ? hub_size(t->view.hub) : 0;
	bool kv = kv_kind(t->view.hub), mr = mr_kind(t->view.hub), etcd = etcd_kind(t->view.hub);
	uint32_t tasks = mr_tasks(t->view.hub);
	if ((n && n != t->laid_out_for) ||
	    (t->view.hub && (kv != t->laid_out_kv || mr != t->laid_out_mr || etcd != t->laid_out_etcd ||
			     tasks != t->laid_out_tasks))) {
		t->laid_out_for = n;
		t->laid_out_kv = t->view.kv = kv;
		t->laid_out_mr = t->view.mr = mr;
		t->laid_out_etcd = t->view.etcd = etcd;
		t->laid_out_tasks = tasks;
		layout(t);
	}
	t->view.log = rt->log;
	t->view.clock = t->view.hub ? hub_clock(t->view.hub) : 0;
	if (t->view.selected && t->view.hub && t->view.selected > hub_size(t->view.hub))
		t->view.selected = 0;
	if (t->view.sel_msg && (!t->view.hub || !hub_msg_find(t->view.hub, t->view.sel_msg)))
		t->view.sel_msg = 0;
	read_lesson(t);
	t->view.running = t->running;
	if (t->view.lesson.active) {
		snprintf(t->lesson_label, sizeof t->lesson_label, "lesson: %s", t->view.lesson.title);
		t->view.running = t->lesson_label;
	}
	t->view.status = t->status;
	t->view.gateway[0] = 0;
	if (rt->resp) {
		struct resp_stats st;
		resp_stats(rt->resp, &st);
		snprintf(t->view.gateway, sizeof t->view.gateway, "resp :%d %zu conn%s", st.port,
			 st.connections, st.connections == 1 ? "" : "s");
	}
	/* the recording's length: ts._dash.actions */
	lua_State *L = rt->L;
	t->view.recorded = 0;
	if (L) {
		lua_getglobal(L, "ts");
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "_dash");
			if (lua_istable(L, -1)) {
				lua_getfield(L, -1, "actions");
				if (lua_istable(L, -1))
					t->view.recorded = (uint64_t)lua_rawlen(L, -1);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	read_check(t);
}

/* ---- the lesson, as lua/lesson.lua describes it ---------------------- */

static void field_str(lua_State *L, int t, const char *k, char *buf, size_t len)
{
	lua_getfield(L, t, k);
	const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
	copy(buf, len, v);
	lua_pop(L, 1);
}

static int field_int(lua_State *L, int t, const char *k)
{
	lua_getfield(L, t, k);
	int v = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
	lua_pop(L, 1);
	return v;
}

static bool field_bool(lua_State *L, int t, const char *k)
{
	lua_getfield(L, t, k);
	bool v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static void load_menu(struct tui *t)
{
	lua_State *L = t->rt->L;
	int top = lua_gettop(L);
	t->view.n_entries = 0;
	lua_getglobal(L, "ts");
	lua_getfield(L, -1, "_lesson");
	lua_getfield(L, -1, "menu_entries");
	if (lua_pcall(L, 0, 1, 0) == LUA_OK && lua_istable(L, -1)) {
		int n = (int)lua_rawlen(L, -1);
		for (int i = 1; i <= n && t->view.n_entries < MENU_MAX; i++) {
			lua_rawgeti(L, -1, i);
			int e = lua_gettop(L);
			struct menu_entry *m = &t->view.entries[t->view.n_entries++];
			m->number = field_int(L, e, "number");
			field_str(L, e, "title", m->title, sizeof m->title);
			field_str(L, e, "progress", m->progress, sizeof m->progress);
			lua_pop(L, 1);
		}
	} else {
		set_status(t, true, lua_tostring(L, -1));
	}
	lua_settop(L, top);
}

static void read_lesson(struct tui *t)
{
	lua_State *L = t->rt->L;
	struct lesson_view *l = &t->view.lesson;
	int top = lua_gettop(L);
	bool was_menu = t->view.menu;
	bool was_active = l->active;
	l->active = false;
	t->view.highlight = NULL;
	lua_getglobal(L, "ts");
	if (!lua_istable(L, -1))
		goto out;
	lua_getfield(L, -1, "_lesson");
	if (!lua_istable(L, -1))
		goto out;
	int les = lua_gettop(L);
	t->view.menu = field_bool(L, les, "menu");
	lua_getfield(L, les, "view");
	if (!lua_istable(L, -1))
		goto out;
	int v = lua_gettop(L);
	l->active = true;
	field_str(L, v, "title", l->title, sizeof l->title);
	field_str(L, v, "text", l->text, sizeof l->text);
	field_str(L, v, "objective", l->objective, sizeof l->objective);
	field_str(L, v, "hint", l->hint, sizeof l->hint);
	field_str(L, v, "panel", l->panel, sizeof l->panel);
	l->index = field_int(L, v, "index");
	l->count = field_int(L, v, "count");
	l->met = field_bool(L, v, "met");
	l->done = field_bool(L, v, "done");
	l->narrative = field_bool(L, v, "narrative");
	l->par = field_int(L, v, "par");
	l->answered = field_int(L, v, "answered");
	l->wrong = field_int(L, v, "wrong");
	l->select = field_int(L, v, "select");
	l->n_choices = 0;
	l->question[0] = 0;
	lua_getfield(L, v, "question");
	if (lua_istable(L, -1)) {
		int q = lua_gettop(L);
		lua_rawgeti(L, q, 1);
		copy(l->question, sizeof l->question, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
		lua_pop(L, 1);
		lua_getfield(L, q, "choices");
		if (lua_istable(L, -1)) {
			int n = (int)lua_rawlen(L, -1);
			for (int i = 1; i <= n && l->n_choices < LESSON_CHOICES; i++) {
				lua_rawgeti(L, -1, i);
				copy(l->choices[l->n_choices++], sizeof l->choices[0],
				     lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* actions used in this step, for the par */
	lua_getfield(L, les, "step");
	l->actions = lua_istable(L, -1) ? field_int(L, lua_gettop(L), "actions") : 0;
	lua_pop(L, 1);
	t->view.highlight = l->panel[0] ? l->panel : NULL;
	/* a new step may point at a node */
	if (l->index != t->lesson_step) {
		t->lesson_step = l->index;
		if (l->select) {
			t->view.selected = (uint32_t)l->select;
			tell_selected(t);
		}
	}
out:
	lua_settop(L, top);
	if (t->view.menu && !was_menu)
		load_menu(t);
	if (l->active != was_active)
		t->raft_view = false;        /* v means another thing in a lesson */
	if (l->active != was_active || t->view.menu != was_menu)
		layout(t);
}

static uint32_t kv_clients(struct tui *t)
{
	return t->view.hub && t->view.kv ? hub_clients(t->view.hub) : 0;
}

static void draw_prompt(struct tui *t)
{
	struct panel *p = &t->panels[P_KEYS];
	WINDOW *w = p->win;
	werase(w);
	char lead[48] = ":";
	if (t->mode == LINE_KV)
		snprintf(lead, sizeof lead, "client %u%s> ", t->view.kv_client,
			 t->view.kv_client > kv_clients(t) ? " (new)" : "");
	int lw = (int)strlen(lead);
	wattron(w, (int)A_BOLD);
	mvwaddstr(w, 0, 0, lead);
	wattroff(w, (int)A_BOLD);
	/* keep the cursor in view */
	int room = p->w - lw - 1;
	if (room < 1)
		room = 1;
	int start = t->cur > room ? t->cur - room : 0;
	mvwaddnstr(w, 0, lw, t->line + start, room);
	if (t->mode == LINE_KV && t->len == 0) {
		/* what it takes */
		wattron(w, ui_attr(&t->view, CP_DIM, (int)A_DIM));
		ui_print(w, 0, lw + 1, p->w - lw - 1, "%s    Tab: another client  Esc: cancel",
			 t->view.etcd ? "put KEY VALUE [@VERSION] | get KEY | del KEY"
				      : "put KEY VALUE [@VERSION] | get KEY | append KEY VALUE");
		wattroff(w, ui_attr(&t->view, CP_DIM, (int)A_DIM));
	}
	wmove(w, 0, lw + t->cur - start);
}

static void draw(struct tui *t)
{
	refresh_view(t);
	for (int i = 0; i < P_COUNT; i++) {
		struct panel *p = &t->panels[i];
		if (!p->shown || i == P_HELP || i == P_MENU)
			continue;
		if (i == P_KEYS && t->prompting)
			draw_prompt(t);
		else
			p->ops->draw(p, &t->view);
		wnoutrefresh(p->win);
	}
	if (t->view.menu && t->panels[P_MENU].shown) {
		struct panel *p = &t->panels[P_MENU];
		p->ops->draw(p, &t->view);
		wnoutrefresh(p->win);
	}
	if (t->help && t->panels[P_HELP].shown) {
		struct panel *p = &t->panels[P_HELP];
		p->ops->draw(p, &t->view);
		wnoutrefresh(p->win);
	}
	if (t->prompting) {
		curs_set(1);
		wnoutrefresh(t->panels[P_KEYS].win);
	} else {
		curs_set(0);
	}
	doupdate();
	t->dirty = false;
	t->last_draw = uv_now(t->rt->loop);
}

static void on_frame(uv_timer_t *timer)
{
	struct tui *t = timer->data;
	struct cluster *c = rt_shown(t->rt);       /* never a stopped cluster's hub */
	struct hub *h = c ? c->hub : NULL;
	if (h != t->view.hub)
		t->dirty = true;
	bool clock_moves = h && (hub_pace_of(h) == HUB_REAL || (hub_pace_of(h) == HUB_PACED && !hub_frozen(h)));
	uint64_t since = uv_now(t->rt->loop) - t->last_draw;
	if (t->dirty || (clock_moves && since >= CLOCK_FRAME_MS) || (!h && rt_shown(t->rt)))
		draw(t);
}

void tui_dirty(struct tui *t)
{
	t->dirty = true;
}

/* ---- what the runtime tells us --------------------------------------- */

static void set_status(struct tui *t, bool error, const char *text)
{
	copy(t->status, sizeof t->status, text ? text : "");
	/* one line: newlines become spaces */
	for (char *s = t->status; *s; s++)
		if (*s == '\n' || *s == '\t')
			*s = ' ';
	t->view.status_error = error;
	t->dirty = true;
}

void tui_result(struct tui *t, bool error, const char *text)
{
	set_status(t, error, text);
}

void tui_script_ended(struct tui *t, int code, const char *msg)
{
	char buf[1200];
	if (code == 0)
		snprintf(buf, sizeof buf, "the script finished; the cluster runs on (q quits)");
	else
		snprintf(buf, sizeof buf, "the script failed: %s  (q quits)", msg);
	set_status(t, code != 0, buf);
	size_t l = strlen(t->running);
	if (l + 12 < sizeof t->running)
		snprintf(t->running + l, sizeof t->running - l, code ? " (failed)" : " (ended)");
}

/* ---- actions --------------------------------------------------------- */

/* ts._lesson.selected: a lesson may ask the learner to pick a node. */
static void tell_selected(struct tui *t)
{
	lua_State *L = t->rt->L;
	lua_getglobal(L, "ts");
	lua_getfield(L, -1, "_lesson");
	if (lua_istable(L, -1)) {
		lua_pushinteger(L, t->view.selected);
		lua_setfield(L, -2, "selected");
	}
	lua_pop(L, 2);
}

/* ts._lesson.<k> = v: the menu's state lives with the lesson engine. */
static void set_lesson_flag(struct tui *t, const char *k, bool v)
{
	lua_State *L = t->rt->L;
	lua_getglobal(L, "ts");
	lua_getfield(L, -1, "_lesson");
	if (lua_istable(L, -1)) {
		lua_pushboolean(L, v);
		lua_setfield(L, -2, k);
	}
	lua_pop(L, 2);
	if (strcmp(k, "menu") == 0) {
		/* at once: the next key must not go to a menu already closed */
		t->view.menu = v;
		if (v)
			load_menu(t);
		layout(t);
	}
	t->dirty = true;
}

static void act(struct tui *t, bool record, const char *fmt, ...)
{
	char code[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(code, sizeof code, fmt, ap);
	va_end(ap);
	rt_hand(t->rt, code, record);
	set_status(t, false, "");
}

static bool need_node(struct tui *t)
{
	if (!t->view.hub) {
		set_status(t, true, "no cluster yet");
		return false;
	}
	if (!t->view.selected) {
		set_status(t, true, "select a node first (1-9)");
		return false;
	}
	return true;
}

/* etcd's traffic is bytes on TCP connections through the hub's proxies:
 * there is no message to pick, deliver, drop or copy. */
static const char etcd_no_msgs[] = "no messages on etcd: its traffic is TCP bytes through the hub's proxies "
				   "(the network panel counts them)";

static bool need_msg(struct tui *t)
{
	if (t->view.etcd) {
		set_status(t, true, etcd_no_msgs);
		return false;
	}
	if (!t->view.sel_msg) {
		set_status(t, true, "select a message in flight first (m)");
		return false;
	}
	return true;
}

/* s: the selected node (or the leader) and the next one form a minority */
static void split(struct tui *t)
{
	struct hub *h = t->view.hub;
	uint32_t n = hub_size(h);
	uint32_t a = t->view.selected ? t->view.selected : hub_leader(h);
	if (!a)
		a = 1;
	if (n < 3) {
		set_status(t, true, "a split needs at least 3 nodes");
		return;
	}
	uint32_t minority = (n - 1) / 2;
	char g1[64] = "", g2[64] = "";
	size_t o1 = 0, o2 = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t id = (a - 1 + k) % n + 1;
		if (k < minority)
			o1 += (size_t)snprintf(g1 + o1, sizeof g1 - o1, "%s%u", o1 ? "," : "", id);
		else
			o2 += (size_t)snprintf(g2 + o2, sizeof g2 - o2, "%s%u", o2 ? "," : "", id);
	}
	act(t, true, "c:partition({%s}, {%s})", g1, g2);
}

static void select_msg(struct tui *t, int dir)
{
	struct hub *h = t->view.hub;
	if (!h)
		return;
	if (t->view.etcd) {
		set_status(t, true, etcd_no_msgs);
		return;
	}
	const struct hub_msg *first = hub_inflight(h), *prev = NULL, *found = NULL, *last = NULL;
	if (!first) {
		set_status(t, true, "no message is in flight (pause time with space to catch one)");
		return;
	}
	for (const struct hub_msg *m = first; m; m = hub_inflight_next(h, m)) {
		if (t->view.sel_msg && m->id == t->view.sel_msg) {
			found = dir > 0 ? hub_inflight_next(h, m) : prev;
			break;
		}
		prev = m;
		last = m;
	}
	if (!t->view.sel_msg || !found)
		found = dir > 0 ? first : (found ? found : last);
	if (!found)
		found = first;
	t->view.sel_msg = found->id;
	char buf[192];
	char a[16], b[16];
	snprintf(buf, sizeof buf, "message #%llu %s %s->%s selected: d deliver now, x drop, D duplicate, Esc none",
		 (unsigned long long)found->id, wire_msg_name(found->type), ui_endpoint(found->from, a, sizeof a),
		 ui_endpoint(found->to, b, sizeof b));
	set_status(t, false, buf);
}

static void speed_step(struct tui *t, int dir)
{
	static const double speeds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20 };
	struct hub *h = t->view.hub;
	if (!h)
		return;
	double s = hub_speed(h);
	int i = 0;
	while (i < 8 && speeds[i] < s - 1e-9)
		i++;
	i += dir;
	if (i < 0)
		i = 0;
	if (i > 8)
		i = 8;
	hub_set_pace(h, HUB_PACED, speeds[i]);
	char buf[64];
	snprintf(buf, sizeof buf, "speed %gx", speeds[i]);
	set_status(t, false, buf);
}

/* ---- the prompt ------------------------------------------------------- */

static void prompt_open(struct tui *t, int mode)
{
	t->prompting = true;
	t->mode = mode;
	t->line[0] = 0;
	t->len = t->cur = 0;
	t->hist_at = t->n_history[mode];
}

static void prompt_set(struct tui *t, const char *s)
{
	snprintf(t->line, sizeof t->line, "%s", s);
	t->len = t->cur = (int)strlen(t->line);
}

/* A Lua string literal for s (quotes, backslashes and control bytes
 * escaped), into buf; false if it does not fit. */
static bool lua_quote(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0;
	if (len < 3)
		return false;
	buf[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		int el;
		if (ch == '"' || ch == '\\')
			el = snprintf(esc, sizeof esc, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			el = snprintf(esc, sizeof esc, "\\%03u", ch);
		else
			el = snprintf(esc, sizeof esc, "%c", ch);
		if (o + (size_t)el + 2 > len)
			return false;
		memcpy(buf + o, esc, (size_t)el);
		o += (size_t)el;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return true;
}

static const char kv_usage[] = "put KEY VALUE [@VERSION] | get KEY | append KEY VALUE | del KEY | incr KEY";
/* etcd has no append or incr: the hub refuses them, in its own words */
static const char etcd_usage[] = "put KEY VALUE [@VERSION] | get KEY | del KEY";

/*
 * The request line: "put KEY VALUE", "put KEY VALUE @VERSION" (a
 * conditional put), "get KEY", "append KEY VALUE" (p, g, a for short).  The
 * value is the rest of the line (quotes around it are taken off).  It runs
 * as a person's action, client(k):put(...), in its own task: the dashboard
 * goes on while it waits, and its result comes to the bottom line.
 */
static void kv_submit(struct tui *t)
{
	char *s = t->line;
	while (*s == ' ')
		s++;
	char op[16];
	int ol = 0;
	while (s[ol] && s[ol] != ' ' && ol < 15) {
		op[ol] = (char)tolower((unsigned char)s[ol]);
		ol++;
	}
	op[ol] = 0;
	s += ol;
	while (*s == ' ')
		s++;
	const char *key = s;
	size_t kl = 0;
	while (key[kl] && key[kl] != ' ')
		kl++;
	s += kl;
	while (*s == ' ')
		s++;
	char *value = s;
	size_t vl = strlen(value);
	while (vl && value[vl - 1] == ' ')
		vl--;
	const char *fn = !strcmp(op, "put") || !strcmp(op, "p") ? "put"
		       : !strcmp(op, "get") || !strcmp(op, "g") ? "get"
		       : !strcmp(op, "append") || !strcmp(op, "a") ? "append"
		       : !strcmp(op, "del") ? "del"
		       : !strcmp(op, "incr") ? "incr" : NULL;
	bool key_only = fn && (!strcmp(fn, "get") || !strcmp(fn, "del") || !strcmp(fn, "incr"));
	long long version = -1;
	if (fn && !strcmp(fn, "put")) {
		/* a last word @N: the version the put is conditional on */
		size_t at = vl;
		while (at && value[at - 1] != ' ' && value[at - 1] != '@')
			at--;
		if (at && value[at - 1] == '@' && at < vl && (at == 1 || value[at - 2] == ' ')) {
			bool digits = true;
			for (size_t i = at; i < vl; i++)
				digits = digits && isdigit((unsigned char)value[i]);
			if (digits) {
				version = strtoll(value + at, NULL, 10);
				vl = at - 1;
				while (vl && value[vl - 1] == ' ')
					vl--;
			}
		}
	}
	size_t given = vl;                   /* "" is a value; nothing is none */
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value++;
		vl -= 2;
	}
	char msg[256];
	const char *wrong = !fn ? "not a request"
			  : !kl ? "which key?"
			  : key_only && given ? "get, del and incr take a key only"
			  : !key_only && !given ? "which value?" : NULL;
	if (wrong) {
		snprintf(msg, sizeof msg, "%s  (%s)", wrong, t->view.etcd ? etcd_usage : kv_usage);
		set_status(t, true, msg);
		return;
	}
	uint32_t k = t->view.kv_client;
	struct hub_client_view cv;
	if (k <= kv_clients(t) && hub_client_view(t->view.hub, k, &cv) == 0 && cv.busy) {
		snprintf(msg, sizeof msg, "client %u is still waiting for its last request: Tab picks another client", k);
		set_status(t, true, msg);
		return;
	}
	char qk[PROMPT_MAX * 4 + 8], qv[PROMPT_MAX * 4 + 8], code[PROMPT_MAX * 8 + 64];
	if (!lua_quote(qk, sizeof qk, key, kl) || !lua_quote(qv, sizeof qv, value, vl)) {
		set_status(t, true, "that request is too long");
		return;
	}
	if (key_only)
		snprintf(code, sizeof code, "client(%u):%s(%s)", k, fn, qk);
	else if (version >= 0)
		snprintf(code, sizeof code, "client(%u):put(%s, %s, %lld)", k, qk, qv, version);
	else
		snprintf(code, sizeof code, "client(%u):%s(%s, %s)", k, fn, qk, qv);
	rt_hand(t->rt, code, true);
	snprintf(msg, sizeof msg, "c%u: %s %.*s sent; its answer shows here when it comes", k, fn, (int)kl, key);
	set_status(t, false, msg);
}

static void prompt_submit(struct tui *t)
{
	t->prompting = false;
	if (t->len == 0)
		return;
	int m = t->mode;
	char **hist = t->history[m];
	if (t->n_history[m] == HISTORY) {
		free(hist[0]);
		memmove(hist, hist + 1, (HISTORY - 1) * sizeof *hist);
		t->n_history[m]--;
	}
	if (!t->n_history[m] || strcmp(hist[t->n_history[m] - 1], t->line) != 0)
		hist[t->n_history[m]++] = strdup(t->line);
	if (m == LINE_KV) {
		kv_submit(t);
		return;
	}
	rt_hand(t->rt, t->line, true);
	set_status(t, false, "");
}

/* Names that can follow what is before the cursor: c:method, ts.field,
 * or a global. */
static void prompt_complete(struct tui *t)
{
	int end = t->cur, start = end;
	while (start > 0 && (isalnum((unsigned char)t->line[start - 1]) || t->line[start - 1] == '_'))
		start--;
	char sep = start > 0 ? t->line[start - 1] : 0;
	int ostart = start - 1;
	while (ostart > 0 && (isalnum((unsigned char)t->line[ostart - 1]) || t->line[ostart - 1] == '_'))
		ostart--;
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%.*s", end - start, t->line + start);
	lua_State *L = t->rt->L;
	int top = lua_gettop(L);
	if (sep == ':') {
		lua_getfield(L, LUA_REGISTRYINDEX, "termscope.cluster_methods");
	} else if (sep == '.') {
		char obj[64];
		snprintf(obj, sizeof obj, "%.*s", start - 1 - ostart, t->line + ostart);
		lua_getglobal(L, obj);
	} else {
		lua_pushglobaltable(L);
	}
	if (!lua_istable(L, -1)) {
		lua_settop(L, top);
		return;
	}
	/* the candidates, sorted; complete the common prefix */
	const char *cands[256];
	int nc = 0;
	lua_pushnil(L);
	while (lua_next(L, -2) && nc < 256) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			continue;
		const char *k = lua_tostring(L, -1);
		if (k[0] == '_' && prefix[0] != '_')
			continue;
		if (strncmp(k, prefix, strlen(prefix)) == 0)
			cands[nc++] = k;
	}
	if (nc == 0) {
		lua_settop(L, top);
		return;
	}
	for (int i = 1; i < nc; i++)
		for (int j = i; j > 0 && strcmp(cands[j - 1], cands[j]) > 0; j--) {
			const char *x = cands[j];
			cands[j] = cands[j - 1];
			cands[j - 1] = x;
		}
	size_t common = strlen(cands[0]);
	for (int i = 1; i < nc; i++) {
		size_t k = 0;
		while (k < common && cands[i][k] == cands[0][k])
			k++;
		common = k;
	}
	size_t plen = strlen(prefix);
	if (common > plen && t->len + (int)(common - plen) < PROMPT_MAX - 1) {
		size_t add = common - plen;
		memmove(t->line + end + add, t->line + end, (size_t)(t->len - end) + 1);
		memcpy(t->line + end, cands[0] + plen, add);
		t->len += (int)add;
		t->cur += (int)add;
	}
	if (nc > 1) {
		char buf[1024];
		size_t o = 0;
		for (int i = 0; i < nc && o < sizeof buf - 40; i++)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s ", cands[i]);
		set_status(t, false, buf);
	}
	lua_settop(L, top);
}

static void prompt_key(struct tui *t, int ch)
{
	switch (ch) {
	case 27:                             /* Esc */
		t->prompting = false;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		prompt_submit(t);
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (t->cur > 0) {
			memmove(t->line + t->cur - 1, t->line + t->cur, (size_t)(t->len - t->cur) + 1);
			t->cur--;
			t->len--;
		}
		break;
	case KEY_DC:
		if (t->cur < t->len) {
			memmove(t->line + t->cur, t->line + t->cur + 1, (size_t)(t->len - t->cur));
			t->len--;
		}
		break;
	case KEY_LEFT:
		if (t->cur > 0)
			t->cur--;
		break;
	case KEY_RIGHT:
		if (t->cur < t->len)
			t->cur++;
		break;
	case KEY_HOME:
	case 1:                              /* Ctrl-A */
		t->cur = 0;
		break;
	case KEY_END:
	case 5:                              /* Ctrl-E */
		t->cur = t->len;
		break;
	case 21:                             /* Ctrl-U */
		prompt_set(t, "");
		break;
	case KEY_UP:
		if (t->hist_at > 0)
			prompt_set(t, t->history[t->mode][--t->hist_at]);
		break;
	case KEY_DOWN:
		if (t->hist_at < t->n_history[t->mode] - 1)
			prompt_set(t, t->history[t->mode][++t->hist_at]);
		else {
			t->hist_at = t->n_history[t->mode];
			prompt_set(t, "");
		}
		break;
	case '\t':
		if (t->mode == LINE_KV)      /* the next client; one past the last is a new one */
			t->view.kv_client = t->view.kv_client > kv_clients(t) ? 1 : t->view.kv_client + 1;
		else
			prompt_complete(t);
		break;
	case KEY_BTAB:
		if (t->mode == LINE_KV)
			t->view.kv_client = t->view.kv_client <= 1 ? kv_clients(t) + 1 : t->view.kv_client - 1;
		break;
	default:
		if (ch >= 32 && ch < 256 && ch != 127 && t->len < PROMPT_MAX - 1) {
			memmove(t->line + t->cur + 1, t->line + t->cur, (size_t)(t->len - t->cur) + 1);
			t->line[t->cur++] = (char)ch;
			t->len++;
		}
		break;
	}
	t->dirty = true;
}

/* ---- keys ------------------------------------------------------------ */

static void click(struct tui *t)
{
	MEVENT me;
	if (getmouse(&me) != OK)
		return;
	struct panel *p = &t->panels[P_NODES];
	if (!p->shown || !t->view.hub)
		return;
	int row = me.y - p->y - 1;              /* the header is row 1 */
	if (me.x >= p->x && me.x < p->x + p->w && row >= 1 && row <= (int)hub_size(t->view.hub))
		t->view.selected = (uint32_t)row;
	tell_selected(t);
	p = &t->panels[P_LOGS];
	row = me.y - p->y - 1;
	if (p->shown && me.x >= p->x && me.x < p->x + p->w && row >= 1 && row <= (int)hub_size(t->view.hub))
		t->view.selected = (uint32_t)row;
}

static void key(struct tui *t, int ch)
{
	t->dirty = true;
	if (t->prompting) {
		prompt_key(t, ch);
		return;
	}
	if (t->help) {
		struct panel *hp = &t->panels[P_HELP];
		if (hp->shown && hp->ops->key(hp, ch, &t->view))
			return;                  /* it scrolled */
		t->help = false;
		layout(t);
		return;
	}
	if (t->view.menu) {
		int *sel = &t->view.menu_sel;
		if (ch >= '1' && ch <= '9') {
			act(t, false, "ts._lesson.open(\"%c\")", ch);
			set_lesson_flag(t, "menu", false);
		} else if (ch == KEY_UP || ch == 'k') {
			*sel = *sel > 0 ? *sel - 1 : 0;
		} else if (ch == KEY_DOWN || ch == 'j') {
			*sel = *sel + 1 < t->view.n_entries ? *sel + 1 : *sel;
		} else if ((ch == '\n' || ch == '\r' || ch == KEY_ENTER) && *sel < t->view.n_entries) {
			act(t, false, "ts._lesson.open(\"%d\")", t->view.entries[*sel].number);
			set_lesson_flag(t, "menu", false);
		} else if (ch == 27 || ch == 'L') {
			set_lesson_flag(t, "menu", false);
		} else if (ch == 'q') {
			rt_quit(t->rt, 0, NULL);
		}
		return;
	}
	struct hub *h = t->view.hub;
	uint32_t sel = t->view.selected;
	const struct hub_node *nd = h && sel ? hub_node(h, sel) : NULL;
	struct lesson_view *l = &t->view.lesson;
	if (l->active && !l->done) {
		if (l->n_choices && !l->answered && ch >= '1' && ch <= '0' + l->n_choices) {
			act(t, false, "ts._lesson.answer(%d)", ch - '0');
			return;
		}
		switch (ch) {
		case 'n':
			act(t, false, "ts._lesson.next()");
			return;
		case 'H':
			act(t, false, "ts._lesson.hint()");
			return;
		case 'R':
			act(t, false, "ts._lesson.restart_step()");
			return;
		}
	}
	if (ch == 'L') {
		set_lesson_flag(t, "menu", true);
		return;
	}
	struct panel *focus = t->detail ? &t->panels[P_DETAIL] : &t->panels[P_EVENTS];
	if (focus->shown && focus->ops->key && focus->ops->key(focus, ch, &t->view))
		return;
	switch (ch) {
	case 'q':
		rt_quit(t->rt, t->rt->script_over ? t->rt->script_code : 0,
			t->rt->script_over && t->rt->script_code ? t->rt->script_msg : NULL);
		return;
	case '?':
		t->help = true;
		t->view.help_scroll = 0;
		layout(t);
		return;
	case ':':
		prompt_open(t, LINE_LUA);
		return;
	case 27:
		if (t->detail) {
			t->detail = false;
			layout(t);
		}
		t->view.sel_msg = 0;
		set_status(t, false, "");
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (!t->detail && !sel) {
			set_status(t, true, "select a node first (1-9)");
			return;
		}
		t->detail = !t->detail;
		t->view.detail_scroll = 0;
		layout(t);
		return;
	case KEY_MOUSE:
		click(t);
		return;
	case KEY_RESIZE:
		getmaxyx(stdscr, t->rows, t->cols);
		layout(t);
		return;
	}
	if (ch >= '1' && ch <= '9') {
		uint32_t id = (uint32_t)(ch - '0');
		if (h && id <= hub_size(h)) {
			t->view.selected = id;
			set_status(t, false, "");
			tell_selected(t);
		} else {
			set_status(t, true, "no such node");
		}
		return;
	}
	if (ch == 'w') {
		/* the next cluster of the script: what is on screen is not
		 * part of the run, so it is not recorded */
		act(t, false, "return ts._show_next()");
		return;
	}
	if (!h) {
		set_status(t, true, "no cluster is running");
		return;
	}
	bool real = hub_pace_of(h) == HUB_REAL;
	switch (ch) {
	case 'c':
		if (need_node(t))
			act(t, true, "c:crash(%u)", sel);
		break;
	case 'r':
		if (need_node(t))
			act(t, true, "c:restart(%u)", sel);
		break;
	case 'z':
		if (need_node(t))
			act(t, true, nd->paused ? "c:resume(%u)" : "c:pause(%u)", sel);
		break;
	case 'p':
		if (need_node(t))
			act(t, true, hub_net(h)->isolated[sel] ? "c:connect(%u)" : "c:isolate(%u)", sel);
		break;
	case 's':
		split(t);
		break;
	case 'h':
		act(t, true, "c:heal()");
		break;
	case 't':
		if (t->view.mr) {
			set_status(t, true, "t times out a Raft node's election; a MapReduce cluster has no elections");
			break;
		}
		if (t->view.etcd) {
			set_status(t, true, "t: etcd's election timers are its own (cut the leader off with p, or kill it with c)");
			break;
		}
		if (need_node(t))
			act(t, true, "c:timeout_now(%u)", sel);
		break;
	case 'a':
		if (t->view.mr) {
			set_status(t, true, "a aligns Raft election timers; a MapReduce cluster has none");
			break;
		}
		if (t->view.etcd) {
			set_status(t, true, "a: etcd's election timers are its own, randomized; nobody else sets them");
			break;
		}
		act(t, true, "c:align_timers()");
		break;
	case 'k':
		if (t->view.mr) {
			set_status(t, true, "k sends a request to a Raft or key/value cluster; this one runs a MapReduce job");
			break;
		}
		if (t->view.kv) {
			uint32_t nc = hub_clients(h);
			if (t->view.kv_client < 1 || t->view.kv_client > nc + 1)
				t->view.kv_client = 1;
			prompt_open(t, LINE_KV);
			set_status(t, false, "");
			break;
		}
		t->requests++;
		act(t, true, "c:start(\"k%d\")", t->requests);
		break;
	case 'K':
		if (!t->view.kv) {
			char msg[160];
			snprintf(msg, sizeof msg, "K checks a key/value history: this cluster is kind %s (try ts.cluster{kind=\"kv\"})",
				 hub_kind(h));
			set_status(t, true, msg);
			break;
		}
		/* a bounded search: the screen must not stand still for long
		 * (the answer is then "unknown"; c:check_linearizable() at the
		 * prompt searches longer) */
		act(t, false, "c:check_linearizable(%d)", KV_CHECK_BUDGET);
		set_status(t, false, "checking the history...");
		break;
	case 'v':
		if (!t->view.kv) {
			set_status(t, true, "v switches between the key/value and Raft views of a kv cluster");
		} else if (!t->view.kv_switch) {
			set_status(t, false, "v: both views fit on this screen");
		} else {
			t->raft_view = !t->raft_view;
			layout(t);
		}
		break;
	case 'm':
		select_msg(t, 1);
		break;
	case 'M':
		select_msg(t, -1);
		break;
	case 'd':
		if (need_msg(t))
			act(t, true, "c:deliver(%llu)", (unsigned long long)t->view.sel_msg);
		break;
	case 'x':
		if (need_msg(t))
			act(t, true, "c:drop(%llu)", (unsigned long long)t->view.sel_msg);
		break;
	case 'D':
		if (need_msg(t))
			act(t, true, "c:dup(%llu)", (unsigned long long)t->view.sel_msg);
		break;
	case ' ':
		if (real) {
			set_status(t, true, t->view.etcd ? "etcd runs on the wall clock: time does not stop (z pauses a member)"
							 : "real pace: the wall clock does not stop (pause a node with z)");
			break;
		}
		if (hub_pace_of(h) != HUB_PACED)
			hub_set_pace(h, HUB_PACED, hub_speed(h));
		hub_freeze(h, !hub_frozen(h));
		set_status(t, false, hub_frozen(h) ? "time stands still: . runs one event, space resumes" : "");
		break;
	case '.':
		if (real) {
			/* the next event would run early, while the nodes go on */
			set_status(t, true, t->view.etcd ? "etcd runs on the wall clock: there is no next instant to step to"
							 : "real pace: the wall clock runs on, there is no next instant to step to");
			break;
		}
		if (!hub_frozen(h))
			hub_freeze(h, true);
		if (hub_step_one(h) == HUB_STEP_EMPTY)
			set_status(t, true, "nothing left to happen");
		else
			set_status(t, false, "the next instant: what happens at the next millisecond (space resumes time)");
		rt_kick(t->rt);
		break;
	case '+':
	case '=':
	case '-':
		if (real) {
			set_status(t, true, t->view.etcd ? "etcd runs on the wall clock: its speed is the wall's"
							 : "real pace: the wall clock sets the speed (start paced to change it)");
			break;
		}
		speed_step(t, ch == '-' ? -1 : 1);
		break;
	case 'b': {
		double back = (double)hub_clock(h) / 1000.0 - 5;
		act(t, false, "rewind(%.3f)", back < 0 ? 0 : back);
		set_status(t, false, "rewinding...");
		break;
	}
	case 'S':
		act(t, false, "save()");
		break;
	default:
		break;
	}
}

static void on_input(uv_poll_t *poll, int status, int events)
{
	struct tui *t = poll->data;
	if (status < 0) {
		rt_quit(t->rt, 1, "termscope: the terminal went away");
		return;
	}
	wint_t ch;
	int rc;
	while ((rc = get_wch(&ch)) != ERR) {
		if (rc == KEY_CODE_YES)
			key(t, (int)ch);
		else if (ch < 256)
			key(t, (int)ch);
		if (!t->rt->tui)
			return;                      /* q: the screen is gone */
	}
}

static void on_winch(uv_signal_t *s, int signum)
{
	struct tui *t = s->data;
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		resizeterm(ws.ws_row, ws.ws_col);
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
	clearok(curscr, TRUE);
	layout(t);
}

/* ---- life ------------------------------------------------------------ */

static const struct panel_ops *const ops[P_COUNT] = {
	[P_STATUS] = &panel_status_ops, [P_NODES] = &panel_nodes_ops, [P_LOGS] = &panel_logs_ops,
	[P_NET] = &panel_net_ops, [P_EVENTS] = &panel_events_ops, [P_DETAIL] = &panel_detail_ops,
	[P_HELP] = &panel_help_ops, [P_KEYS] = &panel_keys_ops, [P_LESSON] = &panel_lesson_ops,
	[P_MENU] = &panel_menu_ops, [P_KV] = &panel_kv_ops, [P_MR] = &panel_mr_ops,
};

struct tui *tui_start(struct runtime *rt, char *err, size_t errlen)
{
	if (!isatty(0) || !isatty(1)) {
		snprintf(err, errlen, "the dashboard needs a terminal (for scripts without one, use --headless)");
		return NULL;
	}
	struct tui *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->rt = rt;
	setlocale(LC_ALL, "");
	t->view.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		snprintf(err, errlen, "cannot use the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		free(t);
		return NULL;
	}
	screen_active = true;
	atexit(restore_at_exit);
	const char *nc = getenv("NO_COLOR");
	t->view.color = has_colors() && !(nc && *nc);
	ui_colors_init(t->view.color);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
	mouseinterval(0);
	for (int i = 0; i < P_COUNT; i++)
		t->panels[i].ops = ops[i];
	getmaxyx(stdscr, t->rows, t->cols);
	copy(t->running, sizeof t->running, "live cluster (? for keys)");
	if (rt->opts.script) {
		copy(t->running, sizeof t->running, "scenario ");
		copy(t->running + 9, sizeof t->running - 9, rt->opts.script);
	}
	layout(t);

	uv_poll_init(rt->loop, &t->input, 0);
	t->input.data = t;
	uv_poll_start(&t->input, UV_READABLE, on_input);
	uv_signal_init(rt->loop, &t->winch);
	t->winch.data = t;
	uv_signal_start(&t->winch, on_winch, SIGWINCH);
	uv_timer_init(rt->loop, &t->frame);
	t->frame.data = t;
	uv_timer_start(&t->frame, on_frame, FRAME_MS, FRAME_MS);
	t->handles = 3;
	t->dirty = true;
	return t;
}

static void on_closed(uv_handle_t *h)
{
	struct tui *t = h->data;
	if (--t->handles == 0)
		free(t);
}

void tui_stop(struct tui *t)
{
	if (!t)
		return;
	for (int i = 0; i < P_COUNT; i++)
		if (t->panels[i].win)
			delwin(t->panels[i].win);
	if (screen_active) {
		endwin();
		screen_active = false;
	}
	delscreen(t->screen);
	for (int m = 0; m < LINE_KINDS; m++)
		for (int i = 0; i < t->n_history[m]; i++)
			free(t->history[m][i]);
	uv_close((uv_handle_t *)&t->input, on_closed);
	uv_close((uv_handle_t *)&t->winch, on_closed);
	uv_close((uv_handle_t *)&t->frame, on_closed);
}
