/*
 * runtime.c — the script runtime: Lua state, tasks, and the pump.
 *
 * A script runs as a task: a Lua coroutine the runtime resumes.  A call
 * that waits (sleep, wait, a proposal, a join) yields the task through one
 * primitive, _block(), which records what it waits for; the hubs' hooks
 * mark tasks ready when that happens, and the pump resumes them.  The pump
 * is a uv_idle handle: it resumes ready tasks, then lets each hub take its
 * next event, and stops when everything waits on a node or on the wall
 * clock (paced).  User Lua never runs inside a libuv I/O callback: hooks
 * only record and push plain values; Lua runs from the pump.
 *
 * Tasks run only while no hub is busy, so a script always sees a cluster
 * between two events, and virtual time does not move while Lua runs.  A
 * count hook stops a task that works too long without waiting, and once it
 * fires it keeps firing, so pcall cannot swallow the stop.
 *
 * Errors reach the user as FILE:LINE: message, the line being the first
 * frame of the user's own script on the failing task's stack.
 *
 * The RESP gateway (--resp PORT, src/gateway) belongs to the runtime too:
 * it serves one key/value cluster, gets the client results and timers that
 * are its own from the hooks, and does its work from the pump, like a
 * task, only while no hub is busy.
 */
#include "runtime.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "../gateway/resp.h"
#include "../hub/evlog.h"
#include "embed.h"
#include "lua_api.h"
#include "script.h"
#include "../tui/tui.h"

#define HOOK_EVERY 10000
#define DEFAULT_WORK_LIMIT 200000000ULL      /* Lua instructions between two waits */

static struct runtime *the_rt;               /* one runtime per process */

static void task_free(struct task *t);

/* ---- errors --------------------------------------------------------- */

void rt_raise(lua_State *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_error(L);
}

/* Does the message already say where (FILE:LINE: ...)? */
static bool has_position(const char *msg)
{
	const char *colon = strchr(msg, ':');
	if (!colon || colon == msg)
		return false;
	const char *p = colon + 1;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ':';
}

/* The error of a failed coroutine as FILE:LINE: message (on rt->L). */
static void error_with_position(struct runtime *rt, lua_State *co)
{
	const char *msg = lua_tostring(co, -1);
	if (!msg)
		msg = luaL_typename(co, -1);
	if (has_position(msg) || strncmp(msg, "termscope:", 10) == 0) {
		lua_pushstring(rt->L, msg);
		return;
	}
	lua_Debug ar;
	for (int level = 0; lua_getstack(co, level, &ar); level++) {
		lua_getinfo(co, "Sl", &ar);
		if (ar.source[0] == '@' && ar.currentline > 0) {
			lua_pushfstring(rt->L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
			return;
		}
	}
	lua_pushstring(rt->L, msg);
}

/* ---- the runaway guard ---------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct runtime *rt = the_rt;
	rt->work += HOOK_EVERY;
	if (rt->killed || rt->work > rt->work_limit) {
		if (!rt->killed) {
			rt->killed = true;
			/* from now on every instruction fails: pcall cannot hold it */
			lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
		}
		rt_raise(L, "stopped after %I Lua instructions without waiting: an endless loop?",
			 (lua_Integer)rt->work_limit);
	}
}

/* ---- tasks ---------------------------------------------------------- */

struct task *rt_task_new(struct runtime *rt, lua_State *L, int fn_index)
{
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		rt_raise(L, "out of memory");
	t->rt = rt;
	t->id = ++rt->n_tasks;
	t->co = lua_newthread(L);
	t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	t->results_ref = LUA_NOREF;
	if (rt->killed)
		lua_sethook(t->co, count_hook, LUA_MASKCOUNT, 1);
	lua_pushvalue(L, fn_index);
	lua_xmove(L, t->co, 1);
	t->wait = W_READY;
	struct task **pp = &rt->tasks;
	while (*pp)
		pp = &(*pp)->next;
	*pp = t;
	return t;
}

