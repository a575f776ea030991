/*
 * lua_api.c — the C half of the scripting surface (DESIGN §6): `ts` and
 * the cluster and task objects.  lua/termscope.lua builds the rest (waits,
 * wait_leader, one, ...) on top of these.
 *
 * A cluster is a userdata over struct cluster, which owns one hub; a task
 * is a userdata over struct task.  Their __gc only marks or stops: the
 * runtime frees the structs.  Every waiting call yields through _block or
 * a yielding method here; nothing here ever blocks the loop.
 */
#include "lua_api.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <limits.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "embed.h"
#include "script.h"
#include "../core/mr.h"
#include "../gateway/resp.h"
#include "../tui/tui.h"

#define CLUSTER_MT "termscope.cluster"
#define TASK_MT "termscope.task"

static struct runtime *rt_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

static struct cluster *check_cluster(lua_State *L, int i)
{
	struct cluster **pc = luaL_checkudata(L, i, CLUSTER_MT);
	return *pc;
}

static struct hub *live_hub(lua_State *L, int i)
{
	struct cluster *c = check_cluster(L, i);
	if (!c->hub)
		rt_raise(L, "the cluster was stopped");
	return c->hub;
}

static uint32_t check_node(lua_State *L, struct hub *h, int i)
{
	lua_Integer id = luaL_checkinteger(L, i);
	if (id < 1 || id > (lua_Integer)hub_size(h))
		rt_raise(L, "no node %I (the cluster has nodes 1-%d)", id, (int)hub_size(h));
	return (uint32_t)id;
}

static struct task *current_task(lua_State *L, struct runtime *rt)
{
	struct task *t = rt->current;
	if (!t || t->co != L)
		rt_raise(L, "a waiting call must run in the script or in a ts.go task, "
			 "not in a coroutine of your own or a metamethod");
	return t;
}

/* ---- waiting -------------------------------------------------------- */

static int block_k(lua_State *L, int status, lua_KContext ctx)
{
	struct runtime *rt = rt_of(L);
	for (struct cluster *c = rt->clusters; c; c = c->next)
		if (c->hub && hub_violation(c->hub))
			rt_raise(L, "invariant violated: %s", hub_violation(c->hub));
	return lua_gettop(L) - (int)ctx;
}

static void arm_timer(struct task *t, struct hub *h, uint64_t at)
{
	if (t->timer_id && t->timer_hub == h && t->timer_at == at)
		return;                      /* the same deadline as the last block */
	t->timer_hub = h;
	t->timer_at = at;
	t->timer_id = hub_timer(h, at);
}

static int yield_task(lua_State *L)
{
	return lua_yieldk(L, 0, (lua_KContext)lua_gettop(L), block_k);
}

/* _block(kind, ...): yield the current task until something happens.
 *   "time", c, at_ms          until the cluster's clock reaches at_ms
 *   "progress", c [, at_ms]   until the cluster's next event (or at_ms)
 *   "join", task [, c, at_ms] until the task ends (or the clock reaches at_ms)
 *   "yield"                   let other ready tasks run first */
static int l_block(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	struct task *t = current_task(L, rt);
	const char *kind = luaL_checkstring(L, 1);
	t->timer_id = strcmp(kind, "progress") == 0 ? t->timer_id : 0;
	if (strcmp(kind, "time") == 0) {
		struct cluster *c = check_cluster(L, 2);
		struct hub *h = live_hub(L, 2);
		uint64_t at = (uint64_t)luaL_checkinteger(L, 3);
		t->cl = c;
		arm_timer(t, h, at);
		t->wait = W_TIME;
	} else if (strcmp(kind, "progress") == 0) {
		struct cluster *c = check_cluster(L, 2);
		struct hub *h = live_hub(L, 2);
		t->cl = c;
		if (!lua_isnoneornil(L, 3))
			arm_timer(t, h, (uint64_t)luaL_checkinteger(L, 3));
		else
			t->timer_id = 0;
		t->wait = W_PROGRESS;
	} else if (strcmp(kind, "join") == 0) {
		struct task **pt = luaL_checkudata(L, 2, TASK_MT);
		if (*pt == t)
			rt_raise(L, "a task cannot wait for itself");
		t->join = *pt;
		if (t->join->done) {
			t->wait = W_READY;
			return yield_task(L);
		}
		if (!lua_isnoneornil(L, 3)) {
			struct hub *h = live_hub(L, 3);
			arm_timer(t, h, (uint64_t)luaL_checkinteger(L, 4));
		}
		t->wait = W_JOIN;
	} else if (strcmp(kind, "yield") == 0) {
		t->wait = W_READY;
	} else {
		rt_raise(L, "unknown wait \"%s\"", kind);
	}
	return yield_task(L);
}

/* ---- tasks ---------------------------------------------------------- */

static int l_go(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	struct task *t = rt_task_new(rt, L, 1);
	/* extra arguments go to the function */
	int nargs = lua_gettop(L) - 1;
	for (int i = 2; i <= nargs + 1; i++)
		lua_pushvalue(L, i);
	lua_xmove(L, t->co, nargs);
	t->npush = nargs;
	struct task **pt = lua_newuserdatauv(L, sizeof *pt, 0);
	*pt = t;
	luaL_setmetatable(L, TASK_MT);
	rt_kick(rt);
	return 1;
}

static int l_task_done(lua_State *L)
{
	struct task **pt = luaL_checkudata(L, 1, TASK_MT);
	lua_pushboolean(L, (*pt)->done);
	return 1;
}

/* The results of an ended task, or its error raised again. */
static int l_task_results(lua_State *L)
{
	struct task **pt = luaL_checkudata(L, 1, TASK_MT);
	struct task *t = *pt;
	if (!t->done)
		rt_raise(L, "the task has not ended");
	t->observed = true;
	lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
	if (t->failed)
		return lua_error(L);
	lua_getfield(L, -1, "n");
	int n = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	luaL_checkstack(L, n, "too many results");
	for (int i = 1; i <= n; i++)
		lua_rawgeti(L, -i, i);
	return n;
}

static int l_task_gc(lua_State *L)
{
	struct task **pt = luaL_checkudata(L, 1, TASK_MT);
	if (*pt)
		(*pt)->handle_gone = true;
	return 0;
}

/* ---- clusters ------------------------------------------------------- */

static lua_Integer opt_int_field(lua_State *L, int t, const char *k, lua_Integer def, lua_Integer lo, lua_Integer hi)
{
	lua_getfield(L, t, k);
	lua_Integer v = def;
	if (!lua_isnil(L, -1)) {
		int ok;
		v = lua_tointegerx(L, -1, &ok);
		if (!ok)
			rt_raise(L, "ts.cluster: %s must be an integer", k);
		if (v < lo || v > hi)
			rt_raise(L, "ts.cluster: %s must be between %I and %I (got %I)", k, lo, hi, v);
	}
	lua_pop(L, 1);
	return v;
}

/* Push a "file PATH\n" line for each file `pattern` (a glob) names, as
 * absolute paths.  Returns how many were pushed. */
static int push_inputs(lua_State *L, const char *pattern)
{
	glob_t g;
	int rc = glob(pattern, 0, NULL, &g);
	int n = 0;
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		char real[PATH_MAX];
		struct stat sb;
		if (!realpath(g.gl_pathv[i], real) || stat(real, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    strchr(real, '\n'))
			continue;
		if (!lua_checkstack(L, 4)) {
			globfree(&g);
			rt_raise(L, "ts.cluster: too many input files");
		}
		lua_pushfstring(L, "file %s\n", real);
		n++;
	}
	globfree(&g);
	return n;
}

/* Write `path` cut into parts of about `split` bytes, each ending at a line
 * end (a line longer than that is not cut), as DIR/inputs/NAME@K; a "file"
 * line for each part goes to f.  False with why on failure. */
