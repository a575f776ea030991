/*
 * script.h — what the runtime (runtime.c) and the Lua bindings (lua_api.c)
 * share: the runtime, its tasks and its clusters.  Internal to src/script.
 */
#ifndef TERMSCOPE_SCRIPT_H
#define TERMSCOPE_SCRIPT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <lua.h>
#include <uv.h>

#include "../hub/evlog.h"
#include "../hub/hub.h"
#include "runtime.h"

enum wait_kind {
	W_NONE,          /* running, or ended */
	W_READY,         /* to be resumed by the pump */
	W_TIME,          /* a virtual-time timer */
	W_PROGRESS,      /* the next event of a cluster, or a timer */
	W_PROPOSE,       /* a node's answer to a proposal */
	W_JOIN,          /* another task's end, or a timer */
	W_PROBE,         /* a wire probe's verdict */
	W_CLIENT,        /* a key/value client's answer */
};

struct cluster;

struct task {
	struct runtime *rt;
	int id;
	lua_State *co;
	int co_ref;
	enum wait_kind wait;
	struct cluster *cl;                  /* what it waits on */
	struct hub *timer_hub;
	uint64_t timer_id, timer_at;
	uint64_t req;
	struct task *join;
	int npush;                           /* values pushed for the next resume */
	bool done, failed, observed;
	bool handle_gone;                    /* its Lua handle was collected */
	bool hand;                           /* a person's action: shown, never fails the run */
	int results_ref;                     /* results table, or the error message */
	struct task *next;
};

struct cluster {
	struct runtime *rt;
	struct hub *hub;                     /* NULL once stopped */
	int number;
	struct task *probe_task;
	uint64_t next_req;
	struct cluster *next;
};

struct hand {                                /* a person's action, waiting its turn */
	char *code;
	bool record;
	struct hand *next;
};

struct tui;
struct resp_server;

struct runtime {
	struct rt_opts opts;
	bool dashboard;                      /* a screen: clusters outlive the script */
	struct tui *tui;
	struct hand *hands;
	bool script_over;                    /* dashboard: the script ended */
	int script_code;
	char script_msg[1024];
	uv_loop_t *loop;
	uv_idle_t idle;
	uv_timer_t pace_timer;
	uv_signal_t signals[3];
	lua_State *L;
	struct resp_server *resp;            /* the RESP gateway, or NULL */
	struct evlog *log;
	char dir[PATH_MAX];
	uint64_t seed;
	struct task *tasks, *main, *current;
	int n_tasks;
	struct cluster *clusters;
	int n_clusters;
	struct cluster *shown;               /* chosen with c:show(); NULL: the newest */
	uint64_t work, work_limit;
	bool killed;
	bool finishing;
	int exit_code;
};

/* Raise a Lua error without a position: the runtime adds the user's line. */
void rt_raise(lua_State *L, const char *fmt, ...);
struct task *rt_task_new(struct runtime *rt, lua_State *L, int fn_index);
void rt_kick(struct runtime *rt);
void rt_hub_hooks(struct runtime *rt, struct cluster *c, struct hub_hooks *hooks);
void rt_probe_done(struct task *t, const char *why);
/* Queue a person's action (Lua code); it runs once the shown cluster has
 * caught up with the wall clock, at that virtual instant. */
void rt_hand(struct runtime *rt, const char *code, bool record);
/* The cluster the dashboard shows: the one c:show() chose while it runs,
 * else the newest that is still running. */
struct cluster *rt_shown(struct runtime *rt);
/* Leave: stop every cluster and let the loop end with this exit code. */
void rt_quit(struct runtime *rt, int code, const char *msg);
/* A cluster started / is about to stop: the RESP gateway serves the first
 * key/value cluster, and the newest one left when that one stops. */
void rt_cluster_started(struct runtime *rt, struct cluster *c);
void rt_cluster_stopping(struct runtime *rt, struct cluster *c);

#endif