static bool any_busy(const struct runtime *rt)
{
	for (struct cluster *c = rt->clusters; c; c = c->next)
		if (c->hub && hub_busy(c->hub))
			return true;
	return false;
}

static bool any_ready(const struct runtime *rt)
{
	for (struct task *t = rt->tasks; t; t = t->next)
		if (t->wait == W_READY)
			return true;
	return false;
}

static void pump(uv_idle_t *idle);

void rt_kick(struct runtime *rt)
{
	if (!rt->finishing)
		uv_idle_start(&rt->idle, pump);
}

static void make_ready(struct task *t)
{
	t->wait = W_READY;
	rt_kick(t->rt);
}

/* A task ended: wake whoever joins it, and whoever waits for a condition
 * (c:wait(fn) may be waiting for what the task did: on an idle cluster no
 * event would come to make it look again). */
static void task_ended(struct runtime *rt, struct task *t)
{
	for (struct task *o = rt->tasks; o; o = o->next)
		if ((o->wait == W_JOIN && o->join == t) || o->wait == W_PROGRESS)
			make_ready(o);
}

static void finish(struct runtime *rt, int code, const char *msg)
{
	if (rt->finishing)
		return;
	rt->finishing = true;
	rt->exit_code = code;
	if (rt->tui) {
		tui_stop(rt->tui);           /* the terminal back before any words */
		rt->tui = NULL;
	}
	if (msg) {
		fflush(stdout);
		fprintf(stderr, "%s\n", msg);
	}
	for (struct cluster *c = rt->clusters; c; c = c->next)
		lua_cluster_stop(c);
	resp_close(rt->resp);
	rt->resp = NULL;
	uv_idle_stop(&rt->idle);
	uv_timer_stop(&rt->pace_timer);
}

/* The script ended (code 0: it succeeded).  Headless, that is the end of
 * the run; with a screen, the cluster stays up until the person quits. */
static void script_end(struct runtime *rt, int code, const char *msg)
{
	rt->killed = false;
	if (!rt->dashboard) {
		finish(rt, code, msg);
		return;
	}
	if (rt->script_over)
		return;
	rt->script_over = true;
	rt->script_code = code;
	snprintf(rt->script_msg, sizeof rt->script_msg, "%s", msg ? msg : "");
	if (rt->tui && (rt->opts.script || code != 0))
		tui_script_ended(rt->tui, code, rt->script_msg);
}

/* A person's action ended: show what it returned or why it failed. */
static void hand_done(struct runtime *rt, struct task *t)
{
	/* what waits on a condition looks again: the action may have met it
	 * even while time stands still and no event would wake it */
	for (struct task *o = rt->tasks; o; o = o->next)
		if (o->wait == W_PROGRESS)
			make_ready(o);
	t->observed = true;
	t->handle_gone = true;
	rt->killed = false;                  /* a runaway prompt line stops alone */
	lua_rawgeti(rt->L, LUA_REGISTRYINDEX, t->results_ref);
	if (t->failed) {
		if (rt->tui)
			tui_result(rt->tui, true, lua_tostring(rt->L, -1));
		lua_pop(rt->L, 1);
		return;
	}
	/* results: ts._dash.show turns them into one line */
	lua_getglobal(rt->L, "ts");
	lua_getfield(rt->L, -1, "_dash");
	lua_getfield(rt->L, -1, "show");
	lua_pushvalue(rt->L, -4);
	const char *text = NULL;
	if (lua_pcall(rt->L, 1, 1, 0) == LUA_OK)
		text = lua_tostring(rt->L, -1);
	if (rt->tui && text && *text)
		tui_result(rt->tui, false, text);
	lua_pop(rt->L, 4);
}