static bool write_parts(FILE *f, const char *path, uint64_t split, const char *dir, char *why, size_t len)
{
	FILE *in = fopen(path, "rb");
	if (!in) {
		snprintf(why, len, "%.400s: cannot read", path);
		return false;
	}
	char parts[PATH_MAX + 64];
	snprintf(parts, sizeof parts, "%s/inputs", dir);
	mkdir(parts, 0755);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bool ok = true;
	int k = 0, ch = 0;
	while (ok && ch != EOF) {
		char part[2 * PATH_MAX + 96];
		snprintf(part, sizeof part, "%s/%s@%d", parts, base, k++);
		FILE *out = fopen(part, "wb");
		if (!out) {
			snprintf(why, len, "%.400s: cannot write", part);
			ok = false;
			break;
		}
		uint64_t n = 0;
		while ((ch = fgetc(in)) != EOF) {
			fputc(ch, out);
			if (++n >= split && ch == '\n')
				break;
		}
		if (fclose(out) != 0 || (n == 0 && ch == EOF && k > 1 ? remove(part) != 0 : false)) {
			snprintf(why, len, "%.400s: cannot write", part);
			ok = false;
		} else if (n > 0) {
			fprintf(f, "file %s\n", part);
		}
	}
	fclose(in);
	return ok;
}

/* The job's lines, copied to f, but a file bigger than `split` bytes (0:
 * never) is listed as its parts. */
static bool write_job_files(FILE *f, const char *text, uint64_t split, const char *dir, char *why, size_t len)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t l = nl ? (size_t)(nl - text) : strlen(text);
		struct stat sb;
		char path[PATH_MAX];
		if (split && l > 5 && strncmp(text, "file ", 5) == 0 && l - 5 < sizeof path) {
			memcpy(path, text + 5, l - 5);
			path[l - 5] = 0;
			if (stat(path, &sb) == 0 && (uint64_t)sb.st_size > split) {
				if (!write_parts(f, path, split, dir, why, len))
					return false;
				text += l + (nl ? 1 : 0);
				continue;
			}
		}
		if (fwrite(text, 1, l, f) != l || fputc('\n', f) == EOF)
			return false;
		text += l + (nl ? 1 : 0);
	}
	return true;
}

/* kind mr: the job file's text (but its dir line) from the options table
 * at t, pushed as one string. */
static void mr_job_text(lua_State *L, int t)
{
	lua_getfield(L, t, "app");
	const char *app = lua_isnil(L, -1) ? "wc" : lua_tostring(L, -1);
	if (!app || !*app || strchr(app, '\n'))
		rt_raise(L, "ts.cluster: app is the name of a built-in app (wc, indexer, ...) or a .lua file");
	char real[PATH_MAX];
	bool is_path = strchr(app, '/') || strstr(app, ".lua");
	if (is_path && !realpath(app, real))
		rt_raise(L, "ts.cluster: app %s: no such file", app);
	lua_Integer reduces = opt_int_field(L, t, "reduces", 10, 1, 10000);
	lua_getfield(L, t, "timeout");
	lua_Number timeout = lua_isnil(L, -1) ? 10.0 : lua_tonumber(L, -1);
	if (!(timeout > 0 && timeout <= 3600))
		rt_raise(L, "ts.cluster: timeout is the virtual seconds before a task is handed to another "
			 "worker (0 < timeout <= 3600)");
	lua_pop(L, 1);
	lua_Integer rate = opt_int_field(L, t, "rate", 1 << 20, 1, (lua_Integer)1 << 40);
	lua_pushfstring(L, "app %s\nreduces %I\ntimeout %I\nrate %I\n", is_path ? real : app, reduces,
			(lua_Integer)(timeout * 1000 + 0.5), rate);
	lua_remove(L, -2);               /* the app name */
	lua_getfield(L, t, "inputs");
	int inputs = lua_gettop(L);
	int files = 0;
	if (lua_type(L, inputs) == LUA_TSTRING) {
		files = push_inputs(L, lua_tostring(L, inputs));
	} else if (lua_istable(L, inputs)) {
		lua_Integer len = luaL_len(L, inputs);
		for (lua_Integer i = 1; i <= len; i++) {
			lua_geti(L, inputs, i);
			const char *p = lua_tostring(L, -1);
			char pat[PATH_MAX];
			snprintf(pat, sizeof pat, "%s", p ? p : "");
			lua_pop(L, 1);
			if (p)
				files += push_inputs(L, pat);
		}
	} else {
		rt_raise(L, "ts.cluster: inputs is a file pattern (\"assets/corpus/*.txt\") or a list of files");
	}
	if (files == 0)
		rt_raise(L, "ts.cluster: no input files match %s",
			 lua_type(L, inputs) == LUA_TSTRING ? lua_tostring(L, inputs) : "the inputs listed");
	lua_concat(L, files);            /* the file lines */
	lua_remove(L, inputs);
	lua_concat(L, 2);                /* header .. files */
}

