/*
 * mrapp.c — a MapReduce app in a Lua state of its own.  See mrapp.h.
 *
 * Every entry into Lua (loading, map, reduce) goes through run(): one
 * lua_pcall of a C body with a message handler that gives errors their
 * FILE:LINE.  The bodies push arguments and read results inside the
 * protected call too, so even a memory error while building the values
 * table unwinds cleanly; nothing here can make Lua panic.
 *
 * Two things stop a call for good, and pcall inside the app cannot hold
 * them: mr.crash() (the worker must die) and the work limit (a runaway
 * app).  Both set a flag and switch the count hook to fire before every
 * instruction, raising again each time, until the call has unwound; the
 * flags, not the error value, decide what the caller is told.
 *
 * One hole: Lua runs finalizers (__gc) with hooks off, so a finalizer that
 * never ends cannot be stopped.  debug.sethook is taken away, so the app
 * cannot remove the hook itself.
 *
 * It owns the lua_State and its allocator's accounting; it never exits the
 * process, never blocks (mr.sleep only adds up virtual time) and keeps no
 * global state.
 */
#include "mrapp.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "../core/rng.h"
#include "../script/embed.h"

#define HOOK_EVERY 10000
#define MAX_SLEEP 1000000.0                  /* seconds, one mr.sleep */

struct mrapp {
	lua_State *L;
	char name[256];                      /* "wc.lua" or the file's path */
	uint32_t worker;
	struct rng rng;                      /* mr.random */
	char *dir;                           /* mr.dir */
	uint64_t now_ms;                     /* mr.now() starts here */
	double slept;                        /* mr.sleep since the last take */
	uint64_t work, work_limit;           /* instructions in this call, allowed */
	bool killed;                         /* this call ran too long */
	bool crashed;                        /* mr.crash(): the app is dead */
	char stopmsg[320];                   /* why, for either */
	size_t mem;                          /* bytes the Lua state holds */
	int map_ref, reduce_ref, mr_ref;     /* registry references */
};

static struct mrapp *app_of(lua_State *L)
{
	return *(struct mrapp **)lua_getextraspace(L);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the Lua state's memory --------------------------------------------- */

static void *app_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct mrapp *a = ud;
	size_t old = ptr ? osize : 0;            /* without ptr, osize is a type tag */
	if (nsize == 0) {
		free(ptr);
		a->mem -= old;
		return NULL;
	}
	if (nsize > old && a->mem + (nsize - old) > MRAPP_MEM_LIMIT)
		return NULL;                         /* Lua collects, retries, then raises */
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	a->mem = a->mem - old + nsize;
	return p;
}

static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "termscope: Lua panic in a MapReduce app: %s\n", msg ? msg : "?");
	return 0;
}

/* ---- stops that pcall cannot hold ----------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar);

/* From now on every instruction of this call fails. */
static void doom(lua_State *L, struct mrapp *a)
{
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	if (L != a->L)
		lua_sethook(a->L, count_hook, LUA_MASKCOUNT, 1);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct mrapp *a = app_of(L);
	if (!a->crashed && !a->killed) {
		int every = lua_gethookcount(L);
		if (every != HOOK_EVERY)         /* a coroutine doomed in an earlier call */
			lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
		a->work += (uint64_t)every;
		if (a->work <= a->work_limit)
			return;
		a->killed = true;
		lua_getinfo(L, "Sl", ar);
		if (ar->currentline > 0)
			snprintf(a->stopmsg, sizeof a->stopmsg,
				 "%s:%d: app ran too long (more than %llu Lua instructions in one call)",
				 ar->short_src, ar->currentline, (unsigned long long)a->work_limit);
		else
			snprintf(a->stopmsg, sizeof a->stopmsg,
				 "%s: app ran too long (more than %llu Lua instructions in one call)", a->name,
				 (unsigned long long)a->work_limit);
	}
	doom(L, a);
	lua_pushstring(L, a->crashed ? "mr.crash()" : "app ran too long");
	lua_error(L);
}

/* ---- errors with a position --------------------------------------------- */

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

/* The message handler: the error as FILE:LINE: message, the line being the
 * innermost Lua frame's when the message does not say one. */
static int msgh(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	if (has_position(msg))
		return 1;
	lua_Debug ar;
	for (int level = 0; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
			return 1;
		}
	}
	return 1;
}

