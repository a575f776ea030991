/*
 * runtime.h — the controller's script runtime: one Lua 5.4 state, the
 * tasks (coroutines) that scripts run as, and the pump that drives the
 * clusters' hubs on the libuv loop.  See runtime.c.
 */
#ifndef TERMSCOPE_RUNTIME_H
#define TERMSCOPE_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "../hub/hub.h"

struct rt_opts {
	const char *script;                  /* a file, or NULL for the built-in demo */
	bool headless;
	enum hub_pace pace;
	double speed;
	uint64_t seed;
	bool seed_given;
	const char *events;                  /* events file, or NULL */
	bool keep;                           /* keep run data */
	const char *exe;                     /* this binary, for spawning nodes */
	uint64_t work_limit;                 /* Lua instructions between waits; 0: default */
	const char *lesson;                  /* a lesson to run (number, name or file) */
	bool autopilot;                      /* perform every step's solution */
	bool list_lessons;                   /* print the lessons and progress */
	int resp_port;                       /* the RESP gateway's port on 127.0.0.1, 0: none */
	uint64_t resp_timeout_ms;            /* its request timeout, 0: the default (5 s) */
	const char *kind;                    /* the live cluster's kind (no script), NULL: kv */
};

/* Run a script to its end.  Returns the process exit code:
 * 0 success, 1 the script failed, 130+ a signal stopped it. */
int rt_run(const struct rt_opts *o);

#endif