static int l_cluster(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	/* every key must be one we know */
	static const char *known[] = { "kind", "nodes", "seed", "heartbeat", "election", "maxraftstate",
				       "snapshot", "dedup", "reads", "retry", "workers", "app", "inputs",
				       "reduces", "timeout", "rate", "split", "fsync", NULL };
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		bool ok = false;
		for (int i = 0; k && known[i]; i++)
			ok |= strcmp(k, known[i]) == 0;
		if (!ok)
			rt_raise(L, "ts.cluster: unknown option '%s' (known: kind, nodes, seed, heartbeat, election, "
				 "maxraftstate, snapshot, dedup, reads, retry, fsync; for kind mr: workers, app, "
				 "inputs, reduces, timeout, rate, split)",
				 k ? k : luaL_typename(L, -1));
	}
	lua_getfield(L, 1, "kind");
	const char *kind = lua_isnil(L, -1) ? "raft" : lua_tostring(L, -1);
	if (!kind)
		rt_raise(L, "ts.cluster: kind must be a string");
	char kbuf[32];
	snprintf(kbuf, sizeof kbuf, "%s", kind);
	lua_pop(L, 1);
	bool mr = strcmp(kbuf, "mr") == 0;
	/* etcd's own defaults: a second's election timeout, a client that
	 * waits a second for an answer */
	bool etcd = strcmp(kbuf, "etcd") == 0;
	int job_at = 0;                      /* mr: the job file's text, on the Lua stack */
	uint32_t n;
	uint64_t split = 0;
	if (mr) {
		n = 1 + (uint32_t)opt_int_field(L, 1, "workers", 3, 1, HUB_MAX_NODES - 1);
		split = (uint64_t)opt_int_field(L, 1, "split", 0, 0, (lua_Integer)1 << 40);
		mr_job_text(L, 1);
		job_at = lua_gettop(L);
	} else {
		n = (uint32_t)opt_int_field(L, 1, "nodes", strcmp(kbuf, "kvsrv") == 0 ? 1 : etcd ? 3 : 5, 1,
					    HUB_MAX_NODES);
	}
	uint64_t maxraftstate = (uint64_t)opt_int_field(L, 1, "maxraftstate", 0, 0, 1 << 30);
	uint64_t snap_every = (uint64_t)opt_int_field(L, 1, "snapshot", 0, 0, 1 << 30);
	uint64_t retry = (uint64_t)opt_int_field(L, 1, "retry", etcd ? 1000 : 250, 10, 60000);
	lua_getfield(L, 1, "dedup");
	bool dedup = lua_isnil(L, -1) || lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 1, "reads");
	const char *reads = lua_isnil(L, -1) ? "log" : lua_tostring(L, -1);
	if (!reads || (strcmp(reads, "log") != 0 && strcmp(reads, "local") != 0))
		rt_raise(L, "ts.cluster: reads is \"log\" (through Raft, linearizable) or \"local\" (any replica's own state)");
	bool local_reads = strcmp(reads, "local") == 0;
	lua_pop(L, 1);
	lua_getfield(L, 1, "fsync");
	char fsync[16] = "batch";
	if (!lua_isnil(L, -1)) {
		const char *fs = lua_tostring(L, -1);
		if (!fs || (strcmp(fs, "always") != 0 && strcmp(fs, "batch") != 0 && strcmp(fs, "never") != 0))
			rt_raise(L, "ts.cluster: fsync is \"always\" (each input), \"batch\" (once per batch of "
				 "inputs: group commit) or \"never\"");
		snprintf(fsync, sizeof fsync, "%s", fs);
	}
	lua_pop(L, 1);
	uint64_t seed = (uint64_t)opt_int_field(L, 1, "seed", (lua_Integer)rt->seed, 0, LUA_MAXINTEGER);
	uint64_t hb = (uint64_t)opt_int_field(L, 1, "heartbeat", 100, 10, 10000);
	uint64_t el = (uint64_t)opt_int_field(L, 1, "election", etcd ? 1000 : 300, 20, 100000);
	if (etcd && el < 5 * hb)
		rt_raise(L, "ts.cluster: etcd wants election >= 5 x heartbeat (%d ms with heartbeat %d)",
			 (int)(5 * hb), (int)hb);

	struct cluster *c = calloc(1, sizeof *c);
	if (!c)
		rt_raise(L, "out of memory");
	c->rt = rt;
	c->number = ++rt->n_clusters;
	char dir[PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/c%d", rt->dir, c->number);
	if (mkdir(dir, 0755) != 0) {
		free(c);
		rt_raise(L, "cannot make %s", dir);
	}
	char job[PATH_MAX + 64] = "";
	if (mr) {
		/* the job: the file every node reads, and the dir for mr-X-Y and mr-out-Y */
		char mrdir[PATH_MAX + 48];
		snprintf(job, sizeof job, "%s/job.txt", dir);
		snprintf(mrdir, sizeof mrdir, "%s/mr", dir);
		FILE *f = mkdir(mrdir, 0755) == 0 ? fopen(job, "w") : NULL;
		bool ok = f && fprintf(f, "dir %s\n", mrdir) > 0;
		char why[PATH_MAX + 64] = "";
		ok = ok && write_job_files(f, lua_tostring(L, job_at), split, dir, why, sizeof why);
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok) {
			free(c);
			rt_raise(L, "ts.cluster: cannot write %s%s%s", job, why[0] ? ": " : "", why);
		}
	}
	enum hub_pace pace = rt->opts.pace;
	if (!lua_isnoneornil(L, 2)) {
		const char *p = luaL_checkstring(L, 2);
		if (strcmp(p, "fast") == 0)
			pace = HUB_FAST;
		else if (strcmp(p, "paced") == 0)
			pace = HUB_PACED;
		else if (strcmp(p, "real") == 0)
			pace = HUB_REAL;
		else
			rt_raise(L, "ts.cluster: pace is \"fast\", \"paced\" or \"real\"");
	}
	struct hub_config cfg = {
		.kind = kbuf,
		.n = n,
		.seed = seed,
		.pace = pace,
		.speed = rt->opts.speed,
		.exe = rt->opts.exe,
		.dir = dir,
		.heartbeat = hb,
		.election = el,
		.maxraftstate = maxraftstate,
		.snapshot_every = snap_every,
		.no_dedup = !dedup,
		.local_reads = local_reads,
		.clerk_retry = retry,
		.mr_job = mr ? job : NULL,
		.fsync = fsync,
		.log = rt->log,
		.quiet = rt->dashboard,
		.number = c->number,
	};
	rt_hub_hooks(rt, c, &cfg.hooks);
	char err[HUB_ERRMSG];
	c->hub = hub_new(rt->loop, &cfg, err, sizeof err);
	if (!c->hub) {
		free(c);
		rt_raise(L, "ts.cluster: %s", err);
	}
	struct cluster **pp = &rt->clusters;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	struct cluster **pc = lua_newuserdatauv(L, sizeof *pc, 0);
	*pc = c;
	luaL_setmetatable(L, CLUSTER_MT);
	rt_cluster_started(rt, c);
	rt_kick(rt);
	return 1;
}

void lua_cluster_stop(struct cluster *c)
{
	if (c->hub) {
		rt_cluster_stopping(c->rt, c);
		hub_stop(c->hub);
		c->hub = NULL;
	}
}

static int l_stop(lua_State *L)
{
	lua_cluster_stop(check_cluster(L, 1));
	return 0;
}

static int l_cluster_gc(lua_State *L)
{
	struct cluster **pc = luaL_checkudata(L, 1, CLUSTER_MT);
	lua_cluster_stop(*pc);
	return 0;
}

/* c:_show(): the dashboard shows this cluster (while it runs) */
static int l_show(lua_State *L)
{
	struct cluster *c = check_cluster(L, 1);
	live_hub(L, 1);
	c->rt->shown = c;
	if (c->rt->tui)
		tui_dirty(c->rt->tui);
	return 0;
}

static int l_running(lua_State *L)
{
	lua_pushboolean(L, check_cluster(L, 1)->hub != NULL);
	return 1;
}

static int l_number(lua_State *L)
{
	lua_pushinteger(L, check_cluster(L, 1)->number);
	return 1;
}

static int l_started(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	bool all = !hub_busy(h);
	for (uint32_t i = 1; i <= hub_size(h) && all; i++) {
		const struct hub_node *n = hub_node(h, i);
		all = n->incarnation >= 1 && n->status != HUB_NODE_STARTING;
	}
	lua_pushboolean(L, all);
	return 1;
}

static int l_now(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	lua_pushinteger(L, (lua_Integer)hub_now(h));
	return 1;
}

static int l_time(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	lua_pushnumber(L, (lua_Number)hub_now(h) / 1000.0);
	return 1;
}