/* One protected entry into the app: body(arg). */
static int run(struct mrapp *a, lua_CFunction body, void *arg, char *err, size_t errlen)
{
	lua_State *L = a->L;
	if (a->crashed) {
		set_err(err, errlen, "%s", a->stopmsg);
		return MRAPP_CRASH;
	}
	a->work = 0;
	a->killed = false;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int top = lua_gettop(L);
	lua_pushcfunction(L, msgh);
	lua_pushcfunction(L, body);
	lua_pushlightuserdata(L, arg);
	int rc = lua_pcall(L, 1, 0, top + 1);
	int ret = MRAPP_OK;
	if (a->crashed) {
		set_err(err, errlen, "%s", a->stopmsg);
		ret = MRAPP_CRASH;
	} else if (rc != LUA_OK) {
		ret = MRAPP_ERROR;
		if (a->killed) {
			set_err(err, errlen, "%s", a->stopmsg);
		} else if (rc == LUA_ERRMEM) {
			set_err(err, errlen, "%s: out of memory (an app may hold at most %zu MiB)", a->name,
				MRAPP_MEM_LIMIT >> 20);
		} else {
			const char *msg = lua_tostring(L, -1);
			set_err(err, errlen, "%s", msg ? msg : "an error with no message");
		}
	}
	lua_settop(L, top);
	a->killed = false;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
	return ret;
}

static int fail(lua_State *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	return lua_error(L);
}

/* ---- the mr table ----------------------------------------------------- */

static int l_sleep(lua_State *L)
{
	struct mrapp *a = app_of(L);
	lua_Number s = luaL_checknumber(L, 1);
	if (!(s >= 0 && s <= MAX_SLEEP))
		return luaL_error(L, "mr.sleep: seconds must be from 0 to %d, got %f", (int)MAX_SLEEP, s);
	a->slept += s;
	return 0;
}

static int l_now(lua_State *L)
{
	struct mrapp *a = app_of(L);
	lua_pushnumber(L, (lua_Number)a->now_ms / 1000.0 + a->slept);
	return 1;
}

static int l_crash(lua_State *L)
{
	struct mrapp *a = app_of(L);
	lua_Debug ar;
	int line = 0;
	const char *src = a->name;
	for (int level = 1; lua_getstack(L, level, &ar); level++) {     /* the app's line that called */
		if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
			line = ar.currentline;
			src = ar.short_src;
			break;
		}
	}
	if (line > 0)
		snprintf(a->stopmsg, sizeof a->stopmsg, "%s:%d: the app crashed the worker (mr.crash)", src, line);
	else
		snprintf(a->stopmsg, sizeof a->stopmsg, "%s: the app crashed the worker (mr.crash)", src);
	a->crashed = true;
	doom(L, a);
	lua_pushliteral(L, "mr.crash()");
	return lua_error(L);
}

static int l_random(lua_State *L)
{
	struct mrapp *a = app_of(L);
	lua_Integer lo, hi;
	switch (lua_gettop(L)) {
	case 0:
		lua_pushnumber(L, (lua_Number)rng_double(&a->rng));
		return 1;
	case 1:
		lo = 1;
		hi = luaL_checkinteger(L, 1);
		break;
	case 2:
		lo = luaL_checkinteger(L, 1);
		hi = luaL_checkinteger(L, 2);
		break;
	default:
		return luaL_error(L, "mr.random: wrong number of arguments");
	}
	luaL_argcheck(L, lo <= hi, lua_gettop(L), "interval is empty");
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	uint64_t r = span == UINT64_MAX ? rng_next(&a->rng) : rng_range(&a->rng, 0, span + 1);
	lua_pushinteger(L, (lua_Integer)((uint64_t)lo + r));
	return 1;
}

/* scandir's list, freed by __gc if an error unwinds before we do */
struct dirlist {
	struct dirent **names;
	int n;
};

static int dirlist_free(lua_State *L)
{
	struct dirlist *d = lua_touserdata(L, 1);
	if (d && d->names) {
		for (int i = 0; i < d->n; i++)
			free(d->names[i]);
		free(d->names);
		d->names = NULL;
	}
	return 0;
}