static void resume(struct runtime *rt, struct task *t)
{
	lua_State *co = t->co;
	int nargs = t->npush;
	t->npush = 0;
	t->wait = W_NONE;
	rt->current = t;
	rt->work = 0;
	int nres = 0;
	int st = lua_resume(co, rt->L, nargs, &nres);
	rt->current = NULL;
	if (st == LUA_YIELD) {
		if (t->wait == W_NONE) {
			/* a bare coroutine.yield() at the top of a task: let others run */
			lua_pop(co, nres);
			t->wait = W_READY;
		}
		return;
	}
	t->done = true;
	if (st == LUA_OK) {
		lua_createtable(rt->L, nres, 1);
		lua_xmove(co, rt->L, nres);
		for (int i = nres; i >= 1; i--)
			lua_rawseti(rt->L, -1 - i, i);
		lua_pushinteger(rt->L, nres);
		lua_setfield(rt->L, -2, "n");
		t->results_ref = luaL_ref(rt->L, LUA_REGISTRYINDEX);
	} else {
		t->failed = true;
		error_with_position(rt, co);
		t->results_ref = luaL_ref(rt->L, LUA_REGISTRYINDEX);
	}
	task_ended(rt, t);
	if (t->hand) {
		hand_done(rt, t);
		return;
	}
	char msg[2048];
	if (t == rt->main) {
		if (t->failed) {
			lua_rawgeti(rt->L, LUA_REGISTRYINDEX, t->results_ref);
			snprintf(msg, sizeof msg, "%s", lua_tostring(rt->L, -1));
			lua_pop(rt->L, 1);
			script_end(rt, 1, msg);
			return;
		}
		/* a task that failed and that nobody asked about fails the run */
		for (struct task *o = rt->tasks; o; o = o->next)
			if (o->failed && !o->observed && !o->hand) {
				lua_rawgeti(rt->L, LUA_REGISTRYINDEX, o->results_ref);
				snprintf(msg, sizeof msg, "%s (in a task started with ts.go)", lua_tostring(rt->L, -1));
				lua_pop(rt->L, 1);
				script_end(rt, 1, msg);
				return;
			}
		script_end(rt, rt->killed ? 1 : 0, NULL);
	} else if (rt->killed) {
		lua_rawgeti(rt->L, LUA_REGISTRYINDEX, t->results_ref);
		snprintf(msg, sizeof msg, "%s", lua_tostring(rt->L, -1));
		lua_pop(rt->L, 1);
		script_end(rt, 1, msg);
	}
}

static void run_ready(struct runtime *rt)
{
	for (struct task *t = rt->tasks; t && !rt->finishing; t = t->next)
		if (t->wait == W_READY && !any_busy(rt))
			resume(rt, t);
	/* Lua may have changed what the screen shows (a lesson's hint, say)
	 * even while time stands still and no event will say so */
	if (rt->tui)
		tui_dirty(rt->tui);
	/* forget ended tasks nobody can ask about any more */
	struct task **pp = &rt->tasks;
	while (*pp) {
		struct task *t = *pp;
		if (t->done && t->handle_gone) {
			*pp = t->next;
			task_free(t);
		} else {
			pp = &t->next;
		}
	}
}

static void task_free(struct task *t)
{
	struct runtime *rt = t->rt;
	if (rt->L) {
		luaL_unref(rt->L, LUA_REGISTRYINDEX, t->co_ref);
		luaL_unref(rt->L, LUA_REGISTRYINDEX, t->results_ref);
	}
	free(t);
}

/* ---- hub hooks ------------------------------------------------------ */

static void on_progress(struct hub *h, void *ud)
{
	struct cluster *c = ud;
	if (c->rt->tui)
		tui_dirty(c->rt->tui);
	for (struct task *t = c->rt->tasks; t; t = t->next)
		if (t->wait == W_PROGRESS && t->cl == c)
			make_ready(t);
}

static void on_timer(struct hub *h, uint64_t id, void *ud)
{
	struct cluster *c = ud;
	resp_timer(c->rt->resp, h, id);
	for (struct task *t = c->rt->tasks; t; t = t->next)
		if (t->timer_id == id && t->timer_hub == h &&
		    (t->wait == W_TIME || t->wait == W_PROGRESS || t->wait == W_JOIN)) {
			t->timer_id = 0;
			make_ready(t);
		}
}