static const char *status_name(const struct hub_node *n)
{
	switch (n->status) {
	case HUB_NODE_UP: return n->paused ? "paused" : "up";
	case HUB_NODE_STARTING: return "starting";
	case HUB_NODE_FAILED: return "failed";
	case HUB_NODE_DOWN: return n->incarnation ? "crashed" : "down";
	case HUB_NODE_EXITED: return "exited";
	}
	return "?";
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void push_node(lua_State *L, struct hub *h, uint32_t id)
{
	const struct hub_node *n = hub_node(h, id);
	const struct wire_state *s = &n->st;
	lua_createtable(L, 0, 20);
	set_int(L, "id", id);
	lua_pushstring(L, status_name(n));
	lua_setfield(L, -2, "status");
	lua_pushboolean(L, n->status == HUB_NODE_UP);
	lua_setfield(L, -2, "up");
	lua_pushboolean(L, n->paused);
	lua_setfield(L, -2, "paused");
	lua_pushboolean(L, hub_quorum(h, id));
	lua_setfield(L, -2, "quorum");
	if (n->status == HUB_NODE_FAILED) {
		lua_pushstring(L, n->why);
		lua_setfield(L, -2, "why");
	}
	lua_pushstring(L, raft_role_name((enum raft_role)s->role));
	lua_setfield(L, -2, "role");
	set_int(L, "term", (lua_Integer)s->term);
	if (s->voted_for)
		set_int(L, "voted_for", s->voted_for);
	if (s->leader)
		set_int(L, "leader", s->leader);
	set_int(L, "commit", (lua_Integer)s->commit);
	set_int(L, "applied", (lua_Integer)s->applied);
	set_int(L, "log_len", (lua_Integer)hub_last_index(n));
	set_int(L, "snapshot_index", (lua_Integer)s->snapshot_index);
	set_int(L, "snapshot_term", (lua_Integer)s->snapshot_term);
	set_int(L, "raft_bytes", (lua_Integer)s->raft_bytes);
	set_int(L, "snapshot_bytes", (lua_Integer)s->snapshot_bytes);
	set_int(L, "snapshots", (lua_Integer)n->snapshots);
	set_int(L, "kv_keys", (lua_Integer)s->kv_keys);
	set_int(L, "dup_bytes", (lua_Integer)s->kv_dup_bytes);
	set_int(L, "incarnation", n->incarnation);
	set_int(L, "pid", n->pid);
	if (hub_etcd_client_port(h, id)) {
		/* an etcd member: where etcdctl reaches it (through the hub), and its id */
		char ep[64];
		snprintf(ep, sizeof ep, "127.0.0.1:%d", hub_etcd_client_port(h, id));
		lua_pushstring(L, ep);
		lua_setfield(L, -2, "endpoint");
		set_int(L, "peer_port", hub_etcd_peer_port(h, id));
		if (hub_etcd_member_id(h, id)) {
			snprintf(ep, sizeof ep, "%" PRIx64, hub_etcd_member_id(h, id));
			lua_pushstring(L, ep);
			lua_setfield(L, -2, "member_id");
		}
	}
	if (s->election_deadline != RAFT_NO_DEADLINE && n->status == HUB_NODE_UP)
		set_int(L, "election_deadline", (lua_Integer)s->election_deadline);
	if (s->role == RAFT_LEADER && s->n_peers) {
		lua_createtable(L, (int)s->n_peers, 0);
		for (uint32_t i = 1; i <= s->n_peers; i++) {
			lua_pushinteger(L, (lua_Integer)s->next_index[i]);
			lua_rawseti(L, -2, i);
		}
		lua_setfield(L, -2, "next_index");
		lua_createtable(L, (int)s->n_peers, 0);
		for (uint32_t i = 1; i <= s->n_peers; i++) {
			lua_pushinteger(L, (lua_Integer)s->match_index[i]);
			lua_rawseti(L, -2, i);
		}
		lua_setfield(L, -2, "match_index");
	}
	set_int(L, "msgs_in", (lua_Integer)n->msgs_in);
	set_int(L, "msgs_out", (lua_Integer)n->msgs_out);
}

static int l_node(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	push_node(L, h, check_node(L, h, 2));
	return 1;
}

static int l_log(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const struct hub_node *n = hub_node(h, check_node(L, h, 2));
	/* indexed by log index: entries up to log_base are in the snapshot */
	lua_createtable(L, n->log_base ? 0 : (int)n->log_len, 0);
	for (uint64_t i = 0; i < n->log_len; i++) {
		lua_createtable(L, 0, 2);
		set_int(L, "term", (lua_Integer)n->log[i].term);
		lua_pushlstring(L, n->log[i].data ? n->log[i].data : "", n->log[i].len);
		lua_setfield(L, -2, "data");
		lua_rawseti(L, -2, (lua_Integer)(n->log_base + i + 1));
	}
	return 1;
}

static int check_rc(lua_State *L, struct hub *h, int rc);

/* c:table(i) -> { key = { value =, version = } }: node i's table as it reported it */
static int l_table(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const struct hub_node *n = hub_node(h, check_node(L, h, 2));
	lua_newtable(L);
	if (!n->kv)
		return 1;
	size_t it = 0;
	const struct kv_entry *e;
	while ((e = kv_next(n->kv, &it)) != NULL) {
		lua_pushlstring(L, (const char *)e->key, e->key_len);
		lua_createtable(L, 0, 2);
		lua_pushlstring(L, (const char *)e->value, e->value_len);
		lua_setfield(L, -2, "value");
		set_int(L, "version", (lua_Integer)e->version);
		lua_settable(L, -3);
	}
	return 1;
}

/* A list of node ids as a reach mask (nil: every node). */
static uint32_t reach_mask(lua_State *L, struct hub *h, int i)
{
	if (lua_isnoneornil(L, i))
		return 0;
	luaL_checktype(L, i, LUA_TTABLE);
	uint32_t mask = 0;
	lua_Integer len = luaL_len(L, i);
	if (len == 0)
		rt_raise(L, "reach: name at least one node");
	for (lua_Integer k = 1; k <= len; k++) {
		lua_geti(L, i, k);
		mask |= 1u << check_node(L, h, lua_gettop(L));
		lua_pop(L, 1);
	}
	return mask;
}

/* c:_client_new(reach, reads) -> k */
static int l_client_new(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	struct hub_client_config cfg = { .reach = reach_mask(L, h, 2), .reads = -1 };
	if (!lua_isnoneornil(L, 3)) {
		const char *r = luaL_checkstring(L, 3);
		if (strcmp(r, "log") != 0 && strcmp(r, "local") != 0)
			rt_raise(L, "client: reads is \"log\" or \"local\"");
		cfg.reads = strcmp(r, "local") == 0;
	}
	int k = hub_client_new(h, &cfg);
	if (k < 0)
		rt_raise(L, "client: %s", hub_errmsg(h));
	lua_pushinteger(L, k);
	return 1;
}

static uint32_t check_client(lua_State *L, struct hub *h, int i)
{
	lua_Integer k = luaL_checkinteger(L, i);
	if (k < 1 || k > (lua_Integer)hub_clients(h))
		rt_raise(L, "no client %I (this cluster has %d)", k, (int)hub_clients(h));
	return (uint32_t)k;
}

/* c:_client_reach(k, reach) */
static int l_client_reach(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	uint32_t k = check_client(L, h, 2);
	check_rc(L, h, hub_client_set_reach(h, k, reach_mask(L, h, 3)));
	return 0;
}

/* c:_client_view(k) -> { reach = {...}, reads, busy, since, done, started, leader } */
static int l_client_view(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	uint32_t k = check_client(L, h, 2);
	struct hub_client_view v;
	hub_client_view(h, k, &v);
	lua_createtable(L, 0, 8);
	set_int(L, "id", k);
	lua_newtable(L);
	int n = 0;
	for (uint32_t i = 1; i <= hub_size(h); i++)
		if (v.reach & (1u << i)) {
			lua_pushinteger(L, i);
			lua_rawseti(L, -2, ++n);
		}
	lua_setfield(L, -2, "reach");
	lua_pushstring(L, v.local_reads ? "local" : "log");
	lua_setfield(L, -2, "reads");
	lua_pushboolean(L, v.busy);
	lua_setfield(L, -2, "busy");
	if (v.busy)
		lua_pushnumber(L, (lua_Number)v.since / 1000.0), lua_setfield(L, -2, "since");
	set_int(L, "done", (lua_Integer)v.done);
	set_int(L, "started", (lua_Integer)v.started);
	set_int(L, "leader", v.leader);
	return 1;
}

/* c:_op(k, op, key [, value [, version]]) -> err, value, version, attempts, server, n
 * (op: get, put, append, vput, del, incr; n: append's new length, incr's new
 * value, del's count) */
static int l_op(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	struct cluster *c = check_cluster(L, 1);
	struct hub *h = live_hub(L, 1);
	uint32_t k = check_client(L, h, 2);
	static const char *const ops[] = { "get", "put", "append", "vput", "del", "incr", NULL };
	int op = luaL_checkoption(L, 3, NULL, ops);
	size_t klen, vlen = 0;
	const char *key = luaL_checklstring(L, 4, &klen);
	bool valued = op == KV_PUT || op == KV_APPEND || op == KV_VPUT;
	const char *value = valued ? luaL_checklstring(L, 5, &vlen) : NULL;
	lua_Integer version = op == KV_VPUT ? luaL_checkinteger(L, 6) : 0;
	if (klen > KV_MAX_KEY)
		rt_raise(L, "%s: a key of %d bytes is too long (the limit is %d)", ops[op], (int)klen, (int)KV_MAX_KEY);
	if (vlen > KV_MAX_VALUE)
		rt_raise(L, "%s: a value of %d bytes is too long (the limit is %d)", ops[op], (int)vlen, (int)KV_MAX_VALUE);
	if (version < 0)
		rt_raise(L, "put: the version must be 0 or more");
	struct task *t = current_task(L, rt);
	struct kv_request req = {
		.op = (enum kv_op)op,
		.key = (const uint8_t *)key,
		.key_len = (uint32_t)klen,
		.value = (const uint8_t *)value,
		.value_len = (uint32_t)vlen,
		.version = (uint64_t)version,
	};
	uint64_t token = ++c->next_req;
	check_rc(L, h, hub_client_op(h, k, &req, token));
	t->cl = c;
	t->req = token;
	t->timer_id = 0;
	t->wait = W_CLIENT;
	return yield_task(L);
}

/* c:check_linearizable([budget]) -> ok, text, verdict */
static int l_check_lin(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	lua_Integer budget = luaL_optinteger(L, 2, 20000000);
	if (budget < 1)
		rt_raise(L, "check_linearizable: the budget must be at least 1");
	static char text[8192];
	struct lincheck_result res;
	int v = hub_check_linearizable(h, (uint64_t)budget, text, sizeof text, &res);
	lincheck_result_free(&res);
	lua_pushboolean(L, v == LINCHECK_OK);
	lua_pushstring(L, text);
	lua_pushstring(L, v < 0 ? "error" : lincheck_status_name((enum lincheck_status)v));
	return 3;
}

/* c:history() -> { {client, op, key, value, version, call, ret, out, out_version, err, attempts, server, local}, ... } (ms) */
static int l_history(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const struct lincheck_history *hist = hub_history(h);
	lua_createtable(L, (int)hist->n, 0);
	for (size_t i = 0; i < hist->n; i++) {
		const struct lincheck_op *op = &hist->ops[i];
		struct hub_op_extra x;
		hub_history_extra(h, i, &x);
		lua_createtable(L, 0, 12);
		set_int(L, "client", op->client);
		lua_pushstring(L, lincheck_kind_name(op->kind));
		lua_setfield(L, -2, "op");
		lua_pushstring(L, op->key);
		lua_setfield(L, -2, "key");
		if (op->value)
			lua_pushstring(L, op->value), lua_setfield(L, -2, "value");
		if (op->kind == LINCHECK_VPUT)
			set_int(L, "version", (lua_Integer)op->version);
		uint64_t u = hist->units_per_ms > 1 ? hist->units_per_ms : 1;
		set_int(L, "call", (lua_Integer)(op->call / u));
		set_int(L, "call_order", (lua_Integer)op->call);   /* exact order within a ms */
		if (op->ret != LINCHECK_PENDING) {
			set_int(L, "ret", (lua_Integer)(op->ret / u));
			set_int(L, "ret_order", (lua_Integer)op->ret);
			lua_pushstring(L, kv_err_name(x.err));
			lua_setfield(L, -2, "err");
			if (op->kind == LINCHECK_GET) {
				lua_pushstring(L, op->out_value ? op->out_value : "");
				lua_setfield(L, -2, "out");
				set_int(L, "out_version", (lua_Integer)op->out_version);
			}
			if (op->kind == LINCHECK_INCR && op->out_value)
				lua_pushstring(L, op->out_value), lua_setfield(L, -2, "out");
			set_int(L, "attempts", x.attempts);
			set_int(L, "server", x.server);
		}
		lua_pushboolean(L, x.local);
		lua_setfield(L, -2, "local");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* c:export_history(path) */
static int l_export_history(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	check_rc(L, h, hub_history_export(h, luaL_checkstring(L, 2)));
	return 0;
}

/* ---- MapReduce ---------------------------------------------------------- */

static void push_task(lua_State *L, const struct hub_mr_task *t)
{
	lua_createtable(L, 0, 7);
	lua_pushstring(L, t->type == MR_MAP ? "map" : "reduce");
	lua_setfield(L, -2, "type");
	set_int(L, "id", t->id);
	lua_pushstring(L, mr_task_state_name((enum mr_task_state)t->state));
	lua_setfield(L, -2, "state");
	if (t->worker)
		set_int(L, "worker", t->worker);
	if (t->state != MR_IDLE)
		lua_pushnumber(L, (lua_Number)t->started / 1000.0), lua_setfield(L, -2, "started");
	if (t->state == MR_FINISHED)
		lua_pushnumber(L, (lua_Number)t->finished / 1000.0), lua_setfield(L, -2, "finished");
	set_int(L, "runs", t->runs);
}

static const struct hub_mr *check_mr(lua_State *L, struct hub *h)
{
	if (strcmp(hub_kind(h), "mr") != 0)
		rt_raise(L, "not a MapReduce cluster (kind \"mr\")");
	return hub_mr(h);
}

/* c:tasks() -> { {type, id, state, worker, started, finished, runs}, ... } maps then reduces */
static int l_tasks(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const struct hub_mr *mr = check_mr(L, h);
	uint32_t total = mr->tasks ? mr->n_map + mr->n_reduce : 0;
	lua_createtable(L, (int)total, 0);
	for (uint32_t i = 0; i < total; i++) {
		push_task(L, &mr->tasks[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* c:workers() -> { {id, status, state, task_type, task, since, bytes_in, bytes_out, done}, ... } */
static int l_workers(lua_State *L)
{
	static const char *const states[] = { "asking", "mapping", "reducing", "waiting" };
	struct hub *h = live_hub(L, 1);
	const struct hub_mr *mr = check_mr(L, h);
	lua_createtable(L, (int)hub_size(h) - 1, 0);
	for (uint32_t i = 2; i <= hub_size(h); i++) {
		const struct hub_mr_worker *w = &mr->workers[i];
		const struct hub_node *n = hub_node(h, i);
		lua_createtable(L, 0, 9);
		set_int(L, "id", i);
		lua_pushstring(L, status_name(n));
		lua_setfield(L, -2, "status");
		lua_pushstring(L, n->status == HUB_NODE_UP ? states[w->state < 4 ? w->state : 0] : status_name(n));
		lua_setfield(L, -2, "state");
		if (n->status == HUB_NODE_UP && (w->state == WIRE_MRW_MAPPING || w->state == WIRE_MRW_REDUCING)) {
			lua_pushstring(L, w->type == MR_MAP ? "map" : "reduce");
			lua_setfield(L, -2, "task_type");
			set_int(L, "task", w->task);
			lua_pushnumber(L, (lua_Number)w->since / 1000.0);
			lua_setfield(L, -2, "since");
			set_int(L, "bytes_in", (lua_Integer)w->bytes_in);
			set_int(L, "bytes_out", (lua_Integer)w->bytes_out);
		}
		set_int(L, "done", (lua_Integer)w->tasks_done);
		lua_rawseti(L, -2, (lua_Integer)i - 1);
	}
	return 1;
}

/* c:job() -> { phase, maps, reduces, intermediate_bytes, output_bytes, dir } */
static int l_job(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const struct hub_mr *mr = check_mr(L, h);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, mr->have ? mr_phase_name((enum mr_phase)mr->phase) : "starting");
	lua_setfield(L, -2, "phase");
	set_int(L, "maps", mr->n_map);
	set_int(L, "reduces", mr->n_reduce);
	set_int(L, "intermediate_bytes", (lua_Integer)mr->intermediate_bytes);
	set_int(L, "output_bytes", (lua_Integer)mr->output_bytes);
	lua_pushfstring(L, "%s/mr", hub_dir(h));
	lua_setfield(L, -2, "dir");
	return 1;
}

/* ts.have_etcd(): is etcd installed (kind "etcd" possible)? */
static int l_have_etcd(lua_State *L)
{
	lua_pushboolean(L, hub_etcd_available());
	return 1;
}

static int l_kind(lua_State *L)
{
	lua_pushstring(L, hub_kind(live_hub(L, 1)));
	return 1;
}

static int l_client_msgs(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)hub_client_msgs(live_hub(L, 1)));
	return 1;
}

static int l_size(lua_State *L)
{
	lua_pushinteger(L, hub_size(live_hub(L, 1)));
	return 1;
}

static int l_leader(lua_State *L)
{
	uint32_t id = hub_leader(live_hub(L, 1));
	if (id)
		lua_pushinteger(L, id);
	else
		lua_pushnil(L);
	return 1;
}

static int check_rc(lua_State *L, struct hub *h, int rc)
{
	if (rc != 0)
		rt_raise(L, "%s", hub_errmsg(h));
	return 0;
}

#define NODE_ACTION(name, fn)                                           \
	static int name(lua_State *L)                                   \
	{                                                               \
		struct hub *h = live_hub(L, 1);                         \
		return check_rc(L, h, fn(h, check_node(L, h, 2)));      \
	}
NODE_ACTION(l_crash, hub_crash)
NODE_ACTION(l_restart, hub_restart)
NODE_ACTION(l_pause, hub_pause)
NODE_ACTION(l_resume, hub_resume)
NODE_ACTION(l_isolate, hub_isolate)
NODE_ACTION(l_connect, hub_connect)
NODE_ACTION(l_timeout_now, hub_timeout_now)

static int l_cut(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	uint32_t a = check_node(L, h, 2), b = check_node(L, h, 3);
	return check_rc(L, h, hub_cut(h, a, b));
}

static int l_heal(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	return check_rc(L, h, hub_heal(h));
}

static int l_align(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	return check_rc(L, h, hub_align_timers(h));
}

static int l_partition(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	uint32_t group_of[HUB_MAX_NODES + 1] = { 0 };
	int n = lua_gettop(L);
	if (n < 2)
		rt_raise(L, "partition needs at least one group, e.g. c:partition({1,2}, {3,4,5})");
	for (int g = 2; g <= n; g++) {
		if (!lua_istable(L, g))
			rt_raise(L, "partition: group %d is not a list of node ids", g - 1);
		lua_Integer len = luaL_len(L, g);
		for (lua_Integer k = 1; k <= len; k++) {
			lua_rawgeti(L, g, k);
			int ok;
			lua_Integer id = lua_tointegerx(L, -1, &ok);
			lua_pop(L, 1);
			if (!ok || id < 1 || id > (lua_Integer)hub_size(h))
				rt_raise(L, "partition: group %d names no node of this cluster (nodes are 1-%d)",
					 g - 1, (int)hub_size(h));
			if (group_of[id])
				rt_raise(L, "partition: node %I is in two groups", id);
			group_of[id] = (uint32_t)(g - 1);
		}
	}
	return check_rc(L, h, hub_partition(h, group_of));
}

static double prob_field(lua_State *L, const char *k, double def)
{
	lua_getfield(L, 2, k);
	double v = def;
	if (!lua_isnil(L, -1)) {
		if (!lua_isnumber(L, -1))
			rt_raise(L, "net: %s must be a probability between 0 and 1", k);
		v = lua_tonumber(L, -1);
		if (!(v >= 0 && v <= 1))
			rt_raise(L, "net: %s must be a probability between 0 and 1 (got %f)", k, v);
	}
	lua_pop(L, 1);
	return v;
}

static bool bool_field(lua_State *L, const char *k, bool def)
{
	lua_getfield(L, 2, k);
	bool v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* c:net{...} | c:net("unreliable") | c:net("reliable") | c:net{} */
static int l_net(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	struct net_params p;
	net_reliable(&p);
	if (lua_type(L, 2) == LUA_TSTRING) {
		const char *preset = lua_tostring(L, 2);
		if (strcmp(preset, "unreliable") == 0)
			net_unreliable(&p);
		else if (strcmp(preset, "reliable") != 0)
			rt_raise(L, "net: unknown preset \"%s\" (try \"unreliable\" or \"reliable\")", preset);
		return check_rc(L, h, hub_set_net(h, &p));
	}
	if (lua_isnoneornil(L, 2))
		lua_newtable(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	static const char *known[] = { "unreliable", "drop", "delay", "dup", "reorder", "long_delays", NULL };
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		bool ok = false;
		for (int i = 0; k && known[i]; i++)
			ok |= strcmp(k, known[i]) == 0;
		if (!ok)
			rt_raise(L, "net: unknown option '%s' (known: unreliable, drop, delay, dup, reorder, long_delays)",
				 k ? k : luaL_typename(L, -1));
	}
	if (bool_field(L, "unreliable", false))
		net_unreliable(&p);
	p.drop = prob_field(L, "drop", p.drop);
	p.dup = prob_field(L, "dup", p.dup);
	p.reorder = bool_field(L, "reorder", p.reorder);
	p.long_delays = bool_field(L, "long_delays", p.long_delays);
	lua_getfield(L, 2, "delay");
	if (!lua_isnil(L, -1)) {
		if (!lua_istable(L, -1))
			rt_raise(L, "net: delay must be {min_ms, max_ms}");
		lua_rawgeti(L, -1, 1);
		lua_rawgeti(L, -2, 2);
		int ok1, ok2;
		lua_Integer a = lua_tointegerx(L, -2, &ok1), b = lua_tointegerx(L, -1, &ok2);
		if (!ok1 || !ok2 || a < 0 || b < a)
			rt_raise(L, "net: delay must be {min_ms, max_ms} with 0 <= min <= max");
		p.delay_min = (uint64_t)a;
		p.delay_max = (uint64_t)b;
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	return check_rc(L, h, hub_set_net(h, &p));
}

/* c:start(cmd [, node]) -> index, term, ok */
static int l_start(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	struct cluster *c = check_cluster(L, 1);
	struct hub *h = live_hub(L, 1);
	size_t len;
	const char *cmd = luaL_checklstring(L, 2, &len);
	if (len > WIRE_MAX_COMMAND)
		rt_raise(L, "start: a command of %d bytes is too big (the limit is %d)", (int)len, (int)WIRE_MAX_COMMAND);
	uint32_t id;
	if (lua_isnoneornil(L, 3)) {
		id = hub_leader(h);
		if (!id) {
			lua_pushinteger(L, 0);
			lua_pushinteger(L, 0);
			lua_pushboolean(L, 0);
			return 3;
		}
	} else {
		id = check_node(L, h, 3);
	}
	struct task *t = current_task(L, rt);
	uint64_t req = ++c->next_req;
	check_rc(L, h, hub_propose(h, id, cmd, (uint32_t)len, req));
	t->cl = c;
	t->req = req;
	t->timer_id = 0;
	t->wait = W_PROPOSE;
	return yield_task(L);
}

/* c:committed(index) -> n, data */
static int l_committed(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	lua_Integer index = luaL_checkinteger(L, 2);
	if (index < 1)
		rt_raise(L, "committed: index must be >= 1");
	if (hub_violation(h))
		rt_raise(L, "invariant violated: %s", hub_violation(h));
	const struct hub_entry *cmd;
	uint32_t n = hub_committed(h, (uint64_t)index, &cmd);
	lua_pushinteger(L, n);
	if (cmd)
		lua_pushlstring(L, cmd->data, cmd->len);
	else
		lua_pushnil(L);
	return 2;
}

/* c:_pace("fast"|"paced" [, speed]) */
static int l_pace(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	const char *p = luaL_checkstring(L, 2);
	double speed = luaL_optnumber(L, 3, hub_speed(h));
	if (!(speed >= 0.05 && speed <= 20))
		rt_raise(L, "speed is from 0.05 to 20");
	if (strcmp(p, "fast") == 0)
		hub_set_pace(h, HUB_FAST, speed);
	else if (strcmp(p, "paced") == 0)
		hub_set_pace(h, HUB_PACED, speed);
	else
		rt_raise(L, "pace is \"fast\" or \"paced\"");
	return 0;
}

static int l_freeze(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	hub_freeze(h, lua_toboolean(L, 2));
	return 0;
}

/* c:_step_one(): run the next event even though time is frozen; returns
 * whether there was one, and its time. */
static int l_step_one(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	struct hub *h = live_hub(L, 1);
	if (!hub_frozen(h))
		hub_freeze(h, true);
	uint64_t at = 0;
	bool any = hub_next_time(h, &at);
	if (any)
		hub_step_one(h);
	rt_kick(rt);
	lua_pushboolean(L, any);
	lua_pushinteger(L, (lua_Integer)at);
	return 2;
}

static int l_busy(lua_State *L)
{
	lua_pushboolean(L, hub_busy(live_hub(L, 1)));
	return 1;
}

/* c:_next_time() -> the next pending event's time (ms), or nil */
static int l_next_time(lua_State *L)
{
	uint64_t t;
	if (hub_next_time(live_hub(L, 1), &t))
		lua_pushinteger(L, (lua_Integer)t);
	else
		lua_pushnil(L);
	return 1;
}

static int l_frozen(lua_State *L)
{
	lua_pushboolean(L, hub_frozen(live_hub(L, 1)));
	return 1;
}

static int l_speed(lua_State *L)
{
	lua_pushnumber(L, hub_speed(live_hub(L, 1)));
	return 1;
}

#define MSG_ACTION(name, fn)                                            \
	static int name(lua_State *L)                                   \
	{                                                               \
		struct hub *h = live_hub(L, 1);                         \
		lua_Integer id = luaL_checkinteger(L, 2);               \
		return check_rc(L, h, fn(h, (uint64_t)id));             \
	}
MSG_ACTION(l_deliver, hub_msg_deliver_now)
MSG_ACTION(l_drop, hub_msg_drop)
MSG_ACTION(l_dup, hub_msg_dup)

/* c:inflight() -> the messages in flight, oldest first */
static int l_inflight(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	lua_newtable(L);
	lua_Integer k = 0;
	for (const struct hub_msg *m = hub_inflight(h); m; m = hub_inflight_next(h, m)) {
		lua_createtable(L, 0, 7);
		set_int(L, "id", (lua_Integer)m->id);
		set_int(L, "from", m->from);
		set_int(L, "to", m->to);
		lua_pushstring(L, wire_msg_name(m->type));
		lua_setfield(L, -2, "type");
		set_int(L, "sent", (lua_Integer)m->sent_at);
		set_int(L, "due", (lua_Integer)m->deliver_at);
		lua_pushboolean(L, m->dup);
		lua_setfield(L, -2, "dup");
		lua_rawseti(L, -2, ++k);
	}
	return 1;
}

static int l_rpc_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)hub_rpc_count(live_hub(L, 1)));
	return 1;
}

static int l_rpc_bytes(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)hub_rpc_bytes(live_hub(L, 1)));
	return 1;
}

static int l_drop_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)hub_drop_count(live_hub(L, 1)));
	return 1;
}