static int by_bytes(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

static int l_files(lua_State *L)
{
	struct mrapp *a = app_of(L);
	size_t plen;
	const char *prefix = luaL_optlstring(L, 1, "", &plen);
	struct dirlist *d = lua_newuserdatauv(L, sizeof *d, 0);
	d->names = NULL;
	d->n = 0;
	if (luaL_newmetatable(L, "mrapp.dirlist")) {
		lua_pushcfunction(L, dirlist_free);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	int ud = lua_gettop(L);
	int n = scandir(a->dir, &d->names, NULL, by_bytes);
	if (n < 0) {
		d->names = NULL;
		return luaL_error(L, "mr.files: cannot read %s: %s", a->dir, strerror(errno));
	}
	d->n = n;
	lua_newtable(L);
	lua_Integer k = 0;
	for (int i = 0; i < n; i++) {
		const char *s = d->names[i]->d_name;
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strncmp(s, prefix, plen) != 0)
			continue;
		lua_pushstring(L, s);
		lua_rawseti(L, -2, ++k);
	}
	lua_pushcfunction(L, dirlist_free);
	lua_pushvalue(L, ud);
	lua_call(L, 1, 0);
	return 1;
}

static int l_nohook(lua_State *L)
{
	return luaL_error(L, "debug.sethook is not for MapReduce apps (termscope's hook stops runaway apps)");
}

static const luaL_Reg mr_funcs[] = {
	{ "sleep", l_sleep },
	{ "now", l_now },
	{ "crash", l_crash },
	{ "random", l_random },
	{ "files", l_files },
	{ NULL, NULL },
};

/* mr.dir and mr.worker as the caller last set them (the app may have
 * written over them). */
static void refresh_mr(lua_State *L, struct mrapp *a)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, a->mr_ref);
	lua_pushstring(L, a->dir);
	lua_setfield(L, -2, "dir");
	lua_pushinteger(L, (lua_Integer)a->worker);
	lua_setfield(L, -2, "worker");
	lua_pop(L, 1);
}

/* ---- loading ---------------------------------------------------------- */

struct open_args {
	struct mrapp *a;
	const struct embedded_file *builtin;
	const char *path;
	uint64_t seed;
};

/* map or reduce, from the table the chunk returned (at index ret) or the
 * globals: a registry reference. */
static int find_fn(lua_State *L, struct mrapp *a, int ret, const char *what, const char *args)
{
	if (lua_istable(L, ret))
		lua_getfield(L, ret, what);
	else
		lua_pushnil(L);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_getglobal(L, what);
	}
	if (lua_isnil(L, -1))
		fail(L, "%s: the app defines no %s function (define a global function %s(%s), "
			 "or return { map = ..., reduce = ... })", a->name, what, what, args);
	if (!lua_isfunction(L, -1))
		fail(L, "%s: %s is a %s, not a function", a->name, what, luaL_typename(L, -1));
	return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int p_open(lua_State *L)
{
	struct open_args *o = lua_touserdata(L, 1);
	struct mrapp *a = o->a;
	luaL_openlibs(L);

	/* math.random replays too: seeded from (seed, worker) */
	struct rng g;
	rng_seed(&g, rng_mix(rng_mix(o->seed, a->worker), 0x6d617468 /* "math" */));
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, (lua_Integer)(rng_next(&g) >> 1));
	lua_pushinteger(L, (lua_Integer)(rng_next(&g) >> 1));
	lua_call(L, 2, 0);
	lua_pop(L, 1);

	/* os.exit would take the worker down behind its back: it crashes instead */
	lua_getglobal(L, "os");
	lua_pushcfunction(L, l_crash);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);

	/* the count hook is what stops a runaway app: the app may not replace it */
	lua_getglobal(L, "debug");
	lua_pushcfunction(L, l_nohook);
	lua_setfield(L, -2, "sethook");
	lua_pop(L, 1);

	luaL_newlib(L, mr_funcs);
	lua_pushvalue(L, -1);
	a->mr_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_setglobal(L, "mr");
	refresh_mr(L, a);

	int rc;
	if (o->builtin) {
		char chunk[300];
		snprintf(chunk, sizeof chunk, "=%s", a->name);
		rc = luaL_loadbufferx(L, o->builtin->data, o->builtin->len, chunk, "t");
	} else {
		rc = luaL_loadfilex(L, o->path, "t");
	}
	if (rc != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 1);
	int ret = lua_gettop(L);
	a->map_ref = find_fn(L, a, ret, "map", "filename, contents");
	a->reduce_ref = find_fn(L, a, ret, "reduce", "key, values");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const struct embedded_file *find_builtin(const char *name)
{
	for (const struct embedded_file *f = embedded_lua; f->name; f++) {
		const char *b = f->name;
		size_t n = strlen(name);
		if (strncmp(b, "apps/", 5) == 0 && strncmp(b + 5, name, n) == 0 && strcmp(b + 5 + n, ".lua") == 0)
			return f;
	}
	return NULL;
}