static void on_proposed(struct hub *h, uint64_t req, uint64_t index, uint64_t term, bool ok, void *ud)
{
	struct cluster *c = ud;
	for (struct task *t = c->rt->tasks; t; t = t->next)
		if (t->wait == W_PROPOSE && t->req == req) {
			lua_pushinteger(t->co, ok ? (lua_Integer)index : 0);
			lua_pushinteger(t->co, (lua_Integer)term);
			lua_pushboolean(t->co, ok);
			t->npush = 3;
			make_ready(t);
		}
}

static void on_client_done(struct hub *h, uint32_t client, uint64_t token,
			   const struct clerk_result *res, void *ud)
{
	struct cluster *c = ud;
	if (resp_token(token)) {
		resp_client_done(c->rt->resp, h, client, token, res);
		return;
	}
	for (struct task *t = c->rt->tasks; t; t = t->next)
		if (t->wait == W_CLIENT && t->cl == c && t->req == token) {
			lua_pushstring(t->co, kv_err_name(res->err));
			lua_pushlstring(t->co, res->value ? (const char *)res->value : "", res->value_len);
			lua_pushinteger(t->co, (lua_Integer)res->version);
			lua_pushinteger(t->co, res->attempts);
			lua_pushinteger(t->co, res->server);
			lua_pushinteger(t->co, (lua_Integer)(int64_t)res->n);
			t->npush = 6;
			make_ready(t);
		}
}

static void on_kick(struct hub *h, void *ud)
{
	struct cluster *c = ud;
	rt_kick(c->rt);
}

void rt_hub_hooks(struct runtime *rt, struct cluster *c, struct hub_hooks *hooks)
{
	hooks->ud = c;
	hooks->progress = on_progress;
	hooks->timer = on_timer;
	hooks->proposed = on_proposed;
	hooks->kick = on_kick;
	hooks->client_done = on_client_done;
}

void rt_hand(struct runtime *rt, const char *code, bool record)
{
	struct hand *a = calloc(1, sizeof *a);
	if (!a || !(a->code = strdup(code))) {
		free(a);
		return;
	}
	a->record = record;
	struct hand **pp = &rt->hands;
	while (*pp)
		pp = &(*pp)->next;
	*pp = a;
	rt_kick(rt);
}

struct cluster *rt_shown(struct runtime *rt)
{
	if (rt->shown && rt->shown->hub)
		return rt->shown;
	struct cluster *shown = NULL;
	for (struct cluster *c = rt->clusters; c; c = c->next)
		if (c->hub)
			shown = c;
	return shown;
}

void rt_quit(struct runtime *rt, int code, const char *msg)
{
	finish(rt, code, msg);
}

static bool serves_kv(const struct cluster *c)
{
	return c->hub && (strcmp(hub_kind(c->hub), "kv") == 0 || strcmp(hub_kind(c->hub), "kvsrv") == 0 ||
			  strcmp(hub_kind(c->hub), "etcd") == 0);
}

void rt_cluster_started(struct runtime *rt, struct cluster *c)
{
	if (rt->resp && !resp_hub(rt->resp) && serves_kv(c))
		resp_attach(rt->resp, c->hub, c->number);
}

void rt_cluster_stopping(struct runtime *rt, struct cluster *c)
{
	if (!rt->resp || !c->hub || resp_hub(rt->resp) != c->hub)
		return;
	resp_detach(rt->resp, c->hub);
	struct cluster *next = NULL;
	for (struct cluster *o = rt->clusters; o; o = o->next)
		if (o != c && serves_kv(o))
			next = o;
	if (next)
		resp_attach(rt->resp, next->hub, next->number);
}

static void resp_kick(void *ud)
{
	rt_kick(ud);
}

/* Start the next queued action as a task, once the shown cluster has run
 * everything the wall clock allows: the action then lands strictly between
 * two events, at the instant a replay will put it. */