static int l_port(lua_State *L)
{
	lua_pushinteger(L, hub_port(live_hub(L, 1)));
	return 1;
}

static int l_seed(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)hub_seed(live_hub(L, 1)));
	return 1;
}

static int l_dir(lua_State *L)
{
	struct hub *h = live_hub(L, 1);
	uint32_t id = check_node(L, h, 2);
	lua_pushfstring(L, "%s/node-%d", hub_dir(h), (int)id);
	return 1;
}

static int l_violation(lua_State *L)
{
	const char *v = hub_violation(live_hub(L, 1));
	if (v)
		lua_pushstring(L, v);
	else
		lua_pushnil(L);
	return 1;
}

static void push_json(lua_State *L, json_t *j)
{
	luaL_checkstack(L, 4, "event too deep");
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(j));
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			push_json(L, v);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(j), 0);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			push_json(L, v);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(j));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(j));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
		lua_pushnil(L);
		break;
	}
}

/* Does event j match every field of the filter table at index f? */
static bool event_matches(lua_State *L, json_t *j, int f)
{
	lua_pushnil(L);
	while (lua_next(L, f)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		json_t *v = k ? json_object_get(j, k) : NULL;
		bool ok = false;
		if (v) {
			if (json_is_integer(v) && lua_isinteger(L, -1))
				ok = json_integer_value(v) == lua_tointeger(L, -1);
			else if (json_is_string(v) && lua_type(L, -1) == LUA_TSTRING)
				ok = strcmp(json_string_value(v), lua_tostring(L, -1)) == 0;
			else if (json_is_boolean(v) && lua_isboolean(L, -1))
				ok = json_is_true(v) == (bool)lua_toboolean(L, -1);
		}
		lua_pop(L, 1);
		if (!ok) {
			lua_pop(L, 1);
			return false;
		}
	}
	return true;
}

