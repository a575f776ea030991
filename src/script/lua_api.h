/*
 * lua_api.h — the `ts` library and the cluster object, as Lua sees them.
 * See lua_api.c and lua/termscope.lua.
 */
#ifndef TERMSCOPE_LUA_API_H
#define TERMSCOPE_LUA_API_H

#include <lua.h>

struct runtime;
struct cluster;

/* Register `ts` (the C half) in L. */
void lua_api_open(struct runtime *rt, lua_State *L);
/* Stop a cluster's hub (kills its nodes); idempotent. */
void lua_cluster_stop(struct cluster *c);
/* Free what the bindings allocated, after lua_close. */
void lua_api_free(struct runtime *rt);

#endif