static bool start_hand(struct runtime *rt)
{
	struct hand *a = rt->hands;
	if (!a || any_busy(rt))
		return false;
	struct cluster *c = rt_shown(rt);
	if (c && !hub_caught_up(c->hub))
		return false;
	if (c)
		hub_sync_clock(c->hub);
	rt->hands = a->next;
	lua_State *L = rt->L;
	lua_getglobal(L, "ts");
	lua_getfield(L, -1, "_dash");
	lua_getfield(L, -1, "hand");
	if (lua_isfunction(L, -1)) {
		struct task *t = rt_task_new(rt, L, lua_gettop(L));
		t->hand = true;
		lua_pushstring(t->co, a->code);
		lua_pushboolean(t->co, a->record);
		t->npush = 2;
	}
	lua_pop(L, 3);
	free(a->code);
	free(a);
	return true;
}

void rt_probe_done(struct task *t, const char *why)
{
	if (t->wait != W_PROBE)
		return;
	lua_pushstring(t->co, why);
	t->npush = 1;
	make_ready(t);
}

/* ---- the pump ------------------------------------------------------- */

static void on_pace_timer(uv_timer_t *timer)
{
	rt_kick(timer->data);
}

static bool anything_blocked(const struct runtime *rt)
{
	for (struct task *t = rt->tasks; t; t = t->next)
		if (!t->done)
			return true;
	return false;
}

static void pump(uv_idle_t *idle)
{
	struct runtime *rt = idle->data;
	bool did = false, busy = false, paused = false, probing = false;
	uint64_t wait_ms = UINT64_MAX;
	for (int round = 0; round < 512 && !rt->finishing; round++) {
		if (!any_busy(rt) && any_ready(rt)) {
			run_ready(rt);
			continue;
		}
		if (resp_has_work(rt->resp) && !any_busy(rt)) {
			resp_pump(rt->resp);
			continue;
		}
		if (start_hand(rt))
			continue;
		did = busy = paused = false;
		wait_ms = UINT64_MAX;
		for (struct cluster *c = rt->clusters; c; c = c->next) {
			if (!c->hub)
				continue;
			switch (hub_step(c->hub)) {
			case HUB_STEP_DID:
				did = true;
				break;
			case HUB_STEP_BUSY:
				busy = true;
				break;
			case HUB_STEP_WAIT: {
				uint64_t w = hub_wall_wait(c->hub);
				if (w < wait_ms)
					wait_ms = w;
				break;
			}
			case HUB_STEP_PAUSED:
				paused = true;
				break;
			case HUB_STEP_EMPTY:
				break;
			}
			if (c->probe_task)
				probing = true;
		}
		if (!did)
			break;
	}
	if (rt->finishing)
		return;
	if (did || (!any_busy(rt) && (any_ready(rt) || resp_has_work(rt->resp))))
		return;                      /* more to do: stay scheduled */
	uv_idle_stop(&rt->idle);
	if (wait_ms != UINT64_MAX) {
		uv_timer_start(&rt->pace_timer, on_pace_timer, wait_ms, 0);
		return;
	}
	if (busy || paused || probing)
		return;                      /* a node, a key or a probe will kick us */
	if (rt->hands) {
		/* an action waits for the cluster to catch up with the clock */
		uv_timer_start(&rt->pace_timer, on_pace_timer, 5, 0);
		return;
	}
	if (!rt->dashboard && anything_blocked(rt))
		finish(rt, 1, "termscope: the script waits, but nothing is left to happen "
		       "(no cluster has any event to run)");
}

/* ---- signals and the run dir ---------------------------------------- */