/* c:events([filter]) -> this cluster's recent events matching every field
 * of filter */
static int l_events(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	int mine = hub_number(live_hub(L, 1));
	bool filter = lua_istable(L, 2);
	lua_newtable(L);
	lua_Integer k = 0;
	for (size_t i = 0; i < evlog_count(rt->log); i++) {
		if (evlog_source(rt->log, i) != mine)
			continue;                    /* another cluster's, maybe an earlier one */
		json_t *j = evlog_get(rt->log, i);
		if (filter && !event_matches(L, j, 2))
			continue;
		push_json(L, j);
		lua_rawseti(L, -2, ++k);
	}
	return 1;
}

static void probe_cb(struct hub *h, const char *why, void *ud)
{
	struct cluster *c = ud;
	struct task *t = c->probe_task;
	c->probe_task = NULL;
	if (t)
		rt_probe_done(t, why);
}

/* c:probe(bytes) -> the reason the hub gave for closing the connection */
static int l_probe(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	struct cluster *c = check_cluster(L, 1);
	struct hub *h = live_hub(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	struct task *t = current_task(L, rt);
	if (c->probe_task)
		rt_raise(L, "a probe is already under way");
	check_rc(L, h, hub_probe(h, bytes, len, probe_cb, c));
	c->probe_task = t;
	t->cl = c;
	t->timer_id = 0;
	t->wait = W_PROBE;
	return yield_task(L);
}

/* print() on the dashboard: the words go to its bottom line, not over
 * the screen. */
static int l_screen_print(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	int n = lua_gettop(L);               /* before the buffer takes a slot */
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	if (rt->tui)
		tui_result(rt->tui, false, lua_tostring(L, -1));
	return 0;
}

/* ts._embedded(prefix) -> { {name=, source=}, ... } of the built-in files */
static int l_embedded(lua_State *L)
{
	const char *prefix = luaL_optstring(L, 1, "");
	size_t plen = strlen(prefix);
	lua_newtable(L);
	lua_Integer k = 0;
	for (const struct embedded_file *f = embedded_lua; f->name; f++) {
		if (strncmp(f->name, prefix, plen) != 0)
			continue;
		lua_createtable(L, 0, 2);
		lua_pushstring(L, f->name);
		lua_setfield(L, -2, "name");
		lua_pushlstring(L, f->data, f->len);
		lua_setfield(L, -2, "source");
		lua_rawseti(L, -2, ++k);
	}
	return 1;
}

static int l_ts_seed(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)rt_of(L)->seed);
	return 1;
}