/* "wc, indexer, ..." */
static void builtin_names(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (const struct embedded_file *f = embedded_lua; f->name; f++) {
		if (strncmp(f->name, "apps/", 5) != 0 || !ends_with(f->name, ".lua"))
			continue;
		int w = snprintf(buf + used, len - used, "%s%.*s", used ? ", " : "",
				 (int)(strlen(f->name) - 9), f->name + 5);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

struct mrapp *mrapp_open(const char *name, uint32_t worker, uint64_t seed, char *err, size_t errlen)
{
	struct open_args o = { .seed = seed };
	if (!name || !*name) {
		set_err(err, errlen, "no app named");
		return NULL;
	}
	if (strchr(name, '/') || ends_with(name, ".lua")) {
		FILE *f = fopen(name, "r");
		if (!f) {
			set_err(err, errlen, "cannot read the app %s: %s", name, strerror(errno));
			return NULL;
		}
		fclose(f);
		o.path = name;
	} else if (!(o.builtin = find_builtin(name))) {
		char list[512];
		builtin_names(list, sizeof list);
		set_err(err, errlen, "no built-in app '%s' (the built-in apps: %s; or give a .lua file)", name,
			list);
		return NULL;
	}

	struct mrapp *a = calloc(1, sizeof *a);
	if (!a || !(a->dir = strdup("."))) {
		free(a);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	o.a = a;
	a->worker = worker;
	a->work_limit = MRAPP_WORK_LIMIT;
	a->map_ref = a->reduce_ref = a->mr_ref = LUA_NOREF;
	rng_seed(&a->rng, rng_mix(seed, worker));
	snprintf(a->name, sizeof a->name, "%s", o.builtin ? o.builtin->name + 5 : name);
	a->L = lua_newstate(app_alloc, a);
	if (!a->L) {
		set_err(err, errlen, "%s: out of memory", a->name);
		mrapp_close(a);
		return NULL;
	}
	*(struct mrapp **)lua_getextraspace(a->L) = a;
	lua_atpanic(a->L, panic);
	int rc = run(a, p_open, &o, err, errlen);
	if (rc != MRAPP_OK) {
		mrapp_close(a);
		return NULL;
	}
	return a;
}

void mrapp_close(struct mrapp *a)
{
	if (!a)
		return;
	if (a->L) {
		/* finalizers written in Lua get no more time: the first instruction fails */
		a->killed = true;
		snprintf(a->stopmsg, sizeof a->stopmsg, "%s: closed", a->name);
		lua_sethook(a->L, count_hook, LUA_MASKCOUNT, 1);
		lua_close(a->L);
	}
	free(a->dir);
	free(a);
}

const char *mrapp_name(const struct mrapp *a)
{
	return a->name;
}

int mrapp_set_dir(struct mrapp *a, const char *dir)
{
	char *d = strdup(dir && *dir ? dir : ".");
	if (!d)
		return -1;
	free(a->dir);
	a->dir = d;
	return 0;
}

void mrapp_set_now(struct mrapp *a, uint64_t now_ms)
{
	a->now_ms = now_ms;
}

double mrapp_take_slept(struct mrapp *a)
{
	double s = a->slept;
	a->slept = 0;
	return s;
}

void mrapp_set_work_limit(struct mrapp *a, uint64_t instructions)
{
	a->work_limit = instructions ? instructions : MRAPP_WORK_LIMIT;
}

/* ---- map ------------------------------------------------------------ */

struct map_args {
	struct mrapp *a;
	const char *filename;
	const uint8_t *contents;
	size_t len;
	mrapp_emit_fn emit;
	void *ud;
};

/* The string at idx (a string or a number), or an error naming the pair. */
static const char *pair_part(lua_State *L, struct mrapp *a, int idx, lua_Integer i, const char *what,
			     size_t *len)
{
	int t = lua_type(L, idx);
	if (t != LUA_TSTRING && t != LUA_TNUMBER)
		fail(L, "%s: map's pair %I: the %s is %s, not a string", a->name, i, what,
		      t == LUA_TNIL ? "missing" : lua_typename(L, t));
	return lua_tolstring(L, idx, len);
}

static int p_map(lua_State *L)
{
	struct map_args *m = lua_touserdata(L, 1);
	struct mrapp *a = m->a;
	refresh_mr(L, a);
	lua_rawgeti(L, LUA_REGISTRYINDEX, a->map_ref);
	lua_pushstring(L, m->filename);
	lua_pushlstring(L, (const char *)m->contents, m->len);
	lua_call(L, 2, 1);
	int list = lua_gettop(L);
	if (!lua_istable(L, list))
		fail(L, "%s: map must return a list of {key, value} pairs, not %s", a->name,
		      luaL_typename(L, list));
	lua_Integer n = luaL_len(L, list);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, list, i);
		if (!lua_istable(L, -1))
			fail(L, "%s: map's pair %I is %s, not a {key, value} table", a->name, i,
			      luaL_typename(L, -1));
		if (lua_geti(L, -1, 1) == LUA_TNIL) {
			lua_pop(L, 1);
			lua_getfield(L, -1, "key");
		}
		if (lua_geti(L, -2, 2) == LUA_TNIL) {
			lua_pop(L, 1);
			lua_getfield(L, -2, "value");
		}
		size_t kl, vl;
		const char *k = pair_part(L, a, -2, i, "key", &kl);
		const char *v = pair_part(L, a, -1, i, "value", &vl);
		if (m->emit(m->ud, (const uint8_t *)k, kl, (const uint8_t *)v, vl) != 0)
			fail(L, "%s: cannot keep map's output (out of memory?)", a->name);
		lua_pop(L, 3);
	}
	return 0;
}

int mrapp_map(struct mrapp *a, const char *filename, const uint8_t *contents, size_t len,
	      mrapp_emit_fn emit, void *ud, char *err, size_t errlen)
{
	struct map_args m = { a, filename, contents, len, emit, ud };
	return run(a, p_map, &m, err, errlen);
}

/* ---- reduce ----------------------------------------------------------- */

struct reduce_args {
	struct mrapp *a;
	const uint8_t *key;
	size_t klen;
	const uint8_t *const *values;
	const size_t *vlens;
	size_t n;
	uint8_t *out;
	size_t outlen;
};

static int p_reduce(lua_State *L)
{
	struct reduce_args *r = lua_touserdata(L, 1);
	struct mrapp *a = r->a;
	refresh_mr(L, a);
	lua_rawgeti(L, LUA_REGISTRYINDEX, a->reduce_ref);
	lua_pushlstring(L, (const char *)r->key, r->klen);
	lua_createtable(L, r->n > 0x7fffffff ? 0x7fffffff : (int)r->n, 0);
	for (size_t i = 0; i < r->n; i++) {
		lua_pushlstring(L, (const char *)r->values[i], r->vlens[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_call(L, 2, 1);
	int t = lua_type(L, -1);
	if (t != LUA_TSTRING && t != LUA_TNUMBER)
		fail(L, "%s: reduce must return a string, not %s", a->name, luaL_typename(L, -1));
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	uint8_t *out = malloc(len + 1);
	if (!out)
		fail(L, "%s: out of memory", a->name);
	memcpy(out, s, len);
	out[len] = 0;
	r->out = out;
	r->outlen = len;
	return 0;
}

int mrapp_reduce(struct mrapp *a, const uint8_t *key, size_t klen, const uint8_t *const *values,
		 const size_t *vlens, size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct reduce_args r = { a, key, klen, values, vlens, n, NULL, 0 };
	int rc = run(a, p_reduce, &r, err, errlen);
	if (rc != MRAPP_OK) {
		free(r.out);
		r.out = NULL;
		r.outlen = 0;
	}
	*out = r.out;
	*outlen = r.outlen;
	return rc;
}