static void on_signal(uv_signal_t *s, int signum)
{
	struct runtime *rt = s->data;
	char msg[128];
	snprintf(msg, sizeof msg, "termscope: stopped by signal %d (%s)", signum, strsignal(signum));
	finish(rt, 128 + signum, msg);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_run_dir(struct runtime *rt)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(rt->dir, sizeof rt->dir, "%s/termscope-XXXXXX", tmp);
	if (!mkdtemp(rt->dir)) {
		fprintf(stderr, "termscope: cannot make a run dir in %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the Lua state -------------------------------------------------- */

static int load_embedded(lua_State *L, const char *name)
{
	for (const struct embedded_file *f = embedded_lua; f->name; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		char chunk[128];
		snprintf(chunk, sizeof chunk, "=termscope/%s", name);
		if (luaL_loadbuffer(L, f->data, f->len, chunk) != LUA_OK)
			return -1;
		if (lua_pcall(L, 0, 0, 0) != LUA_OK)
			return -1;
		return 0;
	}
	lua_pushfstring(L, "built-in %s is missing", name);
	return -1;
}

static void close_cb(uv_handle_t *h)
{
}

int rt_run(const struct rt_opts *o)
{
	static struct runtime rt_storage;
	struct runtime *rt = &rt_storage;
	memset(rt, 0, sizeof *rt);
	the_rt = rt;
	rt->opts = *o;
	rt->seed = o->seed;
	rt->work_limit = o->work_limit ? o->work_limit : DEFAULT_WORK_LIMIT;
	rt->loop = uv_default_loop();

	char err[512];
	rt->log = evlog_open(o->events, err, sizeof err);
	if (!rt->log) {
		fprintf(stderr, "termscope: cannot write the events file: %s\n", err);
		return 2;
	}
	if (make_run_dir(rt) != 0) {
		evlog_close(rt->log);
		return 1;
	}

	uv_idle_init(rt->loop, &rt->idle);
	rt->idle.data = rt;
	uv_timer_init(rt->loop, &rt->pace_timer);
	rt->pace_timer.data = rt;
	/* a peer that went away (a killed node, a client of the gateway, an
	 * etcd member behind the proxy) is a write error, never our death */
	signal(SIGPIPE, SIG_IGN);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (int i = 0; i < 3; i++) {
		uv_signal_init(rt->loop, &rt->signals[i]);
		rt->signals[i].data = rt;
		uv_signal_start(&rt->signals[i], on_signal, sigs[i]);
		uv_unref((uv_handle_t *)&rt->signals[i]);
	}

	lua_State *L = luaL_newstate();
	rt->L = L;
	luaL_openlibs(L);
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	rt->dashboard = !o->headless;
	lua_api_open(rt, L);
	/* math.random replays: seeded from the run seed */
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, (lua_Integer)o->seed);
	lua_call(L, 1, 0);
	lua_pop(L, 1);

	int code = 0;
	if (o->resp_port) {
		struct resp_config rc = { .port = o->resp_port, .timeout_ms = o->resp_timeout_ms,
					  .kick = resp_kick, .ud = rt };
		rt->resp = resp_new(rt->loop, &rc, err, sizeof err);
		if (!rt->resp) {
			fprintf(stderr, "termscope: --resp %d: %s\n", o->resp_port, err);
			code = 1;
			goto out;
		}
	}
	if (load_embedded(L, "termscope.lua") != 0 || load_embedded(L, "dashboard.lua") != 0 ||
	    load_embedded(L, "lesson.lua") != 0 || load_embedded(L, "kvlock.lua") != 0) {
		fprintf(stderr, "termscope: %s\n", lua_tostring(L, -1));
		code = 1;
		goto out;
	}
	int rc;
	if (o->kind) {
		lua_pushstring(L, o->kind);
		lua_setglobal(L, "__kind");
	}
	if (o->script) {
		/* a scenario can require the Lua files beside it */
		const char *slash = strrchr(o->script, '/');
		int dirlen = slash ? (int)(slash - o->script) : 1;
		lua_getglobal(L, "package");
		lua_pushlstring(L, slash ? o->script : ".", (size_t)dirlen);
		lua_pushliteral(L, "/?.lua;");
		lua_getfield(L, -3, "path");
		lua_concat(L, 3);
		lua_setfield(L, -2, "path");
		lua_pop(L, 1);
		rc = luaL_loadfile(L, o->script);
	}
	else if (o->list_lessons) {
		static const char list[] = "ts._lesson.print_list()";
		rc = luaL_loadbuffer(L, list, sizeof list - 1, "=lessons");
	} else if (o->lesson) {
		/* a lesson: on autopilot headless it is the whole run; on the
		 * dashboard it runs beside the cluster until the person quits */
		lua_pushstring(L, o->lesson);
		lua_setglobal(L, "__lesson");
		static const char auto_run[] = "ts._lesson.watch = not ts.headless() ts._lesson.autopilot_run(__lesson)";
		static const char open[] = "ts._lesson.open(__lesson)";
		if (o->autopilot)
			rc = luaL_loadbuffer(L, auto_run, sizeof auto_run - 1, "=lesson");
		else
			rc = luaL_loadbuffer(L, open, sizeof open - 1, "=lesson");
	} else if (!rt->dashboard && o->resp_port) {
		/* headless with a gateway: serve a live cluster until stopped */
		static const char serve[] =
			"local kind = __kind or \"kv\"\n"
			"local c = ts.cluster{ kind = kind, nodes = kind == \"etcd\" and 3 or 5 }\n"
			"print(string.format(\"termscope: a %d-node %s cluster behind the RESP gateway \" ..\n"
			"  \"on 127.0.0.1:%d; Ctrl-C ends it\", c:size(), kind == \"etcd\" and \"etcd\" or \"key/value\",\n"
			"  ts.resp().port))\n"
			"while true do c:sleep(3600) end\n";
		rc = luaL_loadbuffer(L, serve, sizeof serve - 1, "=serve");
	} else if (rt->dashboard) {
		/* the live dashboard: a cluster to play with, and the lesson menu */
		static const char live[] = "ts._lesson.menu = true "
					   "ts._dash.live{ kind = __kind, seed = ts.seed() }";
		rc = luaL_loadbuffer(L, live, sizeof live - 1, "=live");
	} else {
		const struct embedded_file *f = embedded_lua;
		while (f->name && strcmp(f->name, "demo.lua") != 0)
			f++;
		rc = f->name ? luaL_loadbuffer(L, f->data, f->len, "@demo.lua") : LUA_ERRFILE;
	}
	if (rc != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		code = rc == LUA_ERRSYNTAX ? 1 : 2;
		goto out;
	}
	if (rt->dashboard) {
		rt->tui = tui_start(rt, err, sizeof err);
		if (!rt->tui) {
			fprintf(stderr, "termscope: %s\n", err);
			code = 2;
			goto out;
		}
	}
	rt->main = rt_task_new(rt, L, lua_gettop(L));
	lua_pop(L, 1);
	rt_kick(rt);
	uv_run(rt->loop, UV_RUN_DEFAULT);
	code = rt->exit_code;
	if (code != 0 && !o->seed_given)
		fprintf(stderr, "termscope: the seed was %" PRIu64 "; replay this run with --seed %" PRIu64 "\n",
			o->seed, o->seed);

out:
	/* stop whatever is left, let libuv close it all, then free */
	if (rt->tui) {
		tui_stop(rt->tui);
		rt->tui = NULL;
	}
	rt->finishing = true;
	for (struct cluster *c = rt->clusters; c; c = c->next)
		lua_cluster_stop(c);
	resp_close(rt->resp);
	rt->resp = NULL;
	uv_close((uv_handle_t *)&rt->idle, close_cb);
	uv_close((uv_handle_t *)&rt->pace_timer, close_cb);
	for (int i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&rt->signals[i], close_cb);
	uv_run(rt->loop, UV_RUN_DEFAULT);
	while (rt->hands) {
		struct hand *a = rt->hands;
		rt->hands = a->next;
		free(a->code);
		free(a);
	}
	/* Lua first: the __gc of task handles still touches the tasks */
	lua_close(L);
	rt->L = NULL;
	while (rt->tasks) {
		struct task *t = rt->tasks;
		rt->tasks = t->next;
		task_free(t);
	}
	lua_api_free(rt);
	uv_loop_close(rt->loop);
	fflush(stdout);
	const char *werr = evlog_error(rt->log);
	if (werr) {
		fprintf(stderr, "termscope: events file: %s\n", werr);
		if (code == 0)
			code = 1;
	}
	evlog_close(rt->log);
	if (o->keep)
		fprintf(stderr, "termscope: run data kept in %s\n", rt->dir);
	else
		remove_tree(rt->dir);
	return code;
}