/* ts.wall(): wall-clock milliseconds, for benchmarks.  Anything a script
 * decides from it will not replay. */
static int l_wall(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)uv_hrtime() / 1e6);
	return 1;
}

/* ts.exe(): the path of this termscope binary (to run `termscope mr-seq` or
 * `termscope corpus` from a script) */
static int l_exe(lua_State *L)
{
	lua_pushstring(L, rt_of(L)->opts.exe);
	return 1;
}

static int l_headless(lua_State *L)
{
	lua_pushboolean(L, rt_of(L)->opts.headless);
	return 1;
}

static const luaL_Reg cluster_methods[] = {
	{ "_started", l_started },
	{ "_show", l_show },
	{ "_running", l_running },
	{ "number", l_number },
	{ "_now", l_now },
	{ "_log", l_log },
	{ "_node", l_node },
	{ "time", l_time },
	{ "size", l_size },
	{ "leader", l_leader },
	{ "crash", l_crash },
	{ "_restart", l_restart },
	{ "pause", l_pause },
	{ "resume", l_resume },
	{ "isolate", l_isolate },
	{ "connect", l_connect },
	{ "cut", l_cut },
	{ "heal", l_heal },
	{ "partition", l_partition },
	{ "net", l_net },
	{ "timeout_now", l_timeout_now },
	{ "align_timers", l_align },
	{ "start", l_start },
	{ "committed", l_committed },
	{ "rpc_count", l_rpc_count },
	{ "rpc_bytes", l_rpc_bytes },
	{ "drop_count", l_drop_count },
	{ "port", l_port },
	{ "seed", l_seed },
	{ "dir", l_dir },
	{ "violation", l_violation },
	{ "events", l_events },
	{ "probe", l_probe },
	{ "stop", l_stop },
	{ "_pace", l_pace },
	{ "_freeze", l_freeze },
	{ "_frozen", l_frozen },
	{ "_step_one", l_step_one },
	{ "_next_time", l_next_time },
	{ "_busy", l_busy },
	{ "_speed", l_speed },
	{ "deliver", l_deliver },
	{ "drop", l_drop },
	{ "dup", l_dup },
	{ "inflight", l_inflight },
	{ "table", l_table },
	{ "_client_new", l_client_new },
	{ "_client_reach", l_client_reach },
	{ "_client_view", l_client_view },
	{ "_op", l_op },
	{ "check_linearizable", l_check_lin },
	{ "history", l_history },
	{ "export_history", l_export_history },
	{ "kind", l_kind },
	{ "tasks", l_tasks },
	{ "workers", l_workers },
	{ "job", l_job },
	{ "client_msgs", l_client_msgs },
	{ NULL, NULL },
};

static const luaL_Reg task_methods[] = {
	{ "done", l_task_done },
	{ "_results", l_task_results },
	{ NULL, NULL },
};

static int l_resp(lua_State *L);

static const luaL_Reg ts_funcs[] = {
	{ "_cluster", l_cluster },
	{ "resp", l_resp },
	{ "have_etcd", l_have_etcd },
	{ "_block", l_block },
	{ "go", l_go },
	{ "seed", l_ts_seed },
	{ "headless", l_headless },
	{ "exe", l_exe },
	{ "wall", l_wall },
	{ "_embedded", l_embedded },
	{ NULL, NULL },
};

/* ts.resp([{ reach = {4, 5} | "all", timeout = seconds }]) -> { port, timeout,
 * reach, cluster, connections, clerks, commands, ops, timeouts }, or nil
 * without a gateway (--resp).  reach confines the gateway's clerks, those it
 * has and those it will make (what a test needs to send a client's requests
 * to a minority); timeout is how long a request may wait for an answer. */
static int l_resp(lua_State *L)
{
	struct runtime *rt = rt_of(L);
	if (!rt->resp) {
		lua_pushnil(L);
		return 1;
	}
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 1)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
			if (!k || (strcmp(k, "reach") != 0 && strcmp(k, "timeout") != 0))
				rt_raise(L, "ts.resp: unknown option '%s' (known: reach, timeout)",
					 k ? k : luaL_typename(L, -2));
			lua_pop(L, 1);
		}
		lua_getfield(L, 1, "timeout");
		if (!lua_isnil(L, -1)) {
			lua_Number s = luaL_checknumber(L, -1);
			if (!(s >= 0.001 && s <= 86400))
				rt_raise(L, "ts.resp: timeout is in seconds, from 0.001 to 86400");
			resp_set_timeout(rt->resp, (uint64_t)(s * 1000.0 + 0.5));
		}
		lua_pop(L, 1);
		lua_getfield(L, 1, "reach");
		if (!lua_isnil(L, -1)) {
			struct hub *h = resp_hub(rt->resp);
			if (!h)
				rt_raise(L, "ts.resp: reach: the gateway serves no key/value cluster yet");
			uint32_t mask = 0;
			if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "all") == 0)
				mask = 0;
			else
				mask = reach_mask(L, h, lua_gettop(L));
			const char *why = NULL;
			if (resp_set_reach(rt->resp, mask, &why) != 0)
				rt_raise(L, "ts.resp: reach: %s", why);
		}
		lua_pop(L, 1);
	}
	struct resp_stats st;
	resp_stats(rt->resp, &st);
	lua_createtable(L, 0, 9);
	set_int(L, "port", st.port);
	lua_pushnumber(L, (lua_Number)st.timeout_ms / 1000.0);
	lua_setfield(L, -2, "timeout");
	if (st.reach) {
		lua_newtable(L);
		int n = 0;
		for (uint32_t i = 1; i <= HUB_MAX_NODES; i++)
			if (st.reach & (1u << i)) {
				lua_pushinteger(L, i);
				lua_rawseti(L, -2, ++n);
			}
		lua_setfield(L, -2, "reach");
	}
	if (st.cluster)
		set_int(L, "cluster", st.cluster);
	set_int(L, "connections", (lua_Integer)st.connections);
	set_int(L, "clerks", (lua_Integer)st.clerks);
	set_int(L, "commands", (lua_Integer)st.commands);
	set_int(L, "ops", (lua_Integer)st.ops);
	set_int(L, "timeouts", (lua_Integer)st.timeouts);
	return 1;
}

void lua_api_open(struct runtime *rt, lua_State *L)
{
	/* cluster metatable: methods shared with lua/termscope.lua */
	luaL_newmetatable(L, CLUSTER_MT);
	lua_newtable(L);
	lua_pushlightuserdata(L, rt);
	luaL_setfuncs(L, cluster_methods, 1);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "__index");
	lua_setfield(L, LUA_REGISTRYINDEX, "termscope.cluster_methods");
	lua_pushcfunction(L, l_cluster_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_cluster_gc);
	lua_setfield(L, -2, "__close");
	lua_pushstring(L, "termscope cluster");
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);

	luaL_newmetatable(L, TASK_MT);
	lua_newtable(L);
	lua_pushlightuserdata(L, rt);
	luaL_setfuncs(L, task_methods, 1);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "__index");
	lua_setfield(L, LUA_REGISTRYINDEX, "termscope.task_methods");
	lua_pushcfunction(L, l_task_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	lua_newtable(L);
	lua_pushlightuserdata(L, rt);
	luaL_setfuncs(L, ts_funcs, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, "termscope.cluster_methods");
	lua_setfield(L, -2, "_cluster_methods");
	lua_getfield(L, LUA_REGISTRYINDEX, "termscope.task_methods");
	lua_setfield(L, -2, "_task_methods");
	lua_setglobal(L, "ts");
	if (rt->dashboard) {
		lua_pushlightuserdata(L, rt);
		lua_pushcclosure(L, l_screen_print, 1);
		lua_setglobal(L, "print");
	}
}

void lua_api_free(struct runtime *rt)
{
	while (rt->clusters) {
		struct cluster *c = rt->clusters;
		rt->clusters = c->next;
		lua_cluster_stop(c);
		free(c);
	}
}
